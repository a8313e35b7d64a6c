"""Matching of the simulated venue: books (level 4), bars (level 1), quotes and trades (2).

The rules are in ``venues.sim.venue``'s docstring; ``VenueMatching`` sits between the state
(``venues.sim._core.VenueCore``) and the public venue (``SimulatedVenue``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price, Quantity, pow10
from tradeloop.model.book import NULL_PRICE
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import (
    BookAction,
    LiquiditySide,
    OrderType,
    TimeInForce,
)
from tradeloop.model.events import (
    AlertRaised,
    BookStatusChanged,
)
from tradeloop.model.instruments import Instrument
from tradeloop.venues.sim._core import (
    _ACTION_CODES,
    _ASK,
    _BID,
    _F_LAST,
    _F_UNSYNCED,
    _SIDE_CODES,
    VenueCore,
    _raw_at,
)
from tradeloop.venues.sim._working import WorkingOrder
from tradeloop.venues.sim.book import BookMatcher, scale_row_price

if TYPE_CHECKING:  # importing data.books at run time would load numba into the event loop
    from tradeloop.data.books.columns import BookDeltaColumns


class VenueMatching(VenueCore):
    """Matching at every fidelity level (see ``SimulatedVenue``)."""

    def _matcher(self, instrument_id: str) -> tuple[BookMatcher, Instrument]:
        instrument = self.instruments.get(instrument_id)
        if instrument is None:
            raise ConfigError(
                f"book deltas of {instrument_id}, which is not traded on venue {self.venue}"
            )
        matcher = self._matchers.get(instrument_id)
        if matcher is None:
            precision = instrument.price_precision

            def fill(w: WorkingOrder, qty_raw: int, price_raw: int, is_maker: bool) -> None:
                self._fill(
                    w,
                    qty_raw,
                    Price(price_raw, precision),
                    None,
                    instrument,
                    LiquiditySide.MAKER if is_maker else LiquiditySide.TAKER,
                    slip=False,
                )

            matcher = BookMatcher(
                instrument_id,
                instrument.price_precision,
                instrument.size_precision,
                self.config.book,
                fill,
            )
            self._matchers[instrument_id] = matcher
        return matcher, instrument

    def _scale(
        self, instrument: Instrument, price_precision: int, size_precision: int
    ) -> tuple[int, int]:
        key = (instrument.id, price_precision, size_precision)
        scale = self._scales.get(key)
        if scale is None:
            for what, data, own in (
                ("price", price_precision, instrument.price_precision),
                ("size", size_precision, instrument.size_precision),
            ):
                if data > own:
                    raise ConfigError(
                        f"book deltas of {instrument.id} have {what} precision {data}, finer "
                        f"than the instrument's {own}"
                    )
            scale = self._scales[key] = (
                pow10(instrument.price_precision - price_precision),
                pow10(instrument.size_precision - size_precision),
            )
        return scale

    def on_book_rows(self, columns: BookDeltaColumns, start: int, stop: int) -> None:
        """Apply rows ``start:stop`` of ``columns`` (one venue event) and match (level 4).

        Raises
        ------
        ConfigError
            If the instrument is not traded here or the data is finer than its precision.
        DataIntegrityError
            If a row breaks a rule of the book (``model.book``).
        """
        if not self._book_mode:
            return
        matcher, instrument = self._matcher(columns.instrument_id)
        price_factor, size_factor = self._scale(
            instrument, columns.price_precision, columns.size_precision
        )
        window = slice(start, stop)
        matcher.now_ns = int(columns.ts_init[start])
        prices = columns.price[window].tolist()
        sizes = columns.size[window].tolist()
        if price_factor != 1:
            prices = [scale_row_price(p, price_factor) for p in prices]
        if size_factor != 1:
            sizes = [z * size_factor for z in sizes]
        flags = columns.flags[window].tolist()
        matcher.apply_rows(
            columns.action[window].tolist(),
            columns.side[window].tolist(),
            prices,
            sizes,
            columns.order_id[window].tolist(),
            flags,
            columns.sequence[window].tolist(),
        )
        is_unsynced = any(flag & _F_UNSYNCED for flag in flags)
        self._end_book_event(matcher, instrument, int(columns.ts_event[stop - 1]), is_unsynced)

    def on_book_delta(self, delta: OrderBookDelta) -> None:
        """Apply one ``OrderBookDelta`` and match at the end of its event (level 4).

        A delta flagged ``LAST`` ends its venue event; so does a delta without any flags (a
        feed without event framing).

        Raises
        ------
        ConfigError, DataIntegrityError
            As ``on_book_rows``.
        """
        if not self._book_mode:
            return
        matcher, instrument = self._matcher(delta.instrument_id)
        action = _ACTION_CODES[delta.action]
        price = (
            NULL_PRICE
            if delta.action is BookAction.CLEAR
            else _raw_at(delta.price.raw, delta.price.precision, instrument.price_precision)
        )
        size = _raw_at(delta.size.raw, delta.size.precision, instrument.size_precision)
        self._scale(instrument, delta.price.precision, delta.size.precision)
        matcher.now_ns = delta.ts_init
        matcher.apply_row(
            action,
            _SIDE_CODES[delta.side],
            price,
            size,
            delta.order_id,
            delta.flags,
            delta.sequence,
        )
        if delta.flags & _F_UNSYNCED:
            matcher.is_event_unsynced = True
        if delta.flags & _F_LAST or delta.flags == 0:
            is_unsynced = matcher.is_event_unsynced
            matcher.is_event_unsynced = False
            self._end_book_event(matcher, instrument, delta.ts_event, is_unsynced)

    def _end_book_event(
        self, matcher: BookMatcher, instrument: Instrument, ts_ns: int, is_unsynced: bool = False
    ) -> None:
        matcher.end_event()
        book = matcher.book
        status = "unsynced" if is_unsynced else "crossed" if book.is_crossed() else "ok"
        if status != matcher.status:
            self._book_status(matcher, instrument, status)
        orders = self._working.get(instrument.id)
        if status != "ok":
            matcher.suspended_events += 1
            if orders:
                self._expire(instrument.id, ts_ns)
            return
        if not orders:
            return
        self._trigger_stops(instrument.id, matcher)
        for working in list(orders):
            if working.init.client_order_id in self._by_id:
                self._book_match_order(working, matcher, instrument)
        matcher.cross_resting()
        self._expire(instrument.id, ts_ns)

    def _book_status(self, matcher: BookMatcher, instrument: Instrument, status: str) -> None:
        previous, matcher.status = matcher.status, status
        suspended, matcher.suspended_events = matcher.suspended_events, 0
        book = matcher.book
        if status == "crossed":
            reason = "the book ended a venue event crossed: best bid at or above best ask"
        elif status == "unsynced":
            reason = "the feed flags the book UNSYNCED (rebuilt from diffs after a gap)"
        else:
            reason = f"the book is consistent again after {suspended} {previous} event ends"
        if self._publish is None:
            return
        now = self.clock.timestamp_ns()
        self._publish(
            BookStatusChanged(
                venue=self.venue,
                instrument_id=instrument.id,
                status=status,
                reason=reason,
                best_bid=book.best_bid_price(),
                best_ask=book.best_ask_price(),
                suspended_events=suspended if status == "ok" else 0,
                ts_event=now,
                ts_init=now,
            )
        )
        if status != "ok":
            self._publish(
                AlertRaised(
                    severity="warning",
                    source=f"venue.{self.venue}",
                    message=(
                        f"matching against {instrument.id} suspended: {reason}; orders wait "
                        "until the book is consistent"
                    ),
                    ts_event=now,
                    ts_init=now,
                )
            )

    def _book_arrival(self, working: WorkingOrder, instrument: Instrument) -> None:
        matcher = self._matchers.get(instrument.id)
        if matcher is None:
            return  # no book yet: the first event end matches it
        if matcher.status != "ok":
            # No matching against a crossed or unsynced book: the order waits for the next
            # consistent event end (an IOC/FOK cannot wait).
            if working.init.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                self._close(
                    working, "canceled", f"IOC/FOK order not filled: the book is {matcher.status}"
                )
            return
        if working.awaits_data:
            # Arrived after a latency: a passive limit joins the queue now (its position is
            # the book at its arrival); anything that could take waits for the next event.
            if (
                working.acts_as_limit
                and working.init.time_in_force not in (TimeInForce.IOC, TimeInForce.FOK)
                and not matcher.is_marketable(working.is_buy, working.limit_raw)
            ):
                matcher.join(working)
                working.is_resting = True
                working.awaits_data = False
            return
        self._book_match_order(working, matcher, instrument)

    def _trigger_stops(self, instrument_id: str, matcher: BookMatcher) -> None:
        stops = [
            w
            for w in self._working.get(instrument_id, ())
            if w.trigger_raw is not None and not w.is_triggered
        ]
        if not stops:
            return
        # A crossed or unsynced book has no trustworthy touch: only prints trigger then.
        usable = matcher.status == "ok"
        bid = matcher.best_effective(_BID) if usable else None
        ask = matcher.best_effective(_ASK) if usable else None
        last = matcher.last_print_raw
        for working in stops:
            trigger = working.trigger_raw
            assert trigger is not None
            touch = ask if working.is_buy else bid
            hits = [px for px in (touch, last) if px is not None]
            if (
                any(px >= trigger for px in hits)
                if working.is_buy
                else any(px <= trigger for px in hits)
            ):
                self._trigger(working)

    def _book_match_order(
        self, working: WorkingOrder, matcher: BookMatcher, instrument: Instrument
    ) -> None:
        client_order_id = working.init.client_order_id
        if matcher.slot(client_order_id) is not None:
            return  # resting: prints and crossing fill it
        if working.trigger_raw is not None and not working.is_triggered:
            return
        tif = working.init.time_in_force
        first = not working.is_resting
        limit = None if working.acts_as_market else working.limit_raw
        if (
            first
            and tif is TimeInForce.FOK
            and matcher.available_raw(working.is_buy, limit) < working.leaves_raw
        ):
            self._close(working, "canceled", "FOK order cannot fill completely")
            return
        matcher.take(working, limit)
        if client_order_id not in self._by_id:
            return  # filled
        if first and tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._close(working, "canceled", "IOC/FOK order not filled on arrival")
            return
        if working.acts_as_limit and working.leaves_raw > 0:
            matcher.join(working)
        working.is_resting = True
        working.awaits_data = False

    # -- level 1: bars -----------------------------------------------------------------------------

    def _process_bar(self, bar: Bar) -> None:
        instrument = self.instruments[bar.instrument_id]
        orders = self._working[bar.instrument_id]
        self._budget_raw = self._bar_budget(bar, instrument)
        o, h, low, c = bar.open_raw, bar.high_raw, bar.low_raw, bar.close_raw
        for working in list(orders):
            self._match_open(working, o, bar, instrument)
        for working in list(orders):
            if working.init.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                self._close(working, "canceled", "IOC/FOK order not filled at the open")
        first, second = (h, low) if h - o <= o - low else (low, h)
        for start, end in ((o, first), (first, second), (second, c)):
            for working in list(orders):
                self._match_segment(working, start, end, bar, instrument)
        for working in orders:
            working.is_resting = True
            working.awaits_data = False
        self._expire(bar.instrument_id, bar.ts_event)

    def _bar_budget(self, bar: Bar, instrument: Instrument) -> int | None:
        cap = self.config.max_participation
        if cap is None:
            return None
        volume = bar.volume_raw * pow10(instrument.size_precision) // pow10(bar.volume_precision)
        budget = int(volume * cap)
        return budget - budget % instrument.lot_size_raw

    def _match_open(self, w: WorkingOrder, o: int, bar: Bar, instrument: Instrument) -> None:
        if (
            w.init.time_in_force is TimeInForce.FOK
            and self._budget_raw is not None
            and self._budget_raw < w.leaves_raw
        ):
            return  # cannot fill completely: canceled after the open
        if w.order_type is OrderType.MARKET:
            self._fill(w, w.leaves_raw, bar.open, bar, instrument, LiquiditySide.TAKER)
            return
        if w.trigger_raw is not None and not w.is_triggered:
            if (o >= w.trigger_raw) if w.is_buy else (o <= w.trigger_raw):
                self._trigger(w)
                if w.order_type is OrderType.STOP_MARKET:
                    self._fill(w, w.leaves_raw, bar.open, bar, instrument, LiquiditySide.TAKER)
                    return
            else:
                return
        if w.acts_as_limit and w.limit_raw is not None and self._limit_reached(w, o, o):
            liquidity = LiquiditySide.MAKER if w.is_resting else LiquiditySide.TAKER
            self._fill(w, w.leaves_raw, bar.open, bar, instrument, liquidity, slip=False)

    def _match_segment(
        self, w: WorkingOrder, start: int, end: int, bar: Bar, instrument: Instrument
    ) -> None:
        if w.acts_as_market:
            return  # market orders fill only at an open; leftovers wait for the next bar
        low, high = (start, end) if start <= end else (end, start)
        if w.trigger_raw is not None and not w.is_triggered:
            reached = high >= w.trigger_raw if w.is_buy else low <= w.trigger_raw
            if not reached:
                return
            self._trigger(w)
            trigger = Price(w.trigger_raw, instrument.price_precision)
            if w.order_type is OrderType.STOP_MARKET:
                self._fill(w, w.leaves_raw, trigger, bar, instrument, LiquiditySide.TAKER)
                return
            # Stop-limit: marketable at the trigger when the limit is at or beyond it.
            assert w.limit_raw is not None
            if (w.limit_raw >= w.trigger_raw) if w.is_buy else (w.limit_raw <= w.trigger_raw):
                self._fill(
                    w, w.leaves_raw, trigger, bar, instrument, LiquiditySide.TAKER, slip=False
                )
                return
            # Otherwise it rests from the trigger point to the end of the segment.
            low, high = (w.trigger_raw, end) if w.trigger_raw <= end else (end, w.trigger_raw)
        if w.acts_as_limit and w.limit_raw is not None and self._limit_reached(w, low, high):
            price = Price(w.limit_raw, instrument.price_precision)
            self._fill(w, w.leaves_raw, price, bar, instrument, LiquiditySide.MAKER, slip=False)

    def _limit_reached(self, w: WorkingOrder, low: int, high: int) -> bool:
        limit = w.limit_raw
        assert limit is not None
        if w.is_buy:
            return low < limit if self._through else low <= limit
        return high > limit if self._through else high >= limit

    # -- level 2: quotes and trades ----------------------------------------------------------------

    def _match_quote(self, w: WorkingOrder, quote: QuoteTick, instrument: Instrument) -> None:
        ask, bid = quote.ask_price, quote.bid_price
        touch = ask if w.is_buy else bid
        size = quote.ask_size if w.is_buy else quote.bid_size
        if w.trigger_raw is not None and not w.is_triggered:
            if (touch.raw >= w.trigger_raw) if w.is_buy else (touch.raw <= w.trigger_raw):
                self._trigger(w)
            else:
                return
        available = self._displayed(size, instrument)
        if w.acts_as_market:
            self._fill(
                w, min(w.leaves_raw, available), touch, None, instrument, LiquiditySide.TAKER
            )
            return
        limit = w.limit_raw
        assert limit is not None
        crossed = touch.raw <= limit if w.is_buy else touch.raw >= limit
        if not crossed:
            return
        if w.is_resting:
            # The opposite side moved through our resting price: we were hit at our price.
            through = touch.raw < limit if w.is_buy else touch.raw > limit
            if through or not self._through:
                price = Price(limit, instrument.price_precision)
                self._fill(
                    w, w.leaves_raw, price, None, instrument, LiquiditySide.MAKER, slip=False
                )
        else:
            self._fill(
                w,
                min(w.leaves_raw, available),
                touch,
                None,
                instrument,
                LiquiditySide.TAKER,
                slip=False,
            )

    def _match_trade(self, w: WorkingOrder, trade: TradeTick, instrument: Instrument) -> None:
        px = trade.price.raw
        if w.trigger_raw is not None and not w.is_triggered:
            if (px >= w.trigger_raw) if w.is_buy else (px <= w.trigger_raw):
                self._trigger(w)
                quote = self._last_quote.get(trade.instrument_id)
                if quote is not None:
                    self._match_quote(w, quote, instrument)
            return
        if not w.acts_as_limit or not w.is_resting or w.limit_raw is None:
            return
        if self._limit_reached(w, px, px):
            size = trade.size.raw * pow10(instrument.size_precision) // pow10(trade.size.precision)
            price = Price(w.limit_raw, instrument.price_precision)
            self._fill(
                w, min(w.leaves_raw, size), price, None, instrument, LiquiditySide.MAKER, slip=False
            )

    def _displayed(self, size: Quantity, instrument: Instrument) -> int:
        if not self.config.use_quote_size:
            return 1 << 62
        return size.raw * pow10(instrument.size_precision) // pow10(size.precision)

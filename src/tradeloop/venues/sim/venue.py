"""The simulated venue: an ``ExecutionClient`` that matches orders against market data.

Level 1 (``fidelity="bars"``), per bar of an instrument with working orders:

1. **Open.** Market orders fill at the open (plus slippage). A limit order the open has
   already passed fills at the open (price improvement); a stop the open gapped through
   triggers and fills at the open (plus slippage). IOC and FOK orders get this one chance.
2. **Path.** The bar is walked open → nearer extreme → other extreme → close (the nearer
   extreme first; high first on a tie). On each segment, resting limits fill at their limit
   when the price goes beyond it by a tick (``limit_fill="through"``, default) or reaches it
   (``"touch"``); stops trigger when the price reaches the trigger and fill at the trigger
   plus slippage, never outside the bar's range; a triggered stop-limit rests as a limit.
3. **Participation.** With ``max_participation``, the fills of one bar are capped at that
   fraction of its volume, in arrival order; the rest waits for later bars.
4. **Expiry.** DAY orders expire at the close of their session (exchange calendar; UTC
   midnight for 24/7 instruments), GTD orders at their expire time.

Level 2 (``fidelity="quotes"``): marketable orders fill against the best bid/ask, up to the
displayed size; resting limits fill at their price when the opposite quote or a trade goes
through them; stops trigger on the quote or trade prices.

Level 3 (``impact``, on either): every taker fill pays, over its reference price, the half
spread (bars: ``half_spread_bps``), the slippage, and temporary impact from the configured
model, plus the permanent impact our earlier fills left; each fill reports the reference
price and what each component cost (``OrderFilled.costs``). A taker fill never prices
outside its bar's range: when the adjustments would push it out, they are scaled down
together.

Level 4 (``fidelity="book"``): the venue rebuilds each instrument's L2 or L3 book from the
data's deltas (``on_book_rows``, ``on_book_delta``); resting limits keep a queue position
and marketable orders walk the book and consume it (the rules are in ``venues.sim.book``).
Takers, crossing checks, stops and expiries run at the end of each venue event. A book that
ends an event crossed (best bid at or above best ask), or an event the feed flags
``UNSYNCED``, is not matched against: takers, crossing checks, queue joins and touch-triggered
stops wait for the next consistent event end (IOC/FOK orders arriving meanwhile are
canceled); prints still move queues. Each change of that state is a ``BookStatusChanged``
event (plus an ``AlertRaised`` warning when matching stops) through ``publish``.

Latency (``latency``, any level): a command reaches the matching engine
``entry_latency_ns`` after it was sent and every response reaches the engine
``response_latency_ns`` after it happened. In-flight messages wait in two FIFO queues, one
per direction, released by clock alerts (``Clock.set_time_alert``), so a backtest and a paper
run time them alike; a message never overtakes an earlier one in the same direction (one
session: a later draw that would arrive first waits for the earlier message). An order that
arrived after a positive latency matches only market data recorded after its arrival, never
the quote, bar or book it was decided on. A delivered response keeps ``ts_event`` (when it
happened at the venue) and gets ``ts_init`` = its delivery time. A zero draw with nothing in
flight is immediate, as without latency. Draws come from ``make_rng(seed, "venue", <venue>,
"latency")``.

Fills are ``OrderFilled`` events with trade ids ``T-<venue>-<n>``; every response goes to the
``emit`` sink given at construction (the kernel's deferred queue), never straight to callers.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.book import L2Book, L3Book
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.enums import (
    BookSide,
    LiquiditySide,
    OrderType,
)
from tradeloop.model.events import (
    OrderAccepted,
    OrderCancelRejected,
    OrderModifyRejected,
    OrderUpdated,
)
from tradeloop.venues.sim._core import (
    _RESTING_SIDE,
    _SIDE_CODES,
    _MarketStats,
    _raw_at,
)
from tradeloop.venues.sim._matching import VenueMatching
from tradeloop.venues.sim._working import WorkingOrder


class SimulatedVenue(VenueMatching):
    """Simulated venue (fidelity levels 1 to 4, optional latency) for one venue code.

    Parameters
    ----------
    venue : the venue code.
    config : how orders fill.
    clock : the run's clock (backtest or live).
    instruments : the instruments traded here.
    emit : where responses go (the kernel's deferred queue).
    seed : the run's seed (latency draws).
    publish : where the venue's own events go (``BookStatusChanged``, ``AlertRaised``);
        ``None``: nowhere.
    """

    # -- commands (ExecutionClient) -------------------------------------------------------------

    def submit_order(self, command: SubmitOrder) -> None:
        """Send a new order; at the venue it is accepted (or rejected) and matched if it can."""
        self._send(self._on_submit, command)

    def cancel_order(self, command: CancelOrder) -> None:
        """Send a cancel; at the venue it cancels the order or answers that it is not working."""
        self._send(self._on_cancel, command)

    def modify_order(self, command: ModifyOrder) -> None:
        """Send a modification; a modified order loses its arrival status."""
        self._send(self._on_modify, command)

    def _on_submit(self, command: SubmitOrder) -> None:
        init = command.order
        instrument = self.instruments.get(init.instrument_id)
        if instrument is None:
            self._reject(init, f"instrument {init.instrument_id} is not traded on {self.venue}")
            return
        if init.is_post_only and self._would_take(init):
            self._reject(init, f"post-only order at {init.price} would take liquidity")
            return
        working = WorkingOrder(init, self._venue_ids.next(), self._expiry(init, instrument))
        working.awaits_data = self._arriving
        now = self.clock.timestamp_ns()
        self._emit(
            OrderAccepted(
                client_order_id=init.client_order_id,
                strategy_id=init.strategy_id,
                instrument_id=init.instrument_id,
                venue_order_id=working.venue_order_id,
                ts_event=now,
                ts_init=now,
            )
        )
        self._working.setdefault(init.instrument_id, []).append(working)
        self._by_id[init.client_order_id] = working
        if working.awaits_data and not self._book_mode:
            return  # it matches the next record, not the one it was decided on
        if self._book_mode:
            self._book_arrival(working, instrument)
        elif self._quotes:
            quote = self._last_quote.get(init.instrument_id)
            if quote is not None:
                self._match_quote(working, quote, instrument)
                self._finish_arrival(working)
        elif self._fill_at_close and init.order_type is OrderType.MARKET:
            bar = self._last_bar.get(init.instrument_id)
            if bar is not None:
                self._budget_raw = self._bar_budget(bar, instrument)
                self._fill(
                    working, working.leaves_raw, bar.close, bar, instrument, LiquiditySide.TAKER
                )
                self._finish_arrival(working)

    def _on_cancel(self, command: CancelOrder) -> None:
        working = self._by_id.get(command.client_order_id)
        now = self.clock.timestamp_ns()
        if working is None:
            self._emit(
                OrderCancelRejected(
                    client_order_id=command.client_order_id,
                    strategy_id=command.strategy_id,
                    instrument_id=command.instrument_id,
                    reason="order is not working at the venue",
                    ts_event=now,
                    ts_init=now,
                )
            )
            return
        self._close(working, "canceled", command.reason)

    def _on_modify(self, command: ModifyOrder) -> None:
        working = self._by_id.get(command.client_order_id)
        now = self.clock.timestamp_ns()
        ids: dict[str, Any] = {
            "client_order_id": command.client_order_id,
            "strategy_id": command.strategy_id,
            "instrument_id": command.instrument_id,
            "ts_event": now,
            "ts_init": now,
        }
        if working is None:
            self._emit(OrderModifyRejected(reason="order is not working at the venue", **ids))
            return
        filled_raw = working.init.quantity.raw - working.leaves_raw
        quantity = working.init.quantity if command.quantity is None else command.quantity
        if quantity.raw <= filled_raw:
            self._emit(
                OrderModifyRejected(
                    reason=f"new quantity {quantity} is not above the filled quantity", **ids
                )
            )
            return
        grew = quantity.raw - filled_raw > working.leaves_raw
        working.leaves_raw = quantity.raw - filled_raw
        moved = command.price is not None and command.price.raw != working.limit_raw
        if command.price is not None:
            working.limit_raw = command.price.raw
        if command.trigger_price is not None:
            working.trigger_raw = command.trigger_price.raw
        working.init = msgspec.structs.replace(
            working.init,
            quantity=quantity,
            price=command.price or working.init.price,
            trigger_price=command.trigger_price or working.init.trigger_price,
        )
        self._emit(
            OrderUpdated(
                venue_order_id=working.venue_order_id,
                quantity=quantity,
                price=command.price,
                trigger_price=command.trigger_price,
                **ids,
            )
        )
        if self._book_mode and (moved or grew):
            matcher = self._matchers.get(working.init.instrument_id)
            if matcher is not None and matcher.slot(command.client_order_id) is not None:
                # A new price or a larger size loses the queue position: back of the queue.
                matcher.leave(command.client_order_id)
                working.awaits_data = self._arriving
                self._book_arrival(working, self.instruments[working.init.instrument_id])

    # -- market data --------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Match working orders of ``bar.instrument_id`` against the bar (level 1)."""
        self._last_bar[bar.instrument_id] = bar
        if self._working.get(bar.instrument_id) and self._bars:
            self._process_bar(bar)
        if self._impact is not None:
            # After matching: this bar's fills are priced with statistics up to the last bar.
            stats = self._stats.get(bar.instrument_id)
            if stats is None:
                stats = self._stats[bar.instrument_id] = _MarketStats(self._impact.window)
            stats.update(bar, self._decay)

    def on_quote(self, quote: QuoteTick) -> None:
        """Match working orders against a new best bid/ask (level 2)."""
        self._last_quote[quote.instrument_id] = quote
        orders = self._working.get(quote.instrument_id)
        if orders and self._quotes:
            instrument = self.instruments[quote.instrument_id]
            for working in list(orders):
                self._match_quote(working, quote, instrument)
                if working.awaits_data:
                    working.awaits_data = False
                    self._finish_arrival(working)
            self._expire(quote.instrument_id, quote.ts_event)

    def on_trade(self, trade: TradeTick) -> None:
        """Fill resting limits and trigger stops on a trade print (levels 2 and 4)."""
        orders = self._working.get(trade.instrument_id)
        if orders and self._quotes:
            instrument = self.instruments[trade.instrument_id]
            for working in list(orders):
                self._match_trade(working, trade, instrument)
            self._expire(trade.instrument_id, trade.ts_event)
        elif self._book_mode:
            # Every print reaches the book (the last price for stops; L2: the record of prints
            # the depth has not shown yet), not only those that may fill us.
            matcher = self._matchers.get(trade.instrument_id)
            if matcher is None:
                return
            instrument = self.instruments[trade.instrument_id]
            price = trade.price.to_precision(instrument.price_precision).raw
            matcher.now_ns = trade.ts_init
            if not matcher.is_l3:
                size = _raw_at(trade.size.raw, trade.size.precision, instrument.size_precision)
                matcher.print_trade(price, size, _RESTING_SIDE[trade.aggressor_side])
            else:
                matcher.last_print_raw = price
            if orders:
                self._trigger_stops(trade.instrument_id, matcher)
                self._expire(trade.instrument_id, trade.ts_event)

    def working_orders(self, instrument_id: str) -> list[str]:
        """Return the client order ids working on ``instrument_id``, in arrival order."""
        return [w.init.client_order_id for w in self._working.get(instrument_id, [])]

    # -- level 4: order books ----------------------------------------------------------------------

    def book(self, instrument_id: str) -> L2Book | L3Book | None:
        """Return the venue's replayed book of ``instrument_id`` (level 4), or ``None``.

        It holds the market's orders as the data gives them; our consumption is not
        subtracted (see ``book_levels``).
        """
        matcher = self._matchers.get(instrument_id)
        return None if matcher is None else matcher.book

    def book_levels(self, instrument_id: str, side: BookSide) -> list[tuple[Price, Quantity]]:
        """Return the liquidity left to take on ``side``, best first (our consumption removed).

        Empty when the venue keeps no book of the instrument.
        """
        matcher = self._matchers.get(instrument_id)
        instrument = self.instruments.get(instrument_id)
        if matcher is None or instrument is None:
            return []
        p, s = instrument.price_precision, instrument.size_precision
        code = _SIDE_CODES[side]
        return [(Price(px, p), Quantity(sz, s)) for px, sz in matcher.effective_levels(code)]

    def displayed_levels(
        self, instrument_id: str, side: BookSide, depth: int | None = None
    ) -> list[tuple[Price, Quantity]]:
        """Return the liquidity a taker sees on ``side`` of ``instrument_id``, best first.

        Level 4: the replayed book less what our orders took (nothing while the book is
        crossed or unsynced); otherwise the last quote's best level on that side; without
        either, nothing. ``depth`` limits the number of levels.
        """
        instrument = self.instruments.get(instrument_id)
        if instrument is None:
            return []
        matcher = self._matchers.get(instrument_id)
        if self._book_mode:
            if matcher is None or matcher.status != "ok":
                return []
            raws = matcher.effective_levels(_SIDE_CODES[side])
            p, z = instrument.price_precision, instrument.size_precision
            chosen = raws if depth is None else raws[:depth]
            return [(Price(px, p), Quantity(sz, z)) for px, sz in chosen]
        quote = self._last_quote.get(instrument_id)
        if quote is None or side is BookSide.NONE:
            return []
        if side is BookSide.ASK:
            level = (quote.ask_price, quote.ask_size)
        else:
            level = (quote.bid_price, quote.bid_size)
        return [level] if level[1].raw > 0 else []

    def taker_fee_bps(self, instrument_id: str, price: Price) -> float:
        """Return the commission a taker pays here, in bps of notional at ``price``.

        ``bps`` commissions are that figure; ``per_share`` ones are converted at ``price`` (and
        the contract multiplier); minimums and caps are left out.
        """
        commission = self.config.commission
        if commission.kind == "bps":
            return commission.bps
        instrument = self.instruments.get(instrument_id)
        if commission.kind != "per_share" or instrument is None or price.raw <= 0:
            return 0.0
        unit = float(price) * float(instrument.multiplier)
        return float(commission.per_share) / unit * 10_000

    def book_mid(self, instrument_id: str) -> Price | None:
        """Return the replayed book's mid price (one decimal more), or ``None``."""
        matcher = self._matchers.get(instrument_id)
        return None if matcher is None else matcher.mid_price()

    def queue_ahead(self, client_order_id: str) -> Quantity | None:
        """Return the volume ahead of a resting order in its queue (level 4), or ``None``."""
        working = self._by_id.get(client_order_id)
        if working is None:
            return None
        matcher = self._matchers.get(working.init.instrument_id)
        slot = None if matcher is None else matcher.slot(client_order_id)
        if slot is None:
            return None
        return Quantity(slot.ahead, self.instruments[working.init.instrument_id].size_precision)

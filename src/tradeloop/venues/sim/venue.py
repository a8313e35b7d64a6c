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

import functools
import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import msgspec

from tradeloop.core.clock import Clock, TimeEvent
from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price, Quantity, notional_raw, pow10
from tradeloop.core.ids import IdGenerator
from tradeloop.core.rng import make_rng
from tradeloop.costs.fees import commission
from tradeloop.costs.impact import square_root_impact_bps
from tradeloop.costs.slippage import slipped_price
from tradeloop.execution.ports import EventSink
from tradeloop.model.book import NULL_PRICE, BookFlag, L2Book, L3Book
from tradeloop.model.commands import CancelOrder, Command, ModifyOrder, SubmitOrder
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import (
    AggressorSide,
    BookAction,
    BookSide,
    LiquiditySide,
    OrderSide,
    OrderType,
    TimeInForce,
)
from tradeloop.model.events import (
    AlertRaised,
    BookStatusChanged,
    Event,
    FillCosts,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderRejected,
    OrderTriggered,
    OrderUpdated,
)
from tradeloop.model.instruments import Instrument
from tradeloop.venues.sim._working import WorkingOrder
from tradeloop.venues.sim.book import BookMatcher, scale_row_price
from tradeloop.venues.sim.config import SimVenueConfig
from tradeloop.venues.sim.latency import LatencyModel

if TYPE_CHECKING:  # importing data.books at run time would load numba into the event loop
    from tradeloop.data.books.columns import BookDeltaColumns

_DAY_NS = 86_400_000_000_000
_F_LAST: Final = int(BookFlag.LAST)
_F_UNSYNCED: Final = int(BookFlag.UNSYNCED)
_BID: Final = 1
_ASK: Final = 2
_ACTION_CODES: Final = {
    BookAction.ADD: 1,
    BookAction.UPDATE: 2,
    BookAction.DELETE: 3,
    BookAction.CLEAR: 4,
}
_SIDE_CODES: Final = {BookSide.BID: 1, BookSide.ASK: 2, BookSide.NONE: 0}
# The side a trade tick hit: a buyer lifts asks, a seller hits bids; unknown: by price.
_RESTING_SIDE: Final = {AggressorSide.BUYER: 2, AggressorSide.SELLER: 1, AggressorSide.NONE: 0}


_NO_COSTS = FillCosts()


class _MarketStats:
    """Rolling σ and volume of one instrument for the impact model (venue-side estimates)."""

    __slots__ = ("last_close", "log_returns", "permanent_bps", "volumes")

    def __init__(self, window: int) -> None:
        self.log_returns: deque[float] = deque(maxlen=window)
        self.volumes: deque[float] = deque(maxlen=window)
        self.last_close = 0.0
        self.permanent_bps = 0.0

    def update(self, bar: Bar, decay: float) -> None:
        close = bar.close_raw / pow10(bar.price_precision)
        if self.last_close > 0 and close > 0:
            self.log_returns.append(math.log(close / self.last_close))
        self.last_close = close
        self.volumes.append(bar.volume_raw / pow10(bar.volume_precision))
        self.permanent_bps *= decay


class _LatencyDraws:
    """Latencies drawn in blocks: the same sequence as single draws, a fraction of the cost."""

    __slots__ = ("_entry", "_model", "_response")

    _BLOCK: Final = 1024

    def __init__(self, model: LatencyModel) -> None:
        self._model = model
        self._entry: list[int] = []
        self._response: list[int] = []

    def entry_latency_ns(self) -> int:
        if not self._entry:
            self._entry = self._model.entry_latencies_ns(self._BLOCK).tolist()[::-1]
        return self._entry.pop()

    def response_latency_ns(self) -> int:
        if not self._response:
            self._response = self._model.response_latencies_ns(self._BLOCK).tolist()[::-1]
        return self._response.pop()


def _raw_at(raw: int, precision: int, target: int) -> int:
    # Widening only: the venue checks that data is not finer than the instrument.
    if precision == target:
        return raw
    if precision > target:
        raise ConfigError(f"value with {precision} decimals is finer than precision {target}")
    return raw * pow10(target - precision)


@functools.lru_cache(maxsize=16)
def _calendar(code: str) -> Any:
    import exchange_calendars

    return exchange_calendars.get_calendar(code, start="1990-01-01")


class SimulatedVenue:
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

    def __init__(
        self,
        venue: str,
        config: SimVenueConfig,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        emit: EventSink,
        seed: int = 0,
        publish: Callable[[Event], None] | None = None,
    ) -> None:
        self.venue = venue
        self._publish = publish
        self.config = config
        self.clock = clock
        self.instruments = instruments
        self._sink = emit
        self._emit: EventSink = emit
        self._working: dict[str, list[WorkingOrder]] = {}
        self._by_id: dict[str, WorkingOrder] = {}
        self._last_bar: dict[str, Bar] = {}
        self._last_quote: dict[str, QuoteTick] = {}
        self._positions: dict[str, int] = {}
        self._venue_ids = IdGenerator("V", venue)
        self._trade_ids = IdGenerator("T", venue)
        self._through = config.limit_fill == "through"
        self._fill_at_close = config.market_fill == "close"
        self._bars = config.fidelity == "bars"
        self._quotes = config.fidelity == "quotes"
        self._book_mode = config.fidelity == "book"
        self._matchers: dict[str, BookMatcher] = {}
        self._scales: dict[tuple[str, int, int], tuple[int, int]] = {}
        self._budget_raw: int | None = None
        self._impact = config.impact
        self._has_price_costs = (
            config.half_spread_bps > 0
            or config.slippage.kind != "none"
            or config.impact is not None
        )
        self._stats: dict[str, _MarketStats] = {}
        self._decay = (
            0.5 ** (1.0 / config.impact.permanent_half_life_bars)
            if config.impact is not None
            else 1.0
        )
        self._latency: _LatencyDraws | None = None
        self._inbound: deque[tuple[int, Callable[[Any], None], Command]] = deque()
        self._outbound: deque[tuple[int, OrderEvent]] = deque()
        self._last_inbound_ns = 0
        self._last_outbound_ns = 0
        self._inbound_alert = f"venue.{venue}.inbound"
        self._outbound_alert = f"venue.{venue}.outbound"
        self._is_inbound_armed = False
        self._is_outbound_armed = False
        self._arriving = False
        if config.latency is not None:
            self._latency = _LatencyDraws(
                LatencyModel(config.latency, make_rng(seed, "venue", venue, "latency"))
            )
            self._emit = self._respond

    # -- latency: in-flight commands and responses ---------------------------------------------

    def _send(self, handler: Callable[[Any], None], command: Command) -> None:
        latency = self._latency
        if latency is None:
            handler(command)
            return
        now = self.clock.timestamp_ns()
        arrival = max(now + latency.entry_latency_ns(), self._last_inbound_ns)
        self._last_inbound_ns = arrival
        if arrival <= now and not self._inbound:
            handler(command)
            return
        self._inbound.append((arrival, handler, command))
        if not self._is_inbound_armed:
            self._is_inbound_armed = True
            self.clock.set_time_alert(self._inbound_alert, arrival, self._on_inbound)

    def _on_inbound(self, _event: TimeEvent) -> None:
        self._is_inbound_armed = False
        now = self.clock.timestamp_ns()
        inbound = self._inbound
        while inbound and inbound[0][0] <= now:
            _, handler, command = inbound.popleft()
            self._arriving = True
            try:
                handler(command)
            finally:
                self._arriving = False
        if inbound:
            self._is_inbound_armed = True
            self.clock.set_time_alert(self._inbound_alert, inbound[0][0], self._on_inbound)

    def _respond(self, event: OrderEvent) -> None:
        latency = self._latency
        assert latency is not None
        now = self.clock.timestamp_ns()
        due = max(now + latency.response_latency_ns(), self._last_outbound_ns)
        self._last_outbound_ns = due
        if due <= now and not self._outbound:
            self._sink(event)
            return
        self._outbound.append((due, event))
        if not self._is_outbound_armed:
            self._is_outbound_armed = True
            self.clock.set_time_alert(self._outbound_alert, due, self._on_outbound)

    def _on_outbound(self, _event: TimeEvent) -> None:
        self._is_outbound_armed = False
        now = self.clock.timestamp_ns()
        outbound = self._outbound
        while outbound and outbound[0][0] <= now:
            due, event = outbound.popleft()
            self._sink(msgspec.structs.replace(event, ts_init=due))
        if outbound:
            self._is_outbound_armed = True
            self.clock.set_time_alert(self._outbound_alert, outbound[0][0], self._on_outbound)

    def in_flight(self) -> tuple[int, int]:
        """Return how many commands and responses are in flight (latency only)."""
        return len(self._inbound), len(self._outbound)

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

    def _finish_arrival(self, w: WorkingOrder) -> None:
        if w.init.client_order_id not in self._by_id:
            return
        if w.init.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._close(w, "canceled", "IOC/FOK order not filled on arrival")
        else:
            w.is_resting = True

    # -- fills, triggers, closing ------------------------------------------------------------------

    def _fill(
        self,
        w: WorkingOrder,
        qty_raw: int,
        price: Price,
        bar: Bar | None,
        instrument: Instrument,
        liquidity: LiquiditySide,
        *,
        slip: bool = True,
    ) -> None:
        if self._budget_raw is not None and bar is not None:
            qty_raw = min(qty_raw, self._budget_raw)
        if w.init.is_reduce_only:
            position = self._positions.get(w.init.instrument_id, 0)
            reducible = -position if w.is_buy else position
            if reducible <= 0:
                self._close(w, "canceled", "reduce-only order: the position is already closed")
                return
            qty_raw = min(qty_raw, reducible)
        if qty_raw <= 0:
            return
        reference = price
        costs = _NO_COSTS  # a fill at its reference price: measured, nothing to attribute
        if slip:
            price, costs = self._adjust(price, qty_raw, w.is_buy, bar, instrument)
        quantity = Quantity(qty_raw, instrument.size_precision)
        now = self.clock.timestamp_ns()
        w.leaves_raw -= qty_raw
        if self._budget_raw is not None and bar is not None:
            self._budget_raw -= qty_raw
        signed = qty_raw if w.is_buy else -qty_raw
        self._positions[w.init.instrument_id] = (
            self._positions.get(w.init.instrument_id, 0) + signed
        )
        if w.leaves_raw == 0:
            self._remove(w)
        self._emit(
            OrderFilled(
                client_order_id=w.init.client_order_id,
                strategy_id=w.init.strategy_id,
                instrument_id=w.init.instrument_id,
                venue_order_id=w.venue_order_id,
                trade_id=self._trade_ids.next(),
                order_side=w.init.side,
                order_type=w.init.order_type,
                last_qty=quantity,
                last_px=price,
                commission=commission(self.config.commission, instrument, quantity, price),
                liquidity_side=liquidity,
                reference_px=reference,
                costs=costs,
                ts_event=now,
                ts_init=now,
            )
        )

    def _adjust(
        self, reference: Price, qty_raw: int, is_buy: bool, bar: Bar | None, instrument: Instrument
    ) -> tuple[Price, FillCosts]:
        """Return a taker fill's price and its cost components over ``reference``."""
        if not self._has_price_costs:
            return reference, _NO_COSTS
        tick = instrument.tick_size_raw
        ref = reference.raw

        def ticks_for(bps: float) -> int:
            # Whole ticks, rounded away from the trader.
            return math.ceil(abs(ref) * bps / 10_000 / tick - 1e-9) * tick if bps > 0 else 0

        spread = ticks_for(self.config.half_spread_bps) if bar is not None else 0
        slipped = slipped_price(self.config.slippage, instrument, reference, is_buy)
        slippage = abs(slipped.raw - ref)
        impact = 0
        if self._impact is not None:
            impact = ticks_for(self._impact_bps(qty_raw, instrument, bar))
        total = spread + slippage + impact
        if total == 0:
            return reference, _NO_COSTS  # no cost model configured: nothing to attribute
        parts = [spread, slippage, impact]
        final = ref + total if is_buy else ref - total
        if bar is not None:
            clamped = min(max(final, bar.low_raw), bar.high_raw)
            if clamped != final:
                allowed = abs(clamped - ref)
                parts = [p * allowed // total for p in parts]
                parts[-1] += allowed - sum(parts)  # the rounding remainder goes to the last
                final = clamped
        mult_raw, mult_precision = instrument.multiplier_parts
        qty = Quantity(qty_raw, instrument.size_precision)
        money = [
            notional_raw(Price(part, reference.precision), qty, mult_raw, mult_precision)
            for part in parts
        ]
        return Price(final, reference.precision), FillCosts(money[0], money[1], money[2])

    def _impact_bps(self, qty_raw: int, instrument: Instrument, bar: Bar | None) -> float:
        config = self._impact
        assert config is not None
        stats = self._stats.get(instrument.id)
        if stats is None or len(stats.log_returns) < 2 or not stats.volumes:
            return 0.0
        returns = stats.log_returns
        mean = sum(returns) / len(returns)
        sigma = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
        sigma *= math.sqrt(config.bars_per_day)
        adv = sum(stats.volumes) / len(stats.volumes) * config.bars_per_day
        if adv <= 0:
            return 0.0
        quantity = qty_raw / pow10(instrument.size_precision)
        participation = quantity / adv
        if config.model == "square_root":
            temporary = square_root_impact_bps(quantity, adv, sigma, config.square_root)
        else:
            temporary = config.temporary_bps * participation
        permanent = stats.permanent_bps
        stats.permanent_bps += config.permanent_bps * participation
        return temporary + permanent

    def _trigger(self, w: WorkingOrder) -> None:
        w.is_triggered = True
        now = self.clock.timestamp_ns()
        self._emit(
            OrderTriggered(
                client_order_id=w.init.client_order_id,
                strategy_id=w.init.strategy_id,
                instrument_id=w.init.instrument_id,
                venue_order_id=w.venue_order_id,
                ts_event=now,
                ts_init=now,
            )
        )

    def _expire(self, instrument_id: str, ts_ns: int) -> None:
        for working in list(self._working.get(instrument_id, ())):
            if working.expire_ns is not None and working.expire_ns <= ts_ns:
                self._close(working, "expired")

    def _close(self, w: WorkingOrder, how: str, reason: str = "") -> None:
        self._remove(w)
        now = self.clock.timestamp_ns()
        init = w.init
        if how == "expired":
            self._emit(
                OrderExpired(
                    client_order_id=init.client_order_id,
                    strategy_id=init.strategy_id,
                    instrument_id=init.instrument_id,
                    venue_order_id=w.venue_order_id,
                    ts_event=now,
                    ts_init=now,
                )
            )
        else:
            self._emit(
                OrderCanceled(
                    client_order_id=init.client_order_id,
                    strategy_id=init.strategy_id,
                    instrument_id=init.instrument_id,
                    venue_order_id=w.venue_order_id,
                    reason=reason,
                    ts_event=now,
                    ts_init=now,
                )
            )

    def _remove(self, w: WorkingOrder) -> None:
        if self._by_id.pop(w.init.client_order_id, None) is not None:
            self._working[w.init.instrument_id].remove(w)
            if self._matchers:
                matcher = self._matchers.get(w.init.instrument_id)
                if matcher is not None:
                    matcher.leave(w.init.client_order_id)

    def _reject(self, init: OrderInitialized, reason: str) -> None:
        now = self.clock.timestamp_ns()
        self._emit(
            OrderRejected(
                client_order_id=init.client_order_id,
                strategy_id=init.strategy_id,
                instrument_id=init.instrument_id,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        )

    def _would_take(self, init: OrderInitialized) -> bool:
        assert init.price is not None
        is_buy = init.side is OrderSide.BUY
        matcher = self._matchers.get(init.instrument_id)
        if matcher is not None:
            instrument = self.instruments[init.instrument_id]
            limit = init.price.to_precision(instrument.price_precision).raw
            return matcher.is_marketable(is_buy, limit)
        quote = self._last_quote.get(init.instrument_id)
        if quote is not None:
            touch = quote.ask_price if is_buy else quote.bid_price
            return init.price >= touch if is_buy else init.price <= touch
        bar = self._last_bar.get(init.instrument_id)
        if bar is not None:
            close = bar.close
            return init.price >= close if is_buy else init.price <= close
        return False

    def _expiry(self, init: OrderInitialized, instrument: Instrument) -> int | None:
        if init.time_in_force is TimeInForce.GTD:
            return init.expire_time_ns
        if init.time_in_force is not TimeInForce.DAY:
            return None
        now = self.clock.timestamp_ns()
        if instrument.exchange_calendar is None:
            return (now // _DAY_NS + 1) * _DAY_NS
        import pandas as pd  # only DAY orders on calendar instruments need it

        calendar = _calendar(instrument.exchange_calendar)
        close = calendar.next_close(pd.Timestamp(now, unit="ns", tz="UTC"))
        return int(close.value)

"""The simulated venue's state and its primitives: latency queues, fills, triggers, closing.

``VenueCore`` holds what every fidelity level shares; ``venues.sim._matching`` adds the
matching of bars, quotes, trades and books, and ``venues.sim.venue.SimulatedVenue`` the
commands, the market data entry points and the queries (the rules are in that module's
docstring).
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

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
from tradeloop.model.book import BookFlag
from tradeloop.model.commands import Command
from tradeloop.model.data import Bar, QuoteTick
from tradeloop.model.enums import (
    AggressorSide,
    BookAction,
    BookSide,
    LiquiditySide,
    OrderSide,
    TimeInForce,
)
from tradeloop.model.events import (
    Event,
    FillCosts,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderTriggered,
)
from tradeloop.model.instruments import Instrument
from tradeloop.venues.sim._working import WorkingOrder
from tradeloop.venues.sim.book import BookMatcher
from tradeloop.venues.sim.config import SimVenueConfig
from tradeloop.venues.sim.latency import LatencyModel

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


class VenueCore:
    """State and primitives of a simulated venue (see ``SimulatedVenue``)."""

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

"""Execution algorithms: turn one planned change into child orders over time.

Each algorithm is driven by its instrument's bars (``on_bar``, after the bar was seen) or,
with ``interval_ns`` / ``timeout_ns``, by the clock (``twap``, ``vwap``,
``implementation_shortfall``, ``pov`` on a timer; ``limit_then_market`` on a time alert), so
it runs on quotes, trades or order books without bars; by trade prints (``on_trade``: the
volume ``pov`` follows); and by its child orders' events (``on_order_event``); it sends
children through an
``OrderGateway`` (which passes every order through risk), and reports through ``emit``:
``ExecutionProgressed`` on each fill and ``ExecutionCompleted`` when it is done. Every
algorithm is cancellable (``cancel``: working children are canceled, the timer stopped).

- ``immediate``: one market order for everything.
- ``twap``: ``slices`` equal market orders, one per bar or interval (the last takes the
  remainder).
- ``vwap``: like TWAP with slice sizes proportional to a volume profile (``weights``, one
  per slice — the pipeline estimates it from the intraday volume by time of day).
- ``pov``: each bar, a market order for ``rate`` × the bar's volume, until done. With
  ``interval_ns``, every interval: a market order bringing what was sent to
  ``floor(rate × market volume since the start)`` (lots; the rounding remainder carries to
  the next interval), the market volume being the trade prints' (``on_trade``), or the bars'
  when no print arrives.
- ``limit_then_market``: a limit at the arrival price improved by ``offset_ticks``; after
  ``timeout_bars`` bars (or ``timeout_ns`` of clock time, when set), what is left is canceled
  and sent as a market order.
- ``implementation_shortfall``: slices follow the Almgren–Chriss optimal trajectory for the
  plan's impact coefficients and risk aversion (``costs.almgren_chriss.optimal_trajectory``
  over ``horizon_days`` in ``slices`` intervals, price volatility ``volatility``): slice k
  brings the cumulative quantity to ``X - x_k`` (rounded down to lots; the last slice takes
  the remainder). Risk aversion 0 gives TWAP; higher risk aversion front-loads.
- ``iceberg``: a limit at ``limit_price`` (default: the arrival price improved by
  ``offset_ticks``) showing at most ``display_quantity``; each time the shown child is
  filled, the next one (the same size, or what is left) is sent at the same price.
- ``sor``: smart order routing over ``venues`` (the same asset's instrument ids on several
  venues): what is left is split by ``execution.sor.route_order`` over the liquidity each
  venue displays now (price, taker fee, size; within ``limit_price`` if given) and sent as
  one IOC limit per venue; the rest is routed again every ``interval_ns`` (or each bar of a
  routed instrument when 0) until filled, canceled or ``timeout_ns`` has passed. Each round
  is reported (``ExecutionProgressed``, note ``routed ...``). Quantities are counted at the
  finest size precision of the routed instruments.

Children are tagged ``("rebalance:<id>", "algo:<name>")`` with the plan's parent order id,
so TCA and ``explain`` can gather them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import msgspec

from tradeloop.core.clock import Clock, TimeEvent
from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price, Quantity, pow10
from tradeloop.costs.almgren_chriss import AlmgrenChrissConfig, optimal_trajectory
from tradeloop.execution.ports import OrderGateway
from tradeloop.execution.sor import LiquiditySource, VenueLiquidity, route_order
from tradeloop.model.data import Bar, TradeTick
from tradeloop.model.decisions import ExecutionCompleted, ExecutionProgressed
from tradeloop.model.enums import OrderSide, TimeInForce
from tradeloop.model.events import (
    Event,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from tradeloop.model.instruments import Instrument
from tradeloop.model.orders import Order

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_CLASSES",
    "ExecutionAlgorithm",
    "ExecutionPlan",
    "OrderGateway",
    "make_algorithm",
]

ALGORITHMS = (
    "immediate",
    "twap",
    "vwap",
    "pov",
    "limit_then_market",
    "implementation_shortfall",
    "iceberg",
    "sor",
)


class ExecutionPlan(msgspec.Struct, frozen=True, kw_only=True):
    """One change to execute.

    ``slices`` (twap, vwap, implementation_shortfall), ``weights`` (vwap), ``rate`` (pov),
    ``timeout_bars``, ``timeout_ns`` and ``offset_ticks`` (limit_then_market: convert after
    ``timeout_ns`` of clock time when positive, else after ``timeout_bars`` bars;
    ``offset_ticks`` also iceberg), ``interval_ns`` (twap, vwap, implementation_shortfall,
    pov: slices on a clock timer every ``interval_ns`` instead of one per bar; 0: per bar),
    ``almgren_chriss``, ``volatility``
    (price volatility in currency per unit per sqrt(day)) and ``horizon_days``
    (implementation_shortfall), ``display_quantity`` and ``limit_price`` (iceberg) configure
    the algorithm.
    """

    instrument_id: str
    side: OrderSide
    quantity: Quantity
    algorithm: str
    parent_order_id: str
    rebalance_id: str
    arrival_price: Price
    slices: int = 1
    weights: tuple[float, ...] = ()
    rate: float = 0.1
    timeout_bars: int = 1
    timeout_ns: int = 0
    offset_ticks: int = 0
    reduce_only: bool = False
    interval_ns: int = 0
    almgren_chriss: AlmgrenChrissConfig | None = None
    volatility: float = 0.0
    horizon_days: float = 1.0
    display_quantity: Quantity | None = None
    limit_price: Price | None = None
    venues: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"execution algorithm {self.algorithm!r} is not one of {', '.join(ALGORITHMS)}"
            )
        if self.quantity.raw <= 0:
            raise ConfigError(f"execution plan {self.parent_order_id} quantity must be positive")
        if self.slices < 1 or self.timeout_bars < 1 or not 0 < self.rate <= 1:
            raise ConfigError(
                f"execution plan {self.parent_order_id} needs slices >= 1, timeout_bars >= 1 "
                f"and rate in (0, 1]; got slices {self.slices}, timeout_bars "
                f"{self.timeout_bars}, rate {self.rate}"
            )
        if self.weights and (
            len(self.weights) != self.slices or min(self.weights) < 0 or sum(self.weights) <= 0
        ):
            raise ConfigError(
                "vwap weights need one non-negative weight per slice and a positive sum"
            )
        if self.interval_ns < 0:
            raise ConfigError(f"execution plan interval_ns {self.interval_ns} must be >= 0")
        if self.timeout_ns < 0:
            raise ConfigError(f"execution plan timeout_ns {self.timeout_ns} must be >= 0")
        if self.algorithm == "implementation_shortfall":
            if self.almgren_chriss is None:
                raise ConfigError(
                    f"execution plan {self.parent_order_id}: implementation_shortfall needs "
                    "almgren_chriss impact coefficients"
                )
            if not (self.volatility >= 0 and self.horizon_days > 0):
                raise ConfigError(
                    f"execution plan {self.parent_order_id}: volatility {self.volatility} must "
                    f"be >= 0 and horizon_days {self.horizon_days} positive"
                )
        if self.venues and (
            self.instrument_id not in self.venues or len(set(self.venues)) != len(self.venues)
        ):
            raise ConfigError(
                f"execution plan {self.parent_order_id}: venues {list(self.venues)} must be "
                f"distinct and include the plan's instrument {self.instrument_id}"
            )
        if self.algorithm == "iceberg" and (
            self.display_quantity is None or self.display_quantity.raw <= 0
        ):
            raise ConfigError(
                f"execution plan {self.parent_order_id}: iceberg needs a positive display_quantity"
            )


class ExecutionAlgorithm:
    """Base: bookkeeping of children, fills and completion."""

    name = "base"

    def __init__(
        self,
        plan: ExecutionPlan,
        instrument: Instrument,
        gateway: OrderGateway,
        clock: Clock,
        emit: Callable[[Event], None],
    ) -> None:
        self.plan = plan
        self.instrument = instrument
        self.gateway = gateway
        self.clock = clock
        self.emit = emit
        self.filled_raw = 0  # at ``_size_precision``
        self._cost_raw = 0  # sum of px.raw * qty.raw of fills
        self._px_precision = instrument.price_precision
        self._size_precision = instrument.size_precision
        self.children: dict[str, Order] = {}
        self.is_done = False
        self.bars_seen = 0
        self._timer: str | None = None
        self._alert: str | None = None

    # -- helpers ------------------------------------------------------------------------------

    def _scaled(self, raw: int, precision: int) -> int:
        # A raw size at ``precision`` at the algorithm's (never finer) size precision.
        return raw * pow10(self._size_precision - precision)

    @property
    def quantity_raw(self) -> int:
        """Return the plan's quantity (raw, at the algorithm's size precision)."""
        quantity = self.plan.quantity
        return self._scaled(quantity.raw, quantity.precision)

    @property
    def remaining_raw(self) -> int:
        """Return the quantity (raw) neither filled nor working."""
        working = sum(
            self._scaled(o.quantity.raw - o.filled_raw, o.quantity.precision)
            for o in self.children.values()
            if o.is_open
        )
        return self.quantity_raw - self.filled_raw - working

    @property
    def unfilled_raw(self) -> int:
        """Return the quantity (raw) not filled yet."""
        return self.quantity_raw - self.filled_raw

    def _lots(self, raw: int) -> int:
        lot = self.instrument.lot_size_raw
        return raw - raw % lot

    def _tags(self) -> tuple[str, ...]:
        return (f"rebalance:{self.plan.rebalance_id}", f"algo:{self.name}")

    def _send_market(self, raw: int) -> None:
        raw = min(self._lots(raw), self.remaining_raw)
        if raw <= 0:
            return
        factory = self.gateway.order_factory
        init = factory.market(
            self.plan.instrument_id,
            self.plan.side,
            Quantity(raw, self.instrument.size_precision),
            reduce_only=self.plan.reduce_only,
            parent_order_id=self.plan.parent_order_id,
            tags=self._tags(),
        )
        self._track(self.gateway.submit_order(init))

    def _send_limit(self, raw: int, price: Price) -> None:
        raw = min(self._lots(raw), self.remaining_raw)
        if raw <= 0:
            return
        factory = self.gateway.order_factory
        init = factory.limit(
            self.plan.instrument_id,
            self.plan.side,
            Quantity(raw, self.instrument.size_precision),
            price,
            reduce_only=self.plan.reduce_only,
            parent_order_id=self.plan.parent_order_id,
            tags=self._tags(),
        )
        self._track(self.gateway.submit_order(init))

    def _track(self, order: Order) -> None:
        self.children[order.client_order_id] = order
        if order.is_closed and order.filled_raw == 0:  # denied at once
            self._finish("denied by risk")

    def _start_timer(self) -> None:
        # Clock-driven slices: one ``on_interval`` every ``interval_ns``.
        if self.plan.interval_ns > 0:
            self._timer = f"algo.{self.plan.parent_order_id}"
            self.clock.set_timer(self._timer, self.plan.interval_ns, self._on_timer)

    def _on_timer(self, event: TimeEvent) -> None:
        if not self.is_done:
            self.on_interval()

    def on_interval(self) -> None:
        """React to the algorithm's clock timer (``interval_ns``)."""

    def _start_alert(self, at_ns: int) -> None:
        # One clock alert (a timeout) at ``at_ns``: ``on_alert``.
        self._alert = f"algo.{self.plan.parent_order_id}.timeout"
        self.clock.set_time_alert(self._alert, at_ns, self._on_alert)

    def _on_alert(self, event: TimeEvent) -> None:
        self._alert = None
        if not self.is_done:
            self.on_alert()

    def on_alert(self) -> None:
        """React to the algorithm's clock alert (``timeout_ns``)."""

    def _finish(self, outcome: str) -> None:
        if self.is_done:
            return
        self.is_done = True
        if self._timer is not None:
            self.clock.cancel_timer(self._timer)
            self._timer = None
        if self._alert is not None:
            self.clock.cancel_timer(self._alert)
            self._alert = None
        average = None
        if self.filled_raw:
            average = self._cost_raw / self.filled_raw / pow10(self._px_precision)
        now = self.clock.timestamp_ns()
        self.emit(
            ExecutionCompleted(
                parent_order_id=self.plan.parent_order_id,
                instrument_id=self.plan.instrument_id,
                algorithm=self.name,
                filled_qty=self.filled_raw / pow10(self._size_precision),
                average_price=average,
                arrival_price=float(self.plan.arrival_price),
                outcome=outcome,
                ts_event=now,
                ts_init=now,
            )
        )

    # -- driving --------------------------------------------------------------------------------

    def start(self) -> None:
        """Send the first children (called once, when the plan is made)."""

    def on_bar(self, bar: Bar) -> None:
        """React to a new bar of the instrument."""
        self.bars_seen += 1

    def on_trade(self, trade: TradeTick) -> None:
        """React to a trade print of the instrument (the market's volume)."""

    def on_order_event(self, event: OrderEvent) -> None:
        """Account for a child's event; finish when everything is filled."""
        if type(event) is OrderFilled:
            qty = event.last_qty.to_precision(self._size_precision)
            self.filled_raw += qty.raw
            px = event.last_px.to_precision(self._px_precision)
            self._cost_raw += px.raw * qty.raw
            now = self.clock.timestamp_ns()
            scale = pow10(self._size_precision)
            self.emit(
                ExecutionProgressed(
                    parent_order_id=self.plan.parent_order_id,
                    instrument_id=self.plan.instrument_id,
                    algorithm=self.name,
                    filled_qty=self.filled_raw / scale,
                    remaining_qty=self.unfilled_raw / scale,
                    child_orders=len(self.children),
                    note=f"{event.client_order_id} filled {event.last_qty} at {event.last_px}",
                    ts_event=now,
                    ts_init=now,
                )
            )
            if self.unfilled_raw <= 0:
                self._finish("filled")
        elif type(event) in (OrderDenied, OrderRejected):
            self._finish(f"child {event.client_order_id} {type(event).__name__}")

    def cancel(self) -> None:
        """Cancel the working children and finish."""
        for order in list(self.children.values()):
            if order.is_open:
                self.gateway.cancel_order(order)
        self._finish("canceled")


class Immediate(ExecutionAlgorithm):
    """One market order for the whole quantity."""

    name = "immediate"

    def start(self) -> None:
        """Send everything now."""
        self._send_market(self.plan.quantity.raw)


class Twap(ExecutionAlgorithm):
    """Equal (or ``weights``-proportional, for VWAP) slices, one per bar."""

    name = "twap"

    def _weights(self) -> tuple[float, ...]:
        return self.plan.weights or (1.0,) * self.plan.slices

    def start(self) -> None:
        """Send the first slice (and start the timer of clock-driven slices)."""
        self._next_slice = 1
        self._send_slice(0)
        if not self.is_done and self.plan.slices > 1:
            self._start_timer()

    def on_bar(self, bar: Bar) -> None:
        """Send the next slice (bar-driven plans)."""
        super().on_bar(bar)
        if self.plan.interval_ns == 0:
            self._advance()

    def on_interval(self) -> None:
        """Send the next slice (clock-driven plans)."""
        self._advance()

    def _advance(self) -> None:
        if self._next_slice < self.plan.slices and not self.is_done:
            self._send_slice(self._next_slice)
            self._next_slice += 1
        if self._next_slice >= self.plan.slices and self._timer is not None:
            self.clock.cancel_timer(self._timer)
            self._timer = None

    def _send_slice(self, index: int) -> None:
        weights = self._weights()
        if index == len(weights) - 1:
            self._send_market(self.remaining_raw)
            return
        total = self.plan.quantity.raw
        # Floor of total x cumulative share, exactly (1/3 of 9 is 3, not 2.999...).
        target = math.floor(total * Fraction(sum(weights[: index + 1])) / Fraction(sum(weights)))
        self._send_market(target - (total - self.remaining_raw))


class Vwap(Twap):
    """TWAP slices sized by a volume profile."""

    name = "vwap"


class Pov(ExecutionAlgorithm):
    """A fixed share of the market's volume: per bar, or per clock interval of prints."""

    name = "pov"

    def start(self) -> None:
        """Wait for volume to come (participation is measured on the volume after the start)."""
        self._rate = Fraction(repr(self.plan.rate))
        self._printed_raw = 0  # market volume of trade prints since the start
        self._bar_raw = 0  # market volume of bars since the start (clock-driven plans)
        self._has_prints = False
        self._sent_raw = 0
        self._start_timer()

    def _raw(self, quantity: Quantity) -> int:
        return quantity.raw * pow10(self.instrument.size_precision) // pow10(quantity.precision)

    def on_bar(self, bar: Bar) -> None:
        """Bar-driven: send ``rate`` × this bar's volume. Clock-driven: count its volume."""
        super().on_bar(bar)
        if self.is_done:
            return
        volume_raw = (
            bar.volume_raw * pow10(self.instrument.size_precision) // pow10(bar.volume_precision)
        )
        if self.plan.interval_ns > 0:
            self._bar_raw += volume_raw
            return
        self._send_market(max(self.instrument.lot_size_raw, int(volume_raw * self.plan.rate)))

    def on_trade(self, trade: TradeTick) -> None:
        """Count a print's volume (clock-driven plans)."""
        if self.plan.interval_ns > 0 and not self.is_done:
            self._has_prints = True
            self._printed_raw += self._raw(trade.size)

    def on_interval(self) -> None:
        """Bring what was sent up to ``rate`` × the market volume since the start."""
        volume = self._printed_raw if self._has_prints else self._bar_raw
        target = math.floor(volume * self._rate)
        want = target - self._sent_raw
        if want < self.instrument.lot_size_raw:
            return  # the remainder carries to the next interval
        before = self.remaining_raw
        self._send_market(want)
        self._sent_raw += before - self.remaining_raw


class LimitThenMarket(ExecutionAlgorithm):
    """A limit at the arrival price; what is left after the timeout goes at market."""

    name = "limit_then_market"

    def start(self) -> None:
        """Place the limit (and, with ``timeout_ns``, the clock alert that converts it)."""
        self._converting = False
        self._send_limit(self.plan.quantity.raw, _passive_price(self.plan, self.instrument))
        if self.plan.timeout_ns > 0 and not self.is_done:
            self._start_alert(self.clock.timestamp_ns() + self.plan.timeout_ns)

    def on_bar(self, bar: Bar) -> None:
        """Convert the rest to a market order once ``timeout_bars`` bars have passed."""
        super().on_bar(bar)
        if self.plan.timeout_ns > 0 or self.bars_seen < self.plan.timeout_bars:
            return
        self._convert()

    def on_alert(self) -> None:
        """Convert the rest to a market order: ``timeout_ns`` has passed."""
        self._convert()

    def _convert(self) -> None:
        if self.is_done or self._converting:
            return
        working = [o for o in self.children.values() if o.is_open]
        if working:
            self._converting = True
            for order in working:
                self.gateway.cancel_order(order)
        elif self.remaining_raw > 0:
            self._send_market(self.remaining_raw)

    def on_order_event(self, event: OrderEvent) -> None:
        """After the limit is canceled, send the rest at market."""
        super().on_order_event(event)
        if self._converting and type(event) in (OrderCanceled, OrderExpired) and not self.is_done:
            self._converting = False
            self._send_market(self.remaining_raw)


class ImplementationShortfall(Twap):
    """Slices along the Almgren–Chriss optimal trajectory (front-loaded by risk aversion)."""

    name = "implementation_shortfall"

    def start(self) -> None:
        """Compute the trajectory, then send the first slice."""
        plan = self.plan
        assert plan.almgren_chriss is not None
        self.trajectory = optimal_trajectory(
            float(plan.quantity),
            plan.horizon_days,
            plan.slices,
            plan.volatility,
            plan.almgren_chriss,
        )
        super().start()

    def _weights(self) -> tuple[float, ...]:
        return self.trajectory.trades


def _passive_price(plan: ExecutionPlan, instrument: Instrument) -> Price:
    # The arrival price moved ``offset_ticks`` away from the market, on the tick grid: a buy
    # rounds down and a sell up (a mid between two ticks never rounds toward the other side).
    tick = instrument.tick_size_raw
    is_buy = plan.side is OrderSide.BUY
    arrival = plan.arrival_price.to_precision(
        instrument.price_precision, "ROUND_FLOOR" if is_buy else "ROUND_CEILING"
    )
    raw = arrival.raw - arrival.raw % tick if is_buy else -(-arrival.raw // tick) * tick
    offset = plan.offset_ticks * tick
    return Price(raw - offset if is_buy else raw + offset, instrument.price_precision)


class Iceberg(ExecutionAlgorithm):
    """A limit showing ``display_quantity`` at a time, refilled when the shown part fills."""

    name = "iceberg"

    def start(self) -> None:
        """Show the first part."""
        plan = self.plan
        self.price = (
            plan.limit_price.to_precision(self.instrument.price_precision)
            if plan.limit_price is not None
            else _passive_price(plan, self.instrument)
        )
        self._refill()

    def _refill(self) -> None:
        display = self.plan.display_quantity
        assert display is not None
        shown = display.to_precision(self.instrument.size_precision).raw
        self._send_limit(min(shown, self.remaining_raw), self.price)

    def on_order_event(self, event: OrderEvent) -> None:
        """Refill once the shown child is filled; finish if a child ends unfilled."""
        super().on_order_event(event)
        if self.is_done:
            return
        kind = type(event)
        if kind is OrderFilled:
            if not any(o.is_open for o in self.children.values()) and self.remaining_raw > 0:
                self._refill()
        elif kind in (OrderCanceled, OrderExpired):
            self._finish(f"child {event.client_order_id} {kind.__name__}")


class SmartRouted(ExecutionAlgorithm):
    """Split what is left over several venues by displayed price, fee and size (IOC children)."""

    name = "sor"

    def __init__(
        self,
        plan: ExecutionPlan,
        instrument: Instrument,
        gateway: OrderGateway,
        clock: Clock,
        emit: Callable[[Event], None],
        liquidity: LiquiditySource,
    ) -> None:
        super().__init__(plan, instrument, gateway, clock, emit)
        self.liquidity = liquidity
        self.venue_ids = plan.venues or (plan.instrument_id,)
        self.routed_instruments = {i: liquidity.instrument(i) for i in self.venue_ids}
        self._size_precision = max(i.size_precision for i in self.routed_instruments.values())
        self._px_precision = max(i.price_precision for i in self.routed_instruments.values())
        self.rounds = 0

    def start(self) -> None:
        """Route now; then again on the timer (or bars) until done or timed out."""
        self._route()
        if self.is_done:
            return
        self._start_timer()
        if self.plan.timeout_ns > 0:
            self._start_alert(self.clock.timestamp_ns() + self.plan.timeout_ns)

    def on_interval(self) -> None:
        """Route what is left (clock-driven)."""
        self._route()

    def on_bar(self, bar: Bar) -> None:
        """Route what is left on a bar of a routed instrument (bar-driven)."""
        super().on_bar(bar)
        if self.plan.interval_ns == 0 and bar.instrument_id in self.routed_instruments:
            self._route()

    def on_alert(self) -> None:
        """Stop routing: ``timeout_ns`` has passed."""
        for order in list(self.children.values()):
            if order.is_open:
                self.gateway.cancel_order(order)
        left = self.unfilled_raw / pow10(self._size_precision)
        self._finish(f"timed out with {left:g} unfilled")

    def _is_stopped(self) -> bool:
        return self.is_done

    def _venue(self, instrument_id: str) -> VenueLiquidity:
        return self.liquidity.venue_liquidity(instrument_id, self.plan.side)

    def _route(self) -> None:
        if self.is_done or any(o.is_open for o in self.children.values()):
            return  # the last round's children are still working
        remaining = self.remaining_raw
        if remaining <= 0:
            return
        venues = [self._venue(i) for i in self.venue_ids]
        route = route_order(
            self.plan.side,
            Quantity(remaining, self._size_precision),
            venues,
            limit_price=self.plan.limit_price,
        )
        self.rounds += 1
        parts = ", ".join(
            f"{a.venue} {a.quantity} up to {a.limit_price}" for a in route.allocations
        )
        now = self.clock.timestamp_ns()
        scale = pow10(self._size_precision)
        self.emit(
            ExecutionProgressed(
                parent_order_id=self.plan.parent_order_id,
                instrument_id=self.plan.instrument_id,
                algorithm=self.name,
                filled_qty=self.filled_raw / scale,
                remaining_qty=self.unfilled_raw / scale,
                child_orders=len(self.children),
                note=f"routed round {self.rounds}: {parts or 'nothing routable'}; "
                f"unrouted {route.unrouted}",
                ts_event=now,
                ts_init=now,
            )
        )
        factory = self.gateway.order_factory
        for allocation in route.allocations:
            if self._is_stopped():
                break  # a child was denied by risk
            target = self.routed_instruments[allocation.instrument_id]
            # Lot-rounded for its venue: exact at the venue instrument's own precision.
            quantity = allocation.quantity.to_precision(target.size_precision)
            init = factory.limit(
                allocation.instrument_id,
                self.plan.side,
                quantity,
                allocation.limit_price,
                time_in_force=TimeInForce.IOC,
                reduce_only=self.plan.reduce_only,
                parent_order_id=self.plan.parent_order_id,
                tags=self._tags(),
            )
            self._track(self.gateway.submit_order(init))


ALGORITHM_CLASSES: dict[str, type[ExecutionAlgorithm]] = {
    "immediate": Immediate,
    "twap": Twap,
    "vwap": Vwap,
    "pov": Pov,
    "limit_then_market": LimitThenMarket,
    "implementation_shortfall": ImplementationShortfall,
    "iceberg": Iceberg,
    "sor": SmartRouted,
}


def make_algorithm(
    plan: ExecutionPlan,
    instrument: Instrument,
    gateway: OrderGateway,
    clock: Clock,
    emit: Callable[[Event], None],
    liquidity: LiquiditySource | None = None,
) -> ExecutionAlgorithm:
    """Return the algorithm ``plan.algorithm`` for ``plan``.

    ``liquidity`` is what the ``sor`` algorithm routes over (the other algorithms ignore it).

    Raises
    ------
    ConfigError
        If the plan is ``sor`` and no ``liquidity`` is given.
    """
    if plan.algorithm == "sor":
        if liquidity is None:
            raise ConfigError(
                f"execution plan {plan.parent_order_id}: sor needs a liquidity source (the "
                "venues' displayed books or quotes)"
            )
        return SmartRouted(plan, instrument, gateway, clock, emit, liquidity)
    return ALGORITHM_CLASSES[plan.algorithm](plan, instrument, gateway, clock, emit)

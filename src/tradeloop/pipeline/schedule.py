"""``ExecutionSchedule``: execute given parent orders with the execution algorithms.

An execution backtest: no signals, only orders to work — "buy 2 BTC at 23:54:30 with the
smart order router", "sell 500 shares over the afternoon by VWAP" — so algorithms, venues
and fidelity levels can be compared on real data, and measured with ``tradeloop tca``.

1. Each ``[[strategies.params.orders]]`` entry is one parent order: instrument, side,
   quantity, algorithm and its settings (``ScheduledOrder``), started at ``at`` (an ISO time;
   default: the first instant of the data) plus ``delay_ns``, by a clock alert.
2. At its start the plan's arrival price is the instrument's mark (the book's mid, the
   quote's mid or the last price); a plan whose instrument has no price yet starts at the
   first instant that gives one. An ``ExecutionPlanned`` event records it
   (``rebalance_id`` ``schedule-<n>``; children carry the parent order id).
3. The algorithms hear the bars and trade prints of their instruments and their children's
   events; ``sor`` routes over the venues' displayed liquidity (``book_levels``: the replayed
   books less our consumption, or the best quotes) and their taker fees (``taker_fee_bps``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from tradeloop.core.clock import TimeEvent
from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.fixed import Price
from tradeloop.core.time import ns_to_iso, parse_time
from tradeloop.costs.almgren_chriss import AlmgrenChrissConfig, optimal_trajectory
from tradeloop.execution.algos import ALGORITHMS, ExecutionAlgorithm, ExecutionPlan, make_algorithm
from tradeloop.execution.sor import VenueLiquidity
from tradeloop.model.data import Bar, TradeTick
from tradeloop.model.decisions import ExecutionPlanned
from tradeloop.model.enums import BookSide, OrderSide
from tradeloop.model.events import Event, OrderEvent
from tradeloop.model.instruments import Instrument
from tradeloop.model.order_factory import OrderFactory
from tradeloop.model.orders import Order
from tradeloop.strategy.base import RunInputs, Strategy, StrategyConfig
from tradeloop.strategy.params import exact_price, exact_quantity

__all__ = [
    "ExecutionSchedule",
    "ExecutionScheduleConfig",
    "ScheduledOrder",
    "build_plan",
    "check_scheduled_order",
]


class ScheduledOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One parent order to execute (the settings are ``ExecutionPlan``'s).

    ``side`` is ``"buy"`` or ``"sell"``; ``quantity``, ``limit_price`` and
    ``display_quantity`` are decimal strings; ``at`` an ISO-8601 time (default: the first
    instant of the data), ``delay_ns`` added to it; ``venues`` the instrument ids ``sor``
    routes over (the order's own among them).
    """

    instrument_id: str
    side: str
    quantity: str
    algorithm: str = "immediate"
    at: str | None = None
    delay_ns: int = 0
    slices: int = 1
    weights: list[float] = []
    rate: float = 0.1
    interval_ns: int = 0
    timeout_ns: int = 0
    timeout_bars: int = 1
    offset_ticks: int = 0
    limit_price: str | None = None
    display_quantity: str | None = None
    venues: list[str] = []
    reduce_only: bool = False
    almgren_chriss: AlmgrenChrissConfig | None = None
    volatility: float = 0.0
    horizon_days: float = 1.0

    def __post_init__(self) -> None:
        where = f"scheduled order {self.instrument_id}"
        if self.side not in ("buy", "sell"):
            raise ConfigError(f"{where}: side {self.side!r} is not buy or sell")
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"{where}: algorithm {self.algorithm!r} is not one of {', '.join(ALGORITHMS)}"
            )
        try:
            quantity = Decimal(self.quantity)
        except ArithmeticError:
            raise ConfigError(f"{where}: quantity {self.quantity!r} is not a number") from None
        if not quantity.is_finite() or quantity <= 0:
            raise ConfigError(f"{where}: quantity {self.quantity} must be positive")
        if self.at is not None:
            parse_time(self.at)
        if self.delay_ns < 0:
            raise ConfigError(f"{where}: delay_ns {self.delay_ns} must be >= 0")
        if self.venues and self.instrument_id not in self.venues:
            raise ConfigError(f"{where}: venues {self.venues} must include the order's own")


class ExecutionScheduleConfig(
    StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """The parent orders to execute, and how deep ``sor`` looks into each book."""

    orders: list[ScheduledOrder]
    route_depth: int = 20

    def __post_init__(self) -> None:
        if not self.orders:
            raise ConfigError("ExecutionSchedule has no orders")
        if self.route_depth < 1:
            raise ConfigError(f"ExecutionSchedule route_depth {self.route_depth} must be >= 1")


class ExecutionSchedule(Strategy):
    """Execute ``orders`` with the execution algorithms (see the module docstring)."""

    Config = ExecutionScheduleConfig

    def required_instruments(self) -> list[str]:
        """Return every order's instrument and the venues ``sor`` routes over."""
        config: ExecutionScheduleConfig = self.config
        return sorted({i for spec in config.orders for i in (spec.instrument_id, *spec.venues)})

    def check_run(self, run: RunInputs) -> None:
        """Build every order's plan before the run starts (``check_scheduled_order``).

        Raises
        ------
        ConfigError
            If an order cannot run with the run's instruments and data.
        """
        config: ExecutionScheduleConfig = self.config
        for index, spec in enumerate(config.orders):
            check_scheduled_order(index, spec, run, self.id)

    def on_start(self) -> None:
        """Check the orders' instruments, subscribe to their data, wait for the first instant."""
        config: ExecutionScheduleConfig = self.config
        self.algorithms: dict[str, ExecutionAlgorithm] = {}
        self.children: dict[str, str] = {}  # child client order id -> parent order id
        self._pending: dict[int, int | None] = {}  # order index -> start time (None: unknown)
        self._by_instrument: dict[str, list[str]] = {}
        watched: set[str] = set()
        for index, spec in enumerate(config.orders):
            for instrument_id in [spec.instrument_id, *spec.venues]:
                self.instrument(instrument_id)  # known: checked before the run started
                watched.add(instrument_id)
            self._pending[index] = None if spec.at is None else parse_time(spec.at) + spec.delay_ns
        for instrument_id in sorted(watched):
            self.subscribe_bars(instrument_id)
            self.subscribe_trades(instrument_id)
        self.subscribe_steps()
        self._first_ns: int | None = None
        for index, due in sorted(self._pending.items()):
            if due is not None:
                self.set_time_alert(f"order-{index}", due, self._on_due)

    # -- scheduling ------------------------------------------------------------------------------

    def on_step(self, ts_ns: int) -> None:
        """Time the orders without ``at`` from the first instant; start any that are due."""
        config: ExecutionScheduleConfig = self.config
        if self._first_ns is None:
            self._first_ns = ts_ns
            for index in sorted(self._pending):
                if self._pending[index] is None:
                    due = ts_ns + config.orders[index].delay_ns
                    self._pending[index] = due
                    if due > ts_ns:
                        self.set_time_alert(f"order-{index}", due, self._on_due)
        self._start_due(ts_ns)

    def _on_due(self, event: TimeEvent) -> None:
        self._start_due(event.ts_event)

    def _start_due(self, now_ns: int) -> None:
        for index in sorted(self._pending):
            due = self._pending[index]
            if due is None or due > now_ns:
                continue
            spec: ScheduledOrder = self.config.orders[index]
            if self.last_price(spec.instrument_id) is None:
                continue  # no price yet: the next instant
            del self._pending[index]
            self._start_order(index, spec)

    def _start_order(self, index: int, spec: ScheduledOrder) -> None:
        instrument = self.instrument(spec.instrument_id)
        mark = self.last_price(spec.instrument_id)
        assert mark is not None
        arrival = mark.to_precision(instrument.price_precision + 1)
        # Built once already by check_run at startup: it cannot fail here.
        plan = build_plan(index, spec, instrument, arrival, self.id)
        parent, rebalance = plan.parent_order_id, plan.rebalance_id
        now = self.clock.timestamp_ns()
        self.publish(
            ExecutionPlanned(
                rebalance_id=rebalance,
                instrument_id=spec.instrument_id,
                algorithm=spec.algorithm,
                side=str(plan.side),
                quantity=float(plan.quantity),
                parent_order_id=parent,
                start_ns=now,
                end_ns=now,
                slices=plan.slices,
                arrival_price=float(arrival),
                reason=f"scheduled order {index + 1}",
                weights=plan.weights,
                ts_event=now,
                ts_init=now,
            )
        )
        algorithm = make_algorithm(
            plan, instrument, _Gateway(self, parent), self.clock, self._emit, liquidity=self
        )
        self.algorithms[parent] = algorithm
        for instrument_id in plan.venues or (plan.instrument_id,):
            self._by_instrument.setdefault(instrument_id, []).append(parent)
        algorithm.start()

    def _emit(self, event: Event) -> None:
        self.publish(event)

    # -- the algorithms' inputs ------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Pass the bar to the running algorithms of its instrument."""
        for parent in self._by_instrument.get(bar.instrument_id, ()):
            algorithm = self.algorithms[parent]
            if not algorithm.is_done:
                algorithm.on_bar(bar)

    def on_trade(self, trade: TradeTick) -> None:
        """Pass the print to the running algorithms of its instrument."""
        for parent in self._by_instrument.get(trade.instrument_id, ()):
            algorithm = self.algorithms[parent]
            if not algorithm.is_done:
                algorithm.on_trade(trade)

    def on_order_event(self, event: OrderEvent) -> None:
        """Pass a child's event to its algorithm."""
        parent = self.children.get(event.client_order_id)
        if parent is not None:
            self.algorithms[parent].on_order_event(event)

    def on_stop(self) -> None:
        """Leave running algorithms as they are (their children stay in the journal)."""

    # -- LiquiditySource (sor) -------------------------------------------------------------------

    def venue_liquidity(self, instrument_id: str, side: OrderSide) -> VenueLiquidity:
        """Return what ``instrument_id``'s venue displays to a taker on ``side`` now."""
        instrument = self.instrument(instrument_id)
        book_side = BookSide.ASK if side is OrderSide.BUY else BookSide.BID
        levels = self.book_levels(instrument_id, book_side, self.config.route_depth)
        reference = levels[0][0] if levels else self.last_price(instrument_id)
        fee = 0.0 if reference is None else self.taker_fee_bps(instrument_id, reference)
        return VenueLiquidity(
            venue=instrument.venue,
            instrument_id=instrument_id,
            levels=tuple(levels),
            taker_fee_bps=fee,
            lot_size=instrument.lot_size,
        )


def build_plan(
    index: int, spec: ScheduledOrder, instrument: Instrument, arrival: Price, strategy_id: str
) -> ExecutionPlan:
    """Return the ``ExecutionPlan`` of scheduled order ``index`` (0-based) on ``instrument``.

    Its parent order id is ``P-<strategy_id>-<index + 1>``, its rebalance id
    ``schedule-<index + 1>``.

    Quantities and the limit price are taken as given: one off the instrument's lot or tick
    grid is an error, never rounded.

    Raises
    ------
    ConfigError
        If a setting does not fit the algorithm or the instrument (the message names the
        order by its 1-based number).
    """
    where = f"scheduled order {index + 1} ({spec.algorithm} {spec.side} {spec.instrument_id})"
    quantity = exact_quantity(instrument, spec.quantity, "quantity", where)
    display = (
        None
        if spec.display_quantity is None
        else exact_quantity(instrument, spec.display_quantity, "display_quantity", where)
    )
    limit = (
        None
        if spec.limit_price is None
        else exact_price(instrument, spec.limit_price, "limit_price", where)
    )
    try:
        return ExecutionPlan(
            instrument_id=spec.instrument_id,
            side=OrderSide.BUY if spec.side == "buy" else OrderSide.SELL,
            quantity=quantity,
            algorithm=spec.algorithm,
            parent_order_id=f"P-{strategy_id}-{index + 1}",
            rebalance_id=f"schedule-{index + 1}",
            arrival_price=arrival,
            slices=spec.slices,
            weights=tuple(spec.weights),
            rate=spec.rate,
            timeout_bars=spec.timeout_bars,
            timeout_ns=spec.timeout_ns,
            offset_ticks=spec.offset_ticks,
            reduce_only=spec.reduce_only,
            interval_ns=spec.interval_ns,
            almgren_chriss=spec.almgren_chriss,
            volatility=spec.volatility,
            horizon_days=spec.horizon_days,
            display_quantity=display,
            limit_price=limit,
            venues=tuple(spec.venues),
        )
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def check_scheduled_order(
    index: int, spec: ScheduledOrder, run: RunInputs, strategy_id: str
) -> None:
    """Check scheduled order ``index`` (0-based) of ``strategy_id`` against a run, before it
    starts.

    1. Its plan builds (``build_plan``: the algorithm's settings, quantities on the lot grid,
       the limit price on the tick grid); ``implementation_shortfall``'s Almgren–Chriss
       trajectory exists for its coefficients, horizon and slices.
    2. ``venues`` are for ``sor`` only, each on its own venue, of one base asset.
    3. What drives the algorithm is in the data: slices and conversions counted in bars
       (``interval_ns`` / ``timeout_ns`` 0) need the instrument's bars; ``pov`` needs its
       volume (trade prints or bars).
    4. It starts (``at`` + ``delay_ns``, else the data's first instant + ``delay_ns``) no
       later than the data's last instant.

    Raises
    ------
    ConfigError
        If any of these fails (the message names the order by its 1-based number).
    """
    where = f"scheduled order {index + 1} ({spec.algorithm} {spec.side} {spec.instrument_id})"
    instrument = run.instruments[spec.instrument_id]
    plan = build_plan(
        index,
        spec,
        instrument,
        Price(instrument.tick_size_raw, instrument.price_precision),  # any price: not used
        strategy_id,
    )
    if plan.algorithm == "implementation_shortfall":
        assert plan.almgren_chriss is not None
        try:
            optimal_trajectory(
                float(plan.quantity),
                plan.horizon_days,
                plan.slices,
                plan.volatility,
                plan.almgren_chriss,
            )
        except InvalidValueError as error:
            raise ConfigError(f"{where}: no Almgren-Chriss trajectory: {error}") from None
    if spec.venues and spec.algorithm != "sor":
        raise ConfigError(f"{where}: venues are routed over by sor only; remove them")
    if spec.algorithm == "sor":
        by_venue: dict[str, str] = {}
        for instrument_id in spec.venues:
            code = run.instruments[instrument_id].venue
            if code in by_venue:
                raise ConfigError(
                    f"{where}: venues {by_venue[code]} and {instrument_id} are both on venue "
                    f"{code}; sor routes over one instrument per venue"
                )
            by_venue[code] = instrument_id
        assets = sorted(
            {b for i in spec.venues if (b := run.instruments[i].base_currency) is not None}
        )
        if len(assets) > 1:
            raise ConfigError(
                f"{where}: venues {spec.venues} trade different assets ({', '.join(assets)}); "
                "sor routes one asset over several venues"
            )
    _check_drivers(where, spec, run)
    start = run.first_ts_ns if spec.at is None else parse_time(spec.at)
    due = start + spec.delay_ns
    if due > run.last_ts_ns:
        raise ConfigError(
            f"{where}: starts at {ns_to_iso(due)}, after the run's last market data at "
            f"{ns_to_iso(run.last_ts_ns)}: it would never start"
        )


def _check_drivers(where: str, spec: ScheduledOrder, run: RunInputs) -> None:
    # What moves the algorithm forward must be in the data, or it would stall silently.
    def has(instrument_id: str, kind: str) -> bool:
        return kind in run.data_kinds.get(instrument_id, ())

    iid, algorithm = spec.instrument_id, spec.algorithm
    if algorithm in ("twap", "vwap", "implementation_shortfall"):
        if spec.slices > 1 and spec.interval_ns == 0 and not has(iid, "bars"):
            raise ConfigError(
                f"{where}: with interval_ns 0 its slices follow {iid}'s bars and the run has "
                "none: set interval_ns (the time between slices)"
            )
    elif algorithm == "pov":
        if spec.interval_ns == 0 and not has(iid, "bars"):
            raise ConfigError(
                f"{where}: with interval_ns 0 it follows each of {iid}'s bars and the run has "
                "none: set interval_ns to follow its trade prints"
            )
        if not (has(iid, "bars") or has(iid, "trades")):
            raise ConfigError(
                f"{where}: it follows the market volume of trade prints or bars and the run "
                f"has neither for {iid}"
            )
    elif algorithm == "limit_then_market":
        if spec.timeout_ns == 0 and not has(iid, "bars"):
            raise ConfigError(
                f"{where}: with timeout_ns 0 it converts after timeout_bars of {iid}'s bars and "
                "the run has none: set timeout_ns"
            )
    elif algorithm == "sor" and spec.interval_ns == 0:
        routed = spec.venues or [iid]
        if not any(has(i, "bars") for i in routed):
            raise ConfigError(
                f"{where}: with interval_ns 0 it routes again on each bar of its venues and the "
                f"run has no bars of {', '.join(routed)}: set interval_ns"
            )


class _Gateway:
    """The algorithms' path to the order manager: records which parent each child has."""

    def __init__(self, strategy: ExecutionSchedule, parent: str) -> None:
        self._strategy, self._parent = strategy, parent

    @property
    def order_factory(self) -> OrderFactory:
        return self._strategy.order_factory

    def submit_order(self, order: Any) -> Order:
        self._strategy.children[order.client_order_id] = self._parent
        return self._strategy.submit_order(order)

    def cancel_order(self, order: Order | str) -> bool:
        return self._strategy.cancel_order(order)

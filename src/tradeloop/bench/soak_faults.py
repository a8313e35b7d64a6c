"""``tradeloop soak faults``: seeded venue-fault scenarios against the node's own order path.

Each scenario builds a fresh node side (the real ``OrderManager``, ``Portfolio``, journal,
``engine.reconcile`` and the running checks of ``engine.checks``) and a ``FaultyVenue`` that
keeps the venue's truth and misbehaves as its seeded fault draw says:

- a new order or cancel that times out after the venue carried it out (its answer never
  comes), or that never arrives; 429 and 5xx answers to the checks' queries (retried);
- rejects; partial fills; the same fill twice; messages out of order (fills before the
  acknowledgement, a cancel before the last fill); cancel/fill races (the venue fills what
  the node is cancelling and refuses the cancel); a stream that disconnects mid-fill (the
  rest of its messages are lost); a stale stream (messages held back until the end).

The node sends 1 to 5 orders (market and limit), cancels some of them at random moments,
hears the venue through the faulty stream, and runs its in-flight, open-order and fill checks
until nothing is pending. The venue's account holds more than the run trades (cash and shares
from before it): the node records its baseline first, and its fill checks compare the
venue's balances and positions with the baseline plus its fills (``engine.balances``). Then
the invariants are checked: no ``ReconciliationBreak``, the node's position and cash equal
the venue's, every order has the venue's status and filled quantity (``lost_orders``), no
client order id reached the venue twice (``duplicate_orders``), no fill was counted twice,
and every order's events replay through the state machine. A scenario that breaks any of
them counts in ``invariant_breaks``.

This runs the node's code in process, against a venue model: the same faults against the
Binance emulator through ccxt are ``tradeloop emulate binance``'s fault flags and the kill
soak.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np

from tradeloop.bus.bus import MessageBus
from tradeloop.config.schema import ReconciliationSection
from tradeloop.core.clock import TestClock
from tradeloop.core.errors import OrderStateError, TransientVenueError
from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.engine.balances import VenueLedger, read_holdings
from tradeloop.engine.checks import LiveChecks
from tradeloop.engine.reconcile import Books, VenueView, reconcile
from tradeloop.execution.order_manager import OrderManager
from tradeloop.journal.store import MemoryJournal
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradeloop.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    ReconciliationBreak,
)
from tradeloop.model.instruments import Instrument, equity
from tradeloop.model.order_factory import OrderFactory
from tradeloop.model.orders import Order
from tradeloop.model.reports import (
    BalanceReport,
    FillReport,
    OrderStatusReport,
    PositionReport,
)
from tradeloop.portfolio.accounting import Portfolio

INSTRUMENT = equity("SOAK", "XNAS")
START = Money.from_str("1000000", "USD")
ACCOUNT_CASH = Decimal("2500000")  # the venue account's cash before the run (more than it uses)
HELD_BEFORE = 7  # shares of SOAK the account held before the run
_SECOND = 1_000_000_000
_T = TypeVar("_T")


@dataclass
class Faults:
    """One scenario's fault probabilities (drawn from the seed)."""

    timeout: float
    lost_request: float
    error_429_5xx: float
    reject: float
    partial: float
    duplicate: float
    reorder: float
    disconnect: float
    stale: float


@dataclass
class _VenueOrder:
    init: Any
    venue_order_id: str
    status: OrderStatus
    filled: int = 0
    fills: list[FillReport] = field(default_factory=list)


class FaultyVenue:
    """The venue's truth plus a faulty stream to the node (module docstring)."""

    venue = "XNAS"

    def __init__(self, rng: np.random.Generator, faults: Faults, clock: TestClock) -> None:
        self.rng = rng
        self.faults = faults
        self.clock = clock
        self.orders: dict[str, _VenueOrder] = {}
        self.received: list[str] = []  # client order ids, as many times as they arrived
        self.stream: list[OrderEvent] = []
        self.held: list[OrderEvent] = []  # a stale stream's messages, sent at the end
        self._trades = 0
        self.injected: dict[str, int] = {}

    def _chance(self, probability: float, fault: str = "") -> bool:
        hit = bool(self.rng.random() < probability)
        if hit and fault:
            self.injected[fault] = self.injected.get(fault, 0) + 1
        return hit

    def _emit(self, event: OrderEvent, *, answer: bool = False) -> None:
        if answer and self._chance(self.faults.timeout, "timeout_after_accept"):
            return  # carried out, never answered
        if self._chance(self.faults.stale, "stale_stream"):
            self.held.append(event)
            return
        self.stream.append(event)
        if self._chance(self.faults.duplicate, "duplicate_message"):
            self.stream.append(event)
        if self._chance(self.faults.reorder, "out_of_order") and len(self.stream) >= 2:
            self.stream[-1], self.stream[-2] = self.stream[-2], self.stream[-1]

    def _ids(self, order: _VenueOrder) -> dict[str, str]:
        return {
            "client_order_id": order.init.client_order_id,
            "strategy_id": order.init.strategy_id,
            "instrument_id": order.init.instrument_id,
        }

    def _fill(self, order: _VenueOrder, quantity: int) -> None:
        self._trades += 1
        now = self.clock.timestamp_ns()
        price = order.init.price or Price(10_000 + int(self.rng.integers(-50, 50)), 2)
        fee = Money(quantity * 1_000_000, "USD")
        report = FillReport(
            venue=self.venue,
            instrument_id=order.init.instrument_id,
            client_order_id=order.init.client_order_id,
            venue_order_id=order.venue_order_id,
            trade_id=f"T{self._trades}",
            side=order.init.side,
            last_qty=Quantity(quantity, 0),
            last_px=price,
            commission=fee,
            liquidity_side=LiquiditySide.TAKER,
            ts_event=now,
        )
        order.fills.append(report)
        order.filled += quantity
        if order.filled == order.init.quantity.raw:
            order.status = OrderStatus.FILLED
        else:
            order.status = OrderStatus.PARTIALLY_FILLED
        self._emit(
            OrderFilled(
                venue_order_id=order.venue_order_id,
                trade_id=report.trade_id,
                order_side=order.init.side,
                order_type=order.init.order_type,
                last_qty=report.last_qty,
                last_px=price,
                commission=fee,
                liquidity_side=LiquiditySide.TAKER,
                ts_event=now,
                ts_init=now,
                client_order_id=order.init.client_order_id,
                strategy_id=order.init.strategy_id,
                instrument_id=order.init.instrument_id,
            )
        )

    # -- the ExecutionClient port -----------------------------------------------------------

    def submit_order(self, command: SubmitOrder) -> None:
        """Take a new order (or lose it on the way)."""
        if self._chance(self.faults.lost_request, "lost_request"):
            return  # never arrived
        init = command.order
        self.received.append(init.client_order_id)
        if init.client_order_id in self.orders:
            return  # a venue refuses a client order id it has (never counted twice)
        now = self.clock.timestamp_ns()
        order = _VenueOrder(init, f"V{len(self.orders) + 1}", OrderStatus.ACCEPTED)
        self.orders[init.client_order_id] = order
        if self._chance(self.faults.reject, "reject"):
            order.status = OrderStatus.REJECTED
            self._emit(
                OrderRejected(
                    reason="venue says no", ts_event=now, ts_init=now, **self._ids(order)
                ),
                answer=True,
            )
            return
        self._emit(
            OrderAccepted(
                venue_order_id=order.venue_order_id, ts_event=now, ts_init=now, **self._ids(order)
            ),
            answer=True,
        )
        if init.order_type is OrderType.MARKET or self._chance(0.5):
            self._fill_some(order, everything=init.order_type is OrderType.MARKET)

    def _fill_some(self, order: _VenueOrder, everything: bool) -> None:
        left = order.init.quantity.raw - order.filled
        while left > 0:
            part = left
            if self._chance(self.faults.partial, "partial_fill") and left > 1:
                part = int(self.rng.integers(1, left))
            self._fill(order, part)
            left -= part
            if not everything and self._chance(0.5):
                return
            if self._chance(self.faults.disconnect, "disconnect_mid_fill"):
                self.stream.clear()  # the stream dropped mid-fill: what it had not sent is gone
                return

    def cancel_order(self, command: CancelOrder) -> None:
        """Cancel (or, in a race, fill first and refuse the cancel)."""
        order = self.orders.get(command.client_order_id)
        if order is None or self._chance(self.faults.lost_request, "lost_request"):
            return
        now = self.clock.timestamp_ns()
        if order.status in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
        ) and self._chance(0.3, "cancel_fill_race"):
            self._fill_some(order, everything=True)  # the fill won the race
        if order.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            order.status = OrderStatus.CANCELED
            self._emit(
                OrderCanceled(
                    venue_order_id=order.venue_order_id,
                    reason="canceled",
                    ts_event=now,
                    ts_init=now,
                    **self._ids(order),
                ),
                answer=True,
            )
        else:
            self._emit(
                OrderCancelRejected(
                    reason=f"order is {order.status}", ts_event=now, ts_init=now, **self._ids(order)
                ),
                answer=True,
            )

    def modify_order(self, command: ModifyOrder) -> None:
        """Not used by the scenarios."""

    def restore_order(self, order: Any, venue_order_id: str | None, filled_qty: Quantity) -> None:
        """Nothing to restore: the venue model keeps its own truth."""

    # -- the queries (LiveExecutionClient) -----------------------------------------------------

    def _flaky(self, what: str) -> None:
        if self._chance(self.faults.error_429_5xx, "429_or_5xx"):
            raise TransientVenueError(f"{what}: 429 Too Many Requests (retry later)")

    def _report(self, order: _VenueOrder) -> OrderStatusReport:
        return OrderStatusReport(
            venue=self.venue,
            instrument_id=order.init.instrument_id,
            client_order_id=order.init.client_order_id,
            venue_order_id=order.venue_order_id,
            side=order.init.side,
            order_type=order.init.order_type,
            status=order.status,
            quantity=order.init.quantity,
            filled_qty=Quantity(order.filled, 0),
            price=order.init.price,
            ts_last=self.clock.timestamp_ns(),
        )

    def query_order(self, client_order_id: str, instrument_id: str) -> OrderStatusReport | None:
        """Return the venue's report of one order (None: it does not know it)."""
        self._flaky(f"query {client_order_id}")
        order = self.orders.get(client_order_id)
        return None if order is None else self._report(order)

    def open_orders(self, instrument_id: str | None = None) -> list[OrderStatusReport]:
        """Return the venue's open orders."""
        self._flaky("open orders")
        return [
            self._report(o)
            for o in self.orders.values()
            if o.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
        ]

    def fills_since(self, ts_ns: int, instrument_id: str | None = None) -> list[FillReport]:
        """Return the venue's fills at or after ``ts_ns``."""
        self._flaky("fills")
        return sorted(
            (f for o in self.orders.values() for f in o.fills if f.ts_event >= ts_ns),
            key=lambda f: (f.ts_event, f.trade_id),
        )

    def positions(self) -> list[PositionReport]:
        """Return the account's position: the shares it held before the run plus its fills."""
        self._flaky("positions")
        held = HELD_BEFORE
        for order in self.orders.values():
            for fill in order.fills:
                held += fill.last_qty.raw if fill.side is OrderSide.BUY else -fill.last_qty.raw
        if not held:
            return []
        return [
            PositionReport(
                venue=self.venue,
                instrument_id=INSTRUMENT.id,
                signed_qty=Quantity(abs(held), 0),
                is_short=held < 0,
                ts_last=self.clock.timestamp_ns(),
            )
        ]

    def balances(self) -> list[BalanceReport]:
        """Return the account's USD: its cash before the run plus the fills' flows and fees."""
        self._flaky("balances")
        cash = ACCOUNT_CASH
        for order in self.orders.values():
            for fill in order.fills:
                notional = fill.last_qty.as_decimal() * fill.last_px.as_decimal()
                cash += -notional if fill.side is OrderSide.BUY else notional
                cash -= fill.commission.as_decimal()
        total = Money.from_decimal(cash, "USD")
        now = self.clock.timestamp_ns()
        return [
            BalanceReport(
                venue=self.venue,
                currency="USD",
                total=total,
                free=total,
                locked=Money(0, "USD"),
                ts_last=now,
            )
        ]

    def connect(self) -> None:
        """Nothing to connect."""

    def disconnect(self) -> None:
        """Nothing to disconnect."""

    def truth(self) -> tuple[int, int]:
        """Return the position and cash (money raw) the node should have."""
        position, cash = 0, START.raw
        for order in self.orders.values():
            for fill in order.fills:
                sign = 1 if fill.side is OrderSide.BUY else -1
                position += sign * fill.last_qty.raw
                cash -= sign * fill.last_qty.raw * fill.last_px.raw * 10**7 + fill.commission.raw
        return position, cash


class _Allow:
    def check_submit(self, order: Any) -> str | None:
        return None


def _faults(rng: np.random.Generator) -> Faults:
    def p(high: float) -> float:
        return float(rng.uniform(0, high)) if rng.random() < 0.6 else 0.0

    return Faults(
        timeout=p(0.5),
        lost_request=p(0.3),
        error_429_5xx=p(0.5),
        reject=p(0.3),
        partial=p(0.8),
        duplicate=p(0.5),
        reorder=p(0.5),
        disconnect=p(0.3),
        stale=p(0.3),
    )


def run_scenario(seed: int, injected: dict[str, int] | None = None) -> list[str]:
    """Run one scenario; return the invariants it broke (empty: none). ``injected`` adds up
    the faults the venue injected, by kind."""
    rng = np.random.default_rng(seed)
    faults = _faults(rng)
    clock = TestClock(1_000 * _SECOND)
    bus, journal = MessageBus(), MemoryJournal()
    instruments: dict[str, Instrument] = {INSTRUMENT.id: INSTRUMENT}
    portfolio = Portfolio(clock, bus, journal, instruments, START)
    bus.subscribe("events.order.*", portfolio.on_order_event, priority=100)
    manager = OrderManager(clock, bus, journal, instruments, lambda _: Price(10_000, 2))
    manager.set_risk(_Allow())
    venue = FaultyVenue(rng, faults, clock)
    manager.register_client(venue)
    config = ReconciliationSection(inflight_check_s=2.0, inflight_retries=2)
    ledger = VenueLedger(instruments, frozenset({venue.venue}))
    portfolio.fill_observers.append(ledger.on_fill)
    holdings = _retried(lambda: read_holdings(venue, ledger.position_ids(venue.venue)), 200)
    if holdings is not None:
        ledger.baseline_of(venue.venue, holdings, clock.timestamp_ns(), reason="the start")
    books = Books(
        clock=clock,
        journal=journal,
        order_manager=manager,
        position_raw=portfolio.position_raw,
        cash_raw=portfolio.cash_raw,
        set_trading_state=lambda state, reason: None,
        size_precision=lambda _: 0,
        quote_currency=lambda _: "USD",
        base_currency="USD",
        ledger=ledger,
    )
    checks = LiveChecks(clock, books, {venue.venue: venue}, config, alert=lambda _: None)
    factory = OrderFactory("soak", clock)
    orders: list[Order] = []

    def deliver(count: int) -> None:
        for _ in range(count):
            if not venue.stream:
                return
            manager.handle_venue_event(venue.stream.pop(0))

    for _ in range(int(rng.integers(1, 6))):
        side = OrderSide.BUY if rng.random() < 0.6 else OrderSide.SELL
        quantity = Quantity(int(rng.integers(1, 10)), 0)
        if rng.random() < 0.5:
            init = factory.market(INSTRUMENT.id, side, quantity)
        else:
            init = factory.limit(
                INSTRUMENT.id, side, quantity, Price(10_000 + int(rng.integers(-20, 20)), 2)
            )
        orders.append(manager.submit(init))
        clock.advance_time(clock.timestamp_ns() + int(rng.integers(1, 500)) * 1_000_000)
        deliver(int(rng.integers(0, 4)))
        for order in orders:
            if order.is_open and rng.random() < 0.3:
                manager.cancel(order.client_order_id, "soak")
    deliver(len(venue.stream))
    venue.stream.extend(venue.held)  # the stale stream catches up, late
    venue.held.clear()
    deliver(len(venue.stream))
    # the checks run on their timers until nothing is pending (429s are retried)
    for _ in range(40):
        clock.advance_time(clock.timestamp_ns() + 3 * _SECOND)
        checks.check_in_flight()
        checks.check_open_orders()
        checks.check_fills()
        deliver(len(venue.stream))
        pending = [o for o in manager.open_orders() if o.status is not OrderStatus.ACCEPTED]
        if not pending and not venue.stream:
            break
    checks.last_fill_check_ns = 0  # a last full fill check: every fill since the start
    fills = _retried(lambda: venue.fills_since(0)) or []
    reconcile(books, VenueView(venue=venue.venue, orders={}, fills=fills), trigger="final")
    final = _retried(lambda: read_holdings(venue, ledger.position_ids(venue.venue)), 200)
    if final is not None:  # the balances and positions once every fill is counted
        view = VenueView(
            venue=venue.venue,
            orders={},
            balances=final.balances,
            positions=ledger.run_positions(venue.venue, final),
        )
        reconcile(books, view, trigger="final balances")
    if injected is not None:
        for kind, count in venue.injected.items():
            injected[kind] = injected.get(kind, 0) + count
        injected["resolved_by_checks"] = (
            injected.get("resolved_by_checks", 0) + checks.counts["resolved"]
        )
    broken = _broken(manager, portfolio, venue, orders)
    for record in journal.records:
        if isinstance(record, ReconciliationBreak):
            broken.append(
                f"break {record.kind} {record.subject}: node {record.local}, venue {record.venue}"
            )
    if holdings is None or final is None:
        broken.append("balances: the venue never answered (200 tries)")
    return broken


def _retried(read: Callable[[], _T], attempts: int = 20) -> _T | None:
    # a query the venue answers with 429/5xx at random: asked again, up to ``attempts`` times
    for _ in range(attempts):
        try:
            return read()
        except TransientVenueError:
            continue
    return None


def _broken(
    manager: OrderManager, portfolio: Portfolio, venue: FaultyVenue, orders: list[Order]
) -> list[str]:
    broken: list[str] = []
    for coid in sorted(set(venue.received)):
        if venue.received.count(coid) > 1:
            broken.append(f"duplicate: {coid} reached the venue {venue.received.count(coid)} times")
    position, cash = venue.truth()
    if portfolio.position_raw(INSTRUMENT.id) != position:
        broken.append(f"position {portfolio.position_raw(INSTRUMENT.id)} != venue {position}")
    if portfolio.cash_raw() != cash:
        broken.append(f"cash {portfolio.cash_raw()} != venue {cash}")
    for order in orders:
        coid = order.client_order_id
        at_venue = venue.orders.get(coid)
        if at_venue is None:
            if order.is_open or order.filled_raw:
                broken.append(f"lost: {coid} {order.status} in the node, unknown to the venue")
            continue
        if order.filled_raw != at_venue.filled:
            broken.append(f"lost: {coid} filled {order.filled_raw} != venue {at_venue.filled}")
        venue_open = at_venue.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
        if venue_open != order.is_open:
            broken.append(f"lost: {coid} {order.status} in the node, {at_venue.status} at venue")
        replayed = Order(order.init)
        try:
            for event in order.events[1:]:
                assert isinstance(event, OrderEvent)
                replayed.apply(event)
        except OrderStateError as error:
            broken.append(f"illegal transition: {error}")
    return broken


def soak_faults(
    scenarios: int, seed: int, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Run ``scenarios`` seeded scenarios (module docstring); return the figures."""
    import logging

    started = time.perf_counter()
    breaks: list[str] = []
    # every alert is an event in the scenario's journal; the log would repeat thousands
    logging.getLogger("tradeloop").setLevel(logging.ERROR)
    lost = duplicates = 0
    injected: dict[str, int] = {}
    for index in range(scenarios):
        scenario_seed = seed * 1_000_003 + index
        broken = run_scenario(scenario_seed, injected)
        if broken:
            breaks.append(f"scenario seed {scenario_seed}: {'; '.join(broken)}")
            lost += sum(1 for b in broken if b.startswith("lost"))
            duplicates += sum(1 for b in broken if b.startswith("duplicate"))
        if progress is not None and (index + 1) % 500 == 0:
            progress(index + 1)
    return {
        "scenarios": scenarios,
        "invariant_breaks": len(breaks),
        "lost_orders": lost,
        "duplicate_orders": duplicates,
        "seconds": round(time.perf_counter() - started, 2),
        "seed": seed,
        "faults_injected": dict(sorted(injected.items())),
        "examples": breaks[:10],
    }

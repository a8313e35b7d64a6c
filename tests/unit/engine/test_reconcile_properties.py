"""Property tests of the order state machine, accounting and reconciliation under a venue that
misbehaves (in the style of NautilusTrader's reconciliation proptests).

A venue's truth is drawn at random (orders accepted, filled in parts, canceled, rejected); the
node hears it through a channel that reorders, duplicates and drops messages (fills before
the ack, a cancel before the last fill, the same fill twice), with the node's own cancels at
random moments. Invariants:

- after delivery: the position is the sum of the distinct fills delivered, cash is conserved
  (starting cash less their notional and fees), no fill is counted twice, and every order's
  events replay through the state machine (no illegal transition was applied);
- after reconciliation with the venue's reports: the position and cash equal the venue's,
  every order has the venue's status and filled quantity, and there is no break.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.bus import MessageBus
from tradeloop.core import Money, Price, Quantity, TestClock
from tradeloop.engine.reconcile import Books, VenueView, reconcile
from tradeloop.execution import OrderManager
from tradeloop.journal import MemoryJournal
from tradeloop.model import (
    LiquiditySide,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderFactory,
    OrderFilled,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderType,
    equity,
)
from tradeloop.model.enums import TradingState
from tradeloop.model.events import OrderEvent
from tradeloop.model.orders import Order
from tradeloop.model.reports import FillReport, OrderStatusReport
from tradeloop.portfolio.accounting import Portfolio

AAPL = equity("AAPL", "XNAS")
START = Money.from_str("1000000", "USD")


class _Client:
    venue = "XNAS"

    def submit_order(self, command: Any) -> None:
        pass

    def cancel_order(self, command: Any) -> None:
        pass

    def modify_order(self, command: Any) -> None:
        pass


class _Allow:
    def check_submit(self, order: Any) -> str | None:
        return None


@dataclass
class Node:
    clock: TestClock
    journal: MemoryJournal
    manager: OrderManager
    portfolio: Portfolio
    states: list[TradingState]

    def books(self) -> Books:
        return Books(
            clock=self.clock,
            journal=self.journal,
            order_manager=self.manager,
            position_raw=self.portfolio.position_raw,
            cash_raw=self.portfolio.cash_raw,
            set_trading_state=lambda state, _reason: self.states.append(state),
            size_precision=lambda _id: 0,
            quote_currency=lambda _id: "USD",
            base_currency="USD",
        )


def _node() -> Node:
    clock, bus, journal = TestClock(1_000), MessageBus(), MemoryJournal()
    portfolio = Portfolio(clock, bus, journal, {AAPL.id: AAPL}, START)
    bus.subscribe("events.order.*", portfolio.on_order_event, priority=100)
    manager = OrderManager(clock, bus, journal, {AAPL.id: AAPL}, lambda _: Price(15000, 2))
    manager.set_risk(_Allow())
    manager.register_client(_Client())
    return Node(clock, journal, manager, portfolio, [])


@dataclass(frozen=True)
class Plan:
    side: OrderSide
    quantity: int
    price_raw: int
    outcome: str  # reject, fill, partial_cancel, cancel
    parts: tuple[int, ...]  # fill sizes (sum == quantity for fill, < for partial_cancel)
    node_cancels: bool


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    quantity = draw(st.integers(1, 12))
    outcome = draw(st.sampled_from(["reject", "fill", "partial_cancel", "cancel"]))
    parts: list[int] = []
    if outcome in ("fill", "partial_cancel"):
        target = quantity if outcome == "fill" else draw(st.integers(0, quantity - 1))
        while target > 0:
            part = draw(st.integers(1, target))
            parts.append(part)
            target -= part
    return Plan(
        side=draw(st.sampled_from([OrderSide.BUY, OrderSide.SELL])),
        quantity=quantity,
        price_raw=draw(st.integers(10_000, 20_000)),
        outcome=outcome,
        parts=tuple(parts),
        node_cancels=outcome != "reject" and draw(st.booleans()),
    )


def _truth(
    order: Order, plan: Plan, index: int
) -> tuple[list[Any], OrderStatusReport, list[FillReport]]:
    ids = {
        "client_order_id": order.client_order_id,
        "strategy_id": order.strategy_id,
        "instrument_id": AAPL.id,
    }
    venue_id = f"V-{index}"
    ts = 2_000 + index
    if plan.outcome == "reject":
        events: list[Any] = [OrderRejected(reason="no", ts_event=ts, ts_init=ts, **ids)]
        status = OrderStatus.REJECTED
    else:
        events = [OrderAccepted(venue_order_id=venue_id, ts_event=ts, ts_init=ts, **ids)]
        status = OrderStatus.FILLED if plan.outcome == "fill" else OrderStatus.CANCELED
    fills: list[FillReport] = []
    for n, part in enumerate(plan.parts):
        trade_id = f"T-{index}-{n}"
        px = Price(plan.price_raw + n, 2)
        fee = Money(part * 1_000, "USD")  # 0.01 USD per share, exact
        events.append(
            OrderFilled(
                venue_order_id=venue_id,
                trade_id=trade_id,
                order_side=plan.side,
                order_type=OrderType.LIMIT,
                last_qty=Quantity(part, 0),
                last_px=px,
                commission=fee,
                liquidity_side=LiquiditySide.MAKER,
                ts_event=ts + n + 1,
                ts_init=ts + n + 1,
                **ids,
            )
        )
        fills.append(
            FillReport(
                venue="XNAS",
                instrument_id=AAPL.id,
                client_order_id=order.client_order_id,
                venue_order_id=venue_id,
                trade_id=trade_id,
                side=plan.side,
                last_qty=Quantity(part, 0),
                last_px=px,
                commission=fee,
                liquidity_side=LiquiditySide.MAKER,
                ts_event=ts + n + 1,
            )
        )
    if status is OrderStatus.CANCELED:
        events.append(
            OrderCanceled(venue_order_id=venue_id, ts_event=ts + 50, ts_init=ts + 50, **ids)
        )
    elif plan.node_cancels and status is OrderStatus.FILLED:
        events.append(
            OrderCancelRejected(reason="filled", ts_event=ts + 50, ts_init=ts + 50, **ids)
        )
    report = OrderStatusReport(
        venue="XNAS",
        instrument_id=AAPL.id,
        client_order_id=order.client_order_id,
        venue_order_id=venue_id,
        side=plan.side,
        order_type=OrderType.LIMIT,
        status=status,
        quantity=Quantity(plan.quantity, 0),
        filled_qty=Quantity(sum(plan.parts), 0),
        price=Price(plan.price_raw, 2),
        ts_last=ts + 60,
    )
    return events, report, fills


def _signed(side: OrderSide, qty: int) -> int:
    return qty if side is OrderSide.BUY else -qty


def _books_of(fills: list[OrderFilled]) -> tuple[int, int]:
    position, cash = 0, START.raw
    for fill in fills:
        qty = _signed(fill.order_side, fill.last_qty.raw)
        position += qty
        # money raw has 9 decimals: price raw (2) * qty raw (0) -> scale by 10**7
        cash -= qty * fill.last_px.raw * 10**7 + fill.commission.raw
    return position, cash


@settings(max_examples=150, deadline=None)
@given(
    st.lists(plans(), min_size=1, max_size=4),
    st.randoms(use_true_random=False),
    st.floats(0, 0.5),
    st.floats(0, 0.5),
)
def test_any_interleaving_counts_each_fill_once_and_reconciles_to_the_venue(
    order_plans: list[Plan], rng: Any, duplicate_rate: float, drop_rate: float
) -> None:
    node = _node()
    factory = OrderFactory("s", node.clock)
    orders, truths, reports, venue_fills = [], [], {}, []
    for index, plan in enumerate(order_plans):
        order = node.manager.submit(
            factory.limit(AAPL.id, plan.side, Quantity(plan.quantity, 0), Price(plan.price_raw, 2))
        )
        events, report, fills = _truth(order, plan, index)
        orders.append(order)
        truths.extend(events)
        reports[order.client_order_id] = report
        venue_fills.extend(fills)
    # the channel: reordered, with duplicates and drops, and the node's cancels in between
    channel: list[Any] = []
    for event in truths:
        if rng.random() < drop_rate:
            continue
        channel.append(event)
        if rng.random() < duplicate_rate:
            channel.append(event)
    for order, plan in zip(orders, order_plans, strict=True):
        if plan.node_cancels:
            channel.append(("cancel", order.client_order_id))
    rng.shuffle(channel)
    delivered: dict[str, OrderFilled] = {}
    for item in channel:
        if isinstance(item, tuple):
            node.manager.cancel(item[1], "test")
            continue
        node.manager.handle_venue_event(item)
        if isinstance(item, OrderFilled):
            delivered.setdefault(item.trade_id, item)
    position, cash = _books_of(list(delivered.values()))
    assert node.portfolio.position_raw(AAPL.id) == position  # no fill counted twice or lost
    assert node.portfolio.cash_raw() == cash  # cash conserved
    for order in orders:  # no illegal transition was applied
        replayed = Order(order.init)
        for event in order.events[1:]:
            assert isinstance(event, OrderEvent)
            replayed.apply(event)
        assert (replayed.status, replayed.filled_raw) == (order.status, order.filled_raw)
    # reconciliation with the venue's reports makes the node equal to the venue
    venue_position, venue_cash = _books_of([e for e in truths if isinstance(e, OrderFilled)])
    outcome = reconcile(
        node.books(),
        VenueView(
            venue="XNAS",
            orders=dict(reports),
            fills=venue_fills,
            positions={AAPL.id: venue_position},
            cash=venue_cash,
        ),
        trigger="test",
    )
    assert outcome.breaks == []
    assert node.states == []
    assert node.portfolio.position_raw(AAPL.id) == venue_position
    assert node.portfolio.cash_raw() == venue_cash
    for order in orders:
        report = reports[order.client_order_id]
        assert order.filled_raw == report.filled_qty.raw
        assert order.status is report.status, (order, report)
    # a second pass finds nothing more to do (idempotent)
    again = reconcile(
        node.books(),
        VenueView(venue="XNAS", orders=dict(reports), fills=venue_fills),
        trigger="test",
    )
    assert (again.fills_inferred, again.orders_resolved, again.breaks) == (0, 0, [])

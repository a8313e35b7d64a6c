from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.core import Money, OrderStateError, Price, Quantity
from tradeloop.model import (
    TRANSITIONS,
    LiquiditySide,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderTriggered,
    OrderType,
    OrderUpdated,
)

IDS: dict[str, Any] = {
    "client_order_id": "O-1",
    "strategy_id": "s",
    "instrument_id": "X.SIM",
    "ts_event": 1,
    "ts_init": 1,
}


def new_order(quantity: int = 10) -> Order:
    return Order(
        OrderInitialized(
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Quantity(quantity, 0),
            price=Price(100, 2),
            **IDS,
        )
    )


def fill(qty: int, trade_id: str = "T-1") -> OrderFilled:
    return OrderFilled(
        venue_order_id="V-1",
        trade_id=trade_id,
        order_side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        last_qty=Quantity(qty, 0),
        last_px=Price(100, 2),
        commission=Money(0, "USD"),
        liquidity_side=LiquiditySide.MAKER,
        **IDS,
    )


def make_event(kind: str, n: int) -> Any:
    makers = {
        "denied": lambda: OrderDenied(reason="r", **IDS),
        "submitted": lambda: OrderSubmitted(venue="SIM", **IDS),
        "accepted": lambda: OrderAccepted(venue_order_id="V-1", **IDS),
        "rejected": lambda: OrderRejected(reason="r", **IDS),
        "triggered": lambda: OrderTriggered(venue_order_id="V-1", **IDS),
        "pending_cancel": lambda: OrderPendingCancel(**IDS),
        "cancel_rejected": lambda: OrderCancelRejected(reason="r", **IDS),
        "pending_update": lambda: OrderPendingUpdate(**IDS),
        "updated": lambda: OrderUpdated(venue_order_id="V-1", quantity=Quantity(10, 0), **IDS),
        "modify_rejected": lambda: OrderModifyRejected(reason="r", **IDS),
        "canceled": lambda: OrderCanceled(**IDS),
        "expired": lambda: OrderExpired(**IDS),
        "fill": lambda: fill(1 + n % 4, f"T-{n}"),
    }
    return makers[kind]()


def test_happy_path_submit_accept_partial_then_full_fill() -> None:
    order = new_order()
    for event in (make_event("submitted", 0), make_event("accepted", 0), fill(4, "T-1")):
        order.apply(event)
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.leaves_qty == Quantity(6, 0)
    order.apply(fill(6, "T-2"))
    assert order.status is OrderStatus.FILLED
    assert order.is_closed
    assert not order.is_open
    assert order.avg_px == 1.0


def test_fill_before_submission_is_refused_with_a_clear_error_and_no_change() -> None:
    order = new_order()
    with pytest.raises(OrderStateError, match="in status INITIALIZED cannot apply OrderFilled"):
        order.apply(fill(1))
    assert order.status is OrderStatus.INITIALIZED
    assert order.filled_raw == 0
    assert len(order.events) == 1


def test_overfill_is_refused() -> None:
    order = new_order(5)
    order.apply(make_event("submitted", 0))
    order.apply(make_event("accepted", 0))
    with pytest.raises(OrderStateError, match="would overfill"):
        order.apply(fill(6))
    assert order.filled_raw == 0


def test_cancel_rejected_returns_to_the_status_before_the_request() -> None:
    order = new_order()
    for kind in ("submitted", "accepted"):
        order.apply(make_event(kind, 0))
    order.apply(fill(3, "T-1"))
    order.apply(make_event("pending_cancel", 0))
    order.apply(make_event("cancel_rejected", 0))
    assert order.status is OrderStatus.PARTIALLY_FILLED


def test_partial_fill_while_cancel_pending_stays_pending_then_cancels() -> None:
    order = new_order()
    for kind in ("submitted", "accepted", "pending_cancel"):
        order.apply(make_event(kind, 0))
    order.apply(fill(2, "T-9"))
    assert order.status is OrderStatus.PENDING_CANCEL
    order.apply(make_event("canceled", 0))
    assert order.status is OrderStatus.CANCELED
    assert order.filled_raw == 2


def test_event_for_another_order_is_refused() -> None:
    order = new_order()
    other = OrderSubmitted(venue="SIM", **{**IDS, "client_order_id": "O-2"})
    with pytest.raises(OrderStateError, match="applied to order O-1"):
        order.apply(other)


def test_duplicate_trade_id_is_refused() -> None:
    order = new_order()
    for kind in ("submitted", "accepted"):
        order.apply(make_event(kind, 0))
    order.apply(fill(1, "T-1"))
    with pytest.raises(OrderStateError, match="already has a fill with trade id T-1"):
        order.apply(fill(1, "T-1"))


KINDS = [
    "denied",
    "submitted",
    "accepted",
    "rejected",
    "triggered",
    "pending_cancel",
    "cancel_rejected",
    "pending_update",
    "updated",
    "modify_rejected",
    "canceled",
    "expired",
    "fill",
]


@given(st.lists(st.sampled_from(KINDS), max_size=30))
def test_any_event_sequence_keeps_the_order_consistent(kinds: list[str]) -> None:
    order = new_order(20)
    for n, kind in enumerate(kinds):
        event = make_event(kind, n)
        before = (order.status, order.filled_raw, len(order.events))
        allowed = type(event) in TRANSITIONS[order.status]
        try:
            order.apply(event)
        except OrderStateError:
            assert (order.status, order.filled_raw, len(order.events)) == before
            continue
        assert allowed
        assert 0 <= order.filled_raw <= order.quantity.raw
        assert (order.filled_raw == order.quantity.raw) == (order.status is OrderStatus.FILLED)


def test_terminal_statuses_accept_only_late_answers_and_late_fills() -> None:
    for status in (OrderStatus.DENIED, OrderStatus.REJECTED):
        assert TRANSITIONS[status] == {}
    late = {OrderCancelRejected, OrderModifyRejected, OrderAccepted}
    assert TRANSITIONS[OrderStatus.FILLED] == dict.fromkeys(late, OrderStatus.FILLED)
    for status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
        assert {k: v for k, v in TRANSITIONS[status].items() if k in late} == dict.fromkeys(
            late, status
        )
        assert set(TRANSITIONS[status]) == {*late, OrderFilled}


def test_a_fill_that_arrives_after_the_cancel_is_counted_and_the_order_stays_canceled() -> None:
    order = new_order(5)
    for kind in ("submitted", "accepted", "canceled"):
        order.apply(make_event(kind, 0))
    order.apply(fill(2, "T-1"))
    assert (order.status, order.filled_raw) == (OrderStatus.CANCELED, 2)
    order.apply(fill(3, "T-2"))
    assert (order.status, order.filled_raw) == (OrderStatus.FILLED, 5)


def test_cancel_rejected_after_the_fill_is_a_no_op() -> None:
    order = new_order(5)
    for kind in ("submitted", "accepted"):
        order.apply(make_event(kind, 0))
    order.apply(fill(5, "T-1"))
    order.apply(make_event("cancel_rejected", 0))
    assert order.status is OrderStatus.FILLED
    assert order.filled_raw == 5

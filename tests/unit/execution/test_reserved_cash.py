"""The cash reserved by open buy orders is kept as orders change, never recomputed by walking
every resting order: after any sequence of submits, acks, fills, updates and cancels it equals
the sum over the open buy orders, in total and per venue."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.bus import MessageBus
from tradeloop.core import Money, Price, Quantity, TestClock
from tradeloop.core.fixed import notional_raw
from tradeloop.execution import OrderManager
from tradeloop.journal import MemoryJournal
from tradeloop.model import (
    CancelOrder,
    LiquiditySide,
    OrderAccepted,
    OrderCanceled,
    OrderFactory,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    SubmitOrder,
    equity,
)
from tradeloop.model.events import OrderUpdated

AAPL = equity("AAPL", "XNAS")
SPY = equity("SPY", "ARCX")
MARK = {AAPL.id: Price(10000, 2), SPY.id: Price(40000, 2)}


class _Client:
    def __init__(self, venue: str) -> None:
        self.venue = venue

    def submit_order(self, command: SubmitOrder) -> None:
        pass

    def cancel_order(self, command: CancelOrder) -> None:
        pass

    def modify_order(self, command: Any) -> None:
        pass


class _Allow:
    def check_submit(self, order: OrderInitialized) -> str | None:
        return None


def _brute(manager: OrderManager, venue: str | None) -> int:
    total = 0
    for order in manager.open_orders():
        if order.side is not OrderSide.BUY:
            continue
        instrument = AAPL if order.instrument_id == AAPL.id else SPY
        if venue is not None and instrument.venue != venue:
            continue
        price = order.price or order.trigger_price or MARK[order.instrument_id]
        total += notional_raw(price, order.leaves_qty, *instrument.multiplier_parts)
    return total


op = st.tuples(
    st.sampled_from(["limit", "market", "stop", "accept", "fill", "update", "cancel"]),
    st.integers(min_value=0, max_value=7),  # which order
    st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
    st.integers(min_value=1, max_value=50),  # quantity
    st.integers(min_value=9000, max_value=11000),  # price (cents)
    st.booleans(),  # AAPL or SPY
)


@settings(max_examples=60, deadline=None)
@given(st.lists(op, min_size=1, max_size=40))
def test_reserved_buy_notional_always_equals_the_open_buys(ops: list[Any]) -> None:
    clock, bus, journal = TestClock(5), MessageBus(), MemoryJournal()
    manager = OrderManager(clock, bus, journal, {AAPL.id: AAPL, SPY.id: SPY}, MARK.get)
    manager.set_risk(_Allow())
    manager.register_client(_Client("XNAS"))
    manager.register_client(_Client("ARCX"))
    factory = OrderFactory("s", clock)
    orders: list[Any] = []
    trade = 0
    for kind, which, side, qty, px, is_aapl in ops:
        iid = AAPL.id if is_aapl else SPY.id
        if kind in ("limit", "market", "stop"):
            if kind == "limit":
                init = factory.limit(iid, side, Quantity(qty, 0), Price(px, 2))
            elif kind == "stop":
                init = factory.stop_market(iid, side, Quantity(qty, 0), Price(px, 2))
            else:
                init = factory.market(iid, side, Quantity(qty, 0))
            orders.append(manager.submit(init))
        elif orders:
            order = orders[which % len(orders)]
            base: dict[str, Any] = {
                "client_order_id": order.client_order_id,
                "strategy_id": "s",
                "instrument_id": order.instrument_id,
                "ts_event": 6,
                "ts_init": 6,
            }
            if kind == "accept":
                event: Any = OrderAccepted(venue_order_id="V", **base)
            elif kind == "fill":
                trade += 1
                event = OrderFilled(
                    venue_order_id="V",
                    trade_id=f"T{trade}",
                    order_side=order.side,
                    order_type=order.init.order_type,
                    last_qty=Quantity(min(qty, max(order.leaves_qty.raw, 1)), 0),
                    last_px=Price(px, 2),
                    commission=Money(0, "USD"),
                    liquidity_side=LiquiditySide.TAKER,
                    **base,
                )
            elif kind == "update":
                event = OrderUpdated(
                    venue_order_id="V",
                    quantity=Quantity(max(qty, order.filled_raw + 1), 0),
                    price=None if order.price is None else Price(px, 2),
                    trigger_price=None if order.trigger_price is None else Price(px, 2),
                    **base,
                )
            else:
                event = OrderCanceled(venue_order_id="V", **base)
            manager.handle_venue_event(event)  # an illegal one is refused and alerted
        for venue in (None, "XNAS", "ARCX"):
            assert manager.open_buy_notional_raw(venue) == _brute(manager, venue)

"""Liquidation: cancel open orders and flatten positions with reduce-only market orders.

The kill switch (the kernel's portfolio limits, an operator's kill) and an operator's flatten
use it. Each order goes through the order manager, so through the risk engine: no order
bypasses risk, and HALTED lets exactly these through (reduce-only orders that reduce a
position). A position's working reduce-only orders on the closing side (a strategy's own
liquidation) count against what is left to close, so a liquidation never overshoots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tradeloop.core.clock import Clock
from tradeloop.core.fixed import Price, Quantity
from tradeloop.core.ids import IdGenerator
from tradeloop.execution.order_manager import OrderManager
from tradeloop.model.enums import OrderSide, OrderStatus, OrderType
from tradeloop.model.events import OrderInitialized
from tradeloop.model.position import Position


def cancel_open_orders(manager: OrderManager, instrument_id: str | None, why: str) -> int:
    """Cancel the open orders of ``instrument_id`` (or all); return how many were asked."""
    count = 0
    for order in manager.open_orders(instrument_id):
        if manager.cancel(order.client_order_id, why):
            count += 1
    return count


def flatten_positions(
    manager: OrderManager,
    positions: Sequence[Position],
    mark_price: Callable[[str], Price | None],
    clock: Clock,
    ids: IdGenerator,
    instrument_id: str | None,
    why: str,
    tag: str,
) -> int:
    """Send a reduce-only market order closing each position (of ``instrument_id``, or all),
    less what working reduce-only orders already close; return how many were sent. Each
    order is tagged ``tag`` and ``why``."""
    sent = 0
    now = clock.timestamp_ns()
    for position in positions:
        if instrument_id is not None and position.instrument_id != instrument_id:
            continue
        side = OrderSide.SELL if position.signed_raw > 0 else OrderSide.BUY
        working = sum(
            order.leaves_qty.raw
            for order in manager.open_orders(position.instrument_id, position.strategy_id)
            if order.is_reduce_only
            and order.side is side
            and order.status is not OrderStatus.PENDING_CANCEL
        )
        left = abs(position.signed_raw) - working
        if left <= 0:
            continue
        init = OrderInitialized(
            client_order_id=ids.next(),
            strategy_id=position.strategy_id,
            instrument_id=position.instrument_id,
            side=side,
            order_type=OrderType.MARKET,
            quantity=Quantity(left, position.size_precision),
            is_reduce_only=True,
            tags=(tag, why[:200]),
            arrival_price=mark_price(position.instrument_id),
            ts_event=now,
            ts_init=now,
        )
        manager.submit(init)
        sent += 1
    return sent

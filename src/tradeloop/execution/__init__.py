"""Execution: the order manager (the only path to a venue), order factory and venue port."""

from tradeloop.execution.order_manager import EXTERNAL_STRATEGY_ID, OrderManager, PreTradeCheck
from tradeloop.execution.ports import EventSink, ExecutionClient

__all__ = [
    "EXTERNAL_STRATEGY_ID",
    "EventSink",
    "ExecutionClient",
    "OrderManager",
    "PreTradeCheck",
]

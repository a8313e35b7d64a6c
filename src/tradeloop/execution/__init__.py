"""Execution: the order manager (the only path to a venue), the venue port, execution
algorithms, smart order routing and TCA from journals."""

from tradeloop.execution.algos import (
    ALGORITHM_CLASSES,
    ALGORITHMS,
    ExecutionAlgorithm,
    ExecutionPlan,
    make_algorithm,
)
from tradeloop.execution.order_manager import EXTERNAL_STRATEGY_ID, OrderManager, PreTradeCheck
from tradeloop.execution.ports import EventSink, ExecutionClient, OrderGateway
from tradeloop.execution.sor import (
    LiquiditySource,
    RouteAllocation,
    RoutePlan,
    VenueLiquidity,
    liquidity_from_book,
    liquidity_from_quote,
    route_order,
    submit_route,
)
from tradeloop.execution.tca import tca_orders, tca_parents

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_CLASSES",
    "EXTERNAL_STRATEGY_ID",
    "EventSink",
    "ExecutionAlgorithm",
    "ExecutionClient",
    "ExecutionPlan",
    "LiquiditySource",
    "OrderGateway",
    "OrderManager",
    "PreTradeCheck",
    "RouteAllocation",
    "RoutePlan",
    "VenueLiquidity",
    "liquidity_from_book",
    "liquidity_from_quote",
    "make_algorithm",
    "route_order",
    "submit_route",
    "tca_orders",
    "tca_parents",
]

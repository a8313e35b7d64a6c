"""Strategy: the user-facing strategy API and built-in example strategies."""

from tradeloop.strategy.base import (
    BarIndicator,
    RunInputs,
    Strategy,
    StrategyConfig,
    StrategyContext,
)
from tradeloop.strategy.params import exact_price, exact_quantity
from tradeloop.strategy.sma_cross import SmaCross

__all__ = [
    "BarIndicator",
    "RunInputs",
    "SmaCross",
    "Strategy",
    "StrategyConfig",
    "StrategyContext",
    "exact_price",
    "exact_quantity",
]

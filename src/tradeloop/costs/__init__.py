"""Costs: commission and slippage models (pure functions); spread, impact, tradability and
capacity come with the pipeline and execution-realism work."""

from tradeloop.costs.fees import CommissionConfig, commission
from tradeloop.costs.slippage import SlippageConfig, slipped_price

__all__ = ["CommissionConfig", "SlippageConfig", "commission", "slipped_price"]

"""Costs: commissions, slippage, spread, market impact (square root, Almgren-Chriss), delay,
cost assessment (gross vs net alpha), tradability and capacity. Pure functions."""

from tradeloop.costs.almgren_chriss import (
    AlmgrenChrissConfig,
    ExecutionTrajectory,
    almgren_chriss_expected_cost,
    almgren_chriss_kappa,
    almgren_chriss_rule_of_thumb,
    almgren_chriss_variance,
    linear_trajectory,
    optimal_cost_closed_form,
    optimal_trajectory,
)
from tradeloop.costs.assessment import (
    CostAssessment,
    CostAssessmentConfig,
    CostBreakdown,
    CostCurve,
    CostDecision,
    TradeIntent,
    assess_trade,
    cost_curve,
    estimate_cost,
)
from tradeloop.costs.capacity import (
    CapacityEstimate,
    TradabilityReport,
    capacity_estimate,
    max_quantity_within_cost,
    tradability_report,
)
from tradeloop.costs.delay import (
    DelayCostConfig,
    delay_cost_bps,
)
from tradeloop.costs.fees import (
    CommissionConfig,
    commission,
)
from tradeloop.costs.impact import (
    SquareRootImpactConfig,
    quantity_for_impact_bps,
    square_root_impact_bps,
)
from tradeloop.costs.slippage import (
    SlippageConfig,
    slipped_price,
)
from tradeloop.costs.spread import (
    effective_spread_bps,
    half_spread_bps,
    half_spread_cost,
    quote_half_spread_bps,
    quoted_spread_bps,
)

__all__ = [
    "AlmgrenChrissConfig",
    "CapacityEstimate",
    "CommissionConfig",
    "CostAssessment",
    "CostAssessmentConfig",
    "CostBreakdown",
    "CostCurve",
    "CostDecision",
    "DelayCostConfig",
    "ExecutionTrajectory",
    "SlippageConfig",
    "SquareRootImpactConfig",
    "TradabilityReport",
    "TradeIntent",
    "almgren_chriss_expected_cost",
    "almgren_chriss_kappa",
    "almgren_chriss_rule_of_thumb",
    "almgren_chriss_variance",
    "assess_trade",
    "capacity_estimate",
    "commission",
    "cost_curve",
    "delay_cost_bps",
    "effective_spread_bps",
    "estimate_cost",
    "half_spread_bps",
    "half_spread_cost",
    "linear_trajectory",
    "max_quantity_within_cost",
    "optimal_cost_closed_form",
    "optimal_trajectory",
    "quantity_for_impact_bps",
    "quote_half_spread_bps",
    "quoted_spread_bps",
    "slipped_price",
    "square_root_impact_bps",
    "tradability_report",
]

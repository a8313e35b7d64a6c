"""Costs: commissions, slippage, spread, market impact (square root, Almgren-Chriss), delay,
execution profiles of the algorithms, cost assessment (gross vs net alpha), tradability and
capacity. Pure functions.

Assessment, capacity, execution profiles and Almgren-Chriss load on first use (they bring
SciPy and NumPy).
"""

import importlib
import typing

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

if typing.TYPE_CHECKING:
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
        CapacityLeg,
        TradabilityReport,
        capacity_estimate,
        max_quantity_within_cost,
        strategy_capacity,
        tradability_report,
    )
    from tradeloop.costs.execution_profile import (
        PROFILED_ALGORITHMS,
        ExecutionProfile,
        algorithm_profile,
        limit_fill_probability,
    )

_LAZY: dict[str, str] = {
    "AlmgrenChrissConfig": "tradeloop.costs.almgren_chriss",
    "ExecutionTrajectory": "tradeloop.costs.almgren_chriss",
    "almgren_chriss_expected_cost": "tradeloop.costs.almgren_chriss",
    "almgren_chriss_kappa": "tradeloop.costs.almgren_chriss",
    "almgren_chriss_rule_of_thumb": "tradeloop.costs.almgren_chriss",
    "almgren_chriss_variance": "tradeloop.costs.almgren_chriss",
    "linear_trajectory": "tradeloop.costs.almgren_chriss",
    "optimal_cost_closed_form": "tradeloop.costs.almgren_chriss",
    "optimal_trajectory": "tradeloop.costs.almgren_chriss",
    "CostAssessment": "tradeloop.costs.assessment",
    "CostAssessmentConfig": "tradeloop.costs.assessment",
    "CostBreakdown": "tradeloop.costs.assessment",
    "CostCurve": "tradeloop.costs.assessment",
    "CostDecision": "tradeloop.costs.assessment",
    "TradeIntent": "tradeloop.costs.assessment",
    "assess_trade": "tradeloop.costs.assessment",
    "cost_curve": "tradeloop.costs.assessment",
    "estimate_cost": "tradeloop.costs.assessment",
    "PROFILED_ALGORITHMS": "tradeloop.costs.execution_profile",
    "ExecutionProfile": "tradeloop.costs.execution_profile",
    "algorithm_profile": "tradeloop.costs.execution_profile",
    "limit_fill_probability": "tradeloop.costs.execution_profile",
    "CapacityEstimate": "tradeloop.costs.capacity",
    "CapacityLeg": "tradeloop.costs.capacity",
    "strategy_capacity": "tradeloop.costs.capacity",
    "TradabilityReport": "tradeloop.costs.capacity",
    "capacity_estimate": "tradeloop.costs.capacity",
    "max_quantity_within_cost": "tradeloop.costs.capacity",
    "tradability_report": "tradeloop.costs.capacity",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.costs has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "PROFILED_ALGORITHMS",
    "AlmgrenChrissConfig",
    "CapacityEstimate",
    "CapacityLeg",
    "CommissionConfig",
    "CostAssessment",
    "CostAssessmentConfig",
    "CostBreakdown",
    "CostCurve",
    "CostDecision",
    "DelayCostConfig",
    "ExecutionProfile",
    "ExecutionTrajectory",
    "SlippageConfig",
    "SquareRootImpactConfig",
    "TradabilityReport",
    "TradeIntent",
    "algorithm_profile",
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
    "limit_fill_probability",
    "linear_trajectory",
    "max_quantity_within_cost",
    "optimal_cost_closed_form",
    "optimal_trajectory",
    "quantity_for_impact_bps",
    "quote_half_spread_bps",
    "quoted_spread_bps",
    "slipped_price",
    "square_root_impact_bps",
    "strategy_capacity",
    "tradability_report",
]

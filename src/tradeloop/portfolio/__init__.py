"""Portfolio: accounting (cash, positions, P&L, fees, equity curve), target construction
(volatility targeting, inverse volatility, risk parity, minimum variance, mean-variance),
sizing of target weights into lot-rounded quantities, and a turnover limit over the whole
book.

Construction and sizing load on first use (they bring SciPy), so the event loop stays lean.
"""

import importlib
import typing

from tradeloop.portfolio.accounting import FxConverter, Portfolio

if typing.TYPE_CHECKING:
    from tradeloop.portfolio.construction import (
        FEASIBILITY_TOLERANCE,
        InfeasibleConstraintsError,
        LedoitWolfEstimate,
        OptimizationError,
        PortfolioConstraints,
        PortfolioConstructionError,
        inverse_volatility_weights,
        ledoit_wolf_covariance,
        portfolio_volatility,
        risk_contributions,
        risk_parity_weights,
        sample_covariance,
        volatility_target_weights,
    )
    from tradeloop.portfolio.optimize import (
        mean_variance_weights,
        minimum_variance_weights,
        project_to_constraints,
    )
    from tradeloop.portfolio.sizing import (
        OrderDelta,
        SizingResult,
        SkippedDelta,
        size_target_weights,
    )
    from tradeloop.portfolio.turnover import TurnoverLimit, book_turnover, limit_turnover

_LAZY: dict[str, str] = {
    "PortfolioConstraints": "tradeloop.portfolio.construction",
    "PortfolioConstructionError": "tradeloop.portfolio.construction",
    "InfeasibleConstraintsError": "tradeloop.portfolio.construction",
    "OptimizationError": "tradeloop.portfolio.construction",
    "FEASIBILITY_TOLERANCE": "tradeloop.portfolio.construction",
    "LedoitWolfEstimate": "tradeloop.portfolio.construction",
    "sample_covariance": "tradeloop.portfolio.construction",
    "ledoit_wolf_covariance": "tradeloop.portfolio.construction",
    "portfolio_volatility": "tradeloop.portfolio.construction",
    "risk_contributions": "tradeloop.portfolio.construction",
    "inverse_volatility_weights": "tradeloop.portfolio.construction",
    "risk_parity_weights": "tradeloop.portfolio.construction",
    "volatility_target_weights": "tradeloop.portfolio.construction",
    "minimum_variance_weights": "tradeloop.portfolio.optimize",
    "mean_variance_weights": "tradeloop.portfolio.optimize",
    "project_to_constraints": "tradeloop.portfolio.optimize",
    "size_target_weights": "tradeloop.portfolio.sizing",
    "OrderDelta": "tradeloop.portfolio.sizing",
    "SkippedDelta": "tradeloop.portfolio.sizing",
    "SizingResult": "tradeloop.portfolio.sizing",
    "TurnoverLimit": "tradeloop.portfolio.turnover",
    "book_turnover": "tradeloop.portfolio.turnover",
    "limit_turnover": "tradeloop.portfolio.turnover",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.portfolio has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "FEASIBILITY_TOLERANCE",
    "FxConverter",
    "InfeasibleConstraintsError",
    "LedoitWolfEstimate",
    "OptimizationError",
    "OrderDelta",
    "Portfolio",
    "PortfolioConstraints",
    "PortfolioConstructionError",
    "SizingResult",
    "SkippedDelta",
    "TurnoverLimit",
    "book_turnover",
    "inverse_volatility_weights",
    "ledoit_wolf_covariance",
    "limit_turnover",
    "mean_variance_weights",
    "minimum_variance_weights",
    "portfolio_volatility",
    "project_to_constraints",
    "risk_contributions",
    "risk_parity_weights",
    "sample_covariance",
    "size_target_weights",
    "volatility_target_weights",
]

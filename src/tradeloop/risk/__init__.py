"""Risk: pre-trade checks, limits and the trading state."""

from tradeloop.risk.engine import AccountView, OrdersView, RiskConfig, RiskEngine
from tradeloop.risk.limits import PortfolioBreach, PortfolioLimits
from tradeloop.risk.review import (
    ExitInstruction,
    ProposedChange,
    RiskReviewConfig,
    RiskReviewer,
)

__all__ = [
    "AccountView",
    "ExitInstruction",
    "OrdersView",
    "PortfolioBreach",
    "PortfolioLimits",
    "ProposedChange",
    "RiskConfig",
    "RiskEngine",
    "RiskReviewConfig",
    "RiskReviewer",
]

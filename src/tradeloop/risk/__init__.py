"""Risk: pre-trade checks, limits and the trading state."""

from tradeloop.risk.engine import AccountView, OrdersView, RiskConfig, RiskEngine
from tradeloop.risk.review import (
    ExitInstruction,
    PortfolioBreach,
    ProposedChange,
    RiskReviewConfig,
    RiskReviewer,
)

__all__ = [
    "AccountView",
    "ExitInstruction",
    "OrdersView",
    "PortfolioBreach",
    "ProposedChange",
    "RiskConfig",
    "RiskEngine",
    "RiskReviewConfig",
    "RiskReviewer",
]

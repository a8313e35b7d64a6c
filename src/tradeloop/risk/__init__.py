"""Risk: pre-trade checks, limits and the trading state."""

from tradeloop.risk.engine import AccountView, OrdersView, RiskConfig, RiskEngine

__all__ = ["AccountView", "OrdersView", "RiskConfig", "RiskEngine"]

"""tradeloop: one deterministic, event-driven core for backtest, paper, shadow and live trading."""

__version__ = "0.1.0"

__all__ = ["__version__"]

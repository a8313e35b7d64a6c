"""Portfolio: accounting (cash, positions, P&L, fees, equity curve); target construction
and sizing come with the pipeline."""

from tradeloop.portfolio.accounting import FxConverter, Portfolio

__all__ = ["FxConverter", "Portfolio"]

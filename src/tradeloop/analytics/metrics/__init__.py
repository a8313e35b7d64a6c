"""Performance metrics: pure NumPy functions over simple returns, each with a named reference.

Every metric follows one published definition, named in its docstring, with the same
floating-point operations, so that results agree with the reference to rounding:

- ``performance``: total and annual return, volatility, Sharpe, downside risk, Sortino,
  Calmar, stability (empyrical); win rate and profit factor per period (quantstats)
- ``drawdown``: maximum drawdown and drawdown series (empyrical); spells with peak, trough,
  recovery and duration (``worst_drawdown``, ``longest_drawdown``)
- ``tail_risk``: historical VaR and CVaR and the tail ratio (empyrical), parametric VaR and
  CVaR (quantstats)
- ``benchmark``: alpha (annualized, compounded) and beta (empyrical)
- ``positions``: time in the market, average gross leverage, annual turnover
- ``trades``: the ``RoundTrip`` record and statistics over round trips (pyfolio)
- ``equity``: returns from an equity curve, end-of-day resampling of intraday curves
- ``summary``: ``summarize`` and the JSON-serialisable ``PerformanceSummary``

Inputs are checked: an empty or too-short series, NaN or infinity, a return below -1 or a
non-positive equity raise ``InvalidValueError`` or ``DataIntegrityError`` naming the metric,
the value and the rule. NaN or infinity come out only where the definition gives them
(empyrical's Sharpe of a zero-variance series, for example); each docstring says where.
"""

from tradeloop.analytics.metrics.benchmark import AlphaBeta, alpha_beta
from tradeloop.analytics.metrics.drawdown import (
    Drawdown,
    drawdown_series,
    drawdown_spells,
    longest_drawdown,
    max_drawdown,
    worst_drawdown,
)
from tradeloop.analytics.metrics.equity import (
    DailyEquity,
    daily_equity,
    daily_returns,
    equity_from_returns,
    returns_from_equity,
)
from tradeloop.analytics.metrics.performance import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    downside_risk,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
    stability_of_timeseries,
    total_return,
    win_rate,
)
from tradeloop.analytics.metrics.positions import Exposure, exposure, turnover
from tradeloop.analytics.metrics.summary import PerformanceSummary, summarize
from tradeloop.analytics.metrics.tail_risk import (
    conditional_value_at_risk,
    parametric_conditional_value_at_risk,
    parametric_value_at_risk,
    tail_ratio,
    value_at_risk,
)
from tradeloop.analytics.metrics.trades import RoundTrip, TradeStatistics, trade_statistics

__all__ = [
    "AlphaBeta",
    "DailyEquity",
    "Drawdown",
    "Exposure",
    "PerformanceSummary",
    "RoundTrip",
    "TradeStatistics",
    "alpha_beta",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "conditional_value_at_risk",
    "daily_equity",
    "daily_returns",
    "downside_risk",
    "drawdown_series",
    "drawdown_spells",
    "equity_from_returns",
    "exposure",
    "longest_drawdown",
    "max_drawdown",
    "parametric_conditional_value_at_risk",
    "parametric_value_at_risk",
    "profit_factor",
    "returns_from_equity",
    "sharpe_ratio",
    "sortino_ratio",
    "stability_of_timeseries",
    "summarize",
    "tail_ratio",
    "total_return",
    "trade_statistics",
    "turnover",
    "value_at_risk",
    "win_rate",
    "worst_drawdown",
]

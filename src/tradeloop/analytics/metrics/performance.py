"""Return and risk-adjusted return metrics over a series of simple returns per period.

Each function follows one reference definition, named in its docstring (empyrical-reloaded
0.7 or quantstats 0.0.86), computed with the same floating-point operations so that results
agree to rounding. Where the other library defines the metric differently, the docstring says
how its value maps onto ours.

Conventions shared by every function here:

- ``returns`` are simple returns per period (0.01 is +1 %), finite and >= -1. Missing periods
  are the caller's decision (drop them or fill with 0) and must not reach a metric as NaN.
- ``periods_per_year`` is the annualization factor: 252 for trading days (the default), 365
  for calendar days, 52 weekly, 12 monthly.
- Rates (``risk_free``, ``required_return``) are per period, as empyrical takes them: a number
  or an array with one value per period. quantstats takes an annual rate ``rf`` and converts it
  with ``(1 + rf) ** (1 / periods) - 1``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.metrics import _checks
from tradeloop.analytics.metrics._checks import F64
from tradeloop.analytics.metrics.drawdown import max_drawdown


def _divide(numerator: float, denominator: float) -> float:
    # IEEE division as numpy does it: x / 0 is +-inf, 0 / 0 is NaN (Python would raise).
    if denominator == 0.0:
        return math.nan if numerator == 0.0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def _dispersion(values: F64) -> float:
    # Sample standard deviation (ddof=1), exactly 0 for identical values: the float mean of
    # identical values can miss them by one ulp and leave a 1e-18 residue (empyrical's
    # _zero_dispersion_std makes the same correction).
    if values.max() == values.min():
        return 0.0
    return float(np.std(values, ddof=1))


def _adjusted(returns: F64, rate: float | F64) -> F64:
    if isinstance(rate, float) and rate == 0.0:
        return returns
    return returns - rate


def total_return(returns: npt.ArrayLike) -> float:
    """Return the compounded total return ``prod(1 + r) - 1``, as ``empyrical.cum_returns_final``.

    quantstats ``comp`` is the same computation.

    Parameters
    ----------
    returns
        Simple returns per period; at least one.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty or not one-dimensional.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("total_return", returns, 1)
    return float(np.prod(r + 1.0)) - 1.0


def annual_return(returns: npt.ArrayLike, periods_per_year: float = 252) -> float:
    """Return the compound annual growth rate, as ``empyrical.annual_return`` (alias ``cagr``).

    ``(prod(1 + r)) ** (1 / years) - 1`` with ``years = len(returns) / periods_per_year``: the
    length of the series in periods sets the number of years, not the calendar. quantstats 0.0.86
    ``cagr(returns, periods=...)`` computes the same (``returns.count() / periods`` years);
    earlier quantstats releases counted calendar days / 365 instead.

    Parameters
    ----------
    returns
        Simple returns per period; at least one.
    periods_per_year
        Periods in a year (252 for trading days).

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("annual_return", returns, 1)
    factor = _checks.periods_per_year("annual_return", periods_per_year)
    num_years = len(r) / factor
    ending_value = float(np.prod(r + 1.0))
    return float(ending_value ** (1.0 / num_years) - 1.0)


def annual_volatility(returns: npt.ArrayLike, periods_per_year: float = 252) -> float:
    """Return the annualized volatility, as ``empyrical.annual_volatility``.

    The sample standard deviation (``ddof=1``) times ``periods_per_year ** 0.5``; quantstats
    ``volatility`` is the same (pandas ``std``, ``ddof=1``). A constant series gives exactly 0
    (empyrical can leave a residue near 1e-18 there).

    Raises
    ------
    InvalidValueError
        If ``returns`` has fewer than 2 values or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("annual_volatility", returns, 2)
    factor = _checks.periods_per_year("annual_volatility", periods_per_year)
    return _dispersion(r) * float(factor ** (1.0 / 2.0))


def sharpe_ratio(
    returns: npt.ArrayLike,
    risk_free: float | npt.ArrayLike = 0.0,
    periods_per_year: float = 252,
) -> float:
    """Return the annualized Sharpe ratio, as ``empyrical.sharpe_ratio``.

    ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods_per_year)``. As in empyrical, a series
    whose excess returns are all equal has zero dispersion: the ratio is then +inf or -inf by
    the sign of the mean, and NaN when the mean is 0 (all-zero excess returns).

    quantstats ``sharpe(returns, rf=R, periods=N)`` takes an *annual* rate and subtracts
    ``(1 + R) ** (1 / N) - 1`` per period: the same ratio as ours with that per-period
    ``risk_free``. For a zero-dispersion series quantstats divides by the raw standard deviation
    and gives a large finite number or NaN.

    Parameters
    ----------
    returns
        Simple returns per period; at least two.
    risk_free
        Risk-free return per period: a number or one value per period.
    periods_per_year
        Periods in a year.

    Raises
    ------
    InvalidValueError
        If ``returns`` has fewer than 2 values, ``risk_free`` has the wrong length or is not
        finite, or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("sharpe_ratio", returns, 2)
    factor = _checks.periods_per_year("sharpe_ratio", periods_per_year)
    adjusted = _adjusted(r, _checks.rate("sharpe_ratio", "risk_free", risk_free, len(r)))
    return _divide(float(np.mean(adjusted)), _dispersion(adjusted)) * math.sqrt(factor)


def _downside(adjusted: F64, factor: float) -> float:
    shortfall = np.clip(adjusted, -np.inf, 0.0)
    return float(np.sqrt(np.mean(np.square(shortfall)))) * math.sqrt(factor)


def downside_risk(
    returns: npt.ArrayLike,
    required_return: float | npt.ArrayLike = 0.0,
    periods_per_year: float = 252,
) -> float:
    """Return the annualized downside deviation, as ``empyrical.downside_risk``.

    ``sqrt(mean(min(r - required_return, 0) ** 2)) * sqrt(periods_per_year)``: the mean runs
    over *all* periods (a period above the threshold contributes 0), not over the losing ones
    only, following Sortino and Price's target downside deviation.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty, ``required_return`` has the wrong length or is not finite,
        or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("downside_risk", returns, 1)
    factor = _checks.periods_per_year("downside_risk", periods_per_year)
    rate = _checks.rate("downside_risk", "required_return", required_return, len(r))
    return _downside(_adjusted(r, rate), factor)


def sortino_ratio(
    returns: npt.ArrayLike,
    required_return: float | npt.ArrayLike = 0.0,
    periods_per_year: float = 252,
) -> float:
    """Return the annualized Sortino ratio, as ``empyrical.sortino_ratio``.

    ``mean(r - required_return) * periods_per_year / downside_risk(...)``, with the downside
    deviation of ``downside_risk``. With no period below the required return the ratio is +inf
    (NaN if every excess return is 0), as in empyrical.

    quantstats ``sortino(returns, rf=R, periods=N)`` is the same number when its per-period
    rate ``(1 + R) ** (1 / N) - 1`` equals ``required_return`` (it also averages the squared
    shortfall over all periods and annualizes with ``sqrt(N)``); it returns NaN instead of
    +inf when nothing falls below the threshold.

    Raises
    ------
    InvalidValueError
        If ``returns`` has fewer than 2 values, ``required_return`` has the wrong length or is
        not finite, or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("sortino_ratio", returns, 2)
    factor = _checks.periods_per_year("sortino_ratio", periods_per_year)
    rate = _checks.rate("sortino_ratio", "required_return", required_return, len(r))
    adjusted = _adjusted(r, rate)
    average_annual_return = float(np.mean(adjusted)) * factor
    return _divide(average_annual_return, _downside(adjusted, factor))


def calmar_ratio(returns: npt.ArrayLike, periods_per_year: float = 252) -> float:
    """Return the Calmar ratio ``annual_return / abs(max_drawdown)``, as ``empyrical.calmar_ratio``.

    NaN when the series has no drawdown (empyrical's rule; a ratio over a zero drawdown is
    undefined). quantstats ``calmar`` divides the same CAGR by the same drawdown, and raises
    ``ZeroDivisionError`` when there is no drawdown.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("calmar_ratio", returns, 1)
    factor = _checks.periods_per_year("calmar_ratio", periods_per_year)
    drawdown = max_drawdown(r)
    if not drawdown < 0.0:
        return math.nan
    ratio = annual_return(r, factor) / abs(drawdown)
    return math.nan if math.isinf(ratio) else ratio


def stability_of_timeseries(returns: npt.ArrayLike) -> float:
    """Return the R-squared of a straight line fitted to cumulative log returns.

    As ``empyrical.stability_of_timeseries``: ``linregress(arange(n), cumsum(log1p(r))).rvalue
    ** 2``. 1.0 for a steady compounding curve; NaN for a flat one (all-zero returns: the
    correlation with a constant is undefined, and SciPy's ``linregress`` returns NaN) and when a
    return is -1 (the log of zero wealth). quantstats has no equivalent.

    Raises
    ------
    InvalidValueError
        If ``returns`` has fewer than 2 values.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("stability_of_timeseries", returns, 2)
    if np.any(r == -1.0):
        return math.nan
    cumulative_log_returns = np.log1p(r).cumsum()
    from scipy import stats  # 1-2 s to import: only where it is used (a live node's end)

    fit = stats.linregress(np.arange(len(cumulative_log_returns)), cumulative_log_returns)
    return float(fit.rvalue) ** 2


def win_rate(returns: npt.ArrayLike) -> float:
    """Return the fraction of winning periods among periods that moved, as quantstats ``win_rate``.

    ``count(r > 0) / count(r != 0)``: flat periods (no position, or no change) count neither
    as wins nor as losses. NaN when no period moved (quantstats warns and returns 0.0).
    empyrical has no win rate. For trade-level win rate see ``trade_statistics``.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("win_rate", returns, 1)
    moved = int(np.count_nonzero(r))
    if moved == 0:
        return math.nan
    return int(np.count_nonzero(r > 0.0)) / moved


def profit_factor(returns: npt.ArrayLike) -> float:
    """Return the sum of gains over the sum of losses, as quantstats ``profit_factor``.

    ``sum(r[r >= 0]) / abs(sum(r[r < 0]))`` over periods (not trades). +inf when there are
    gains and no losses, NaN when every return is 0 (quantstats returns 0.0 there). Flipping
    the sign of every return inverts the ratio; scaling every return by a positive number
    leaves it unchanged. For the trade-level profit factor see ``trade_statistics``.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("profit_factor", returns, 1)
    gains = float(np.sum(r[r >= 0.0]))
    losses = abs(float(np.sum(r[r < 0.0])))
    return _divide(gains, losses)

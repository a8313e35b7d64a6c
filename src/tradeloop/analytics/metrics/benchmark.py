"""Alpha and beta of a returns series to a benchmark, as empyrical defines them."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.analytics.metrics import _checks


class AlphaBeta(msgspec.Struct, frozen=True, kw_only=True):
    """Annualized alpha (compounded) and beta to a benchmark; NaN where undefined."""

    alpha: float
    beta: float


def alpha_beta(
    returns: npt.ArrayLike,
    benchmark_returns: npt.ArrayLike,
    risk_free: float | npt.ArrayLike = 0.0,
    periods_per_year: float = 252,
) -> AlphaBeta:
    """Return the annualized alpha and the beta of ``returns`` to a benchmark.

    As ``empyrical.alpha_beta``:

    - ``beta = mean(x_res * r) / mean(x_res ** 2)`` with ``x_res = b - mean(b)`` (the ordinary
      least-squares slope of ``r`` on ``b``, computed on raw returns: like empyrical, beta
      ignores ``risk_free``). NaN when the benchmark's variance is below 1e-30.
    - ``alpha = (1 + mean((r - rf) - beta * (b - rf))) ** periods_per_year - 1``: the mean
      daily excess over the beta-scaled benchmark, *compounded* over a year.

    quantstats ``greeks`` gives the same beta (``cov / var`` with ``ddof=1``, which cancels) but
    a *simple* annual alpha ``(mean(r) - beta * mean(b)) * periods`` with no risk-free rate, and
    reports 0 where empyrical reports NaN. Its alpha maps onto ours as
    ``(1 + alpha_qs / periods) ** periods - 1``.

    Parameters
    ----------
    returns
        Simple returns per period of the strategy; at least two.
    benchmark_returns
        Simple returns of the benchmark over the same periods (same length, aligned).
    risk_free
        Risk-free return per period: a number or one value per period.
    periods_per_year
        Periods in a year.

    Raises
    ------
    InvalidValueError
        If a series has fewer than 2 values, the lengths differ, ``risk_free`` is not finite
        or has the wrong length, or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("alpha_beta", returns, 2)
    b = _checks.as_returns("alpha_beta", benchmark_returns, 2, name="benchmark_returns")
    _checks.same_length("alpha_beta", returns=r, benchmark_returns=b)
    factor = _checks.periods_per_year("alpha_beta", periods_per_year)
    rate = _checks.rate("alpha_beta", "risk_free", risk_free, len(r))

    residual = b - np.mean(b)
    covariance = float(np.mean(residual * r))
    variance = float(np.mean(np.square(residual)))
    if variance < _checks.BETA_VARIANCE_FLOOR:
        return AlphaBeta(alpha=math.nan, beta=math.nan)
    beta = covariance / variance

    if isinstance(rate, float) and rate == 0.0:
        alpha_series = r - beta * b
    else:
        alpha_series = (r - rate) - beta * (b - rate)
    alpha = float(np.power(np.mean(alpha_series) + 1.0, factor)) - 1.0
    return AlphaBeta(alpha=alpha, beta=beta)

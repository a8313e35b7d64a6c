"""Tail risk of a returns series: value at risk, conditional value at risk, tail ratio.

Sign and quantile conventions
-----------------------------
Every value here is a *return* at the left tail, not a loss: a 5 % one-period VaR of -0.021
means that in 5 % of periods the return was -2.1 % or worse. ``cutoff`` is the tail
probability (0.05), as empyrical takes it; quantstats takes ``confidence = 1 - cutoff`` (0.95).

- ``value_at_risk`` and ``conditional_value_at_risk`` are historical, exactly as
  ``empyrical.value_at_risk`` / ``empyrical.conditional_value_at_risk``: the quantile is
  ``numpy.percentile(returns, 100 * cutoff)`` with linear interpolation between order
  statistics (``method="linear"``), and CVaR is the mean of the ``int((n - 1) * cutoff) + 1``
  lowest returns.
- quantstats ``var`` / ``value_at_risk`` is *parametric* (variance-covariance):
  ``norm.ppf(1 - confidence, mean, std)`` with ``ddof=1``; ``parametric_value_at_risk`` gives
  that number. quantstats ``cvar`` / ``conditional_value_at_risk`` / ``expected_shortfall``
  defaults to the normal closed form ``mean - std * pdf(ppf(alpha)) / alpha``
  (``parametric_conditional_value_at_risk``); with ``method="historical"`` it averages the
  returns at or below pandas' linear quantile, which equals empyrical's CVaR unless several
  returns tie at the cut.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.metrics import _checks
from tradeloop.core.errors import InvalidValueError


def value_at_risk(returns: npt.ArrayLike, cutoff: float = 0.05) -> float:
    """Return the historical value at risk, as ``empyrical.value_at_risk``.

    The ``cutoff`` quantile of the returns, ``numpy.percentile(returns, 100 * cutoff)``
    (linear interpolation); negative when the tail holds losses.

    Parameters
    ----------
    returns
        Simple returns per period; at least one.
    cutoff
        Tail probability in [0, 1]: 0.05 for the worst 5 % of periods.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty or ``cutoff`` is outside [0, 1].
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("value_at_risk", returns, 1)
    tail = _checks.cutoff("value_at_risk", cutoff)
    return float(np.percentile(r, 100 * tail))


def conditional_value_at_risk(returns: npt.ArrayLike, cutoff: float = 0.05) -> float:
    """Return the historical conditional value at risk, as ``empyrical.conditional_value_at_risk``.

    The mean of the ``int((n - 1) * cutoff) + 1`` lowest returns: the returns at or below the
    VaR, counted by rank so that ties at the cut do not widen the tail.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty or ``cutoff`` is outside [0, 1].
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("conditional_value_at_risk", returns, 1)
    tail = _checks.cutoff("conditional_value_at_risk", cutoff)
    cutoff_index = int((len(r) - 1) * tail)
    return float(np.mean(np.partition(r, cutoff_index)[: cutoff_index + 1]))


def parametric_value_at_risk(returns: npt.ArrayLike, cutoff: float = 0.05) -> float:
    """Return the normal (variance-covariance) value at risk, as quantstats ``value_at_risk``.

    ``norm.ppf(cutoff, mean, std)`` with the sample standard deviation (``ddof=1``); quantstats
    ``var(returns, confidence=c)`` equals ``parametric_value_at_risk(returns, 1 - c)``.

    Raises
    ------
    InvalidValueError
        If ``returns`` has fewer than 2 values or ``cutoff`` is outside [0, 1].
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("parametric_value_at_risk", returns, 2)
    tail = _checks.cutoff("parametric_value_at_risk", cutoff)
    from scipy import stats  # 1-2 s to import: only where it is used

    return float(stats.norm.ppf(tail, float(np.mean(r)), float(np.std(r, ddof=1))))


def parametric_conditional_value_at_risk(returns: npt.ArrayLike, cutoff: float = 0.05) -> float:
    """Return the normal expected shortfall, as quantstats ``cvar`` (``method="parametric"``).

    ``mean - std * pdf(ppf(cutoff)) / cutoff`` with ``ddof=1``; the mean itself when the
    standard deviation is 0.

    Raises
    ------
    InvalidValueError
        If ``returns`` has fewer than 2 values or ``cutoff`` is outside (0, 1].
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    metric = "parametric_conditional_value_at_risk"
    r = _checks.as_returns(metric, returns, 2)
    tail = _checks.cutoff(metric, cutoff)
    if tail == 0.0:
        raise InvalidValueError(
            f"{metric} cutoff 0.0 is invalid; the expected shortfall needs a tail probability "
            "above 0"
        )
    mean, std = float(np.mean(r)), float(np.std(r, ddof=1))
    if std == 0.0:
        return mean
    from scipy import stats  # 1-2 s to import: only where it is used

    return mean - std * float(stats.norm.pdf(stats.norm.ppf(tail))) / tail


def tail_ratio(returns: npt.ArrayLike) -> float:
    """Return ``abs(95th percentile) / abs(5th percentile)``, as ``empyrical.tail_ratio``.

    0.25 means the left tail is four times as wide as the right one. Percentiles are
    ``numpy.percentile`` (linear). +inf when the 5th percentile is 0 and the 95th is not, NaN
    when both are 0 (empyrical's IEEE division); quantstats ``tail_ratio`` gives NaN in both
    cases and the same number otherwise.

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("tail_ratio", returns, 1)
    right = abs(float(np.percentile(r, 95)))
    left = abs(float(np.percentile(r, 5)))
    if left == 0.0:
        return math.nan if right == 0.0 else math.inf
    return right / left

"""How much the strategy was in the market and how much it traded: exposure and turnover."""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.analytics.metrics import _checks
from tradeloop.core.errors import DataIntegrityError


class Exposure(msgspec.Struct, frozen=True, kw_only=True):
    """Time in the market and average gross leverage of an equity curve (see ``exposure``)."""

    time_in_market: float
    average_gross_leverage: float


def exposure(
    gross_exposure: npt.ArrayLike,
    equity: npt.ArrayLike,
    ts_ns: npt.ArrayLike | None = None,
) -> Exposure:
    """Return the fraction of time with a position and the average gross exposure over equity.

    The exposure at point ``i`` is held until point ``i + 1``; the last point carries no time.
    With ``ts_ns`` each interval weighs its length in nanoseconds (intraday curves, weekends);
    without, each interval weighs one period.

    - ``time_in_market`` = weight of the intervals with ``gross_exposure != 0`` / total weight;
    - ``average_gross_leverage`` = weighted mean of ``gross_exposure / equity`` (1.0 for a fully
      invested long-only book, 2.0 for 100 % long plus 100 % short).

    quantstats ``exposure(returns)`` instead counts the periods with a non-zero *return* and
    rounds up to a whole percent: on a per-period curve whose return is non-zero exactly when
    the previous point held a position it equals ``ceil(time_in_market * 100) / 100``.

    Parameters
    ----------
    gross_exposure
        Sum of the absolute market values of the open positions at each point, >= 0.
    equity
        Equity at each point, above 0.
    ts_ns
        Optional nanosecond timestamps of the points, strictly increasing.

    Raises
    ------
    InvalidValueError
        If there are fewer than 2 points or the lengths differ.
    DataIntegrityError
        If a value is NaN or infinite, an exposure is negative, an equity value is not above
        0, or timestamps do not increase.
    """
    gross = _checks.as_series("exposure", "gross_exposure", gross_exposure, 2)
    e = _checks.as_equity("exposure", equity, 2)
    _checks.same_length("exposure", gross_exposure=gross, equity=e)
    negative = np.flatnonzero(gross < 0.0)
    if negative.size:
        index = int(negative[0])
        raise DataIntegrityError(
            f"exposure gross_exposure[{index}] is {gross[index]}; a gross exposure is a sum of "
            "absolute values and cannot be negative"
        )
    if ts_ns is None:
        weights = np.ones(len(e) - 1)
    else:
        weights = np.diff(_checks.as_timestamps("exposure", ts_ns, len(e))).astype(np.float64)
    total = float(np.sum(weights))
    held = gross[:-1]
    return Exposure(
        time_in_market=float(np.sum(weights[held != 0.0])) / total,
        average_gross_leverage=float(np.sum(weights * (held / e[:-1]))) / total,
    )


def turnover(
    traded_notional: npt.ArrayLike,
    equity: npt.ArrayLike,
    periods_per_year: float = 252,
) -> float:
    """Return the annual turnover: traded notional over average equity, per year.

    ``sum(abs(traded_notional)) / mean(equity) * periods_per_year / n`` for ``n`` periods.
    Turnover is two-sided (buys plus sells): buying the whole book once and selling it once a
    year is 2.0. pyfolio's "daily turnover" averages per-period ratios ``traded / value`` and
    does not annualize.

    Parameters
    ----------
    traded_notional
        Notional traded in each period (absolute values are summed, so signed buys and sells
        are fine).
    equity
        Equity at the end of each period, above 0; same length.
    periods_per_year
        Periods in a year.

    Raises
    ------
    InvalidValueError
        If the series are empty or differ in length, or ``periods_per_year`` is not above 0.
    DataIntegrityError
        If a value is NaN or infinite, or an equity value is not above 0.
    """
    traded = _checks.as_series("turnover", "traded_notional", traded_notional, 1)
    e = _checks.as_equity("turnover", equity, 1)
    _checks.same_length("turnover", traded_notional=traded, equity=e)
    factor = _checks.periods_per_year("turnover", periods_per_year)
    return float(np.sum(np.abs(traded))) / float(np.mean(e)) * factor / len(e)

"""``summarize``: every metric of an equity curve in one JSON-serialisable record.

Steps, each implemented by the public function named:

1. Resample the curve to the last point of each day (``daily_equity``), keeping the curve's
   first point as the base of the first return, so that the returns compound to
   ``equity[-1] / equity[0] - 1``.
2. Daily returns (``returns_from_equity``) feed the return metrics (``performance``), the
   tail metrics (``tail_risk``) and the maximum drawdown (``drawdown.max_drawdown``).
3. Drawdown spells of the daily curve give the worst and the longest drawdown with their
   dates; the intraday maximum drawdown uses every point.
4. Optional inputs add alpha and beta (a benchmark curve on the same timestamps, resampled
   the same way), exposure and turnover (gross exposure and traded notional at each point) and
   trade statistics (round trips).

A ratio that is NaN or infinite by definition (Sharpe of a zero-variance series, profit factor
without losses ...) is stored as None, because JSON has no such numbers; call the function
itself for the IEEE value.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.analytics.metrics import _checks
from tradeloop.analytics.metrics._checks import F64, I64, finite_or_none
from tradeloop.analytics.metrics.benchmark import alpha_beta
from tradeloop.analytics.metrics.drawdown import (
    Drawdown,
    longest_drawdown,
    max_drawdown,
    worst_drawdown,
)
from tradeloop.analytics.metrics.equity import _last_of_each_day, _session_days
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
from tradeloop.analytics.metrics.positions import exposure, turnover
from tradeloop.analytics.metrics.tail_risk import (
    conditional_value_at_risk,
    tail_ratio,
    value_at_risk,
)
from tradeloop.analytics.metrics.trades import RoundTrip, TradeStatistics, trade_statistics
from tradeloop.core.errors import InvalidValueError


class PerformanceSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Every metric of one equity curve, computed on its end-of-day points.

    Return metrics use daily simple returns and ``periods_per_year``; their definitions are
    those of the functions of the same name. ``worst_drawdown`` and ``longest_drawdown`` index
    the daily points (the first daily point is the curve's first point). Fields are None where
    a metric is undefined or infinite, or where its input was not given (benchmark, exposure,
    traded notional, trades). Encode with ``msgspec.json.encode``.
    """

    ts_start: int
    ts_end: int
    daily_point_count: int
    return_count: int
    periods_per_year: float
    tz: str
    session_start_offset_ns: int
    risk_free: float
    required_return: float
    cutoff: float
    start_equity: float
    end_equity: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe_ratio: float | None
    sortino_ratio: float | None
    downside_risk: float
    calmar_ratio: float | None
    stability: float | None
    tail_ratio: float | None
    value_at_risk: float
    conditional_value_at_risk: float
    win_rate: float | None
    profit_factor: float | None
    max_drawdown: float
    intraday_max_drawdown: float
    worst_drawdown: Drawdown | None
    longest_drawdown: Drawdown | None
    alpha: float | None = None
    beta: float | None = None
    time_in_market: float | None = None
    average_gross_leverage: float | None = None
    annual_turnover: float | None = None
    trades: TradeStatistics | None = None


def _daily_positions(ts: I64, tz: str, session_start_offset_ns: int) -> I64:
    last = _last_of_each_day(_session_days("summarize", ts, tz, session_start_offset_ns))
    if last[0] != 0:
        last = np.concatenate((np.zeros(1, dtype=np.int64), last))
    return last


def _turnover(traded: F64, ts: I64, daily_ts: I64, daily_equity: F64, factor: float) -> float:
    # Notional traded after one daily point and up to the next belongs to that return period;
    # anything at or before the first daily point counts in the first period.
    period = np.clip(np.searchsorted(daily_ts, ts, side="left") - 1, 0, len(daily_ts) - 2)
    per_period = np.bincount(period, weights=np.abs(traded), minlength=len(daily_ts) - 1)
    return turnover(per_period, daily_equity[1:], factor)


def summarize(
    ts_ns: npt.ArrayLike,
    equity: npt.ArrayLike,
    *,
    trades: Sequence[RoundTrip] | None = None,
    benchmark_equity: npt.ArrayLike | None = None,
    gross_exposure: npt.ArrayLike | None = None,
    traded_notional: npt.ArrayLike | None = None,
    periods_per_year: float = 252,
    risk_free: float = 0.0,
    required_return: float = 0.0,
    cutoff: float = 0.05,
    tz: str = "UTC",
    session_start_offset_ns: int = 0,
) -> PerformanceSummary:
    """Return every performance metric of an equity curve in one ``PerformanceSummary``.

    Call it once on the net curve and once on the gross curve (before costs) to compare them.

    Parameters
    ----------
    ts_ns
        Nanosecond UTC timestamps, strictly increasing (intraday points are fine).
    equity
        Equity at each timestamp, above 0.
    trades
        Round trips for ``TradeStatistics`` (after fees).
    benchmark_equity
        Benchmark value at the same timestamps, for alpha and beta.
    gross_exposure
        Gross exposure at each timestamp, for ``time_in_market`` and
        ``average_gross_leverage`` (time-weighted over every point).
    traded_notional
        Notional traded at each timestamp, for ``annual_turnover``.
    periods_per_year
        Trading days in a year (252; 365 for markets open every day).
    risk_free
        Risk-free return per day, for Sharpe and alpha.
    required_return
        Required return per day, for Sortino and the downside risk.
    cutoff
        Tail probability of the value at risk and CVaR.
    tz, session_start_offset_ns
        Day boundaries, as for ``daily_equity``.

    Raises
    ------
    InvalidValueError
        If the curve spans fewer than 2 daily returns, an optional series does not match the
        curve's length, or a parameter is invalid.
    DataIntegrityError
        If a value is NaN or infinite, equity is not above 0, or timestamps do not increase.
    """
    e = _checks.as_equity("summarize", equity, 1)
    ts = _checks.as_timestamps("summarize", ts_ns, len(e))
    factor = _checks.periods_per_year("summarize", periods_per_year)
    last = _daily_positions(ts, tz, session_start_offset_ns)
    if len(last) < 3:
        raise InvalidValueError(
            f"summarize needs at least 2 daily returns (a first point and 2 day ends); "
            f"the curve gives {len(last) - 1}"
        )
    daily_ts, daily = ts[last], e[last]
    returns = np.diff(daily) / daily[:-1]
    intraday = worst_drawdown(e)

    summary = PerformanceSummary(
        ts_start=int(daily_ts[0]),
        ts_end=int(daily_ts[-1]),
        daily_point_count=len(daily),
        return_count=len(returns),
        periods_per_year=factor,
        tz=tz,
        session_start_offset_ns=int(session_start_offset_ns),
        risk_free=float(risk_free),
        required_return=float(required_return),
        cutoff=float(cutoff),
        start_equity=float(daily[0]),
        end_equity=float(daily[-1]),
        total_return=total_return(returns),
        annual_return=annual_return(returns, factor),
        annual_volatility=annual_volatility(returns, factor),
        sharpe_ratio=finite_or_none(sharpe_ratio(returns, risk_free, factor)),
        sortino_ratio=finite_or_none(sortino_ratio(returns, required_return, factor)),
        downside_risk=downside_risk(returns, required_return, factor),
        calmar_ratio=finite_or_none(calmar_ratio(returns, factor)),
        stability=finite_or_none(stability_of_timeseries(returns)),
        tail_ratio=finite_or_none(tail_ratio(returns)),
        value_at_risk=value_at_risk(returns, cutoff),
        conditional_value_at_risk=conditional_value_at_risk(returns, cutoff),
        win_rate=finite_or_none(win_rate(returns)),
        profit_factor=finite_or_none(profit_factor(returns)),
        max_drawdown=max_drawdown(returns),
        intraday_max_drawdown=0.0 if intraday is None else intraday.depth,
        worst_drawdown=worst_drawdown(daily, daily_ts),
        longest_drawdown=longest_drawdown(daily, daily_ts),
    )
    changes: dict[str, object] = {}
    if benchmark_equity is not None:
        bench = _checks.as_equity("summarize", benchmark_equity, 1, name="benchmark_equity")
        _checks.same_length("summarize", equity=e, benchmark_equity=bench)
        daily_bench = bench[last]
        result = alpha_beta(returns, np.diff(daily_bench) / daily_bench[:-1], risk_free, factor)
        changes["alpha"] = finite_or_none(result.alpha)
        changes["beta"] = finite_or_none(result.beta)
    if gross_exposure is not None:
        held = exposure(gross_exposure, e, ts)
        changes["time_in_market"] = held.time_in_market
        changes["average_gross_leverage"] = held.average_gross_leverage
    if traded_notional is not None:
        traded = _checks.as_series("summarize", "traded_notional", traded_notional, 1)
        _checks.same_length("summarize", equity=e, traded_notional=traded)
        changes["annual_turnover"] = _turnover(traded, ts, daily_ts, daily, factor)
    if trades is not None:
        changes["trades"] = trade_statistics(trades)
    return msgspec.structs.replace(summary, **changes) if changes else summary

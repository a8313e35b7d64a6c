"""``summarize``: one JSON-serialisable record with every metric of an equity curve."""

from __future__ import annotations

import empyrical
import msgspec
import numpy as np
import pandas as pd
import pytest

from tradeloop.analytics import metrics
from tradeloop.core.errors import DataIntegrityError, InvalidValueError
from tradeloop.core.time import NANOS_PER_DAY, NANOS_PER_HOUR, parse_time

from .conftest import DailyCloses


def test_summary_of_a_daily_curve_equals_each_metric_and_empyrical(spy: DailyCloses):
    summary = metrics.summarize(spy.ts_ns, spy.close)
    r = spy.returns
    assert summary.return_count == len(r)
    assert summary.daily_point_count == len(spy.close)
    assert (summary.ts_start, summary.ts_end) == (spy.ts_ns[0], spy.ts_ns[-1])
    assert summary.total_return == pytest.approx(spy.close[-1] / spy.close[0] - 1, rel=1e-12)
    assert summary.annual_return == metrics.annual_return(r)
    assert summary.sharpe_ratio == metrics.sharpe_ratio(r)
    assert summary.sortino_ratio == metrics.sortino_ratio(r)
    assert summary.max_drawdown == metrics.max_drawdown(r)
    assert summary.value_at_risk == metrics.value_at_risk(r)
    for ours, theirs in [
        (summary.annual_volatility, empyrical.annual_volatility(r)),
        (summary.sharpe_ratio, empyrical.sharpe_ratio(r)),
        (summary.calmar_ratio, empyrical.calmar_ratio(r)),
        (summary.stability, empyrical.stability_of_timeseries(r)),
        (summary.conditional_value_at_risk, empyrical.conditional_value_at_risk(r)),
    ]:
        assert ours == pytest.approx(theirs, rel=1e-12)
    assert summary.worst_drawdown == metrics.worst_drawdown(spy.close, spy.ts_ns)
    assert summary.longest_drawdown == metrics.longest_drawdown(spy.close, spy.ts_ns)
    assert summary.intraday_max_drawdown == pytest.approx(summary.max_drawdown, rel=1e-12)
    assert summary.alpha is None
    assert summary.trades is None


def test_summary_round_trips_through_json_exactly(spy: DailyCloses, orcl: DailyCloses):
    joined = pd.concat(
        [
            pd.Series(spy.close, index=spy.ts_ns),
            pd.Series(orcl.close, index=orcl.ts_ns),
        ],
        axis=1,
        join="inner",
    )
    trade = metrics.RoundTrip(
        instrument_id="ORCL.NASDAQ",
        ts_entry=int(joined.index[0]),
        ts_exit=int(joined.index[-1]),
        quantity=100.0,
        entry_price=float(joined.iloc[0, 1]),
        exit_price=float(joined.iloc[-1, 1]),
        pnl=100.0 * float(joined.iloc[-1, 1] - joined.iloc[0, 1]),
        fees=2.0,
    )
    summary = metrics.summarize(
        joined.index.to_numpy(),
        joined.iloc[:, 1].to_numpy(),
        benchmark_equity=joined.iloc[:, 0].to_numpy(),
        trades=[trade],
    )
    decoded = msgspec.json.decode(msgspec.json.encode(summary), type=metrics.PerformanceSummary)
    assert decoded == summary
    assert summary.trades is not None
    assert summary.trades.trade_count == 1
    assert summary.beta == pytest.approx(
        empyrical.beta(np.diff(joined.iloc[:, 1]) / joined.iloc[:-1, 1].to_numpy(),
                       np.diff(joined.iloc[:, 0]) / joined.iloc[:-1, 0].to_numpy()),
        rel=1e-12,
    )  # fmt: skip


def test_summary_of_an_intraday_curve_uses_end_of_day_points_and_every_point_for_drawdown(
    index_5min,
):
    ts, close = index_5min["ts_ns"].to_numpy(), index_5min["close"].to_numpy()
    summary = metrics.summarize(ts, close, tz="Europe/Berlin")
    returns = metrics.daily_returns(ts, close, "Europe/Berlin", is_first_point_kept=True)
    assert summary.return_count == len(returns) == 21
    assert summary.sharpe_ratio == metrics.sharpe_ratio(returns)
    assert summary.total_return == pytest.approx(close[-1] / close[0] - 1, rel=1e-12)
    worst = metrics.worst_drawdown(close)
    assert worst is not None
    assert summary.intraday_max_drawdown == worst.depth
    assert summary.intraday_max_drawdown < summary.max_drawdown


def test_summary_exposure_and_turnover_of_a_simple_position():
    # Day 0 start: buy 1.0x equity; hold to day 5, sell; flat to day 10. Equity flat at 100.
    day = NANOS_PER_DAY
    ts = np.arange(11, dtype=np.int64) * day + 16 * NANOS_PER_HOUR
    equity = np.full(11, 100.0) * np.linspace(1.0, 1.1, 11)
    gross = np.where(np.arange(11) < 5, equity, 0.0)
    traded = np.zeros(11)
    traded[0], traded[5] = equity[0], -equity[5]
    summary = metrics.summarize(
        ts, equity, gross_exposure=gross, traded_notional=traded, periods_per_year=365
    )
    assert summary.time_in_market == 0.5
    assert summary.average_gross_leverage == 0.5
    expected = (abs(traded).sum() / equity[1:].mean()) * 365 / 10
    assert summary.annual_turnover == pytest.approx(expected, rel=1e-12)


def test_gross_and_net_summaries_differ_by_the_costs():
    ts = np.arange(30, dtype=np.int64) * NANOS_PER_DAY
    gross = 100.0 * np.cumprod(np.r_[1.0, 1.0 + np.sin(np.arange(29)) / 100])
    net = gross - np.linspace(0.0, 2.0, 30)
    gross_summary = metrics.summarize(ts, gross)
    net_summary = metrics.summarize(ts, net)
    assert net_summary.total_return < gross_summary.total_return
    assert gross_summary.sharpe_ratio is not None
    assert net_summary.sharpe_ratio is not None
    assert net_summary.sharpe_ratio < gross_summary.sharpe_ratio
    assert net_summary.max_drawdown < gross_summary.max_drawdown


def test_summary_of_a_curve_that_only_rises_has_no_drawdown():
    ts = np.arange(30, dtype=np.int64) * NANOS_PER_DAY
    gross_summary = metrics.summarize(ts, 100.0 + np.arange(30.0))
    assert gross_summary.max_drawdown == 0.0
    assert gross_summary.calmar_ratio is None
    assert gross_summary.worst_drawdown is None


def test_summary_of_a_constant_curve_stores_undefined_ratios_as_none():
    ts = np.arange(10, dtype=np.int64) * NANOS_PER_DAY
    summary = metrics.summarize(ts, np.full(10, 1_000.0))
    assert summary.total_return == 0.0
    assert summary.annual_volatility == 0.0
    assert summary.sharpe_ratio is None
    assert summary.sortino_ratio is None
    assert summary.calmar_ratio is None
    assert summary.win_rate is None
    assert summary.profit_factor is None
    assert summary.longest_drawdown is None
    assert msgspec.json.decode(msgspec.json.encode(summary))["sharpe_ratio"] is None


@pytest.mark.parametrize("points", [1, 2])
def test_summary_of_fewer_than_two_daily_returns_raises_invalid_value_error(points):
    ts = np.arange(points, dtype=np.int64) * NANOS_PER_DAY
    with pytest.raises(InvalidValueError, match="summarize needs at least 2 daily returns"):
        metrics.summarize(ts, np.full(points, 100.0))


def test_summary_of_an_empty_curve_raises_invalid_value_error():
    with pytest.raises(InvalidValueError, match="summarize needs at least 1 equity value"):
        metrics.summarize(np.array([], dtype=np.int64), [])


def test_summary_with_nan_equity_raises_data_integrity_error_naming_the_point():
    ts = np.arange(4, dtype=np.int64) * NANOS_PER_DAY
    with pytest.raises(DataIntegrityError, match=r"summarize equity\[2\] is nan"):
        metrics.summarize(ts, [1.0, 2.0, float("nan"), 3.0])


def test_summary_with_a_misaligned_benchmark_raises_invalid_value_error():
    ts = np.array([parse_time(d) for d in ("2024-01-02", "2024-01-03", "2024-01-04")])
    with pytest.raises(InvalidValueError, match="different lengths"):
        metrics.summarize(ts, [1.0, 1.1, 1.2], benchmark_equity=[1.0, 1.1])

"""Properties every input must keep: bounds, symmetries, invariances, resampling."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tradeloop.analytics import metrics
from tradeloop.core.time import NANOS_PER_DAY, parse_time

RETURNS = arrays(
    np.float64,
    st.integers(min_value=1, max_value=200),
    elements=st.floats(min_value=-1.0, max_value=3.0, allow_nan=False, allow_subnormal=False),
)
SMALL_RETURNS = arrays(
    np.float64,
    st.integers(min_value=2, max_value=200),
    elements=st.floats(min_value=-0.5, max_value=0.5, allow_nan=False, allow_subnormal=False),
)


@settings(max_examples=200, deadline=None)
@given(RETURNS)
def test_max_drawdown_and_every_drawdown_lie_between_minus_one_and_zero(returns):
    assert -1.0 <= metrics.max_drawdown(returns) <= 0.0
    series = metrics.drawdown_series(returns)
    assert np.all((series >= -1.0) & (series <= 0.0))
    assert metrics.max_drawdown(returns) == series.min()


@settings(max_examples=200, deadline=None)
@given(SMALL_RETURNS)
def test_flipping_every_return_inverts_the_profit_factor(returns):
    gains, losses = returns[returns > 0].sum(), -returns[returns < 0].sum()
    assume(gains > 1e-9 and losses > 1e-9)
    product = metrics.profit_factor(returns) * metrics.profit_factor(-returns)
    assert math.isclose(product, 1.0, rel_tol=1e-14)


@settings(max_examples=100, deadline=None)
@given(SMALL_RETURNS)
def test_flipping_returns_with_gains_and_no_losses_gives_zero_from_infinity(returns):
    gains = np.abs(returns)
    assume(np.any(gains > 0))
    assert metrics.profit_factor(gains) == math.inf
    assert metrics.profit_factor(-gains) == 0.0


@settings(max_examples=200, deadline=None)
@given(SMALL_RETURNS, st.floats(min_value=0.01, max_value=1.0))
def test_scaling_returns_by_a_positive_factor_keeps_profit_factor_and_win_rate(returns, scale):
    assume(np.any(returns != 0))
    scaled = returns * scale
    assume(np.array_equal(scaled > 0, returns > 0) and np.array_equal(scaled < 0, returns < 0))
    assert metrics.win_rate(scaled) == metrics.win_rate(returns)
    original, rescaled = metrics.profit_factor(returns), metrics.profit_factor(scaled)
    if math.isinf(original):
        assert math.isinf(rescaled)
    else:
        assert math.isclose(rescaled, original, rel_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    SMALL_RETURNS,
    st.floats(min_value=-0.001, max_value=0.001),
    st.floats(min_value=-0.1, max_value=0.1),
)
def test_shifting_returns_and_risk_free_rate_together_keeps_the_sharpe_ratio(
    returns, risk_free, shift
):
    assume(np.std(returns) > 1e-4)
    shifted = metrics.sharpe_ratio(returns + shift, risk_free + shift)
    assert math.isclose(shifted, metrics.sharpe_ratio(returns, risk_free), rel_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(SMALL_RETURNS)
def test_annual_return_compounds_the_total_return_over_the_years(returns):
    years = len(returns) / 252
    expected = (1 + metrics.total_return(returns)) ** (1 / years) - 1
    assert math.isclose(metrics.annual_return(returns), expected, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=100, deadline=None)
@given(SMALL_RETURNS)
def test_worst_drawdown_of_the_compounded_curve_is_the_max_drawdown(returns):
    equity = metrics.equity_from_returns(returns, 100.0)
    assume(np.all(equity > 0))
    worst = metrics.worst_drawdown(equity)
    if worst is None:
        assert metrics.max_drawdown(returns) == 0.0
    else:
        assert math.isclose(worst.depth, metrics.max_drawdown(returns), rel_tol=1e-9)


START_NS = parse_time("2024-03-01")
OFFSETS = st.lists(
    st.integers(min_value=0, max_value=20 * NANOS_PER_DAY), min_size=1, max_size=300, unique=True
)


@settings(max_examples=150, deadline=None)
@given(OFFSETS, st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo", "Europe/London"]))
def test_daily_resampling_keeps_exactly_the_last_point_of_each_local_day(offsets, tz):
    # 20 days around the March daylight-saving changes of New York and London.
    ts = START_NS + np.sort(np.array(offsets, dtype=np.int64))
    equity = 100.0 + np.arange(len(ts), dtype=np.float64)
    daily = metrics.daily_equity(ts, equity, tz=tz)

    local_dates = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert(tz).date
    frame = pd.DataFrame({"ts": ts, "equity": equity, "date": local_dates})
    expected = frame.groupby("date").last()
    np.testing.assert_array_equal(daily.ts_ns, expected["ts"].to_numpy())
    np.testing.assert_array_equal(daily.equity, expected["equity"].to_numpy())
    # Each kept point is the last of its day: the next point (if any) is on a later day.
    positions = np.searchsorted(ts, daily.ts_ns)
    assert positions[-1] == len(ts) - 1
    assert np.all(np.diff(daily.session_date_ns) > 0)

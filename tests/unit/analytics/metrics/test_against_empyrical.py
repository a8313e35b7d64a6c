"""Each metric equals empyrical's function of the same name, computed now on real daily data.

Where the two are the same computation the tolerance is a relative 1e-12; the last bits can
differ because empyrical sums with bottleneck (sequentially) and NumPy sums pairwise.
"""

from __future__ import annotations

import empyrical
import empyrical.stats as empyrical_stats
import numpy as np
import pandas as pd
import pytest

from tradeloop.analytics import metrics

from .conftest import DailyCloses

RTOL = 1e-12


def test_returns_from_equity_equals_empyrical_simple_returns_bit_for_bit(daily: DailyCloses):
    expected = empyrical.simple_returns(daily.close)
    np.testing.assert_array_equal(metrics.returns_from_equity(daily.close), expected)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (metrics.total_return, empyrical.cum_returns_final),
        (metrics.annual_return, empyrical.annual_return),
        (metrics.annual_volatility, empyrical.annual_volatility),
        (metrics.sharpe_ratio, empyrical.sharpe_ratio),
        (metrics.sortino_ratio, empyrical.sortino_ratio),
        (metrics.downside_risk, empyrical.downside_risk),
        (metrics.calmar_ratio, empyrical.calmar_ratio),
        (metrics.max_drawdown, empyrical.max_drawdown),
        (metrics.stability_of_timeseries, empyrical.stability_of_timeseries),
        (metrics.tail_ratio, empyrical.tail_ratio),
        (metrics.value_at_risk, empyrical.value_at_risk),
        (metrics.conditional_value_at_risk, empyrical.conditional_value_at_risk),
    ],
    ids=lambda function: getattr(function, "__name__", "?"),
)
def test_metric_on_real_daily_returns_equals_empyrical(daily: DailyCloses, ours, theirs):
    assert ours(daily.returns) == pytest.approx(float(theirs(daily.returns)), rel=RTOL)


@pytest.mark.parametrize("periods_per_year", [252, 52, 12, 365])
def test_annualized_metrics_with_other_periods_per_year_equal_empyrical_annualization(
    daily: DailyCloses, periods_per_year
):
    r = daily.returns
    kwargs = {"annualization": periods_per_year}
    pairs = [
        (metrics.annual_return(r, periods_per_year), empyrical.annual_return(r, **kwargs)),
        (metrics.annual_volatility(r, periods_per_year), empyrical.annual_volatility(r, **kwargs)),
        (metrics.sharpe_ratio(r, 0.0, periods_per_year), empyrical.sharpe_ratio(r, **kwargs)),
        (metrics.sortino_ratio(r, 0.0, periods_per_year), empyrical.sortino_ratio(r, **kwargs)),
        (metrics.calmar_ratio(r, periods_per_year), empyrical.calmar_ratio(r, **kwargs)),
    ]
    for ours, theirs in pairs:
        assert ours == pytest.approx(float(theirs), rel=RTOL)


@pytest.mark.parametrize("risk_free", [0.0001, -0.0002, 0.02 / 252])
def test_sharpe_with_a_constant_risk_free_rate_equals_empyrical(daily: DailyCloses, risk_free):
    expected = empyrical.sharpe_ratio(daily.returns, risk_free=risk_free)
    assert metrics.sharpe_ratio(daily.returns, risk_free) == pytest.approx(expected, rel=RTOL)


def test_sharpe_with_a_risk_free_series_equals_empyrical(daily: DailyCloses):
    # A T-bill-like rate that drifts from 1 % to 5 % a year, one value per day.
    risk_free = np.linspace(0.01, 0.05, len(daily.returns)) / 252
    expected = empyrical.sharpe_ratio(daily.returns, risk_free=risk_free)
    assert metrics.sharpe_ratio(daily.returns, risk_free) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("required_return", [0.0002, -0.0001])
def test_sortino_and_downside_risk_with_a_required_return_equal_empyrical(
    daily: DailyCloses, required_return
):
    r = daily.returns
    assert metrics.sortino_ratio(r, required_return) == pytest.approx(
        empyrical.sortino_ratio(r, required_return=required_return), rel=RTOL
    )
    assert metrics.downside_risk(r, required_return) == pytest.approx(
        empyrical.downside_risk(r, required_return=required_return), rel=RTOL
    )


@pytest.mark.parametrize("cutoff", [0.0, 0.01, 0.05, 0.1, 0.5, 1.0])
def test_var_and_cvar_at_each_cutoff_equal_empyrical(daily: DailyCloses, cutoff):
    r = daily.returns
    assert metrics.value_at_risk(r, cutoff) == empyrical.value_at_risk(r, cutoff)
    assert metrics.conditional_value_at_risk(r, cutoff) == pytest.approx(
        empyrical.conditional_value_at_risk(r, cutoff), rel=RTOL
    )


def test_drawdown_series_equals_empyrical_drawdown_series(daily: DailyCloses):
    np.testing.assert_allclose(
        metrics.drawdown_series(daily.returns),
        empyrical_stats.drawdown_series(daily.returns),
        rtol=RTOL,
        atol=0,
    )


def test_equity_from_returns_equals_empyrical_cum_returns_with_a_starting_value(
    daily: DailyCloses,
):
    equity = metrics.equity_from_returns(daily.returns, 100.0)
    assert equity[0] == 100.0
    np.testing.assert_array_equal(
        equity[1:], empyrical.cum_returns(daily.returns, starting_value=100.0)
    )


@pytest.mark.parametrize("risk_free", [0.0, 0.0001])
def test_alpha_beta_of_orcl_to_spy_equals_empyrical(spy: DailyCloses, orcl: DailyCloses, risk_free):
    joined = pd.concat([spy.return_series(), orcl.return_series()], axis=1, join="inner").to_numpy()
    benchmark, stock = joined[:, 0], joined[:, 1]
    alpha, beta = empyrical.alpha_beta(stock, benchmark, risk_free=risk_free)
    result = metrics.alpha_beta(stock, benchmark, risk_free)
    assert len(joined) > 3_000
    assert result.beta == pytest.approx(beta, rel=RTOL)
    assert result.alpha == pytest.approx(alpha, rel=1e-10)

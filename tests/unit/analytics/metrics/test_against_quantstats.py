"""Each metric against quantstats 0.0.86, computed now on real daily data.

Where quantstats defines a metric as empyrical does (or as we chose to), values agree to a
relative 1e-12. Where it differs, the test applies the documented mapping: annual risk-free
rate, simple versus compounded alpha, parametric VaR, drawdown dates, rounded exposure.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from tradeloop.analytics import metrics
from tradeloop.core.time import NANOS_PER_DAY

from .conftest import DailyCloses

RTOL = 1e-12


@pytest.fixture(autouse=True)
def _quiet_quantstats():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def per_period(annual_rate: float, periods: int = 252) -> float:
    # quantstats' conversion of an annual rate to a per-period one (utils.to_excess_returns).
    return float(np.power(1 + annual_rate, 1.0 / periods) - 1.0)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (metrics.total_return, qs.stats.comp),
        (metrics.annual_return, qs.stats.cagr),
        (metrics.annual_volatility, qs.stats.volatility),
        (metrics.sharpe_ratio, qs.stats.sharpe),
        (metrics.sortino_ratio, qs.stats.sortino),
        (metrics.max_drawdown, qs.stats.max_drawdown),
        (metrics.calmar_ratio, qs.stats.calmar),
        (metrics.tail_ratio, qs.stats.tail_ratio),
        (metrics.win_rate, qs.stats.win_rate),
        (metrics.profit_factor, qs.stats.profit_factor),
    ],
    ids=lambda function: getattr(function, "__name__", "?"),
)
def test_metric_with_the_same_definition_equals_quantstats(daily: DailyCloses, ours, theirs):
    assert ours(daily.returns) == pytest.approx(float(theirs(daily.return_series())), rel=RTOL)


@pytest.mark.parametrize("annual_rate", [0.02, 0.05])
def test_sharpe_and_sortino_with_quantstats_annual_rf_equal_ours_with_its_daily_rate(
    daily: DailyCloses, annual_rate
):
    rate = per_period(annual_rate)
    series = daily.return_series()
    assert metrics.sharpe_ratio(daily.returns, rate) == pytest.approx(
        qs.stats.sharpe(series, rf=annual_rate, periods=252), rel=1e-11
    )
    assert metrics.sortino_ratio(daily.returns, rate) == pytest.approx(
        qs.stats.sortino(series, rf=annual_rate, periods=252), rel=1e-11
    )


def test_parametric_var_equals_quantstats_var_at_one_minus_confidence(daily: DailyCloses):
    series = daily.return_series()
    for confidence in (0.95, 0.99):
        assert metrics.parametric_value_at_risk(daily.returns, 1 - confidence) == pytest.approx(
            qs.stats.var(series, confidence=confidence), rel=RTOL
        )
        assert metrics.parametric_conditional_value_at_risk(
            daily.returns, 1 - confidence
        ) == pytest.approx(qs.stats.cvar(series, confidence=confidence), rel=RTOL)


def test_historical_cvar_equals_quantstats_historical_cvar_when_no_returns_tie_at_the_cut(
    daily: DailyCloses,
):
    series = daily.return_series()
    for confidence in (0.95, 0.99):
        expected = qs.stats.cvar(series, confidence=confidence, method="historical")
        assert metrics.conditional_value_at_risk(daily.returns, 1 - confidence) == pytest.approx(
            expected, rel=RTOL
        )


def test_historical_cvar_differs_from_quantstats_when_returns_tie_at_the_cut():
    # Ten returns, five of them tied at the 40 % quantile: empyrical keeps int(9 * 0.4) + 1 = 4
    # of the lowest, quantstats keeps every return at or below the quantile (6).
    returns = np.array([-0.05, -0.01, -0.01, -0.01, -0.01, -0.01, 0.01, 0.02, 0.03, 0.04])
    ours = metrics.conditional_value_at_risk(returns, 0.4)
    quantstats_value = qs.stats.cvar(
        pd.Series(returns, index=pd.date_range("2020-01-01", periods=10)),
        confidence=0.6,
        method="historical",
    )
    assert ours == pytest.approx((-0.05 - 0.01 * 3) / 4, rel=RTOL)
    assert quantstats_value == pytest.approx((-0.05 - 0.01 * 5) / 6, rel=RTOL)


def test_alpha_equals_quantstats_simple_alpha_compounded_and_beta_is_the_same(
    spy: DailyCloses, orcl: DailyCloses
):
    joined = pd.concat([spy.return_series(), orcl.return_series()], axis=1, join="inner")
    greeks = qs.stats.greeks(joined.iloc[:, 1], joined.iloc[:, 0], periods=252)
    ours = metrics.alpha_beta(joined.iloc[:, 1].to_numpy(), joined.iloc[:, 0].to_numpy())
    assert ours.beta == pytest.approx(greeks["beta"], rel=RTOL)
    assert ours.alpha == pytest.approx((1 + greeks["alpha"] / 252) ** 252 - 1, rel=1e-10)


def test_drawdown_spells_match_quantstats_drawdown_details_dates_and_depths(daily: DailyCloses):
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(daily.return_series()))
    # On the wealth compounded from the returns, as quantstats builds it: on the closes
    # themselves, a close back exactly at its peak ends a spell that compounding leaves at
    # -2e-16 under water.
    wealth = metrics.equity_from_returns(daily.returns)
    spells = metrics.drawdown_spells(wealth, daily.ts_ns)
    assert len(spells) == len(details) > 50

    def date(ts_ns: int) -> str:
        return pd.Timestamp(ts_ns).strftime("%Y-%m-%d")

    last = len(daily.ts_ns) - 1
    for spell, row in zip(spells, details.itertuples(index=False), strict=True):
        first_under = spell.peak_index + 1
        last_under = last if spell.recovery_index is None else spell.recovery_index - 1
        assert date(daily.ts_ns[first_under]) == row.start
        assert date(daily.ts_ns[last_under]) == row.end
        assert date(daily.ts_ns[spell.trough_index]) == row.valley
        assert spell.depth * 100 == pytest.approx(row[4], rel=1e-9)
        calendar_days = (int(daily.ts_ns[last_under]) - int(daily.ts_ns[first_under])) // (
            NANOS_PER_DAY
        ) + 1
        assert calendar_days == row.days


def test_exposure_relates_to_quantstats_exposure_by_periods_with_a_non_zero_return(
    spy: DailyCloses,
):
    # Hold SPY from the close after it ends above its 50-day average until it ends below.
    close = spy.close
    average = pd.Series(close).rolling(50).mean().to_numpy()
    held = np.nan_to_num(close > average, nan=0.0).astype(np.float64)
    strategy = held[:-1] * spy.returns
    equity = metrics.equity_from_returns(strategy, 100_000.0)
    gross = held * equity
    result = metrics.exposure(gross, equity)

    series = pd.Series(strategy, index=pd.DatetimeIndex(spy.ts_ns[1:].view("datetime64[ns]")))
    moved = np.count_nonzero((held[:-1] != 0) & (spy.returns != 0))
    assert result.time_in_market == held[:-1].mean()
    assert qs.stats.exposure(series) == math.ceil(moved / len(strategy) * 100) / 100
    assert result.average_gross_leverage == pytest.approx(held[:-1].mean(), rel=RTOL)


def test_degenerate_series_where_quantstats_differs_from_our_empyrical_choice():
    index = pd.date_range("2020-01-01", periods=30)
    constant = np.full(30, 0.001)
    zeros = np.zeros(30)
    constant_series, zero_series = pd.Series(constant, index=index), pd.Series(zeros, index=index)
    # Zero dispersion: empyrical's +inf; quantstats divides by a 1e-19 residue.
    assert metrics.sharpe_ratio(constant) == math.inf
    assert 1e15 < qs.stats.sharpe(constant_series) < math.inf
    # Nothing below the threshold: empyrical's +inf; quantstats NaN.
    assert metrics.sortino_ratio(constant) == math.inf
    assert math.isnan(qs.stats.sortino(constant_series))
    # No drawdown: empyrical's NaN; quantstats divides by zero.
    assert math.isnan(metrics.calmar_ratio(constant))
    with pytest.raises(ZeroDivisionError):
        qs.stats.calmar(constant_series)
    # No period moved: 0 / 0 is NaN for us; quantstats reports 0.0.
    assert math.isnan(metrics.win_rate(zeros))
    assert math.isnan(metrics.profit_factor(zeros))
    assert qs.stats.win_rate(zero_series) == 0.0
    assert qs.stats.profit_factor(zero_series) == 0.0

"""Portfolio VaR/CVaR: Hull's worked examples, the quantile convention, exact delta-gamma
moments against simulation, and clear errors for bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tradeloop.analytics.portfolio_var import (
    check_confidence,
    cornish_fisher_quantile,
    correlated_normals,
    delta_gamma_moments,
    delta_gamma_var,
    historical_var,
    normal_var,
    parametric_var,
    scenario_var,
)
from tradeloop.core.errors import InvalidValueError

HULL_COV = np.array([[0.02**2, 0.3 * 0.02 * 0.01], [0.3 * 0.02 * 0.01, 0.01**2]])


def test_parametric_var_reproduces_hulls_single_stock_example() -> None:
    # Hull: 10 M USD in one stock, daily vol 2 %: 10-day 99 % VaR = 2.326 x 632,456 = 1,471,300
    result = parametric_var([10e6], [[0.02**2]], 0.99, horizon_days=10)
    assert round(result.std) == 632_456
    assert round(result.var, -2) == 1_471_300
    assert result.var == pytest.approx(stats.norm.ppf(0.99) * 0.02 * 10e6 * math.sqrt(10))


def test_parametric_var_reproduces_hulls_two_stock_example() -> None:
    # Hull: + 5 M USD in a stock with 1 % daily vol, correlation 0.3: daily sigma 220,227,
    # 10-day 99 % VaR 1,620,100
    one_day = parametric_var([10e6, 5e6], HULL_COV, 0.99)
    assert round(one_day.std) == 220_227
    assert round(parametric_var([10e6, 5e6], HULL_COV, 0.99, horizon_days=10).var, -2) == 1_620_100


def test_normal_cvar_is_sigma_phi_z_over_tail() -> None:
    var, cvar = normal_var(1.0, 0.975)
    assert var == pytest.approx(1.959964, abs=1e-6)
    assert cvar == pytest.approx(stats.norm.pdf(1.959964) / 0.025, rel=1e-6)  # 2.3378


def test_historical_var_is_the_kth_worst_loss_and_cvar_the_mean_of_the_tail() -> None:
    # Hull: 500 scenarios at 99 % -> VaR is the 5th worst loss, ES the mean of the 5 worst
    pnl = -np.arange(1.0, 501.0)[::-1]  # losses 500, 499, ... 1
    result = historical_var(pnl, 0.99)
    assert result.var == 496.0
    assert result.cvar == pytest.approx(np.mean([500, 499, 498, 497, 496]))
    assert result.observations == 500


def test_historical_cvar_takes_a_fraction_of_the_next_loss_when_the_tail_is_not_whole() -> None:
    pnl = -np.array([10.0, 8.0, 6.0, 4.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    result = historical_var(pnl, 0.85)  # k = 1.5
    assert result.var == 8.0  # the ceil(1.5) = 2nd worst
    assert result.cvar == pytest.approx((10.0 + 0.5 * 8.0) / 1.5)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 99.0, math.nan])
def test_a_confidence_outside_the_open_unit_interval_is_refused(confidence: float) -> None:
    with pytest.raises(InvalidValueError, match="strictly between 0 and 1"):
        check_confidence(confidence)
    with pytest.raises(InvalidValueError, match="confidence"):
        parametric_var([1.0], [[1.0]], confidence)


def test_too_few_scenarios_for_the_tail_is_refused_with_the_count_needed() -> None:
    with pytest.raises(InvalidValueError, match=r"needs at least 100 scenarios.*got 50"):
        historical_var(np.zeros(50), 0.99)


def test_a_nan_scenario_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"pnl\[3\] is nan"):
        historical_var([1.0, 2.0, 3.0, math.nan] * 30, 0.95)


def test_a_covariance_of_the_wrong_shape_or_not_psd_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="shape"):
        parametric_var([1.0, 2.0], [[1.0]], 0.99)
    with pytest.raises(InvalidValueError, match="positive semi-definite"):
        parametric_var([1.0, 2.0], [[1.0, 2.0], [2.0, 1.0]], 0.99)


def test_cornish_fisher_reproduces_hulls_example() -> None:
    # Hull: mean -0.2, sigma 2.2, skewness -0.4: the 1 % quantile -5.318 normal, -5.965 CF
    z = stats.norm.ppf(0.01)
    assert round(-0.2 + 2.2 * z, 3) == -5.318
    w = cornish_fisher_quantile(z, -0.4, 0.0, is_second_order=False)
    assert round(w, 3) == -2.620
    assert round(-0.2 + 2.2 * w, 3) == -5.965


def test_delta_gamma_moments_are_hulls_single_factor_formulas() -> None:
    delta, gamma, sigma = 3.0, -5.0, 0.2
    m = delta_gamma_moments([delta], [[gamma]], [[sigma**2]])
    variance = delta**2 * sigma**2 + 0.5 * gamma**2 * sigma**4
    mu3 = 3 * delta**2 * gamma * sigma**4 + gamma**3 * sigma**6
    assert m.mean == pytest.approx(0.5 * gamma * sigma**2)
    assert m.std == pytest.approx(math.sqrt(variance))
    assert m.skewness == pytest.approx(mu3 / variance**1.5)


def test_delta_gamma_moments_and_var_match_a_simulation_of_the_quadratic_form() -> None:
    delta = np.array([1e5, -5e4])
    gamma = np.array([[-4e6, 0.0], [0.0, 2e6]])
    draws = correlated_normals(HULL_COV, 400_000, np.random.default_rng(7))
    pnl = draws @ delta + 0.5 * np.einsum("ij,jk,ik->i", draws, gamma, draws)
    moments = delta_gamma_moments(delta, gamma, HULL_COV)
    assert moments.mean == pytest.approx(pnl.mean(), rel=0.02)
    assert moments.std == pytest.approx(pnl.std(), rel=0.01)
    assert moments.skewness == pytest.approx(stats.skew(pnl), rel=0.05)
    assert moments.excess_kurtosis == pytest.approx(stats.kurtosis(pnl), rel=0.1)
    approx = delta_gamma_var(delta, gamma, HULL_COV, 0.99)
    simulated = scenario_var(pnl, 0.99)
    assert approx.var == pytest.approx(simulated.var, rel=0.03)  # Cornish-Fisher is close
    assert approx.cvar == pytest.approx(simulated.cvar, rel=0.05)


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-3, 0.1),
    st.floats(0.5, 0.999),
    st.floats(1.0, 20.0),
)
def test_delta_gamma_with_zero_gamma_equals_delta_normal(
    delta: float, vol: float, confidence: float, days: float
) -> None:
    normal = parametric_var([delta], [[vol**2]], confidence, horizon_days=days)
    dg = delta_gamma_var([delta], [[0.0]], [[vol**2]], confidence, horizon_days=days)
    assert dg.var == pytest.approx(normal.var, rel=1e-9, abs=1e-9)
    assert dg.cvar == pytest.approx(normal.cvar, rel=1e-4, abs=1e-6)


def test_correlated_normals_are_seeded_and_have_the_covariance() -> None:
    a = correlated_normals(HULL_COV, 200_000, np.random.default_rng(3))
    b = correlated_normals(HULL_COV, 200_000, np.random.default_rng(3))
    assert np.array_equal(a, b)
    np.testing.assert_allclose(np.cov(a.T), HULL_COV, rtol=0.02, atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=20, max_size=300),
    st.floats(0.5, 0.95),
)
def test_scenario_cvar_is_at_least_var_and_at_most_the_worst_loss(
    pnl: list[float], confidence: float
) -> None:
    result = scenario_var(pnl, confidence)
    worst = -min(pnl)
    assert result.var <= result.cvar + 1e-6 * (1 + abs(result.cvar))
    assert result.cvar <= worst + 1e-6 * (1 + abs(worst))
    higher = scenario_var(pnl, min(0.95, confidence + 0.02))
    assert higher.var >= result.var

"""Portfolio construction: estimators against references, heuristics, constrained optimizers.

References: scikit-learn's ``LedoitWolf`` and ``numpy.cov`` for the estimators, closed-form
solutions for unconstrained minimum-variance and mean-variance portfolios. Hypothesis checks
that risk parity equalizes risk contributions and that optimized weights respect every
constraint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.portfolio.construction import (
    FEASIBILITY_TOLERANCE,
    InfeasibleConstraintsError,
    OptimizationError,
    PortfolioConstraints,
    inverse_volatility_weights,
    ledoit_wolf_covariance,
    portfolio_volatility,
    risk_contributions,
    risk_parity_weights,
    sample_covariance,
    volatility_target_weights,
)
from tradeloop.portfolio.optimize import (
    mean_variance_weights,
    minimum_variance_weights,
    project_to_constraints,
)

F64 = npt.NDArray[np.float64]
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "quant"
TOLERANCE = 1e-6


def real_returns() -> F64:
    # Daily log returns of SPY and ORCL (2012-2014) plus two mixes: four correlated assets.
    spy = pd.read_csv(DATA_DIR / "SPY_D-2005-2020.csv", usecols=["date", "close"])
    orcl = pd.read_csv(DATA_DIR / "orcl-2012-2014.txt", usecols=["Date", "Close"])
    joined = orcl.merge(spy, left_on="Date", right_on="date")
    a = np.diff(np.log(joined["close"].to_numpy()))
    b = np.diff(np.log(joined["Close"].to_numpy()))
    return np.column_stack([a, b, 0.5 * a + 0.5 * b, 2.0 * a - 0.5 * b])


@st.composite
def covariances(draw: st.DrawFn, min_assets: int = 2, max_assets: int = 6) -> F64:
    n = draw(st.integers(min_value=min_assets, max_value=max_assets))
    loadings = draw(
        arrays(np.float64, (n, n + 2), elements=st.floats(min_value=-1.0, max_value=1.0))
    )
    noise = draw(arrays(np.float64, n, elements=st.floats(min_value=0.05, max_value=1.0)))
    scale = draw(st.sampled_from([1e-4, 1e-2, 1.0]))
    return np.asarray((loadings @ loadings.T / (n + 2) + np.diag(noise)) * scale)


@st.composite
def feasible_problems(draw: st.DrawFn) -> tuple[F64, PortfolioConstraints, F64]:
    covariance = draw(covariances())
    n = len(covariance)
    allow_short = draw(st.booleans())
    max_abs_weight = draw(st.floats(min_value=1.0 / n + 0.01, max_value=1.0))
    if allow_short:
        gross = draw(st.floats(min_value=0.5, max_value=3.0))
    else:
        gross = draw(st.floats(min_value=0.5, max_value=1.0))
    reach = min(n * max_abs_weight, gross)
    low = draw(st.floats(min_value=-reach if allow_short else 0.0, max_value=reach))
    high = draw(st.floats(min_value=low, max_value=reach))
    invested = draw(st.floats(min_value=low, max_value=high))
    current = np.full(n, invested / n)  # feasible: any turnover limit can be met
    turnover = draw(st.none() | st.floats(min_value=0.0, max_value=1.0))
    constraints = PortfolioConstraints(
        max_abs_weight=max_abs_weight,
        allow_short=allow_short,
        max_gross_exposure=gross,
        min_net_exposure=low,
        max_net_exposure=high,
        max_turnover=turnover,
    )
    return covariance, constraints, current


def assert_respects(weights: F64, constraints: PortfolioConstraints, current: F64) -> None:
    assert np.all(np.abs(weights) <= constraints.max_abs_weight)
    if not constraints.allow_short:
        assert np.all(weights >= 0.0)
    slack = FEASIBILITY_TOLERANCE
    assert np.sum(np.abs(weights)) <= constraints.max_gross_exposure + slack
    assert constraints.min_net_exposure - slack <= np.sum(weights)
    assert np.sum(weights) <= constraints.max_net_exposure + slack
    if constraints.max_turnover is not None:
        assert np.sum(np.abs(weights - current)) <= constraints.max_turnover + slack


# -- estimators ----------------------------------------------------------------------------------


def test_ledoit_wolf_matches_scikit_learn_on_real_and_wide_random_returns():
    from sklearn.covariance import LedoitWolf

    rng = np.random.default_rng(8)
    for returns in (real_returns(), rng.normal(0.0, 0.01, size=(30, 50))):
        reference = LedoitWolf().fit(returns)
        estimate = ledoit_wolf_covariance(returns)
        assert estimate.shrinkage == pytest.approx(reference.shrinkage_, rel=1e-12)
        np.testing.assert_allclose(estimate.covariance, reference.covariance_, rtol=1e-12)


def test_sample_covariance_matches_numpy_cov():
    returns = real_returns()
    np.testing.assert_allclose(sample_covariance(returns), np.cov(returns, rowvar=False))
    np.testing.assert_allclose(
        sample_covariance(returns, ddof=0), np.cov(returns, rowvar=False, ddof=0)
    )
    with pytest.raises(InvalidValueError, match="NaN"):
        sample_covariance(np.array([[0.1, np.nan], [0.2, 0.3]]))


# -- heuristics ----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(covariances(max_assets=12))
def test_risk_parity_risk_contributions_are_equal_within_1e_6(covariance):
    weights = risk_parity_weights(covariance)
    assert np.all(weights > 0.0)
    assert np.sum(weights) == pytest.approx(1.0, abs=1e-12)
    contributions = risk_contributions(weights, covariance)
    assert np.max(np.abs(contributions - 1.0 / len(covariance))) < TOLERANCE


def test_risk_parity_meets_unequal_risk_budgets_on_real_returns():
    covariance = ledoit_wolf_covariance(real_returns()).covariance
    budgets = np.array([0.4, 0.3, 0.2, 0.1])
    weights = risk_parity_weights(covariance, budgets)
    np.testing.assert_allclose(risk_contributions(weights, covariance), budgets, atol=TOLERANCE)


def test_risk_parity_of_uncorrelated_assets_is_inverse_volatility():
    covariance = np.diag([0.04, 0.01, 0.0025])
    expected = inverse_volatility_weights(covariance)
    np.testing.assert_allclose(risk_parity_weights(covariance), expected, rtol=1e-9)
    np.testing.assert_allclose(expected, np.array([1.0, 2.0, 4.0]) / 7.0)


def test_inverse_volatility_with_scores_takes_their_sign_and_keeps_gross_one():
    covariance = np.diag([0.04, 0.01, 0.0025])
    weights = inverse_volatility_weights(covariance, scores=[0.3, -2.0, 0.0])
    np.testing.assert_allclose(weights, np.array([1.0, -2.0, 0.0]) / 3.0)
    with pytest.raises(InvalidValueError, match="asset 1 has zero variance"):
        inverse_volatility_weights(np.diag([0.01, 0.0]))


def test_volatility_target_scales_to_the_annual_target_and_respects_the_gross_cap():
    covariance = ledoit_wolf_covariance(real_returns()).covariance
    base = risk_parity_weights(covariance)
    scaled = volatility_target_weights(base, covariance, 0.10)
    assert portfolio_volatility(scaled, covariance, 252.0) == pytest.approx(0.10, rel=1e-12)
    np.testing.assert_allclose(scaled / scaled.sum(), base, rtol=1e-12)
    capped = volatility_target_weights(base, covariance, 0.50, max_gross_exposure=1.5)
    assert np.sum(np.abs(capped)) == pytest.approx(1.5)
    assert np.all(volatility_target_weights(np.zeros(4), covariance, 0.1) == 0.0)


# -- optimizers ----------------------------------------------------------------------------------


def test_unconstrained_minimum_variance_matches_the_closed_form():
    covariance = ledoit_wolf_covariance(real_returns()).covariance
    loose = PortfolioConstraints(
        max_abs_weight=100.0, allow_short=True, max_gross_exposure=100.0
    )  # net exposure 1
    inverse_ones = np.linalg.solve(covariance, np.ones(4))
    expected = inverse_ones / inverse_ones.sum()
    np.testing.assert_allclose(minimum_variance_weights(covariance, loose), expected, atol=1e-6)


def test_unconstrained_mean_variance_matches_the_closed_form():
    covariance = ledoit_wolf_covariance(real_returns()).covariance
    mu = np.array([0.0004, 0.0002, 0.0003, -0.0001])
    loose = PortfolioConstraints(
        max_abs_weight=100.0,
        allow_short=True,
        max_gross_exposure=500.0,
        min_net_exposure=-100.0,
        max_net_exposure=100.0,
    )
    expected = np.linalg.solve(covariance, mu) / 2.0
    weights = mean_variance_weights(mu, covariance, loose, risk_aversion=2.0)
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(feasible_problems(), st.integers(min_value=0, max_value=2**31))
def test_optimized_weights_respect_every_constraint(problem, seed):
    covariance, constraints, current = problem
    mu = np.random.default_rng(seed).normal(0.0, 0.01, len(covariance))
    minimum = minimum_variance_weights(covariance, constraints, current)
    assert_respects(minimum, constraints, current)
    best = mean_variance_weights(mu, covariance, constraints, current, risk_aversion=3.0)
    assert_respects(best, constraints, current)


@settings(max_examples=40, deadline=None)
@given(feasible_problems())
def test_projected_heuristic_weights_respect_every_constraint(problem):
    covariance, constraints, current = problem
    target = risk_parity_weights(covariance) * 1.7
    projected = project_to_constraints(target, constraints, current)
    assert_respects(projected, constraints, current)


def test_projection_caps_a_weight_and_spreads_the_rest_equally():
    # Least squares onto {w <= 0.5, sum w = 1}: the capped excess is taken back equally.
    constraints = PortfolioConstraints(max_abs_weight=0.5)
    projected = project_to_constraints([0.9, 0.3, 0.1], constraints)
    np.testing.assert_allclose(projected, [0.5, 0.35, 0.15], atol=1e-6)


def test_a_net_exposure_the_box_cannot_reach_names_min_net_exposure():
    covariance = np.eye(3) * 0.01
    with pytest.raises(InfeasibleConstraintsError, match=r"at most 0\.6") as raised:
        minimum_variance_weights(covariance, PortfolioConstraints(max_abs_weight=0.2))
    assert raised.value.constraint == "min_net_exposure"


def test_a_turnover_limit_too_tight_to_leave_infeasible_weights_names_max_turnover():
    covariance = np.eye(3) * 0.01
    constraints = PortfolioConstraints(max_abs_weight=0.4, max_turnover=0.1)
    current = np.array([1.0, 0.0, 0.0])  # 0.6 above the 0.4 cap: turnover >= 1.2 needed
    with pytest.raises(InfeasibleConstraintsError, match=r"at least 1\.2") as raised:
        minimum_variance_weights(covariance, constraints, current)
    assert raised.value.constraint == "max_turnover"
    with pytest.raises(InvalidValueError, match="needs current_weights"):
        minimum_variance_weights(covariance, constraints)


def test_a_turnover_limit_keeps_weights_near_the_current_ones():
    covariance = np.diag([0.04, 0.01, 0.0025])
    current = np.array([0.6, 0.3, 0.1])
    constraints = PortfolioConstraints(max_turnover=0.2)
    weights = minimum_variance_weights(covariance, constraints, current)
    assert np.sum(np.abs(weights - current)) == pytest.approx(0.2, abs=1e-6)
    free = minimum_variance_weights(covariance, PortfolioConstraints())
    assert np.sum(np.abs(free - current)) > 0.2


def test_a_solver_failure_is_a_typed_error_with_the_status():
    with pytest.raises(OptimizationError) as raised:
        minimum_variance_weights(np.eye(2) * 0.01, PortfolioConstraints(), solver="NO_SUCH_SOLVER")
    assert raised.value.status == "solver_error"
    assert raised.value.solver == "NO_SUCH_SOLVER"


def test_a_covariance_that_is_not_positive_semidefinite_is_rejected():
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(InvalidValueError, match="not positive semidefinite"):
        minimum_variance_weights(indefinite, PortfolioConstraints())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_abs_weight": 0.0}, "max_abs_weight"),
        ({"min_net_exposure": 1.0, "max_net_exposure": 0.5}, "exceeds max_net_exposure"),
        ({"min_net_exposure": 2.0, "max_net_exposure": 2.0}, "exceeds max_gross_exposure"),
        ({"min_net_exposure": -0.5, "max_net_exposure": -0.5}, "without allow_short"),
        ({"max_turnover": -0.1}, "max_turnover"),
        ({"max_gross_exposure": float("inf")}, "finite"),
    ],
)
def test_contradictory_constraints_are_a_config_error(fields, message):
    with pytest.raises(ConfigError, match=message):
        PortfolioConstraints(**fields)

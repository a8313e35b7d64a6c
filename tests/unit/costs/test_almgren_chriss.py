import math

import numpy as np
import pytest

from tradeloop.core import ConfigError, InvalidValueError
from tradeloop.costs.almgren_chriss import (
    AlmgrenChrissConfig,
    almgren_chriss_expected_cost,
    almgren_chriss_kappa,
    almgren_chriss_rule_of_thumb,
    almgren_chriss_variance,
    linear_trajectory,
    optimal_cost_closed_form,
    optimal_trajectory,
)

# The numerical example of Almgren and Chriss (2000): sell 1e6 shares at 50 over 5 days,
# 30 % annual volatility (sigma = 0.3 / sqrt(250) * 50 = 0.95 $/share/sqrt(day)), spread
# 1/8, daily volume 5e6 -> epsilon 1/16, eta 2.5e-6, gamma 2.5e-7.
X = 1_000_000.0
T = 5.0
SIGMA = 0.3 / math.sqrt(250) * 50


def config(risk_aversion: float) -> AlmgrenChrissConfig:
    return almgren_chriss_rule_of_thumb(0.125, 5_000_000.0, risk_aversion)


def test_rule_of_thumb_gives_the_papers_coefficients() -> None:
    c = config(1e-6)
    assert (c.fixed_cost, c.temporary_impact, c.permanent_impact) == pytest.approx(
        (0.0625, 2.5e-6, 2.5e-7), rel=1e-12
    )


def test_papers_example_has_kappa_about_point_six_per_day() -> None:
    # The paper: "kappa ~ 0.6/day, so kappa T ~ 3" for lambda = 1e-6.
    assert almgren_chriss_kappa(T, 5, SIGMA, config(1e-6)) == pytest.approx(0.6, abs=0.01)


@pytest.mark.parametrize("risk_aversion", [1e-8, 1e-7, 1e-6, 1e-5, 1e-3])
@pytest.mark.parametrize("intervals", [1, 5, 50])
def test_optimal_trajectory_equals_the_closed_form(risk_aversion: float, intervals: int) -> None:
    c = config(risk_aversion)
    trajectory = optimal_trajectory(X, T, intervals, SIGMA, c)
    kappa, tau = trajectory.kappa_per_day, T / intervals
    t = np.arange(intervals + 1) * tau
    # Holdings x_j = X sinh(kappa (T - t_j)) / sinh(kappa T).
    expected_holdings = X * np.sinh(kappa * (T - t)) / np.sinh(kappa * T)
    np.testing.assert_allclose(trajectory.holdings, expected_holdings, rtol=1e-12, atol=1e-6)
    # Trades n_j = 2 sinh(kappa tau / 2) / sinh(kappa T) cosh(kappa (T - t_{j-1/2})).
    midpoints = (np.arange(1, intervals + 1) - 0.5) * tau
    expected_trades = (
        2 * np.sinh(kappa * tau / 2) / np.sinh(kappa * T) * np.cosh(kappa * (T - midpoints)) * X
    )
    np.testing.assert_allclose(trajectory.trades, expected_trades, rtol=1e-10)
    # kappa solves 2 / tau^2 (cosh(kappa tau) - 1) = lambda sigma^2 / eta~.
    eta_tilde = c.temporary_impact - c.permanent_impact * tau / 2
    lhs = 2 / tau**2 * (math.cosh(kappa * tau) - 1)
    assert lhs == pytest.approx(risk_aversion * SIGMA**2 / eta_tilde, rel=1e-9)
    # E and V summed over the trajectory equal the paper's closed form.
    closed_e, closed_v = optimal_cost_closed_form(X, T, intervals, SIGMA, c)
    assert trajectory.expected_cost == pytest.approx(closed_e, rel=1e-10)
    # (The closed-form V cancels two large terms: compare on the scale sigma^2 X^2 T.)
    assert trajectory.variance == pytest.approx(closed_v, rel=1e-8, abs=1e-12 * SIGMA**2 * X**2 * T)


def test_optimal_trajectory_solves_the_first_order_conditions() -> None:
    # E + lambda V in the interior holdings is a quadratic form; its minimiser solves
    # (eta~ / tau) (2 x_j - x_{j-1} - x_{j+1}) + lambda sigma^2 tau x_j = 0, x_0 = X, x_N = 0.
    c, intervals = config(1e-6), 10
    tau = T / intervals
    eta_tilde = c.temporary_impact - c.permanent_impact * tau / 2
    a = eta_tilde / tau
    d = c.risk_aversion * SIGMA**2 * tau
    size = intervals - 1
    matrix = np.diag(np.full(size, 2 * a + d)) - a * np.eye(size, k=1) - a * np.eye(size, k=-1)
    rhs = np.zeros(size)
    rhs[0] = a * X
    interior = np.linalg.solve(matrix, rhs)
    trajectory = optimal_trajectory(X, T, intervals, SIGMA, c)
    np.testing.assert_allclose(trajectory.holdings[1:-1], interior, rtol=1e-10)
    twap = linear_trajectory(X, T, intervals, SIGMA, c)
    assert trajectory.objective < twap.objective


def test_vanishing_risk_aversion_tends_to_twap() -> None:
    exact = optimal_trajectory(X, T, 5, SIGMA, config(0.0))
    np.testing.assert_array_equal(exact.holdings, [X, 0.8 * X, 0.6 * X, 0.4 * X, 0.2 * X, 0.0])
    assert exact.kappa_per_day == 0.0
    previous_gap = math.inf
    for risk_aversion in (1e-6, 1e-8, 1e-10, 1e-12):
        holdings = np.array(optimal_trajectory(X, T, 5, SIGMA, config(risk_aversion)).holdings)
        gap = float(np.max(np.abs(holdings - np.array(exact.holdings)))) / X
        assert gap < previous_gap
        previous_gap = gap
    assert previous_gap < 1e-6


def test_twap_cost_matches_its_closed_form() -> None:
    # E = gamma X^2 / 2 + epsilon X + eta~ X^2 / T; V = sigma^2 X^2 T / 3 (1 - 1/N)(1 - 1/2N).
    c = config(0.0)
    twap = linear_trajectory(X, T, 5, SIGMA, c)
    closed_e, closed_v = optimal_cost_closed_form(X, T, 5, SIGMA, c)
    assert twap.expected_cost == pytest.approx(closed_e, rel=1e-12)
    assert twap.variance == pytest.approx(closed_v, rel=1e-12)


def test_more_risk_aversion_front_loads_the_trades() -> None:
    low = optimal_trajectory(X, T, 5, SIGMA, config(1e-7))
    high = optimal_trajectory(X, T, 5, SIGMA, config(1e-5))
    assert all(h <= lo for h, lo in zip(high.holdings[1:-1], low.holdings[1:-1], strict=True))
    assert high.expected_cost > low.expected_cost
    assert high.variance < low.variance


def test_large_urgency_does_not_overflow() -> None:
    trajectory = optimal_trajectory(X, 1000.0, 1000, SIGMA, config(1.0))
    assert math.isfinite(trajectory.expected_cost)
    assert trajectory.holdings[-1] == 0.0
    assert trajectory.trades[0] > 0.9 * X


def test_expected_cost_of_a_trade_list_counts_every_term() -> None:
    c = AlmgrenChrissConfig(permanent_impact=0.1, temporary_impact=1.0, fixed_cost=0.5)
    # n = (3, 1) over T = 2 days: tau = 1, eta~ = 1 - 0.05 = 0.95;
    # E = 0.1 * 16 / 2 + 0.5 * 4 + 0.95 * (9 + 1) = 0.8 + 2 + 9.5 = 12.3.
    assert almgren_chriss_expected_cost([3.0, 1.0], 2.0, c) == pytest.approx(12.3, rel=1e-12)
    # V = sigma^2 tau (x_1^2 + x_2^2) = 4 * 1 * (1 + 0) = 4 for holdings (4, 1, 0), sigma 2.
    assert almgren_chriss_variance([4.0, 1.0, 0.0], 2.0, 2.0) == pytest.approx(4.0)


def test_non_convex_impact_and_bad_config_are_rejected() -> None:
    c = AlmgrenChrissConfig(permanent_impact=3.0, temporary_impact=1.0)
    with pytest.raises(InvalidValueError, match="must exceed permanent impact"):
        optimal_trajectory(X, 1.0, 1, SIGMA, c)
    with pytest.raises(ConfigError):
        AlmgrenChrissConfig(permanent_impact=0.0, temporary_impact=0.0)
    with pytest.raises(InvalidValueError):
        optimal_trajectory(X, 1.0, 0, SIGMA, config(0.0))

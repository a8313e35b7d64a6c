"""Degenerate inputs: a clear error naming the metric, or the value the definition gives."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from tradeloop.analytics import metrics
from tradeloop.core.errors import DataIntegrityError, InvalidValueError

# (function, fewest returns it accepts)
RETURN_METRICS: list[tuple[Callable[..., float], int]] = [
    (metrics.total_return, 1),
    (metrics.annual_return, 1),
    (metrics.annual_volatility, 2),
    (metrics.sharpe_ratio, 2),
    (metrics.downside_risk, 1),
    (metrics.sortino_ratio, 2),
    (metrics.calmar_ratio, 1),
    (metrics.stability_of_timeseries, 2),
    (metrics.max_drawdown, 1),
    (metrics.value_at_risk, 1),
    (metrics.conditional_value_at_risk, 1),
    (metrics.parametric_value_at_risk, 2),
    (metrics.parametric_conditional_value_at_risk, 2),
    (metrics.tail_ratio, 1),
    (metrics.win_rate, 1),
    (metrics.profit_factor, 1),
]
IDS = [function.__name__ for function, _ in RETURN_METRICS]


@pytest.mark.parametrize(("function", "minimum"), RETURN_METRICS, ids=IDS)
def test_too_few_returns_raise_invalid_value_error_naming_the_metric(function, minimum):
    with pytest.raises(InvalidValueError, match=f"{function.__name__} needs at least {minimum}"):
        function(np.full(minimum - 1, 0.01))


@pytest.mark.parametrize(("function", "minimum"), RETURN_METRICS, ids=IDS)
def test_fewest_returns_accepted_give_a_number(function, minimum):
    assert isinstance(function(np.linspace(-0.01, 0.02, minimum)), float)


@pytest.mark.parametrize(("function", "minimum"), RETURN_METRICS, ids=IDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_return_raises_data_integrity_error_naming_metric_index_and_value(
    function, minimum, bad
):
    returns = [0.01, 0.02, bad, -0.01]
    with pytest.raises(DataIntegrityError, match=rf"{function.__name__} returns\[2\] is {bad}"):
        function(returns)


@pytest.mark.parametrize(("function", "minimum"), RETURN_METRICS, ids=IDS)
def test_return_below_minus_one_raises_data_integrity_error(function, minimum):
    with pytest.raises(DataIntegrityError, match=r"returns\[1\] is -1.5; a simple return below"):
        function([0.01, -1.5, 0.02])


@pytest.mark.parametrize(("function", "minimum"), RETURN_METRICS, ids=IDS)
def test_two_dimensional_returns_raise_invalid_value_error(function, minimum):
    with pytest.raises(InvalidValueError, match="one-dimensional"):
        function(np.zeros((3, 2)))


@pytest.mark.parametrize(
    "function",
    [
        metrics.annual_return,
        metrics.annual_volatility,
        lambda r, p: metrics.sharpe_ratio(r, 0.0, p),
        lambda r, p: metrics.sortino_ratio(r, 0.0, p),
        metrics.calmar_ratio,
    ],
)
@pytest.mark.parametrize("periods_per_year", [0, -252, math.nan, math.inf])
def test_periods_per_year_that_is_not_positive_and_finite_raises_invalid_value_error(
    function, periods_per_year
):
    with pytest.raises(InvalidValueError, match="periods_per_year"):
        function([0.01, -0.02, 0.03], periods_per_year)


@pytest.mark.parametrize("cutoff", [-0.01, 1.01, math.nan])
def test_cutoff_outside_zero_one_raises_invalid_value_error(cutoff):
    with pytest.raises(InvalidValueError, match="value_at_risk cutoff"):
        metrics.value_at_risk([0.01, -0.02], cutoff)


def test_risk_free_series_of_the_wrong_length_raises_invalid_value_error():
    with pytest.raises(InvalidValueError, match="risk_free has 2 values but the returns have 3"):
        metrics.sharpe_ratio([0.01, -0.02, 0.03], [0.0, 0.0])


def test_non_finite_risk_free_rate_raises_invalid_value_error():
    with pytest.raises(InvalidValueError, match="sharpe_ratio risk_free nan"):
        metrics.sharpe_ratio([0.01, -0.02, 0.03], math.nan)


def test_all_zero_returns_give_the_values_their_definitions_give():
    zeros = np.zeros(20)
    assert metrics.total_return(zeros) == 0.0
    assert metrics.annual_return(zeros) == 0.0
    assert metrics.annual_volatility(zeros) == 0.0
    assert metrics.downside_risk(zeros) == 0.0
    assert metrics.max_drawdown(zeros) == 0.0
    assert metrics.value_at_risk(zeros) == 0.0
    assert metrics.conditional_value_at_risk(zeros) == 0.0
    # 0 / 0 by definition: empyrical's NaN for the ratios (and for the R-squared of a flat
    # line), NaN where quantstats says 0.0.
    for undefined in (
        metrics.stability_of_timeseries(zeros),
        metrics.sharpe_ratio(zeros),
        metrics.sortino_ratio(zeros),
        metrics.calmar_ratio(zeros),
        metrics.tail_ratio(zeros),
        metrics.win_rate(zeros),
        metrics.profit_factor(zeros),
    ):
        assert math.isnan(undefined)


def test_constant_positive_returns_have_infinite_sharpe_and_sortino_as_empyrical():
    constant = np.full(30, 0.001)
    assert metrics.annual_volatility(constant) == 0.0
    assert metrics.sharpe_ratio(constant) == math.inf
    assert metrics.sharpe_ratio(-constant) == -math.inf
    assert metrics.sortino_ratio(constant) == math.inf
    assert metrics.profit_factor(constant) == math.inf
    assert math.isnan(metrics.calmar_ratio(constant))  # no drawdown


def test_total_loss_gives_a_drawdown_of_minus_one_and_nan_stability():
    returns = [0.1, -1.0, 0.0]
    assert metrics.max_drawdown(returns) == -1.0
    assert metrics.total_return(returns) == -1.0
    assert math.isnan(metrics.stability_of_timeseries(returns))


def test_alpha_beta_against_a_flat_benchmark_are_nan_as_empyrical():
    result = metrics.alpha_beta([0.01, -0.02, 0.03], [0.01, 0.01, 0.01])
    assert math.isnan(result.alpha)
    assert math.isnan(result.beta)


def test_alpha_beta_with_series_of_different_lengths_raise_invalid_value_error():
    with pytest.raises(InvalidValueError, match="alpha_beta inputs have different lengths"):
        metrics.alpha_beta([0.01, -0.02, 0.03], [0.01, 0.02])


def test_nan_in_the_benchmark_raises_data_integrity_error_naming_it():
    with pytest.raises(DataIntegrityError, match=r"alpha_beta benchmark_returns\[0\] is nan"):
        metrics.alpha_beta([0.01, -0.02], [math.nan, 0.02])


def test_parametric_cvar_at_cutoff_zero_raises_invalid_value_error():
    with pytest.raises(InvalidValueError, match="tail probability above 0"):
        metrics.parametric_conditional_value_at_risk([0.01, -0.02], 0.0)

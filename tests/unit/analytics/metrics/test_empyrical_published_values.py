"""Our metrics reproduce the hand-checked values published in empyrical's own test suite.

Source: github.com/stefan-jansen/empyrical-reloaded, ``tests/test_stats.py`` (expected
values, commit 31173cf13db00328bd5bbe70a016e62a36ba067e) and ``tests/conftest.py`` (the input
series); the same numbers appear in quantopian/empyrical ``empyrical/tests/test_stats.py``
except where reloaded fixed Sortino's annualization and compounded alpha. Only the numbers
are copied.

empyrical's ``mixed_returns`` starts with a NaN, which our metrics refuse. empyrical skips it
in means and deviations but counts it as a period when compounding (``nanprod`` over
``len(returns)`` periods), so it maps onto two NaN-free series: ``MIXED_OBSERVED`` (the NaN
dropped) for the moment-based metrics, ``MIXED_AS_FLAT`` (the NaN as a 0 return) for the
compounding ones.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradeloop.analytics import metrics

SIMPLE_BENCHMARK = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]) / 100
POSITIVE = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) / 100
NEGATIVE = np.array([0.0, -6.0, -7.0, -1.0, -9.0, -2.0, -6.0, -8.0, -5.0]) / 100
ALL_NEGATIVE = np.array([-2.0, -6.0, -7.0, -1.0, -9.0, -2.0, -6.0, -8.0, -5.0]) / 100
MIXED_OBSERVED = np.array([1.0, 10.0, -4.0, 2.0, 3.0, 2.0, 1.0, -10.0]) / 100
MIXED_AS_FLAT = np.array([0.0, 1.0, 10.0, -4.0, 2.0, 3.0, 2.0, 1.0, -10.0]) / 100
# weekly_returns and monthly_returns are the same nine numbers at other frequencies.
WEEKLY = MONTHLY = MIXED_AS_FLAT
ONE_RETURN = np.array([1.0]) / 100
UDU = np.array([10.0, -10.0, 10.0]) / 100
FLAT_LINE_1 = np.full(9, 0.01)
FLAT_LINE_1_TZ = np.full(1000, 0.01)
FLAT_LINE_YEARLY = np.array([3.0, 3.0, 3.0]) / 100
DF_ONE = np.array(
    [-0.00171614, 0.01322056, 0.03063862, -0.01422057, -0.00489779, 0.01268925, -0.03357711,
     0.01797036]
)  # fmt: skip
DF_TWO = np.array(
    [0.01846232, 0.00793951, -0.01448395, 0.00422537, -0.00339611, 0.03756813, 0.0151531,
     0.03549769]
)  # fmt: skip

DAILY, WEEK, MONTH, YEAR = 252, 52, 12, 1
# Most values are published with 16-17 significant digits: a relative 1e-12 leaves room for
# summation order only.
RTOL = 1e-12


def close(expected: float, decimal: int | None = None):
    """Match a published value; ``decimal`` is the source test's own precision where the
    number is published with fewer digits (numpy ``assert_almost_equal``: 1.5 * 10**-decimal)."""
    if decimal is not None:
        return pytest.approx(expected, abs=1.5 * 10.0**-decimal)
    return pytest.approx(expected, rel=RTOL, abs=1e-15)


@pytest.mark.parametrize(
    ("returns", "expected", "decimal"),
    [
        (ONE_RETURN, 0.0, None),
        (SIMPLE_BENCHMARK, 0.0, None),
        (MIXED_OBSERVED, -0.1, None),
        (POSITIVE, -0.0, None),
        (NEGATIVE, -0.36590730, 8),
        (ALL_NEGATIVE, -0.378589157, 9),
        (UDU, -0.10, None),
    ],
    ids=["one", "simple_benchmark", "mixed", "positive", "negative", "all_negative", "udu"],
)
def test_max_drawdown_reproduces_empyrical_published_value(returns, expected, decimal):
    assert metrics.max_drawdown(returns) == close(expected, decimal)


@pytest.mark.parametrize(
    ("returns", "periods_per_year", "expected"),
    [
        (MIXED_AS_FLAT, DAILY, 1.9135925373194231),
        (WEEKLY, WEEK, 0.24690830513998208),
        (MONTHLY, MONTH, 0.052242061386048144),
        (ONE_RETURN, DAILY, 11.274002099240244),
        (FLAT_LINE_1_TZ, DAILY, 11.274002099240256),
        (FLAT_LINE_YEARLY, YEAR, 0.03),
    ],
    ids=["mixed", "weekly", "monthly", "one", "flat_line_1_tz", "flat_line_yearly"],
)
def test_annual_return_reproduces_empyrical_published_value(returns, periods_per_year, expected):
    assert metrics.annual_return(returns, periods_per_year) == close(expected)


@pytest.mark.parametrize(
    ("returns", "periods_per_year", "expected"),
    [
        (FLAT_LINE_1_TZ, DAILY, 0.0),
        (MIXED_OBSERVED, DAILY, 0.9136465399704637),
        (WEEKLY, WEEK, 0.38851569394870583),
        (MONTHLY, MONTH, 0.18663690238892558),
    ],
    ids=["flat_line_1_tz", "mixed", "weekly", "monthly"],
)
def test_annual_volatility_reproduces_empyrical_published_value(
    returns, periods_per_year, expected
):
    assert metrics.annual_volatility(returns, periods_per_year) == close(expected)


@pytest.mark.parametrize(
    ("returns", "periods_per_year", "expected"),
    [
        (MIXED_AS_FLAT, DAILY, 19.135925373194233),
        (WEEKLY, WEEK, 2.4690830513998208),
        (MONTHLY, MONTH, 0.52242061386048144),
    ],
    ids=["mixed", "weekly", "monthly"],
)
def test_calmar_ratio_reproduces_empyrical_published_value(returns, periods_per_year, expected):
    assert metrics.calmar_ratio(returns, periods_per_year) == close(expected)


@pytest.mark.parametrize(
    ("returns", "risk_free", "expected"),
    [
        (MIXED_OBSERVED, 0.0, 1.7238613961706866),
        (MIXED_OBSERVED, SIMPLE_BENCHMARK[1:], 0.34111411441060574),
        (POSITIVE, 0.0, 52.915026221291804),
        (NEGATIVE, 0.0, -24.406808633910085),
        (FLAT_LINE_1, 0.0, math.inf),
    ],
    ids=["mixed", "mixed_over_simple_benchmark", "positive", "negative", "flat_line_1"],
)
def test_sharpe_ratio_reproduces_empyrical_published_value(returns, risk_free, expected):
    assert metrics.sharpe_ratio(returns, risk_free) == close(expected)


def test_sharpe_ratio_of_returns_over_themselves_is_nan_as_published():
    assert math.isnan(metrics.sharpe_ratio(MIXED_OBSERVED, MIXED_OBSERVED))


@pytest.mark.parametrize(
    ("returns", "required_return", "periods_per_year", "expected"),
    [
        (ONE_RETURN, 0.0, DAILY, 0.0),
        (MIXED_OBSERVED, MIXED_OBSERVED, DAILY, 0.0),
        (MIXED_OBSERVED, 0.0, DAILY, 0.60448325038829653),
        (MIXED_OBSERVED, 0.1, DAILY, 1.7161730681956295),
        (WEEKLY, 0.0, WEEK, 0.25888650451930134),
        (WEEKLY, 0.1, WEEK, 0.7733045971672482),
        (MONTHLY, 0.0, MONTH, 0.1243650540411842),
        (MONTHLY, 0.1, MONTH, 0.37148351242013422),
        (DF_ONE, 0.0, DAILY, 0.20671788246185202),
        (DF_TWO, 0.0, DAILY, 0.083495680595704475),
        (DF_ONE, 0.0, WEEK, 0.093902996054410062),
        (DF_TWO, 0.0, WEEK, 0.037928477556776516),
        (DF_ONE, 0.0, MONTH, 0.045109540184877193),
        (DF_TWO, 0.0, MONTH, 0.018220251263412916),
    ],
)
def test_downside_risk_reproduces_empyrical_published_value(
    returns, required_return, periods_per_year, expected
):
    assert metrics.downside_risk(returns, required_return, periods_per_year) == close(expected)


@pytest.mark.parametrize(
    ("returns", "required_return", "periods_per_year", "expected"),
    [
        (MIXED_OBSERVED, 0.0, DAILY, 2.605531251673693),
        (MIXED_OBSERVED, 0.01, DAILY, -1.3934779588919977),
        (POSITIVE, 0.0, DAILY, math.inf),
        (NEGATIVE, 0.0, DAILY, -13.532743075043401),
        (SIMPLE_BENCHMARK, 0.0, DAILY, math.inf),
        (WEEKLY, 0.0, WEEK, 1.1158901056866439),
        (MONTHLY, 0.0, MONTH, 0.53605626741889756),
        (DF_ONE, 0.0, DAILY, 3.0639640966566306),
        (DF_TWO, 0.0, DAILY, 38.090963117002495),
        (DF_ONE, 0.0, WEEK, 1.3918264112070571),
        (DF_TWO, 0.0, WEEK, 17.303077589064618),
        (DF_ONE, 0.0, MONTH, 0.6686117809312383),
        (DF_TWO, 0.0, MONTH, 8.3121296084492844),
    ],
)
def test_sortino_ratio_reproduces_empyrical_published_value(
    returns, required_return, periods_per_year, expected
):
    assert metrics.sortino_ratio(returns, required_return, periods_per_year) == close(expected)


def test_sortino_ratio_of_returns_over_themselves_is_nan_as_published():
    assert math.isnan(metrics.sortino_ratio(MIXED_OBSERVED, MIXED_OBSERVED))


@pytest.mark.parametrize(
    ("returns", "benchmark", "expected_alpha", "expected_beta"),
    [
        (MIXED_OBSERVED, NEGATIVE[1:], -0.9997853834885004, -0.71296296296296313),
        (MIXED_OBSERVED, MIXED_OBSERVED, 0.0, 1.0),
        (MIXED_OBSERVED, -MIXED_OBSERVED, 0.0, -1.0),
    ],
    ids=["mixed_on_negative", "mixed_on_itself", "mixed_on_its_opposite"],
)
def test_alpha_beta_reproduces_empyrical_published_value(
    returns, benchmark, expected_alpha, expected_beta
):
    result = metrics.alpha_beta(returns, benchmark)
    assert result.alpha == close(expected_alpha)
    assert result.beta == close(expected_beta)


@pytest.mark.parametrize(
    ("returns", "expected"),
    [(MIXED_OBSERVED, 0.1529973665111273), (FLAT_LINE_1_TZ, 1.0)],
    ids=["mixed", "flat_line_1_tz"],
)
def test_stability_of_timeseries_reproduces_empyrical_published_value(returns, expected):
    assert metrics.stability_of_timeseries(returns) == close(expected)


@pytest.mark.parametrize(
    ("returns", "expected", "decimal"),
    [(ONE_RETURN, 1.0, None), (MIXED_OBSERVED, 0.9473684210526313, 1)],
    ids=["one", "mixed"],
)
def test_tail_ratio_reproduces_empyrical_published_value(returns, expected, decimal):
    # empyrical checks its tail ratio to 1 decimal only; empyrical itself gives 0.9557 here.
    assert metrics.tail_ratio(returns) == close(expected, decimal)


@pytest.mark.parametrize(
    ("returns", "cutoff", "expected"),
    [
        ([1.0, 2.0], 0.0, 1.0),
        ([1.0, 2.0], 0.3, 1.3),
        ([1.0, 2.0], 1.0, 2.0),
        ([1.0, 81.0, 82.0, 83.0, 84.0, 85.0], 0.1, 41.0),
        ([1.0, 81.0, 82.0, 83.0, 84.0, 85.0], 0.2, 81.0),
        ([1.0, 81.0, 82.0, 83.0, 84.0, 85.0], 0.3, 81.5),
    ],
)
def test_value_at_risk_reproduces_empyrical_published_value(returns, cutoff, expected):
    assert metrics.value_at_risk(returns, cutoff) == close(expected)


@pytest.mark.parametrize("cutoff", [0.0, 1.0])
def test_conditional_value_at_risk_of_a_single_return_is_that_return_as_published(cutoff):
    assert metrics.conditional_value_at_risk([-0.0123], cutoff) == -0.0123


@pytest.mark.parametrize(
    ("returns", "expected", "decimal"),
    [(ONE_RETURN, 0.01, None), (MIXED_AS_FLAT, 0.03893, 4), (NEGATIVE, -0.36590, 4)],
    ids=["one", "mixed", "negative"],
)
def test_total_return_reproduces_empyrical_published_cum_returns_final(returns, expected, decimal):
    assert metrics.total_return(returns) == close(expected, decimal)


def test_equity_from_returns_reproduces_empyrical_published_cum_returns_from_100():
    published = [100.0, 101.0, 111.1, 106.65599, 108.78912, 112.05279, 114.29384, 115.43678,
                 103.89310]  # fmt: skip
    # Published truncated to 5 decimals and checked by empyrical to 4.
    np.testing.assert_almost_equal(
        metrics.equity_from_returns(MIXED_AS_FLAT, 100.0)[1:], published, decimal=4
    )

"""Drift statistics: PSI by hand, KS against scipy.stats.ks_2samp, the training reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import ks_2samp

from tradeloop.analytics.drift import (
    PSI_EPSILON,
    bin_counts,
    build_reference,
    drift,
    ks_pvalue,
    ks_statistic,
    psi,
)


def test_psi_of_two_histograms_is_the_textbook_sum() -> None:
    # shares e = (.5, .3, .2), a = (.3, .3, .4): (-.2) ln(.6) + 0 + .2 ln 2
    assert psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2407946, abs=1e-7)
    assert psi([50, 30, 20], [5, 3, 2]) == 0.0


def test_an_empty_bin_counts_as_epsilon_instead_of_an_infinite_logarithm() -> None:
    e, a = (1.0, PSI_EPSILON), (0.5, 0.5)
    by_hand = (a[0] - e[0]) * math.log(a[0] / e[0]) + (a[1] - e[1]) * math.log(a[1] / e[1])
    assert psi([10, 0], [5, 5]) == pytest.approx(by_hand, rel=1e-12)
    assert math.isfinite(psi([0, 10], [10, 0]))


def test_psi_refuses_histograms_of_different_bins_or_empty_ones() -> None:
    with pytest.raises(ValueError, match="3 bins against 2 bins"):
        psi([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="empty"):
        psi([0, 0], [1, 1])


@given(
    st.lists(st.integers(0, 1000), min_size=2, max_size=12),
    st.lists(st.integers(0, 1000), min_size=2, max_size=12),
)
def test_psi_is_non_negative_and_symmetric(expected: list[int], actual: list[int]) -> None:
    size = min(len(expected), len(actual))
    e, a = expected[:size], actual[:size]
    if sum(e) == 0 or sum(a) == 0:
        return
    value = psi(e, a)
    assert value >= -1e-12
    assert value == pytest.approx(psi(a, e), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("n1", "n2", "shift"), [(200, 300, 0.0), (500, 80, 0.4), (50, 1000, 1.5)])
def test_ks_statistic_and_pvalue_equal_scipy_ks_2samp(n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(7)
    reference = np.sort(rng.normal(size=n1))
    live = rng.normal(loc=shift, size=n2)
    expected = ks_2samp(reference, live, method="asymp")
    statistic = ks_statistic(reference, live)
    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert ks_pvalue(statistic, n1, n2) == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_ks_statistic_with_ties_equals_scipy() -> None:
    reference = np.sort(np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0]))
    live = np.array([1.0, 2.0, 2.0, 4.0])
    assert ks_statistic(reference, live) == pytest.approx(ks_2samp(reference, live).statistic)


def test_the_reference_holds_deciles_counts_and_a_bounded_sorted_sample() -> None:
    values = np.arange(1000, dtype=np.float64)
    reference = build_reference([*values, math.nan, math.inf], sample_size=100)
    assert reference.count == 1000
    assert reference.edges == pytest.approx(list(np.quantile(values, np.arange(1, 10) / 10)))
    assert reference.counts == [100] * 10
    assert len(reference.sample) == 100
    assert reference.sample == sorted(reference.sample)
    assert (reference.sample[0], reference.sample[-1]) == (0.0, 999.0)
    assert bin_counts(reference, values).tolist() == reference.counts


def test_a_constant_feature_has_one_edge_and_no_drift_from_itself() -> None:
    reference = build_reference([2.0] * 50)
    assert reference.edges == [2.0]
    stats = drift(reference, [2.0] * 10)
    assert stats is not None
    assert (stats.psi, stats.ks) == (0.0, 0.0)


def test_same_distribution_is_stable_and_a_shift_is_significant() -> None:
    rng = np.random.default_rng(3)
    reference = build_reference(rng.normal(size=5000))
    same = drift(reference, rng.normal(size=1000))
    shifted = drift(reference, rng.normal(loc=1.0, size=1000))
    assert same is not None
    assert shifted is not None
    assert same.psi < 0.1
    assert same.ks_pvalue > 0.01
    assert shifted.psi > 0.25
    assert shifted.ks > 0.3
    assert shifted.ks_pvalue < 1e-6
    assert drift(reference, [math.nan]) is None


def test_a_reference_needs_a_finite_value() -> None:
    with pytest.raises(ValueError, match="no finite value"):
        build_reference([math.nan])

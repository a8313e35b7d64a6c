"""Distribution drift: a compact reference of a training window, and the population stability
index (PSI) and two-sample Kolmogorov-Smirnov statistic of live values against it.

A ``Reference`` is what training keeps of one series (a feature, or a model's output) in its
window: the decile edges of the finite values, the count in each bin, and a bounded sorted
sample (evenly spaced order statistics, so it is deterministic and follows the window's
empirical distribution to within ``1 / len(sample)``). It is a few kB and goes into the
registered model's card, content-hashed with the rest.

Definitions (textbook):

- PSI = Σᵢ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over the reference's bins, with eᵢ the reference's share
  of bin i and aᵢ the live values' share; a share of 0 is replaced by ``PSI_EPSILON`` (an
  empty bin would make the logarithm infinite). Bins are ``edges[i-1] <= x < edges[i]``,
  the first and last open-ended. Below 0.1 is usually read as stable, 0.1 to 0.25 as a
  moderate shift, above 0.25 as a significant one.
- KS = sup over x of |F_ref(x) − F_live(x)|, the two empirical CDFs (the reference's from
  its sample); its p-value is Smirnov's asymptotic two-sided one, ``kstwo.sf(D, round(n·m
  / (n + m)))`` as ``scipy.stats.ks_2samp(method="asymp")`` computes it (with the sample's
  size as the reference's n: the sample is a summary of the window, not independent draws,
  so read the p-value as a guide, the statistic as the measure).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

PSI_EPSILON = 1e-4
"""The share used for an empty bin in PSI (on either side)."""

REFERENCE_BINS = 10
REFERENCE_SAMPLE = 500


class Reference(msgspec.Struct, frozen=True, kw_only=True):
    """A training window's distribution of one series (module docstring).

    Attributes
    ----------
    edges : inner bin edges, ascending and distinct (quantiles of the window's values).
    counts : values in each of the ``len(edges) + 1`` bins.
    sample : sorted evenly spaced order statistics of the values (at most a few hundred).
    count : finite values in the window.
    mean, std : of those values.
    """

    edges: list[float]
    counts: list[int]
    sample: list[float]
    count: int
    mean: float
    std: float


def _finite(values: Sequence[float] | F64) -> F64:
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def build_reference(
    values: Sequence[float] | F64, bins: int = REFERENCE_BINS, sample_size: int = REFERENCE_SAMPLE
) -> Reference:
    """Return the reference of ``values`` (non-finite values are left out).

    Raises
    ------
    ValueError
        If no value is finite, ``bins`` is below 2 or ``sample_size`` below 2.
    """
    if bins < 2 or sample_size < 2:
        raise ValueError(f"bins {bins} and sample_size {sample_size} must be at least 2")
    finite = np.sort(_finite(values))
    if finite.size == 0:
        raise ValueError("no finite value to build a drift reference from")
    quantiles = np.quantile(finite, np.arange(1, bins) / bins)
    edges = np.unique(quantiles)
    counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=edges.size + 1)
    take = min(sample_size, finite.size)
    positions = np.round(np.linspace(0, finite.size - 1, take)).astype(np.int64)
    return Reference(
        edges=[float(e) for e in edges],
        counts=[int(c) for c in counts],
        sample=[float(v) for v in finite[positions]],
        count=int(finite.size),
        mean=float(finite.mean()),
        std=float(finite.std()),
    )


def bin_counts(reference: Reference, values: Sequence[float] | F64) -> F64:
    """Return how many of the finite ``values`` fall in each of the reference's bins."""
    finite = _finite(values)
    edges = np.asarray(reference.edges, dtype=np.float64)
    return np.bincount(
        np.searchsorted(edges, finite, side="right"), minlength=edges.size + 1
    ).astype(np.float64)


def psi(expected_counts: Sequence[float] | F64, actual_counts: Sequence[float] | F64) -> float:
    """Return the population stability index of two histograms over the same bins.

    Raises
    ------
    ValueError
        If the histograms differ in length or either is empty.
    """
    expected = np.asarray(expected_counts, dtype=np.float64)
    actual = np.asarray(actual_counts, dtype=np.float64)
    if expected.shape != actual.shape:
        raise ValueError(f"PSI of {expected.size} bins against {actual.size} bins")
    if expected.sum() <= 0 or actual.sum() <= 0:
        raise ValueError("PSI of an empty histogram")
    e = np.maximum(expected / expected.sum(), PSI_EPSILON)
    a = np.maximum(actual / actual.sum(), PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def ks_statistic(sorted_reference: F64, values: F64) -> float:
    """Return sup |F_ref − F_live| of a sorted reference sample and live ``values``."""
    live = np.sort(values)
    points = np.concatenate([sorted_reference, live])
    f_ref = np.searchsorted(sorted_reference, points, side="right") / sorted_reference.size
    f_live = np.searchsorted(live, points, side="right") / live.size
    return float(np.max(np.abs(f_ref - f_live)))


def ks_pvalue(statistic: float, n_reference: int, n_live: int) -> float:
    """Return the asymptotic two-sided p-value of a two-sample KS ``statistic``."""
    from scipy.stats import distributions

    m, n = sorted((float(n_reference), float(n_live)), reverse=True)
    effective = round(m * n / (m + n))
    return float(np.clip(distributions.kstwo.sf(statistic, effective), 0.0, 1.0))


class DriftStatistics(msgspec.Struct, frozen=True):
    """PSI, KS and its p-value of ``count`` live values against a reference."""

    psi: float
    ks: float
    ks_pvalue: float
    count: int
    live_mean: float


def drift(reference: Reference, values: Sequence[float] | F64) -> DriftStatistics | None:
    """Return the drift of ``values`` from ``reference`` (None when none is finite)."""
    finite = _finite(values)
    if finite.size == 0:
        return None
    sample = np.asarray(reference.sample, dtype=np.float64)
    statistic = ks_statistic(sample, finite)
    return DriftStatistics(
        psi=psi(reference.counts, bin_counts(reference, finite)),
        ks=statistic,
        ks_pvalue=ks_pvalue(statistic, sample.size, finite.size),
        count=int(finite.size),
        live_mean=float(finite.mean()),
    )

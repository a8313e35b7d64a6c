"""Cross-asset correlation: full sample, rolling window, and by regime.

Inputs are aligned returns, one column per asset (``(n_obs, n_assets)``); Pearson correlation
with the sample (``ddof=1``) moments, as ``numpy.corrcoef`` and ``pandas.DataFrame.corr``.
A window or regime whose column has zero variance gives NaN in that row and column (the
correlation of a constant is undefined), never a made-up 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError

F64 = npt.NDArray[np.float64]

__all__ = ["RegimeCorrelation", "correlation", "correlation_by_regime", "rolling_correlation"]


def _returns(returns: npt.ArrayLike, minimum: int, what: str) -> F64:
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim != 2:
        raise InvalidValueError(
            f"{what}: returns have shape {values.shape}; give a (observations, assets) matrix"
        )
    if values.shape[0] < minimum:
        raise InvalidValueError(
            f"{what} needs at least {minimum} observations; got {values.shape[0]}"
        )
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = (int(v) for v in bad[0])
        raise InvalidValueError(
            f"{what}: returns[{row}, {col}] is {values[row, col]}; align the series and drop "
            "missing rows first"
        )
    return values


def _corr(block: F64) -> F64:
    centred = block - block.mean(axis=0)
    cov = centred.T @ centred
    scale = np.sqrt(np.diag(cov))
    scale[np.ptp(block, axis=0) == 0.0] = 0.0  # a constant column (rounding leaves ~1e-17)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: F64 = cov / np.outer(scale, scale)
    out[:, scale == 0.0] = np.nan
    out[scale == 0.0, :] = np.nan
    np.fill_diagonal(out, np.where(scale == 0.0, np.nan, 1.0))
    return np.clip(out, -1.0, 1.0)


def correlation(returns: npt.ArrayLike) -> F64:
    """Return the correlation matrix of the columns of ``returns`` (at least 3 rows)."""
    return _corr(_returns(returns, 3, "correlation"))


def rolling_correlation(returns: npt.ArrayLike, window: int) -> F64:
    """Return the correlation matrix over each trailing ``window`` of rows.

    Shape ``(n_obs, n_assets, n_assets)``; row ``i`` uses rows ``i - window + 1 .. i`` (causal),
    and the first ``window - 1`` rows are NaN.

    Raises
    ------
    InvalidValueError
        If ``window`` < 3 or there are fewer rows than ``window``.
    """
    if window < 3:
        raise InvalidValueError(f"rolling correlation window {window} must be >= 3 observations")
    values = _returns(returns, window, f"rolling correlation over {window} observations")
    n, k = values.shape
    out = np.full((n, k, k), np.nan)
    for end in range(window, n + 1):
        out[end - 1] = _corr(values[end - window : end])
    return out


@dataclass(frozen=True, slots=True)
class RegimeCorrelation:
    """The correlation matrix of one regime's observations (NaN when it has fewer than 3)."""

    regime: str
    observations: int
    matrix: F64


def correlation_by_regime(returns: npt.ArrayLike, labels: Sequence[str]) -> list[RegimeCorrelation]:
    """Return one correlation matrix per regime label, sorted by label.

    ``labels[i]`` is the regime in force at observation ``i`` (e.g. the latest
    ``RegimeChanged`` at or before it). A regime with fewer than 3 observations is listed with
    its count and a NaN matrix, so that it is seen rather than dropped.

    Raises
    ------
    InvalidValueError
        If ``labels`` and ``returns`` differ in length.
    """
    values = _returns(returns, 0, "correlation by regime")
    if len(labels) != values.shape[0]:
        raise InvalidValueError(
            f"correlation by regime: {len(labels)} labels for {values.shape[0]} observations"
        )
    tags = np.asarray(labels, dtype=object)
    out = []
    for label in sorted({str(t) for t in labels}):
        rows = values[tags == label]
        matrix = _corr(rows) if len(rows) >= 3 else np.full((values.shape[1],) * 2, np.nan)
        out.append(RegimeCorrelation(label, len(rows), matrix))
    return out

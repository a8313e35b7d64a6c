"""Causal regime features: the log return and the (log) realized volatility of each bar.

Row ``t`` of ``regime_features(close)`` uses closes ``0..t`` only:

- ``log_return[t] = log(close[t] / close[t - 1])``;
- ``realized_volatility[t]`` is ``analytics.RealizedVolatility(volatility_period)`` at ``t``:
  the sample std (ddof 1) of the last ``volatility_period`` log returns, annualized by
  ``sqrt(annualization_factor)``; with ``log_volatility`` (the default) its natural log,
  which is closer to Gaussian, as the HMM's emissions assume. A volatility of exactly 0
  (constant prices over the window) is floored at ``MIN_VOLATILITY`` before the log.

Rows before ``volatility_period`` are NaN (warm-up). The bulk function is a loop over
``RegimeFeatureBuilder``, so bulk and incremental rows are bit-identical by construction.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from tradeloop.analytics import RealizedVolatility
from tradeloop.core.errors import InvalidValueError

__all__ = ["MIN_VOLATILITY", "REGIME_FEATURE_NAMES", "RegimeFeatureBuilder", "regime_features"]

F64 = npt.NDArray[np.float64]

REGIME_FEATURE_NAMES: Final[tuple[str, str]] = ("log_return", "realized_volatility")
"""Column names of ``regime_features`` (column 1 is the log of the volatility by default)."""

MIN_VOLATILITY: Final = 1e-12
"""Floor of the annualized volatility before its log (a constant-price window has 0)."""


class RegimeFeatureBuilder:
    """Build one row of regime features per close; equals ``regime_features`` bit for bit.

    Parameters
    ----------
    volatility_period
        Log returns in the volatility window, at least 2.
    annualization_factor
        Bars per year (252 for daily equity bars).
    log_volatility
        Whether column 1 is the log of the volatility (default) or the volatility.

    Raises
    ------
    InvalidValueError
        If ``volatility_period`` is below 2 or ``annualization_factor`` is not above 0.
    """

    __slots__ = ("_previous", "_volatility", "log_volatility")

    def __init__(
        self,
        volatility_period: int = 20,
        annualization_factor: float = 252.0,
        *,
        log_volatility: bool = True,
    ) -> None:
        self._volatility = RealizedVolatility(volatility_period, annualization_factor)
        self.log_volatility = log_volatility
        self._previous = math.nan

    def __repr__(self) -> str:
        return (
            f"RegimeFeatureBuilder(volatility_period={self._volatility.period}, "
            f"annualization_factor={self._volatility.annualization_factor}, "
            f"log_volatility={self.log_volatility})"
        )

    def reset(self) -> None:
        """Forget every close."""
        self._volatility.reset()
        self._previous = math.nan

    def update(self, close: float) -> tuple[float, float] | None:
        """Add ``close``; return ``(log_return, volatility)`` or ``None`` during warm-up.

        Raises
        ------
        DataIntegrityError
            If ``close`` is NaN, infinite, zero or negative.
        """
        self._volatility.update(close)
        previous = self._previous
        self._previous = close
        if not self._volatility.initialized:
            return None
        volatility = self._volatility.value
        if self.log_volatility:
            volatility = math.log(max(volatility, MIN_VOLATILITY))
        return math.log(close / previous), volatility


def regime_features(
    close: npt.ArrayLike,
    volatility_period: int = 20,
    annualization_factor: float = 252.0,
    *,
    log_volatility: bool = True,
) -> F64:
    """Return the ``(n, 2)`` regime features of ``close``: log return, (log) volatility.

    Parameters
    ----------
    close
        One-dimensional positive closes.
    volatility_period
        Log returns in the volatility window, at least 2.
    annualization_factor
        Bars per year (252 for daily equity bars).
    log_volatility
        Whether column 1 is the log of the volatility (default) or the volatility.

    Returns
    -------
    numpy.ndarray
        float64 of shape ``(n, 2)``; rows before ``volatility_period`` are NaN.

    Raises
    ------
    InvalidValueError
        If ``close`` is not one-dimensional or a parameter is out of range.
    DataIntegrityError
        If a close is NaN, infinite, zero or negative.
    """
    prices = np.asarray(close, dtype=np.float64)
    if prices.ndim != 1:
        raise InvalidValueError(f"regime features take one-dimensional closes, not {prices.shape}")
    builder = RegimeFeatureBuilder(
        volatility_period, annualization_factor, log_volatility=log_volatility
    )
    out = np.full((len(prices), 2), np.nan)
    for i, price in enumerate(prices.tolist()):
        row = builder.update(price)
        if row is not None:
            out[i] = row
    return out

"""Trend strength: Wilder's ADX with the directional indicators +DI and -DI.

First valid index (0-based): +DI and -DI at ``period`` (TA-Lib PLUS_DI/MINUS_DI), ADX at
``2 * period - 1`` (27 for 14; TA-Lib ADX, unstable period 0).

Definition (TA-Lib's, which differs from a textbook seed in one place):

1. For each bar from the second: ``up = high - previous high``, ``down = previous low -
   low``; +DM = up if ``up > down`` and ``up > 0``, -DM = down if ``down > up`` and
   ``down > 0``, else 0; TR = true range.
2. Bars 1..period-1: plain sums of +DM, -DM and TR.
3. From bar ``period``: Wilder smoothing of the sums, ``S = S - S / period + new``. (The
   textbook seed sums bars 1..period; TA-Lib smooths from the sum of period-1 bars. The
   difference decays by ``(1 - 1/period)`` per bar.)
4. ``+DI = 100 * +DM_S / TR_S``, ``-DI = 100 * -DM_S / TR_S`` (both 0 when TR_S is 0);
   ``DX = 100 * |+DI - -DI| / (+DI + -DI)``, not defined when both DIs are 0.
5. The first ADX is the sum of the DX of bars period..2*period-1 divided by ``period``; then
   ``ADX = (ADX * (period - 1) + DX) / period``. A bar without DX leaves ADX unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, NamedTuple

import numpy.typing as npt

from tradeloop.analytics.indicators._base import (
    F64,
    as_float_array,
    bar_hlc,
    check_period,
    check_same_length,
    finite_start,
    non_finite_input,
    pad_front,
)
from tradeloop.core.lazy import lazy_module
from tradeloop.model.data import Bar

if TYPE_CHECKING:
    from tradeloop.analytics.indicators import _kernels
else:
    _kernels = lazy_module("tradeloop.analytics.indicators._kernels")

_NAN: Final = float("nan")


class ADXOutput(NamedTuple):
    """The ADX and directional indicator series."""

    adx: F64
    plus_di: F64
    minus_di: F64


def adx(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> ADXOutput:
    """Return Wilder's average directional index with +DI and -DI (TA-Lib's definition).

    Parameters
    ----------
    high, low, close
        One-dimensional series of equal length; leading NaNs are skipped.
    period
        Smoothing period, at least 1.

    Returns
    -------
    ADXOutput
        ``adx`` (NaN before index ``2 * period - 1``), ``plus_di`` and ``minus_di`` (NaN
        before index ``period``), all in [0, 100].

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or the series differ in length or shape.
    DataIntegrityError
        If a series holds a NaN or an infinity after its first number.
    """
    period = check_period("ADX", "period", period)
    h = as_float_array("ADX", "high", high)
    lo = as_float_array("ADX", "low", low)
    c = as_float_array("ADX", "close", close)
    check_same_length("ADX", high=h, low=lo, close=c)
    start = finite_start("ADX", high=h, low=lo, close=c)
    adx_line, plus_di, minus_di = _kernels.adx(h[start:], lo[start:], c[start:], period)
    return ADXOutput(
        pad_front(adx_line, start), pad_front(plus_di, start), pad_front(minus_di, start)
    )


class ADX:
    """Wilder's ADX with +DI and -DI (TA-Lib's definition), updated one bar at a time.

    ``plus_di`` and ``minus_di`` are NaN until ``period + 1`` bars, ``value`` (the ADX) until
    ``2 * period`` bars; ``initialized`` follows ``value``. Equals the bulk ``adx`` bit for bit.

    Parameters
    ----------
    period
        Smoothing period, at least 1.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1.
    """

    __slots__ = (
        "_minus_dm",
        "_plus_dm",
        "_previous_close",
        "_previous_high",
        "_previous_low",
        "_sum_dx",
        "_true_range",
        "count",
        "initialized",
        "minus_di",
        "period",
        "plus_di",
        "value",
    )

    value: float
    plus_di: float
    minus_di: float
    initialized: bool
    count: int
    period: int
    _previous_high: float
    _previous_low: float
    _previous_close: float
    _plus_dm: float
    _minus_dm: float
    _true_range: float
    _sum_dx: float

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("ADX", "period", period)
        self.reset()

    def __repr__(self) -> str:
        return f"ADX(period={self.period})"

    def reset(self) -> None:
        """Forget every input."""
        self.value = self.plus_di = self.minus_di = _NAN
        self.initialized = False
        self.count = 0
        self._previous_high = self._previous_low = self._previous_close = _NAN
        self._plus_dm = self._minus_dm = self._true_range = self._sum_dx = 0.0

    def update(self, high: float, low: float, close: float) -> None:
        """Add one bar's high, low and close.

        Raises
        ------
        DataIntegrityError
            If a value is NaN or infinite.
        """
        if high - high != 0.0 or low - low != 0.0 or close - close != 0.0:
            raise non_finite_input(self, next(v for v in (high, low, close) if v - v != 0.0))
        t = self.count
        self.count = t + 1
        up = high - self._previous_high
        down = self._previous_low - low
        previous_close = self._previous_close
        self._previous_high = high
        self._previous_low = low
        self._previous_close = close
        if t == 0:
            return
        bar_range = high - low
        candidate = abs(previous_close - high)
        if candidate > bar_range:
            bar_range = candidate
        candidate = abs(previous_close - low)
        if candidate > bar_range:
            bar_range = candidate
        period = self.period
        if t < period:
            if down > 0.0 and up < down:
                self._minus_dm += down
            elif up > 0.0 and up > down:
                self._plus_dm += up
            self._true_range += bar_range
            return
        minus_dm = self._minus_dm
        plus_dm = self._plus_dm
        minus_dm -= minus_dm / period
        plus_dm -= plus_dm / period
        if down > 0.0 and up < down:
            minus_dm += down
        elif up > 0.0 and up > down:
            plus_dm += up
        true_range = self._true_range
        true_range = true_range - true_range / period + bar_range
        self._minus_dm = minus_dm
        self._plus_dm = plus_dm
        self._true_range = true_range
        has_dx = False
        dx = 0.0
        if true_range != 0.0:
            minus_di = 100.0 * (minus_dm / true_range)
            plus_di = 100.0 * (plus_dm / true_range)
            di_sum = minus_di + plus_di
            if di_sum != 0.0:
                has_dx = True
                dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
        else:
            minus_di = plus_di = 0.0
        self.plus_di = plus_di
        self.minus_di = minus_di
        last_seed_bar = 2 * period - 1
        if t < last_seed_bar:
            if has_dx:
                self._sum_dx += dx
        elif t == last_seed_bar:
            if has_dx:
                self._sum_dx += dx
            self.value = self._sum_dx / period
            self.initialized = True
        elif has_dx:
            self.value = (self.value * (period - 1) + dx) / period

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's high, low and close (as ``float(price)``)."""
        high, low, close = bar_hlc(bar)
        self.update(high, low, close)

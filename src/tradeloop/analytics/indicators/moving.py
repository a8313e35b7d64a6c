"""Moving averages: simple (SMA), exponential (EMA) and linearly weighted (WMA).

First valid index (0-based, TA-Lib's lookback): ``period - 1`` for all three.

- SMA is TA-Lib's running sum: the sum of the last ``period - 1`` values is carried between
  outputs, the new value is added, the total divided by ``period``, the oldest subtracted.
  ``SMA.handle_bar`` and ``sma_raw`` instead keep an exact integer sum of fixed-point raws.
- EMA is seeded with the SMA of the first ``period`` values (TA-Lib's default, also
  backtrader's), then ``ema += (x - ema) * k`` with ``k = 2 / (period + 1)``, written as TA-Lib
  writes it: ``(x - ema) * k + ema``.
- WMA weights the newest value ``period`` and the oldest 1, divided by
  ``period * (period + 1) / 2``. The weighted sum is updated in O(1) and rebuilt from the
  window every ``8 * period`` outputs so that rounding cannot accumulate, exactly as the
  C library bundled with the TA-Lib 0.8 wheel does (bit-identical with ``talib.WMA``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.indicators._base import (
    F64,
    POW10,
    RESEED_FACTOR,
    PriceField,
    as_float_array,
    check_period,
    finite_start,
    non_finite_input,
    pad_front,
    price_reader,
)
from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import MAX_PRECISION
from tradeloop.core.lazy import lazy_module
from tradeloop.model.data import Bar

if TYPE_CHECKING:
    from tradeloop.analytics.indicators import _kernels
else:
    _kernels = lazy_module("tradeloop.analytics.indicators._kernels")

_NAN: Final = float("nan")
_EXACT_FLOAT_LIMIT: Final = 2**53
_FRESH: Final = 0
_FLOAT_INPUTS: Final = 1
_RAW_INPUTS: Final = 2


def sma(values: npt.ArrayLike, period: int) -> F64:
    """Return the simple moving average of ``values`` over ``period`` values.

    Parameters
    ----------
    values
        One-dimensional series; leading NaNs are skipped.
    period
        Window length, at least 1.

    Returns
    -------
    numpy.ndarray
        float64, NaN before index ``period - 1`` (counted from the first non-NaN input).

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``values`` is not one-dimensional.
    DataIntegrityError
        If ``values`` holds a NaN or an infinity after its first number.
    """
    period = check_period("SMA", "period", period)
    x = as_float_array("SMA", "values", values)
    start = finite_start("SMA", values=x)
    return pad_front(_kernels.sma(x[start:], period), start)


def sma_raw(raw: npt.ArrayLike, precision: int, period: int) -> F64:
    """Return the exact simple moving average of fixed-point prices ``raw / 10**precision``.

    The rolling sum is an exact integer and each output is one correctly rounded division
    ``sum / (period * 10**precision)``, so two averages whose true decimal means are equal give
    equal floats. Equals ``SMA.handle_bar`` bit for bit.

    Parameters
    ----------
    raw
        One-dimensional integer raws (for example ``BarColumns.close``).
    precision
        Decimal places of the raws, 0 to 16.
    period
        Window length, at least 1.

    Returns
    -------
    numpy.ndarray
        float64, NaN before index ``period - 1``.

    Raises
    ------
    InvalidValueError
        If ``raw`` is not a one-dimensional integer array, or ``precision`` or ``period`` is
        out of range.
    """
    period = check_period("sma_raw", "period", period)
    if isinstance(precision, bool) or not 0 <= precision <= MAX_PRECISION:
        raise InvalidValueError(
            f"sma_raw precision {precision!r} is invalid; "
            f"the precision must be 0 to {MAX_PRECISION}"
        )
    array = np.asarray(raw)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise InvalidValueError(
            f"sma_raw raw has dtype {array.dtype} and shape {array.shape}; "
            "it takes a one-dimensional array of integer raws"
        )
    denominator = period * POW10[precision]
    largest = max(int(array.max()), -int(array.min())) if array.size else 0
    if largest * period <= _EXACT_FLOAT_LIMIT and denominator <= _EXACT_FLOAT_LIMIT:
        values = np.ascontiguousarray(array, dtype=np.int64)
        return _kernels.sma_int(values, period, float(denominator))
    return _sma_raw_exact(array.tolist(), period, denominator)


def _sma_raw_exact(raws: list[int], period: int, denominator: int) -> F64:
    # Python-int path for sums or denominators beyond 2**53: same arithmetic as SMA.handle_bar.
    out = np.full(len(raws), np.nan)
    partial = 0
    for t, raw in enumerate(raws):
        total = partial + raw
        if t >= period - 1:
            out[t] = total / denominator
            total -= raws[t - period + 1]
        partial = total
    return out


def ema(values: npt.ArrayLike, period: int) -> F64:
    """Return the exponential moving average of ``values``, seeded with an SMA of ``period``.

    Parameters
    ----------
    values
        One-dimensional series; leading NaNs are skipped.
    period
        Span, at least 1; the smoothing factor is ``2 / (period + 1)``.

    Returns
    -------
    numpy.ndarray
        float64, NaN before index ``period - 1``.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``values`` is not one-dimensional.
    DataIntegrityError
        If ``values`` holds a NaN or an infinity after its first number.
    """
    period = check_period("EMA", "period", period)
    x = as_float_array("EMA", "values", values)
    start = finite_start("EMA", values=x)
    return pad_front(_kernels.ema(x[start:], period), start)


def wma(values: npt.ArrayLike, period: int) -> F64:
    """Return the linearly weighted moving average of ``values`` (newest weight ``period``).

    Parameters
    ----------
    values
        One-dimensional series; leading NaNs are skipped.
    period
        Window length, at least 1.

    Returns
    -------
    numpy.ndarray
        float64, NaN before index ``period - 1``.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``values`` is not one-dimensional.
    DataIntegrityError
        If ``values`` holds a NaN or an infinity after its first number.
    """
    period = check_period("WMA", "period", period)
    x = as_float_array("WMA", "values", values)
    start = finite_start("WMA", values=x)
    return pad_front(_kernels.wma(x[start:], period, period * (period + 1) / 2), start)


class SMA:
    """Simple moving average, updated one value at a time.

    ``update(float)`` keeps a float running sum, exactly as TA-Lib's SMA and the bulk ``sma``.
    ``handle_bar(bar)`` keeps an exact integer running sum of the chosen price's raw and
    sets ``value = sum_raw / (period * 10**precision)`` (one correctly rounded division), so it
    equals the bulk ``sma_raw`` and two averages tie exactly when their decimal means tie. A bar
    with more decimals than the previous ones rescales the sum exactly. One instance takes
    either floats or bars, not both (``reset`` to switch).

    Parameters
    ----------
    period
        Window length, at least 1.
    field
        The bar price ``handle_bar`` reads.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``field`` is unknown.
    """

    __slots__ = (
        "_buffer",
        "_denominator",
        "_is_close",
        "_mode",
        "_partial",
        "_precision",
        "_read_price",
        "count",
        "field",
        "initialized",
        "period",
        "value",
    )

    value: float
    initialized: bool
    count: int
    period: int
    field: str
    _buffer: list[Any]
    _partial: Any
    _mode: int
    _precision: int
    _denominator: int
    _is_close: bool
    _read_price: Callable[[Bar], tuple[int, int]]

    def __init__(self, period: int, field: PriceField = "close") -> None:
        self.period = check_period("SMA", "period", period)
        self._read_price = price_reader("SMA", field)
        self._is_close = field == "close"
        self.field = field
        self.reset()

    def __repr__(self) -> str:
        return f"SMA(period={self.period})"

    def reset(self) -> None:
        """Forget every input."""
        self.value = _NAN
        self.initialized = False
        self.count = 0
        self._buffer = [0] * self.period
        self._partial = 0
        self._mode = _FRESH
        self._precision = -1
        self._denominator = 0

    def update(self, value: float) -> None:
        """Add ``value`` (float running sum, as TA-Lib).

        Raises
        ------
        DataIntegrityError
            If ``value`` is NaN or infinite.
        InvalidValueError
            If this instance was fed bars (fixed-point sum) since the last reset.
        """
        if value - value != 0.0:
            raise non_finite_input(self, value)
        if self._mode != _FLOAT_INPUTS:
            self._enter_mode(_FLOAT_INPUTS)
        period = self.period
        count = self.count
        buffer = self._buffer
        slot = count % period
        total = self._partial + value
        buffer[slot] = value
        count += 1
        self.count = count
        if count >= period:
            self.value = total / period
            self.initialized = True
            slot += 1
            self._partial = total - buffer[0 if slot == period else slot]
        else:
            self._partial = total

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's price to the exact integer sum.

        Raises
        ------
        InvalidValueError
            If this instance was fed floats since the last reset.
        """
        if self._is_close:  # direct field reads: 2x faster than attrgetter
            raw, precision = bar.close_raw, bar.price_precision
        else:
            raw, precision = self._read_price(bar)
        if precision != self._precision:
            raw = self._adopt_precision(raw, precision)
        period = self.period
        count = self.count
        buffer = self._buffer
        slot = count % period
        total = self._partial + raw
        buffer[slot] = raw
        count += 1
        self.count = count
        if count >= period:
            self.value = total / self._denominator
            self.initialized = True
            slot += 1
            self._partial = total - buffer[0 if slot == period else slot]
        else:
            self._partial = total

    def _enter_mode(self, mode: int) -> None:
        if self._mode == _FRESH:
            self._mode = mode
            if mode == _FLOAT_INPUTS:
                self._buffer = [0.0] * self.period
                self._partial = 0.0
            return
        fed = "floats" if self._mode == _FLOAT_INPUTS else "fixed-point bars"
        raise InvalidValueError(
            f"{self!r} was fed {fed} since its last reset; one instance takes either floats "
            "(update) or bars (handle_bar), not both"
        )

    def _adopt_precision(self, raw: int, precision: int) -> int:
        # First bar fixes the precision; a finer one rescales the stored raws exactly and a
        # coarser one is widened to the stored precision. Returns raw at the stored precision.
        if self._mode != _RAW_INPUTS:
            self._enter_mode(_RAW_INPUTS)
            self._precision = precision
            self._denominator = self.period * POW10[precision]
            return raw
        if precision < self._precision:
            return raw * POW10[self._precision - precision]
        factor = POW10[precision - self._precision]
        self._buffer = [stored * factor for stored in self._buffer]
        self._partial *= factor
        self._precision = precision
        self._denominator = self.period * POW10[precision]
        return raw


class EMA:
    """Exponential moving average, seeded with the SMA of the first ``period`` values.

    Equals the bulk ``ema`` bit for bit.

    Parameters
    ----------
    period
        Span, at least 1; the smoothing factor is ``2 / (period + 1)``.
    field
        The bar price ``handle_bar`` reads.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``field`` is unknown.
    """

    __slots__ = (
        "_is_close",
        "_k",
        "_read_price",
        "_seed",
        "count",
        "field",
        "initialized",
        "period",
        "value",
    )

    value: float
    initialized: bool
    count: int
    period: int
    field: str
    _k: float
    _seed: float
    _is_close: bool
    _read_price: Callable[[Bar], tuple[int, int]]

    def __init__(self, period: int, field: PriceField = "close") -> None:
        self.period = check_period("EMA", "period", period)
        self._k = 2.0 / (self.period + 1)
        self._read_price = price_reader("EMA", field)
        self._is_close = field == "close"
        self.field = field
        self.reset()

    def __repr__(self) -> str:
        return f"EMA(period={self.period})"

    def reset(self) -> None:
        """Forget every input."""
        self.value = _NAN
        self.initialized = False
        self.count = 0
        self._seed = 0.0

    def update(self, value: float) -> None:
        """Add ``value``.

        Raises
        ------
        DataIntegrityError
            If ``value`` is NaN or infinite.
        """
        if value - value != 0.0:
            raise non_finite_input(self, value)
        if self.initialized:
            current = self.value
            self.value = (value - current) * self._k + current
            self.count += 1
            return
        self._seed += value
        self.count += 1
        if self.count == self.period:
            self.value = self._seed / self.period
            self.initialized = True

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's price (as ``float(price)``)."""
        if self._is_close:  # direct field reads: 2x faster than attrgetter
            raw, precision = bar.close_raw, bar.price_precision
        else:
            raw, precision = self._read_price(bar)
        self.update(raw / POW10[precision])


class WMA:
    """Linearly weighted moving average (newest weight ``period``, oldest 1).

    Equals the bulk ``wma`` bit for bit, including the rebuild of the running sums every
    ``8 * period`` outputs.

    Parameters
    ----------
    period
        Window length, at least 1.
    field
        The bar price ``handle_bar`` reads.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``field`` is unknown.
    """

    __slots__ = (
        "_buffer",
        "_countdown",
        "_divider",
        "_is_close",
        "_plain",
        "_read_price",
        "_trailing",
        "_weighted",
        "count",
        "field",
        "initialized",
        "period",
        "value",
    )

    value: float
    initialized: bool
    count: int
    period: int
    field: str
    _buffer: list[float]
    _plain: float
    _weighted: float
    _trailing: float
    _countdown: int
    _divider: float
    _is_close: bool
    _read_price: Callable[[Bar], tuple[int, int]]

    def __init__(self, period: int, field: PriceField = "close") -> None:
        self.period = check_period("WMA", "period", period)
        self._divider = self.period * (self.period + 1) / 2
        self._read_price = price_reader("WMA", field)
        self._is_close = field == "close"
        self.field = field
        self.reset()

    def __repr__(self) -> str:
        return f"WMA(period={self.period})"

    def reset(self) -> None:
        """Forget every input."""
        self.value = _NAN
        self.initialized = False
        self.count = 0
        self._buffer = [0.0] * self.period
        self._plain = 0.0
        self._weighted = 0.0
        self._trailing = 0.0
        self._countdown = RESEED_FACTOR * self.period

    def update(self, value: float) -> None:
        """Add ``value``.

        Raises
        ------
        DataIntegrityError
            If ``value`` is NaN or infinite.
        """
        if value - value != 0.0:
            raise non_finite_input(self, value)
        period = self.period
        count = self.count
        self.count = count + 1
        if period == 1:
            self.value = value
            self.initialized = True
            return
        buffer = self._buffer
        slot = count % period
        buffer[slot] = value
        if count < period - 1:
            self._plain += value
            self._weighted += value * (count + 1)
            return
        plain = self._plain + value
        plain -= self._trailing
        weighted = self._weighted + value * period
        self._countdown -= 1
        oldest = slot + 1 if slot + 1 < period else 0
        if self._countdown <= 0:
            self._countdown = RESEED_FACTOR * period
            plain = 0.0
            weighted = 0.0
            weight = 1
            for stored in buffer[oldest:] + buffer[:oldest]:
                plain += stored
                weighted += stored * weight
                weight += 1
        self._trailing = buffer[oldest]
        self.value = weighted / self._divider
        self.initialized = True
        self._plain = plain
        self._weighted = weighted - plain

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's price (as ``float(price)``)."""
        if self._is_close:  # direct field reads: 2x faster than attrgetter
            raw, precision = bar.close_raw, bar.price_precision
        else:
            raw, precision = self._read_price(bar)
        self.update(raw / POW10[precision])

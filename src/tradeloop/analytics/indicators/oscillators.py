"""Oscillators: RSI, MACD and the stochastic oscillator (slow and fast).

First valid index (0-based; every output of an indicator starts at the same index, as TA-Lib):

- RSI(period): ``period``. Wilder's averages of gains and losses, seeded with their simple
  means over the first ``period`` changes (TA-Lib's classic mode, unstable period 0).
  ``RSI = 100 * avg_gain / (avg_gain + avg_loss)``: 100 with gains only, 0 with losses only,
  and **50 when there was no change at all** (TA-Lib returns 0 there; a flat market is not
  oversold, so we use the neutral midpoint).
- MACD(fast, slow, signal): ``slow + signal - 2`` (33 for 12/26/9) for the line, the signal
  and the histogram. As in TA-Lib, the fast EMA is seeded on the ``fast`` values that end at
  index ``slow - 1`` (not on the first ``fast`` values), so both EMAs start together; the
  signal is the EMA of the line seeded with the mean of its first ``signal`` values.
- Stochastic(fastk, slowk, slowd) (TA-Lib STOCH with SMA smoothing): ``fastk + slowk +
  slowd - 3`` (8 for 5/3/3). Raw %K = ``(close - lowest low) / ((highest high - lowest
  low) / 100)``; slow %K = SMA(raw %K, slowk); slow %D = SMA(slow %K, slowd). Raw %K is **50
  when the range is flat** (TA-Lib returns 0).
- StochasticFast(fastk, fastd) (TA-Lib STOCHF): ``fastk + fastd - 2``; %K = raw %K,
  %D = SMA(%K, fastd).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy.typing as npt

from tradeloop.analytics.indicators._base import (
    F64,
    NEUTRAL,
    POW10,
    PriceField,
    as_float_array,
    bar_hlc,
    check_period,
    check_same_length,
    finite_start,
    non_finite_input,
    pad_front,
    price_reader,
)
from tradeloop.analytics.indicators.moving import SMA
from tradeloop.core.errors import InvalidValueError
from tradeloop.core.lazy import lazy_module
from tradeloop.model.data import Bar

if TYPE_CHECKING:
    from tradeloop.analytics.indicators import _kernels
else:
    _kernels = lazy_module("tradeloop.analytics.indicators._kernels")

_NAN: Final = float("nan")
_NEUTRAL: Final = NEUTRAL


class MACDOutput(NamedTuple):
    """The three MACD series."""

    macd: F64
    signal: F64
    histogram: F64


class StochasticOutput(NamedTuple):
    """The stochastic %K and %D series."""

    k: F64
    d: F64


def _check_macd_periods(
    fast_period: int, slow_period: int, signal_period: int
) -> tuple[int, int, int]:
    fast = check_period("MACD", "fast_period", fast_period)
    slow = check_period("MACD", "slow_period", slow_period)
    signal = check_period("MACD", "signal_period", signal_period)
    if fast >= slow:
        raise InvalidValueError(
            f"MACD fast_period {fast} is not below slow_period {slow}; the fast EMA must be shorter"
        )
    return fast, slow, signal


def _hlc_arrays(
    indicator: str, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
) -> tuple[F64, F64, F64, int]:
    h = as_float_array(indicator, "high", high)
    lo = as_float_array(indicator, "low", low)
    c = as_float_array(indicator, "close", close)
    check_same_length(indicator, high=h, low=lo, close=c)
    start = finite_start(indicator, high=h, low=lo, close=c)
    return h[start:], lo[start:], c[start:], start


def rsi(values: npt.ArrayLike, period: int = 14) -> F64:
    """Return Wilder's relative strength index of ``values``.

    Parameters
    ----------
    values
        One-dimensional series; leading NaNs are skipped.
    period
        Smoothing period, at least 1.

    Returns
    -------
    numpy.ndarray
        float64 in [0, 100], NaN before index ``period``.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``values`` is not one-dimensional.
    DataIntegrityError
        If ``values`` holds a NaN or an infinity after its first number.
    """
    period = check_period("RSI", "period", period)
    x = as_float_array("RSI", "values", values)
    start = finite_start("RSI", values=x)
    return pad_front(_kernels.rsi(x[start:], period), start)


def macd(
    values: npt.ArrayLike, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9
) -> MACDOutput:
    """Return the MACD line, signal and histogram of ``values`` (TA-Lib alignment).

    Parameters
    ----------
    values
        One-dimensional series; leading NaNs are skipped.
    fast_period, slow_period
        EMA spans, ``1 <= fast_period < slow_period``.
    signal_period
        Span of the signal EMA, at least 1.

    Returns
    -------
    MACDOutput
        ``macd``, ``signal``, ``histogram``; all NaN before index
        ``slow_period + signal_period - 2``.

    Raises
    ------
    InvalidValueError
        If a period is below 1, ``fast_period >= slow_period``, or ``values`` is not
        one-dimensional.
    DataIntegrityError
        If ``values`` holds a NaN or an infinity after its first number.
    """
    fast, slow, signal = _check_macd_periods(fast_period, slow_period, signal_period)
    x = as_float_array("MACD", "values", values)
    start = finite_start("MACD", values=x)
    line, signal_line, histogram = _kernels.macd(x[start:], fast, slow, signal)
    return MACDOutput(
        pad_front(line, start), pad_front(signal_line, start), pad_front(histogram, start)
    )


def stochastic(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> StochasticOutput:
    """Return the slow stochastic %K and %D (TA-Lib STOCH with SMA smoothing).

    Parameters
    ----------
    high, low, close
        One-dimensional series of equal length; leading NaNs are skipped.
    fastk_period
        Window of the highest high and lowest low, at least 1.
    slowk_period, slowd_period
        SMA periods smoothing raw %K into slow %K, and slow %K into slow %D.

    Returns
    -------
    StochasticOutput
        ``k`` (slow %K) and ``d`` (slow %D) in [0, 100], both NaN before index
        ``fastk_period + slowk_period + slowd_period - 3``.

    Raises
    ------
    InvalidValueError
        If a period is below 1 or the series differ in length or shape.
    DataIntegrityError
        If a series holds a NaN or an infinity after its first number.
    """
    fastk = check_period("Stochastic", "fastk_period", fastk_period)
    slowk = check_period("Stochastic", "slowk_period", slowk_period)
    slowd = check_period("Stochastic", "slowd_period", slowd_period)
    h, lo, c, start = _hlc_arrays("Stochastic", high, low, close)
    k, d = _kernels.stochastic(h, lo, c, fastk, slowk, slowd)
    return StochasticOutput(pad_front(k, start), pad_front(d, start))


def stochastic_fast(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    fastk_period: int = 5,
    fastd_period: int = 3,
) -> StochasticOutput:
    """Return the fast stochastic %K and %D (TA-Lib STOCHF with SMA smoothing).

    Parameters
    ----------
    high, low, close
        One-dimensional series of equal length; leading NaNs are skipped.
    fastk_period
        Window of the highest high and lowest low, at least 1.
    fastd_period
        SMA period of %D, at least 1.

    Returns
    -------
    StochasticOutput
        ``k`` (raw %K) and ``d`` (%D) in [0, 100], both NaN before index
        ``fastk_period + fastd_period - 2``.

    Raises
    ------
    InvalidValueError
        If a period is below 1 or the series differ in length or shape.
    DataIntegrityError
        If a series holds a NaN or an infinity after its first number.
    """
    fastk = check_period("StochasticFast", "fastk_period", fastk_period)
    fastd = check_period("StochasticFast", "fastd_period", fastd_period)
    h, lo, c, start = _hlc_arrays("StochasticFast", high, low, close)
    k, d = _kernels.stochastic_fast(h, lo, c, fastk, fastd)
    return StochasticOutput(pad_front(k, start), pad_front(d, start))


class RSI:
    """Wilder's relative strength index, updated one value at a time.

    Equals the bulk ``rsi`` bit for bit; ``value`` is NaN until ``period + 1`` inputs.

    Parameters
    ----------
    period
        Smoothing period, at least 1.
    field
        The bar price ``handle_bar`` reads.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 1 or ``field`` is unknown.
    """

    __slots__ = (
        "_gain",
        "_is_close",
        "_loss",
        "_previous",
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
    _gain: float
    _loss: float
    _previous: float
    _is_close: bool
    _read_price: Callable[[Bar], tuple[int, int]]

    def __init__(self, period: int = 14, field: PriceField = "close") -> None:
        self.period = check_period("RSI", "period", period)
        self._read_price = price_reader("RSI", field)
        self._is_close = field == "close"
        self.field = field
        self.reset()

    def __repr__(self) -> str:
        return f"RSI(period={self.period})"

    def reset(self) -> None:
        """Forget every input."""
        self.value = _NAN
        self.initialized = False
        self.count = 0
        self._gain = 0.0
        self._loss = 0.0
        self._previous = _NAN

    def update(self, value: float) -> None:
        """Add ``value``.

        Raises
        ------
        DataIntegrityError
            If ``value`` is NaN or infinite.
        """
        if value - value != 0.0:
            raise non_finite_input(self, value)
        count = self.count
        self.count = count + 1
        if count == 0:
            self._previous = value
            return
        change = value - self._previous
        self._previous = value
        period = self.period
        if count > period:
            loss = self._loss * (period - 1)
            gain = self._gain * (period - 1)
            if change < 0.0:
                loss -= change
            else:
                gain += change
            loss /= period
            gain /= period
        else:
            if change < 0.0:
                self._loss -= change
            else:
                self._gain += change
            if count < period:
                return
            loss = self._loss / period
            gain = self._gain / period
            self.initialized = True
        self._loss = loss
        self._gain = gain
        total = gain + loss
        self.value = 100.0 * (gain / total) if total != 0.0 else _NEUTRAL

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's price (as ``float(price)``)."""
        if self._is_close:  # direct field reads: 2x faster than attrgetter
            raw, precision = bar.close_raw, bar.price_precision
        else:
            raw, precision = self._read_price(bar)
        self.update(raw / POW10[precision])


class MACD:
    """MACD line, signal and histogram with TA-Lib's alignment, updated one value at a time.

    ``value`` is the MACD line; ``value``, ``signal`` and ``histogram`` are NaN until
    ``slow_period + signal_period - 1`` inputs. Equals the bulk ``macd`` bit for bit.

    Parameters
    ----------
    fast_period, slow_period
        EMA spans, ``1 <= fast_period < slow_period``.
    signal_period
        Span of the signal EMA, at least 1.
    field
        The bar price ``handle_bar`` reads.

    Raises
    ------
    InvalidValueError
        If a period is below 1, ``fast_period >= slow_period`` or ``field`` is unknown.
    """

    __slots__ = (
        "_fast",
        "_fast_sum",
        "_is_close",
        "_k_fast",
        "_k_signal",
        "_k_slow",
        "_read_price",
        "_signal_sum",
        "_slow",
        "_slow_sum",
        "count",
        "fast_period",
        "field",
        "histogram",
        "initialized",
        "signal",
        "signal_period",
        "slow_period",
        "value",
    )

    value: float
    signal: float
    histogram: float
    initialized: bool
    count: int
    fast_period: int
    slow_period: int
    signal_period: int
    field: str
    _fast: float
    _slow: float
    _fast_sum: float
    _slow_sum: float
    _signal_sum: float
    _k_fast: float
    _k_slow: float
    _k_signal: float
    _is_close: bool
    _read_price: Callable[[Bar], tuple[int, int]]

    def __init__(
        self,
        fast_period: int = 12,
        slow_period: int = 26,
        signal_period: int = 9,
        field: PriceField = "close",
    ) -> None:
        self.fast_period, self.slow_period, self.signal_period = _check_macd_periods(
            fast_period, slow_period, signal_period
        )
        self._k_fast = 2.0 / (self.fast_period + 1)
        self._k_slow = 2.0 / (self.slow_period + 1)
        self._k_signal = 2.0 / (self.signal_period + 1)
        self._read_price = price_reader("MACD", field)
        self._is_close = field == "close"
        self.field = field
        self.reset()

    def __repr__(self) -> str:
        return (
            f"MACD(fast_period={self.fast_period}, slow_period={self.slow_period}, "
            f"signal_period={self.signal_period})"
        )

    def reset(self) -> None:
        """Forget every input."""
        self.value = _NAN
        self.signal = _NAN
        self.histogram = _NAN
        self.initialized = False
        self.count = 0
        self._fast = 0.0
        self._slow = 0.0
        self._fast_sum = 0.0
        self._slow_sum = 0.0
        self._signal_sum = 0.0

    def update(self, value: float) -> None:
        """Add ``value``.

        Raises
        ------
        DataIntegrityError
            If ``value`` is NaN or infinite.
        """
        if value - value != 0.0:
            raise non_finite_input(self, value)
        t = self.count
        self.count = t + 1
        slow_period = self.slow_period
        if t >= slow_period:
            fast = (value - self._fast) * self._k_fast + self._fast
            slow = (value - self._slow) * self._k_slow + self._slow
            self._fast = fast
            self._slow = slow
            line = fast - slow
            if self.initialized:
                signal = (line - self.signal) * self._k_signal + self.signal
                self.value = line
                self.signal = signal
                self.histogram = line - signal
                return
            self._signal_sum += line
        else:
            self._slow_sum += value
            if t >= slow_period - self.fast_period:
                self._fast_sum += value
            if t < slow_period - 1:
                return
            self._slow = self._slow_sum / slow_period
            self._fast = self._fast_sum / self.fast_period
            line = self._fast - self._slow
            self._signal_sum = line
        if t == slow_period + self.signal_period - 2:
            signal = self._signal_sum / self.signal_period
            self.value = line
            self.signal = signal
            self.histogram = line - signal
            self.initialized = True

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's price (as ``float(price)``)."""
        if self._is_close:  # direct field reads: 2x faster than attrgetter
            raw, precision = bar.close_raw, bar.price_precision
        else:
            raw, precision = self._read_price(bar)
        self.update(raw / POW10[precision])


class _RawK:
    # Raw stochastic %K over the last `period` bars; max/min are exact, so any algorithm
    # matches the kernel's tracked extremes bit for bit.
    __slots__ = ("_count", "_highs", "_lows", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._highs: list[float] = []
        self._lows: list[float] = []

    def push(self, high: float, low: float, close: float) -> float:
        # Return raw %K, or NaN before `period` bars.
        count = self._count
        self._count = count + 1
        period = self._period
        if count < period:
            self._highs.append(high)
            self._lows.append(low)
            if count < period - 1:
                return _NAN
        else:
            slot = count % period
            self._highs[slot] = high
            self._lows[slot] = low
        lowest = min(self._lows)
        diff = (max(self._highs) - lowest) / 100.0
        return (close - lowest) / diff if diff != 0.0 else _NEUTRAL


class Stochastic:
    """Slow stochastic oscillator (TA-Lib STOCH, SMA smoothing), updated one bar at a time.

    ``k`` (slow %K, also ``value``) and ``d`` (slow %D) are NaN until
    ``fastk_period + slowk_period + slowd_period - 2`` bars. Equals the bulk ``stochastic``
    bit for bit.

    Parameters
    ----------
    fastk_period
        Window of the highest high and lowest low, at least 1.
    slowk_period, slowd_period
        SMA periods smoothing raw %K into slow %K, and slow %K into slow %D.

    Raises
    ------
    InvalidValueError
        If a period is below 1.
    """

    __slots__ = (
        "_raw_k",
        "_slow_d",
        "_slow_k",
        "count",
        "d",
        "fastk_period",
        "initialized",
        "k",
        "slowd_period",
        "slowk_period",
        "value",
    )

    value: float
    k: float
    d: float
    initialized: bool
    count: int
    fastk_period: int
    slowk_period: int
    slowd_period: int

    def __init__(self, fastk_period: int = 5, slowk_period: int = 3, slowd_period: int = 3) -> None:
        self.fastk_period = check_period("Stochastic", "fastk_period", fastk_period)
        self.slowk_period = check_period("Stochastic", "slowk_period", slowk_period)
        self.slowd_period = check_period("Stochastic", "slowd_period", slowd_period)
        self._raw_k = _RawK(self.fastk_period)
        self._slow_k = SMA(self.slowk_period)
        self._slow_d = SMA(self.slowd_period)
        self.reset()

    def __repr__(self) -> str:
        return (
            f"Stochastic(fastk_period={self.fastk_period}, slowk_period={self.slowk_period}, "
            f"slowd_period={self.slowd_period})"
        )

    def reset(self) -> None:
        """Forget every input."""
        self.value = _NAN
        self.k = _NAN
        self.d = _NAN
        self.initialized = False
        self.count = 0
        self._raw_k.reset()
        self._slow_k.reset()
        self._slow_d.reset()

    def update(self, high: float, low: float, close: float) -> None:
        """Add one bar's high, low and close.

        Raises
        ------
        DataIntegrityError
            If a value is NaN or infinite.
        """
        if high - high != 0.0 or low - low != 0.0 or close - close != 0.0:
            raise non_finite_input(self, next(v for v in (high, low, close) if v - v != 0.0))
        self.count += 1
        raw_k = self._raw_k.push(high, low, close)
        if raw_k != raw_k:
            return
        slow_k = self._slow_k
        slow_k.update(raw_k)
        if not slow_k.initialized:
            return
        slow_d = self._slow_d
        slow_d.update(slow_k.value)
        if slow_d.initialized:
            self.k = self.value = slow_k.value
            self.d = slow_d.value
            self.initialized = True

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's high, low and close (as ``float(price)``)."""
        high, low, close = bar_hlc(bar)
        self.update(high, low, close)


class StochasticFast:
    """Fast stochastic oscillator (TA-Lib STOCHF, SMA smoothing), updated one bar at a time.

    ``k`` (raw %K, also ``value``) and ``d`` (%D) are NaN until ``fastk_period +
    fastd_period - 1`` bars. Equals the bulk ``stochastic_fast`` bit for bit.

    Parameters
    ----------
    fastk_period
        Window of the highest high and lowest low, at least 1.
    fastd_period
        SMA period of %D, at least 1.

    Raises
    ------
    InvalidValueError
        If a period is below 1.
    """

    __slots__ = (
        "_fast_d",
        "_raw_k",
        "count",
        "d",
        "fastd_period",
        "fastk_period",
        "initialized",
        "k",
        "value",
    )

    value: float
    k: float
    d: float
    initialized: bool
    count: int
    fastk_period: int
    fastd_period: int

    def __init__(self, fastk_period: int = 5, fastd_period: int = 3) -> None:
        self.fastk_period = check_period("StochasticFast", "fastk_period", fastk_period)
        self.fastd_period = check_period("StochasticFast", "fastd_period", fastd_period)
        self._raw_k = _RawK(self.fastk_period)
        self._fast_d = SMA(self.fastd_period)
        self.reset()

    def __repr__(self) -> str:
        return f"StochasticFast(fastk_period={self.fastk_period}, fastd_period={self.fastd_period})"

    def reset(self) -> None:
        """Forget every input."""
        self.value = _NAN
        self.k = _NAN
        self.d = _NAN
        self.initialized = False
        self.count = 0
        self._raw_k.reset()
        self._fast_d.reset()

    def update(self, high: float, low: float, close: float) -> None:
        """Add one bar's high, low and close.

        Raises
        ------
        DataIntegrityError
            If a value is NaN or infinite.
        """
        if high - high != 0.0 or low - low != 0.0 or close - close != 0.0:
            raise non_finite_input(self, next(v for v in (high, low, close) if v - v != 0.0))
        self.count += 1
        raw_k = self._raw_k.push(high, low, close)
        if raw_k != raw_k:
            return
        fast_d = self._fast_d
        fast_d.update(raw_k)
        if fast_d.initialized:
            self.k = self.value = raw_k
            self.d = fast_d.value
            self.initialized = True

    def handle_bar(self, bar: Bar) -> None:
        """Add the bar's high, low and close (as ``float(price)``)."""
        high, low, close = bar_hlc(bar)
        self.update(high, low, close)

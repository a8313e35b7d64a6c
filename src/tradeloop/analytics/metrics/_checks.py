"""Argument and input checks shared by the metrics; every error names the metric and the rule."""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import DataIntegrityError, InvalidValueError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# 1e-30: empyrical's floor below which a benchmark variance counts as zero (beta is NaN).
BETA_VARIANCE_FLOOR: Final = 1.0e-30


def as_series(metric: str, name: str, values: npt.ArrayLike, minimum: int) -> F64:
    """Return ``values`` as a one-dimensional float64 array of at least ``minimum`` finite values.

    Raises
    ------
    InvalidValueError
        If ``values`` is not one-dimensional or holds fewer than ``minimum`` values.
    DataIntegrityError
        If a value is NaN or infinite.
    """
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InvalidValueError(
            f"{metric} {name} has shape {array.shape}; metrics take one-dimensional series"
        )
    if len(array) < minimum:
        raise InvalidValueError(
            f"{metric} needs at least {minimum} {name} value{'s' if minimum > 1 else ''}; "
            f"got {len(array)}"
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        index = int(bad[0])
        raise DataIntegrityError(
            f"{metric} {name}[{index}] is {array[index]}; every value must be a finite number "
            "(drop or fill missing periods before computing metrics)"
        )
    return array


def as_returns(metric: str, returns: npt.ArrayLike, minimum: int, name: str = "returns") -> F64:
    """Return simple returns as float64 after the checks of ``as_series`` and ``returns >= -1``.

    Raises
    ------
    InvalidValueError
        If ``returns`` is not one-dimensional or holds fewer than ``minimum`` values.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    array = as_series(metric, name, returns, minimum)
    below = np.flatnonzero(array < -1.0)
    if below.size:
        index = int(below[0])
        raise DataIntegrityError(
            f"{metric} {name}[{index}] is {array[index]}; a simple return below -1 would take "
            "equity below zero"
        )
    return array


def as_equity(metric: str, equity: npt.ArrayLike, minimum: int, name: str = "equity") -> F64:
    """Return an equity curve as float64 after the checks of ``as_series`` and ``equity > 0``.

    Raises
    ------
    InvalidValueError
        If ``equity`` is not one-dimensional or holds fewer than ``minimum`` values.
    DataIntegrityError
        If a value is NaN, infinite, zero or negative.
    """
    array = as_series(metric, name, equity, minimum)
    bad = np.flatnonzero(array <= 0.0)
    if bad.size:
        index = int(bad[0])
        raise DataIntegrityError(
            f"{metric} {name}[{index}] is {array[index]}; equity must be above zero for "
            "returns to be defined"
        )
    return array


def as_timestamps(metric: str, ts_ns: npt.ArrayLike, length: int, name: str = "ts_ns") -> I64:
    """Return nanosecond timestamps as int64, checked to be strictly increasing and ``length`` long.

    Raises
    ------
    InvalidValueError
        If ``ts_ns`` is not a one-dimensional integer array of ``length`` values.
    DataIntegrityError
        If a timestamp is not after the one before it.
    """
    array = np.asarray(ts_ns)
    if array.ndim != 1 or not (array.dtype.kind in "iu" or array.size == 0):
        raise InvalidValueError(
            f"{metric} {name} must be a one-dimensional integer array of nanoseconds; "
            f"got dtype {array.dtype} and shape {array.shape}"
        )
    array = np.ascontiguousarray(array, dtype=np.int64)
    if len(array) != length:
        raise InvalidValueError(
            f"{metric} {name} has {len(array)} values but the series has {length}; "
            "give one timestamp per value"
        )
    bad = np.flatnonzero(np.diff(array) <= 0)
    if bad.size:
        index = int(bad[0]) + 1
        raise DataIntegrityError(
            f"{metric} {name}[{index}] is {int(array[index])}, not after {name}[{index - 1}] "
            f"= {int(array[index - 1])}; timestamps must be strictly increasing"
        )
    return array


def same_length(metric: str, **series: F64) -> None:
    """Check that every series has the same length.

    Raises
    ------
    InvalidValueError
        If the lengths differ.
    """
    lengths = {name: len(array) for name, array in series.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidValueError(
            f"{metric} inputs have different lengths {lengths}; align them on the same periods"
        )


def periods_per_year(metric: str, value: float) -> float:
    """Return ``value`` as a float after checking it is finite and above zero.

    Raises
    ------
    InvalidValueError
        If ``value`` is not a finite number above zero.
    """
    number = float(value)
    if not 0.0 < number < math.inf:
        raise InvalidValueError(
            f"{metric} periods_per_year {value!r} is invalid; it must be a finite number above 0 "
            "(252 for trading days, 365 for calendar days, 52 weekly, 12 monthly)"
        )
    return number


def cutoff(metric: str, value: float) -> float:
    """Return the tail probability ``value`` after checking it lies in [0, 1].

    Raises
    ------
    InvalidValueError
        If ``value`` is outside [0, 1] or NaN.
    """
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise InvalidValueError(
            f"{metric} cutoff {value!r} is invalid; it is a tail probability in [0, 1] "
            "(0.05 for the worst 5 % of periods)"
        )
    return number


def rate(metric: str, name: str, value: float | npt.ArrayLike, length: int) -> float | F64:
    """Return a per-period rate: a finite float, or a finite array of ``length`` values.

    Raises
    ------
    InvalidValueError
        If an array rate does not have ``length`` values.
    DataIntegrityError
        If the rate is NaN or infinite.
    """
    if isinstance(value, int | float | np.floating | np.integer):
        number = float(value)
        if not math.isfinite(number):
            raise InvalidValueError(f"{metric} {name} {value!r} is not a finite number")
        return number
    array = as_series(metric, name, value, 0)
    if len(array) != length:
        raise InvalidValueError(
            f"{metric} {name} has {len(array)} values but the returns have {length}; "
            "give one rate per period or a single number"
        )
    return array


def finite_or_none(value: float) -> float | None:
    """Return ``value`` as a float, or None when it is NaN or infinite (JSON has neither)."""
    number = float(value)
    return number if math.isfinite(number) else None

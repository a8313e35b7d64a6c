"""Shared pieces of the indicators: parameter and input checks, the numba decorator, the bar port.

Numeric contract shared by every indicator
------------------------------------------
- A bulk function and its incremental class perform the same IEEE-754 double operations in
  the same order, so their outputs are bit-identical (NaN where the other is NaN).
  ``fastmath`` is off in every kernel: no reassociation and no fused multiply-add, which
  would round differently from CPython's float arithmetic.
- Bulk functions skip *leading* NaNs (another indicator's warm-up, for example), as TA-Lib's
  Python wrapper does: the output is NaN there and the warm-up starts at the first number.
  A NaN or an infinity after that raises ``DataIntegrityError``; so does any non-finite
  input to an incremental ``update``.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, Final, Literal, Protocol, TypeVar, cast, get_args

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import DataIntegrityError, InvalidValueError
from tradeloop.core.fixed import pow10
from tradeloop.model.data import Bar

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

PriceField = Literal["open", "high", "low", "close"]
"""The bar price an indicator with a single input reads in ``handle_bar``."""

PRICE_FIELDS: Final[tuple[str, ...]] = get_args(PriceField)

# 10**precision for Price -> float, the same expression as Price.__float__ (raw / 10**precision).
POW10: Final[tuple[int, ...]] = tuple(pow10(i) for i in range(45))

RESEED_FACTOR: Final = 8
"""Running sums that drift (WMA, rolling variance) are rebuilt from the window every
``RESEED_FACTOR * period`` outputs, which bounds the rounding error whatever the length."""

NEUTRAL: Final = 50.0
"""RSI and stochastic %K when the ratio is 0/0 (no movement, or a flat range)."""

_Kernel = TypeVar("_Kernel", bound=Callable[..., Any])


def njit_kernel(func: _Kernel) -> _Kernel:
    """Return ``func`` compiled by numba (cached on disk, no fastmath), keeping its signature."""
    # fastmath=False keeps IEEE semantics (no reassociation, no FMA contraction), so a kernel
    # and its pure-Python twin round identically. numba is imported here, when the kernels
    # module is first used, so the event loop never pays for it.
    import numba

    return cast(_Kernel, numba.njit(cache=True, fastmath=False, nogil=True)(func))


class BarIndicator(Protocol):
    """An indicator the event loop feeds one bar at a time.

    ``value`` is NaN until ``initialized``; ``count`` is the number of inputs taken since the
    last ``reset``.
    """

    value: float
    initialized: bool
    count: int

    def handle_bar(self, bar: Bar) -> None:
        """Update the indicator with ``bar``."""

    def reset(self) -> None:
        """Forget every input: back to the state right after construction."""


def check_period(indicator: str, name: str, value: int, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` after checking it is a whole number >= ``minimum``.

    Raises
    ------
    InvalidValueError
        If ``value`` is not an integer or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidValueError(
            f"{indicator} {name} {value!r} is not an integer; the {name} is a whole number of bars"
        )
    if value < minimum:
        raise InvalidValueError(
            f"{indicator} {name} {value} is invalid; the {name} must be at least {minimum}"
        )
    return int(value)


def check_positive_finite(indicator: str, name: str, value: float) -> float:
    """Return ``value`` as a float after checking it is finite and > 0.

    Raises
    ------
    InvalidValueError
        If ``value`` is NaN, infinite, zero or negative.
    """
    number = float(value)
    if not 0.0 < number < float("inf"):
        raise InvalidValueError(
            f"{indicator} {name} {value!r} is invalid; the {name} must be a finite number above 0"
        )
    return number


def check_non_negative_finite(indicator: str, name: str, value: float) -> float:
    """Return ``value`` as a float after checking it is finite and >= 0.

    Raises
    ------
    InvalidValueError
        If ``value`` is NaN, infinite or negative.
    """
    number = float(value)
    if not 0.0 <= number < float("inf"):
        raise InvalidValueError(
            f"{indicator} {name} {value!r} is invalid; "
            f"the {name} must be a finite number, 0 or above"
        )
    return number


def price_reader(indicator: str, field: str) -> Callable[[Bar], tuple[int, int]]:
    """Return a function giving ``(raw, precision)`` of the bar price ``field``.

    Raises
    ------
    InvalidValueError
        If ``field`` is not one of open, high, low or close.
    """
    if field not in PRICE_FIELDS:
        raise InvalidValueError(
            f"{indicator} field {field!r} is unknown; choose one of {', '.join(PRICE_FIELDS)}"
        )
    return cast(Callable[[Bar], tuple[int, int]], attrgetter(f"{field}_raw", "price_precision"))


def bar_hlc(bar: Bar) -> tuple[float, float, float]:
    """Return the bar's high, low and close as floats (``float(price)``)."""
    scale = POW10[bar.price_precision]
    return bar.high_raw / scale, bar.low_raw / scale, bar.close_raw / scale


def non_finite_input(indicator: object, value: float) -> DataIntegrityError:
    """Return the error for a NaN or infinite input to an incremental indicator."""
    return DataIntegrityError(
        f"{indicator!r} received {value!r}; indicator inputs must be finite numbers "
        "(quarantine bad rows before they reach an indicator)"
    )


def as_float_array(indicator: str, name: str, values: npt.ArrayLike) -> F64:
    """Return ``values`` as a contiguous one-dimensional float64 array.

    Raises
    ------
    InvalidValueError
        If ``values`` is not one-dimensional.
    """
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InvalidValueError(
            f"{indicator} {name} has shape {array.shape}; indicators take one-dimensional series"
        )
    return array


def check_same_length(indicator: str, **series: F64) -> None:
    """Check that every series has the same length.

    Raises
    ------
    InvalidValueError
        If the lengths differ.
    """
    lengths = {name: len(array) for name, array in series.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidValueError(f"{indicator} inputs have different lengths: {lengths}")


def finite_start(indicator: str, **series: F64) -> int:
    """Return the index after the leading NaNs of every series; check all later values are finite.

    Raises
    ------
    DataIntegrityError
        If a series holds a NaN or an infinity after its first number, or starts with an
        infinity.
    """
    start = 0
    for array in series.values():
        missing = np.isnan(array)
        first = len(array) if missing.all() else int(np.argmin(missing))
        start = max(start, first)
    for name, array in series.items():
        bad = np.flatnonzero(~np.isfinite(array[start:]))
        if bad.size:
            index = start + int(bad[0])
            raise DataIntegrityError(
                f"{indicator} input {name}[{index}] is {array[index]}; only leading NaNs are "
                "skipped, every later value must be a finite number"
            )
    return start


def pad_front(tail: F64, start: int) -> F64:
    """Return ``tail`` preceded by ``start`` NaNs (``tail`` itself when ``start`` is 0)."""
    if start == 0:
        return tail
    out = np.full(start + len(tail), np.nan)
    out[start:] = tail
    return out

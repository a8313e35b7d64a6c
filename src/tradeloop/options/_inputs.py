"""Input handling shared by the public functions: broadcasting, option types, reason codes.

One rule for every function of the package: when every input is a scalar (and the option
type a string) the call is *scalar* and a rule broken raises :class:`OptionInputError`; when
any input is an array the call is *vectorised*, and a contract that breaks a rule gets NaN
and its :class:`Reason` code (see ``with_reason``) while the others are computed.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tradeloop.core.errors import InvalidValueError
from tradeloop.options import _kernels as kernels

MODELS = {
    "bsm": kernels.MODEL_BSM,
    "black76": kernels.MODEL_BLACK76,
    "bachelier": kernels.MODEL_BACHELIER,
}


class OptionInputError(InvalidValueError):
    """A scalar call got an input that breaks a rule (the message names value and rule)."""


class Reason(IntEnum):
    """Why a vectorised result is NaN (0 = computed).

    ``NON_FINITE_INPUT`` NaN or infinite input; ``NON_POSITIVE_SPOT``/``_STRIKE`` spot or strike
    <= 0 (lognormal models); ``NON_POSITIVE_TIME`` t <= 0; ``NON_POSITIVE_VOL`` sigma <= 0;
    ``PRICE_BELOW_INTRINSIC`` a price below the discounted intrinsic value;
    ``PRICE_ABOVE_MAXIMUM`` a price at or above the upper no-arbitrage bound (discounted
    forward for a call, discounted strike for a put); ``PRICE_AT_INTRINSIC`` a price equal to
    its intrinsic value within a few ulps of the price (no time value left in the digits: the
    volatility is not determined);
    ``NOT_CONVERGED`` the solver stopped without converging (a bug: please report it);
    ``NON_POSITIVE_PRICE`` a price <= 0; ``PRICE_UNDERFLOW`` a time value so small (normalised
    below 1e-300) that underflow has taken its digits, so it does not determine a volatility;
    ``TREE_PROBABILITY`` a binomial tree's up probability is outside (0, 1) (too few steps for
    the rates and vol).
    """

    OK = kernels.OK
    NON_FINITE_INPUT = kernels.NON_FINITE_INPUT
    NON_POSITIVE_SPOT = kernels.NON_POSITIVE_SPOT
    NON_POSITIVE_STRIKE = kernels.NON_POSITIVE_STRIKE
    NON_POSITIVE_TIME = kernels.NON_POSITIVE_TIME
    NON_POSITIVE_VOL = kernels.NON_POSITIVE_VOL
    PRICE_BELOW_INTRINSIC = kernels.PRICE_BELOW_INTRINSIC
    PRICE_ABOVE_MAXIMUM = kernels.PRICE_ABOVE_MAXIMUM
    PRICE_AT_INTRINSIC = kernels.PRICE_AT_INTRINSIC
    NOT_CONVERGED = kernels.NOT_CONVERGED
    NON_POSITIVE_PRICE = kernels.NON_POSITIVE_PRICE
    PRICE_UNDERFLOW = kernels.PRICE_UNDERFLOW
    TREE_PROBABILITY = kernels.TREE_PROBABILITY


_RULES = {
    Reason.NON_FINITE_INPUT: "every input must be finite",
    Reason.NON_POSITIVE_SPOT: "spot must be > 0",
    Reason.NON_POSITIVE_STRIKE: "strike must be > 0",
    Reason.NON_POSITIVE_TIME: "t (years to expiry) must be > 0",
    Reason.NON_POSITIVE_VOL: "sigma must be > 0",
    Reason.PRICE_BELOW_INTRINSIC: "price must be above the discounted intrinsic value",
    Reason.PRICE_ABOVE_MAXIMUM: "price must be below the discounted forward (call) or strike (put)",
    Reason.PRICE_AT_INTRINSIC: "price equals the intrinsic value, so no volatility is implied",
    Reason.NOT_CONVERGED: "the solver did not converge",
    Reason.NON_POSITIVE_PRICE: "price must be > 0",
    Reason.PRICE_UNDERFLOW: "the time value underflows double precision (normalised < 1e-300)",
    Reason.TREE_PROBABILITY: "the tree's up probability must be in (0, 1): use more steps",
}


def model_code(model: str) -> int:
    """Return the kernel code of a model name, or raise naming the choices."""
    code = MODELS.get(model)
    if code is None:
        raise OptionInputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    return code


def option_signs(option_type: ArrayLike) -> NDArray[np.int8]:
    """Return +1 for "call", -1 for "put" (case-insensitive), or raise naming the value.

    An integer array of +1 (call) and -1 (put) is taken as it is (the fast path for
    millions of contracts).
    """
    types = np.asarray(option_type)
    if types.dtype.kind in "iu":
        if not ((types == 1) | (types == -1)).all():
            raise OptionInputError("option_type codes must be +1 (call) or -1 (put)")
        codes: NDArray[np.int8] = types if types.dtype == np.int8 else types.astype(np.int8)
        return codes
    if types.dtype.kind not in "UO":
        raise OptionInputError(f"option_type {option_type!r} must be 'call' or 'put'")
    is_call = types == "call"
    is_put = types == "put"
    bad = ~(is_call | is_put)
    if bad.any():
        lowered = np.char.lower(types.astype(str))
        is_call = lowered == "call"
        is_put = lowered == "put"
        bad = ~(is_call | is_put)
        if bad.any():
            first = types.reshape(-1)[int(np.argmax(bad.reshape(-1)))]
            raise OptionInputError(f"option_type '{first}' must be 'call' or 'put'")
    return np.where(is_call, 1, -1).astype(np.int8)


def is_scalar_call(*values: Any) -> bool:
    """Return True when every value is a scalar (the scalar API: errors raise)."""
    return all(np.ndim(value) == 0 for value in values)


def broadcast(
    signs: NDArray[np.int8], *values: ArrayLike
) -> tuple[tuple[int, ...], NDArray[np.int8], list[NDArray[np.float64]]]:
    """Broadcast the inputs together; return the shape and flat contiguous copies."""
    arrays = [np.asarray(value, dtype=np.float64) for value in values]
    try:
        shape = np.broadcast_shapes(signs.shape, *(array.shape for array in arrays))
    except ValueError as error:
        raise OptionInputError(f"inputs do not broadcast together: {error}") from None
    flat = [np.ascontiguousarray(np.broadcast_to(array, shape)).reshape(-1) for array in arrays]
    flat_signs = np.ascontiguousarray(np.broadcast_to(signs, shape)).reshape(-1)
    return shape, flat_signs, flat


def raise_for(reason: int, names: dict[str, float]) -> None:
    """Raise the scalar API's error for a non-zero reason code, naming the values."""
    if reason == Reason.OK:
        return
    code = Reason(reason)
    shown = ", ".join(f"{name}={value!r}" for name, value in names.items())
    raise OptionInputError(f"{_RULES[code]} ({code.name}): got {shown}")

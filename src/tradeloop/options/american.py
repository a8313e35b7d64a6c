"""American options on a spot with continuous dividend yield: trees and approximations.

Methods (``method=``):

- ``"crr"`` Cox–Ross–Rubinstein binomial tree with ``steps`` steps; reproduces Hull's trees.
- ``"leisen_reimer"`` Leisen–Reimer binomial tree (Peizer–Pratt method 2; an even ``steps``
  is raised to the next odd number): converges as 1/steps², the accurate choice.
- ``"baw"`` Barone-Adesi–Whaley (1987) quadratic approximation: fast, analytic.
- ``"bjerksund_stensland"`` Bjerksund–Stensland (2002) approximation (two-step boundary);
  ``"bjerksund_stensland_1993"`` the original flat boundary, QuantLib's engine.

Conventions are those of :mod:`tradeloop.options.european` (``t`` in years of the caller's
day count, QuantLib's units for Greeks, scalar calls raise and vectorised calls give NaN with
a :class:`~tradeloop.options.Reason`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tradeloop.options import _american_kernels as kernels
from tradeloop.options._inputs import (
    OptionInputError,
    broadcast,
    is_scalar_call,
    option_signs,
    raise_for,
)
from tradeloop.options._kernels import PARALLEL_MIN

FloatArray = NDArray[np.float64]
ValueT = TypeVar("ValueT", float, FloatArray)

METHODS = {
    "crr": kernels.METHOD_CRR,
    "leisen_reimer": kernels.METHOD_LEISEN_REIMER,
    "baw": kernels.METHOD_BAW,
    "bjerksund_stensland": kernels.METHOD_BJERKSUND_STENSLAND,
    "bjerksund_stensland_1993": kernels.METHOD_BJERKSUND_STENSLAND_1993,
}
DEFAULT_STEPS = 801


@dataclass(frozen=True, slots=True)
class AmericanGreeks(Generic[ValueT]):
    """Price and first-order Greeks (plus gamma) of American options, QuantLib's units.

    Trees give ``delta`` and ``gamma`` from their nodes at steps 1 and 2, and the CRR tree
    ``theta`` from the middle node of step 2 (Hull's method). Everything else is a central
    finite difference of the same method's price: ``theta`` (calendar time, per year) for
    the other methods, ``vega``, ``rho`` and ``dividend_rho`` (per 1.00) for all, ``delta``
    and ``gamma`` for the approximations.
    """

    price: ValueT
    delta: ValueT
    gamma: ValueT
    theta: ValueT
    vega: ValueT
    rho: ValueT
    dividend_rho: ValueT


def _method_code(method: str, steps: int) -> int:
    code = METHODS.get(method)
    if code is None:
        raise OptionInputError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if code in (kernels.METHOD_CRR, kernels.METHOD_LEISEN_REIMER) and steps < 2:
        raise OptionInputError(f"steps {steps!r} must be >= 2 for a tree")
    return code


def _run(
    method: str,
    steps: int,
    option_type: ArrayLike,
    values: tuple[ArrayLike, ...],
) -> tuple[tuple[int, ...], FloatArray, NDArray[np.int8]]:
    code = _method_code(method, steps)
    signs = option_signs(option_type)
    shape, flat_signs, flat = broadcast(signs, *values)
    n = flat[0].shape[0]
    out = np.empty((4, n))
    reason = np.empty(n, dtype=np.int8)
    spot, strike, t, r, q, sigma = flat
    run = kernels.american_kernel if n >= PARALLEL_MIN else kernels.american_serial
    run(code, flat_signs, spot, strike, t, r, q, sigma, steps, out, reason)
    return shape, out, reason


@overload
def american_price(
    *,
    spot: float,
    strike: float,
    t: float,
    r: float,
    q: float,
    sigma: float,
    option_type: str,
    method: str = ...,
    steps: int = ...,
) -> float: ...
@overload
def american_price(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    method: str = ...,
    steps: int = ...,
) -> FloatArray: ...
def american_price(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    method: str = "baw",
    steps: int = DEFAULT_STEPS,
) -> float | FloatArray:
    """Return the price of American options.

    Parameters
    ----------
    spot, strike, t, r, q, sigma : float or array_like
        As :func:`tradeloop.options.price` (model ``bsm``); broadcast together.
    option_type : {"call", "put"} or array_like of them (or +1/-1 codes)
    method : {"baw", "bjerksund_stensland", "bjerksund_stensland_1993", "crr", "leisen_reimer"}
    steps : int
        Time steps of a tree (ignored by the approximations); Leisen–Reimer uses the next
        odd number.

    Returns
    -------
    float or ndarray
        A float for a scalar call, else an array of the broadcast shape (NaN where a
        contract breaks a rule; a tree whose up probability leaves (0, 1) because it has too
        few steps for the rates is NaN too).

    Raises
    ------
    OptionInputError
        In a scalar call: spot, strike, t or sigma <= 0, a NaN/infinite input, or too few
        steps for the rates; in any call: an unknown method or option type, ``steps`` < 2
        for a tree.

    Examples
    --------
    Hull's five-step tree for an American put (S = K = 50, r = 10 %, sigma = 40 %, 5 months):

    >>> round(american_price(spot=50.0, strike=50.0, t=5 / 12, r=0.10, q=0.0, sigma=0.40,
    ...                      option_type="put", method="crr", steps=5), 2)
    4.49
    """
    values = (spot, strike, t, r, q, sigma)
    shape, out, reason = _run(method, steps, option_type, values)
    if is_scalar_call(*values, option_type):
        _raise(int(reason[0]), values)
        return float(out[0, 0])
    values_out: FloatArray = out[0].reshape(shape)
    return values_out


@overload
def american_greeks(
    *,
    spot: float,
    strike: float,
    t: float,
    r: float,
    q: float,
    sigma: float,
    option_type: str,
    method: str = ...,
    steps: int = ...,
) -> AmericanGreeks[float]: ...
@overload
def american_greeks(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    method: str = ...,
    steps: int = ...,
) -> AmericanGreeks[FloatArray]: ...
def american_greeks(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    method: str = "baw",
    steps: int = DEFAULT_STEPS,
) -> AmericanGreeks[float] | AmericanGreeks[FloatArray]:
    """Return the price and Greeks of American options (see :class:`AmericanGreeks`).

    Parameters and errors are those of :func:`american_price`. Bumps: vol 1e-4, rates 1e-5,
    time ``min(1e-3, t/4)`` years, spot 1e-4 relative (approximations only).

    Examples
    --------
    >>> g = american_greeks(spot=50.0, strike=50.0, t=5 / 12, r=0.10, q=0.0, sigma=0.40,
    ...                     option_type="put", method="crr", steps=5)
    >>> round(g.delta, 2), round(g.gamma, 2), round(g.theta, 2)
    (-0.41, 0.03, -4.3)
    """
    values = (spot, strike, t, r, q, sigma)
    shape, out, reason = _run(method, steps, option_type, values)
    scalar = is_scalar_call(*values, option_type)
    if scalar:
        _raise(int(reason[0]), values)
    spot_a, strike_a, t_a, r_a, q_a, sigma_a = (np.asarray(v, dtype=np.float64) for v in values)

    def priced(**bumped: FloatArray) -> FloatArray:
        arguments = {
            "spot": spot_a,
            "strike": strike_a,
            "t": t_a,
            "r": r_a,
            "q": q_a,
            "sigma": sigma_a,
            **bumped,
        }
        ordered = tuple(arguments[k] for k in ("spot", "strike", "t", "r", "q", "sigma"))
        result: FloatArray = _run(method, steps, option_type, ordered)[1][0].reshape(shape)
        return result

    def central(name: str, base: FloatArray, step: FloatArray | float) -> FloatArray:
        up = priced(**{name: base + step})
        down = priced(**{name: base - step})
        result: FloatArray = (up - down) / (2.0 * np.asarray(step))
        return result

    price = out[0].reshape(shape)
    vega = central("sigma", sigma_a, 1e-4)
    rho = central("r", r_a, 1e-5)
    dividend_rho = central("q", q_a, 1e-5)
    if METHODS[method] == kernels.METHOD_CRR:
        delta, gamma, theta = (out[row].reshape(shape) for row in (1, 2, 3))
    else:
        time_step = np.minimum(1e-3, t_a / 4.0)
        theta = -central("t", t_a, time_step)
        if METHODS[method] == kernels.METHOD_LEISEN_REIMER:
            delta, gamma = out[1].reshape(shape), out[2].reshape(shape)
        else:
            spot_step = 1e-4 * spot_a
            up = priced(spot=spot_a + spot_step)
            down = priced(spot=spot_a - spot_step)
            delta = (up - down) / (2.0 * spot_step)
            gamma = (up - 2.0 * price + down) / (spot_step * spot_step)
    fields = (price, delta, gamma, theta, vega, rho, dividend_rho)
    if scalar:
        return AmericanGreeks(*(float(np.asarray(field).reshape(-1)[0]) for field in fields))
    return AmericanGreeks(*(np.broadcast_to(field, shape).copy() for field in fields))


def _raise(reason: int, values: tuple[ArrayLike, ...]) -> None:
    names = ("spot", "strike", "t", "r", "q", "sigma")
    raise_for(reason, {name: float(np.asarray(v)) for name, v in zip(names, values, strict=True)})

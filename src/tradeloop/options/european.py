"""European options: prices, closed-form Greeks to third order, implied volatility.

Conventions, the same for every function of ``tradeloop.options``:

- ``t`` is the time to expiry in years, in the caller's day count (ACT/365, trading days/252,
  …): the functions never look at dates. ``r`` and ``q`` are continuously compounded rates per
  year in the same time unit, ``sigma`` the volatility per sqrt(year).
- Greeks are in QuantLib's units: vega and the rhos per 1.00 (not per 1 %) of vol or rate,
  theta per year (divide by 365 for a calendar day). Theta, charm, veta and color are
  derivatives with respect to calendar time (minus the derivative in ``t``).
- Models: ``"bsm"`` Black–Scholes–Merton on a spot with continuous dividend yield ``q``;
  ``"black76"`` on a forward: ``spot`` is the forward, discounted at ``r``, ``q`` is not used
  (its dividend rho is 0, its rho is ``-t * price`` at a fixed forward); ``"bachelier"``
  normal model on the forward ``spot * exp((r - q) t)`` with ``sigma`` the normal volatility
  in price units per sqrt(year) (spot and strike may be <= 0 there).
- Scalar call (every input a scalar, ``option_type`` a string): a broken rule raises
  :class:`~tradeloop.options.OptionInputError`. Vectorised call (any input an array; NumPy
  broadcasting): a contract that breaks a rule gets NaN and a
  :class:`~tradeloop.options.Reason` code, returned with ``with_reason=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tradeloop.options import _implied
from tradeloop.options import _kernels as kernels
from tradeloop.options._inputs import (
    broadcast,
    is_scalar_call,
    model_code,
    option_signs,
    raise_for,
)

FloatArray = NDArray[np.float64]
ReasonArray = NDArray[np.int8]
ValueT = TypeVar("ValueT", float, FloatArray)


@dataclass(frozen=True, slots=True)
class Greeks(Generic[ValueT]):
    """Price and Greeks of European options (floats for a scalar call, else arrays).

    First order: ``delta`` dV/dS, ``vega`` dV/dsigma, ``theta`` dV/d(calendar time) per year,
    ``rho`` dV/dr, ``dividend_rho`` dV/dq, ``elasticity`` delta S / V (NaN where the price
    underflows to 0). Second order: ``gamma`` d2V/dS2, ``vanna`` d2V/dS dsigma, ``volga``
    (vomma) d2V/dsigma2, ``charm`` d(delta)/d(calendar time), ``veta`` d(vega)/d(calendar
    time). Third order: ``speed`` d3V/dS3, ``zomma`` d(gamma)/dsigma, ``color``
    d(gamma)/d(calendar time), ``ultima`` d3V/dsigma3. With ``order`` < 3 the fields above
    the order asked for are NaN (one shared read-only array; ``gamma`` comes with
    ``order=1``: it costs nothing more).
    """

    price: ValueT
    delta: ValueT
    gamma: ValueT
    vega: ValueT
    theta: ValueT
    rho: ValueT
    dividend_rho: ValueT
    elasticity: ValueT
    vanna: ValueT
    volga: ValueT
    charm: ValueT
    veta: ValueT
    speed: ValueT
    zomma: ValueT
    color: ValueT
    ultima: ValueT

    @property
    def vomma(self) -> ValueT:
        """Return ``volga`` (another name for d2V/dsigma2)."""
        return self.volga


@overload
def price(
    *,
    spot: float,
    strike: float,
    t: float,
    r: float,
    q: float,
    sigma: float,
    option_type: str,
    model: str = ...,
    with_reason: Literal[False] = ...,
) -> float: ...
@overload
def price(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    model: str = ...,
    with_reason: Literal[False] = ...,
) -> FloatArray: ...
@overload
def price(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    model: str = ...,
    with_reason: Literal[True],
) -> tuple[FloatArray, ReasonArray]: ...
def price(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    model: str = "bsm",
    with_reason: bool = False,
) -> float | FloatArray | tuple[FloatArray, ReasonArray]:
    """Return the price of European options.

    Parameters
    ----------
    spot, strike, t, r, q, sigma : float or array_like
        Spot (the forward for ``black76``), strike, years to expiry (caller's day count),
        risk-free rate, dividend yield, volatility; broadcast together.
    option_type : {"call", "put"} or array_like of them
    model : {"bsm", "black76", "bachelier"}
    with_reason : bool
        Also return the :class:`Reason` codes (vectorised semantics even for scalars).

    Returns
    -------
    float or ndarray
        A float for a scalar call, else an array of the broadcast shape (NaN where a
        contract breaks a rule).

    Raises
    ------
    OptionInputError
        In a scalar call: spot, strike, t or sigma <= 0 (spot and strike may be any finite
        number under ``bachelier``) or a NaN/infinite input; in any call: an unknown model
        or option type, or inputs that do not broadcast.

    Examples
    --------
    >>> round(price(spot=100.0, strike=100.0, t=1.0, r=0.05, q=0.0, sigma=0.2,
    ...             option_type="call"), 6)
    10.450584
    """
    code = model_code(model)
    signs = option_signs(option_type)
    shape, flat_signs, (s, k, tt, rr, qq, vol) = broadcast(signs, spot, strike, t, r, q, sigma)
    out = np.empty(s.shape[0])
    reason = np.empty(s.shape[0], dtype=np.int8)
    run = kernels.price_kernel if s.shape[0] >= kernels.PARALLEL_MIN else kernels.price_serial
    run(code, flat_signs, s, k, tt, rr, qq, vol, out, reason)
    if with_reason:
        return out.reshape(shape), reason.reshape(shape)
    if is_scalar_call(spot, strike, t, r, q, sigma, option_type):
        raise_for(int(reason[0]), _names(spot, strike, t, r, q, sigma=sigma))
        return float(out[0])
    return out.reshape(shape)


@overload
def greeks(
    *,
    spot: float,
    strike: float,
    t: float,
    r: float,
    q: float,
    sigma: float,
    option_type: str,
    model: str = ...,
    order: int = ...,
) -> Greeks[float]: ...
@overload
def greeks(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    model: str = ...,
    order: int = ...,
) -> Greeks[FloatArray]: ...
def greeks(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    sigma: ArrayLike,
    option_type: ArrayLike,
    model: str = "bsm",
    order: int = 3,
) -> Greeks[float] | Greeks[FloatArray]:
    """Return the price and closed-form Greeks of European options, to third order.

    Parameters are those of :func:`price`; ``order`` (1, 2 or 3) skips the higher orders
    (their fields are NaN) when only the first ones are needed. Units: vega and rhos per
    1.00, theta, charm, veta and color per year of calendar time (see :class:`Greeks`).

    Returns
    -------
    Greeks
        Floats for a scalar call, arrays of the broadcast shape otherwise (NaN where a
        contract breaks a rule; :func:`price` with ``with_reason=True`` gives the codes).

    Raises
    ------
    OptionInputError
        As :func:`price`; also for an ``order`` other than 1, 2 or 3.

    Examples
    --------
    >>> g = greeks(spot=100.0, strike=100.0, t=1.0, r=0.05, q=0.0, sigma=0.2,
    ...            option_type="call")
    >>> round(g.delta, 6), round(g.vega, 6)
    (0.636831, 37.524035)
    """
    if order not in (1, 2, 3):
        from tradeloop.options._inputs import OptionInputError

        raise OptionInputError(f"order {order!r} must be 1, 2 or 3")
    code = model_code(model)
    signs = option_signs(option_type)
    shape, flat_signs, (s, k, tt, rr, qq, vol) = broadcast(signs, spot, strike, t, r, q, sigma)
    n = s.shape[0]
    computed = {1: 8, 2: 12, 3: kernels.N_GREEKS}[order]
    out = np.empty((computed, n))
    reason = np.empty(n, dtype=np.int8)
    run = kernels.greeks_kernel if n >= kernels.PARALLEL_MIN else kernels.greeks_serial
    run(code, flat_signs, s, k, tt, rr, qq, vol, out, reason, order)
    if is_scalar_call(spot, strike, t, r, q, sigma, option_type):
        raise_for(int(reason[0]), _names(spot, strike, t, r, q, sigma=sigma))
        values = [float(row[0]) for row in out] + [np.nan] * (kernels.N_GREEKS - computed)
        return Greeks(*values)
    # the orders not asked for share one read-only NaN view: no memory, no writes
    skipped = np.broadcast_to(np.nan, shape)
    rows = [row.reshape(shape) for row in out] + [skipped] * (kernels.N_GREEKS - computed)
    return Greeks(*rows)


@overload
def implied_vol(
    *,
    price: float,
    spot: float,
    strike: float,
    t: float,
    r: float,
    q: float,
    option_type: str,
    model: str = ...,
    with_reason: Literal[False] = ...,
) -> float: ...
@overload
def implied_vol(
    *,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    option_type: ArrayLike,
    model: str = ...,
    with_reason: Literal[False] = ...,
) -> FloatArray: ...
@overload
def implied_vol(
    *,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    option_type: ArrayLike,
    model: str = ...,
    with_reason: Literal[True],
) -> tuple[FloatArray, ReasonArray]: ...
def implied_vol(
    *,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike,
    option_type: ArrayLike,
    model: str = "bsm",
    with_reason: bool = False,
) -> float | FloatArray | tuple[FloatArray, ReasonArray]:
    """Return the Black–Scholes–Merton (or Black-76) implied volatility of option prices.

    The solver follows Jäckel's "Let's Be Rational": normalised prices, reduction to an
    out-of-the-money call, a branch-wise transformed objective and Halley steps inside a
    bracket. Where the price carries vega in double precision the volatility is exact to a
    few ulps (relative error <= 1e-12 is the tested bound); a price outside the no-arbitrage
    bounds gets NaN (or raises in a scalar call), never a wrong number.

    Parameters
    ----------
    price : float or array_like
        Option premium (present value).
    spot, strike, t, r, q, option_type, model
        As :func:`price`; ``model`` is ``"bsm"`` or ``"black76"``.
    with_reason : bool
        Also return the :class:`Reason` codes (vectorised semantics even for scalars).

    Returns
    -------
    float or ndarray
        Volatility per sqrt(year).

    Raises
    ------
    OptionInputError
        In a scalar call: a price <= 0, at or below the discounted intrinsic value, or at or
        above the discounted forward (call) or strike (put); spot, strike or t <= 0; a
        NaN/infinite input. In any call: an unknown model or option type, ``"bachelier"``.

    Examples
    --------
    >>> round(implied_vol(price=10.450583572185579, spot=100.0, strike=100.0, t=1.0, r=0.05,
    ...                   q=0.0, option_type="call"), 12)
    0.2
    """
    code = model_code(model)
    if code == kernels.MODEL_BACHELIER:
        from tradeloop.options._inputs import OptionInputError

        raise OptionInputError("implied_vol supports model 'bsm' and 'black76', not 'bachelier'")
    signs = option_signs(option_type)
    shape, flat_signs, (p, s, k, tt, rr, qq) = broadcast(signs, price, spot, strike, t, r, q)
    out = np.empty(s.shape[0])
    reason = np.empty(s.shape[0], dtype=np.int8)
    parallel = s.shape[0] >= kernels.PARALLEL_MIN
    run = _implied.implied_vol_kernel if parallel else _implied.implied_vol_serial
    run(code, flat_signs, p, s, k, tt, rr, qq, out, reason)
    if with_reason:
        return out.reshape(shape), reason.reshape(shape)
    if is_scalar_call(price, spot, strike, t, r, q, option_type):
        names = _names(spot, strike, t, r, q, price=price)
        raise_for(int(reason[0]), names)
        return float(out[0])
    return out.reshape(shape)


def _names(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike, **more: ArrayLike
) -> dict[str, float]:
    values = {"spot": spot, "strike": strike, "t": t, "r": r, "q": q, **more}
    return {name: float(np.asarray(value)) for name, value in values.items()}

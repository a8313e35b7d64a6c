"""Numba kernels of the European models: input checks, prices and closed-form Greeks.

Private: the public, broadcasting API is ``tradeloop.options.european``. Every kernel takes
flat, equally long arrays (the caller broadcasts) and writes NaN plus a reason code where an
input breaks a rule, so one bad contract never spoils the others.

Models: 0 Black–Scholes–Merton on a spot with continuous dividend yield ``q`` (carry
``b = r - q``); 1 Black-76 on a forward (carry 0, ``q`` unused); 2 Bachelier (normal vol in
price units per sqrt(year)) on the forward ``spot * exp((r - q) t)``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

MODEL_BSM = 0
MODEL_BLACK76 = 1
MODEL_BACHELIER = 2

# Reason codes (tradeloop.options.Reason mirrors them).
OK = 0
NON_FINITE_INPUT = 1
NON_POSITIVE_SPOT = 2
NON_POSITIVE_STRIKE = 3
NON_POSITIVE_TIME = 4
NON_POSITIVE_VOL = 5
PRICE_BELOW_INTRINSIC = 6
PRICE_ABOVE_MAXIMUM = 7
PRICE_AT_INTRINSIC = 8
NOT_CONVERGED = 9
NON_POSITIVE_PRICE = 10
PRICE_UNDERFLOW = 11
TREE_PROBABILITY = 12

# Below this many contracts the serial twin of a kernel runs: waking the thread pool costs
# more than it saves, and far more when other processes hold the cores.
PARALLEL_MIN = 20_000

# Rows of the Greeks output, in this order.
GREEK_NAMES = (
    "price",
    "delta",
    "gamma",
    "vega",
    "theta",
    "rho",
    "dividend_rho",
    "elasticity",
    "vanna",
    "volga",
    "charm",
    "veta",
    "speed",
    "zomma",
    "color",
    "ultima",
)
N_GREEKS = len(GREEK_NAMES)

INV_SQRT_2PI = 0.3989422804014327
INV_SQRT2 = 0.7071067811865476


@numba.njit(cache=True, fastmath=False, nogil=True, inline="always")
def norm_cdf(x: float) -> float:
    # erfc keeps full relative precision in the lower tail
    return 0.5 * math.erfc(-x * INV_SQRT2)


@numba.njit(cache=True, fastmath=False, nogil=True, inline="always")
def norm_pdf(x: float) -> float:
    return INV_SQRT_2PI * math.exp(-0.5 * x * x)


@numba.njit(cache=True, fastmath=False, nogil=True)
def check_inputs(model: int, spot: float, strike: float, t: float, r: float, q: float,
                 sigma: float) -> int:  # fmt: skip
    if not (
        math.isfinite(spot)
        and math.isfinite(strike)
        and math.isfinite(t)
        and math.isfinite(r)
        and math.isfinite(q)
        and math.isfinite(sigma)
    ):
        return NON_FINITE_INPUT
    if model != MODEL_BACHELIER:
        if spot <= 0.0:
            return NON_POSITIVE_SPOT
        if strike <= 0.0:
            return NON_POSITIVE_STRIKE
    if t <= 0.0:
        return NON_POSITIVE_TIME
    if sigma <= 0.0:
        return NON_POSITIVE_VOL
    return OK


@numba.njit(cache=True, fastmath=False, nogil=True)
def carry(model: int, r: float, q: float) -> float:
    # cost of carry b: the drift of the underlying under the pricing measure
    if model == MODEL_BLACK76:
        return 0.0
    return r - q


@numba.njit(cache=True, fastmath=False, nogil=True)
def price_one(model: int, sign: int, spot: float, strike: float, t: float, r: float, q: float,
              sigma: float) -> float:  # fmt: skip
    b = carry(model, r, q)
    forward = spot * math.exp(b * t)
    discount = math.exp(-r * t)
    if model == MODEL_BACHELIER:
        stdev = sigma * math.sqrt(t)
        d = (forward - strike) / stdev
        return discount * (sign * (forward - strike) * norm_cdf(sign * d) + stdev * norm_pdf(d))
    stdev = sigma * math.sqrt(t)
    d1 = math.log(forward / strike) / stdev + 0.5 * stdev
    d2 = d1 - stdev
    return sign * discount * (forward * norm_cdf(sign * d1) - strike * norm_cdf(sign * d2))


@numba.njit(cache=True, fastmath=False, nogil=True)
def _price_at(i: int, model: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
              t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray, out: np.ndarray,
              reason: np.ndarray) -> None:  # fmt: skip
    code = check_inputs(model, spot[i], strike[i], t[i], r[i], q[i], sigma[i])
    reason[i] = code
    if code != OK:
        out[i] = np.nan
    else:
        out[i] = price_one(model, sign[i], spot[i], strike[i], t[i], r[i], q[i], sigma[i])


@numba.njit(cache=True, fastmath=False, nogil=True, parallel=True)
def price_kernel(model: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
                 t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray,
                 out: np.ndarray, reason: np.ndarray) -> None:  # fmt: skip
    for i in prange(out.shape[0]):
        _price_at(i, model, sign, spot, strike, t, r, q, sigma, out, reason)


@numba.njit(cache=True, fastmath=False, nogil=True)
def price_serial(model: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
                 t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray,
                 out: np.ndarray, reason: np.ndarray) -> None:  # fmt: skip
    for i in range(out.shape[0]):
        _price_at(i, model, sign, spot, strike, t, r, q, sigma, out, reason)


@numba.njit(cache=True, fastmath=False, nogil=True)
def lognormal_greeks(model: int, sign: int, spot: float, strike: float, t: float, r: float,
                     q: float, sigma: float, out: np.ndarray, i: int,
                     order: int) -> None:  # fmt: skip
    # Haug's generalised Black–Scholes with carry b; theta-like Greeks are d/d(calendar time),
    # i.e. minus the derivative in time to expiry.
    b = carry(model, r, q)
    sqrt_t = math.sqrt(t)
    stdev = sigma * sqrt_t
    forward = spot * math.exp(b * t)
    # d1 and the value exactly as price_one computes them (same bits)
    d1 = math.log(forward / strike) / stdev + 0.5 * stdev
    d2 = d1 - stdev
    carry_df = math.exp((b - r) * t)
    discount = math.exp(-r * t)
    pdf1 = norm_pdf(d1)
    cdf1 = norm_cdf(sign * d1)
    cdf2 = norm_cdf(sign * d2)
    value = sign * discount * (forward * cdf1 - strike * cdf2)
    delta = sign * carry_df * cdf1
    gamma = carry_df * pdf1 / (spot * stdev)
    vega = spot * carry_df * pdf1 * sqrt_t
    theta = (
        -spot * carry_df * pdf1 * sigma / (2.0 * sqrt_t)
        - sign * (b - r) * spot * carry_df * cdf1
        - sign * r * strike * discount * cdf2
    )
    if model == MODEL_BLACK76:
        rho = -t * value
        dividend_rho = 0.0
    else:
        rho = sign * t * strike * discount * cdf2
        dividend_rho = -sign * t * spot * carry_df * cdf1
    out[0, i] = value
    out[1, i] = delta
    out[2, i] = gamma
    out[3, i] = vega
    out[4, i] = theta
    out[5, i] = rho
    out[6, i] = dividend_rho
    out[7, i] = delta * spot / value if value > 0.0 else np.nan
    if order < 2:
        return
    dd1_dt = b / stdev - d2 / (2.0 * t)  # d(d1)/d(time to expiry)
    out[8, i] = -carry_df * pdf1 * d2 / sigma
    out[9, i] = vega * d1 * d2 / sigma
    out[10, i] = -carry_df * (pdf1 * dd1_dt + sign * (b - r) * cdf1)
    out[11, i] = vega * (r - b + b * d1 / stdev - (1.0 + d1 * d2) / (2.0 * t))
    if order < 3:
        return
    out[12, i] = -gamma * (1.0 + d1 / stdev) / spot
    out[13, i] = gamma * (d1 * d2 - 1.0) / sigma
    out[14, i] = gamma * (r - b + b * d1 / stdev + (1.0 - d1 * d2) / (2.0 * t))
    d1d2 = d1 * d2
    out[15, i] = -vega / (sigma * sigma) * (d1d2 * (1.0 - d1d2) + d1 * d1 + d2 * d2)


@numba.njit(cache=True, fastmath=False, nogil=True)
def normal_greeks(sign: int, spot: float, strike: float, t: float, r: float, q: float,
                  sigma: float, out: np.ndarray, i: int, order: int) -> None:  # fmt: skip
    # Bachelier on F = S e^{bT}: V = D [s (F - K) N(s d) + sd n(d)], d = (F - K) / sd.
    b = r - q
    sqrt_t = math.sqrt(t)
    stdev = sigma * sqrt_t
    growth = math.exp(b * t)
    forward = spot * growth
    discount = math.exp(-r * t)
    d = (forward - strike) / stdev
    pdf = norm_pdf(d)
    cdf = norm_cdf(sign * d)
    value = discount * (sign * (forward - strike) * cdf + stdev * pdf)
    delta = sign * discount * growth * cdf
    gamma = discount * growth * growth * pdf / stdev
    vega = discount * sqrt_t * pdf
    # dV/dT at fixed spot: -r V + D [dg/dF b F + n(d) sigma / (2 sqrt T)]
    dv_dt = -r * value + discount * (sign * cdf * b * forward + pdf * sigma / (2.0 * sqrt_t))
    out[0, i] = value
    out[1, i] = delta
    out[2, i] = gamma
    out[3, i] = vega
    out[4, i] = -dv_dt
    out[5, i] = -t * value + t * forward * sign * cdf * discount
    out[6, i] = -t * forward * sign * cdf * discount
    out[7, i] = delta * spot / value if value > 0.0 else np.nan
    if order < 2:
        return
    dd_dt = b * forward / stdev - d / (2.0 * t)  # d(d)/d(time to expiry)
    out[8, i] = -discount * growth * pdf * d / sigma
    out[9, i] = vega * d * d / sigma
    out[10, i] = -((b - r) * delta + discount * growth * pdf * dd_dt)
    out[11, i] = -vega * (-r + 1.0 / (2.0 * t) - d * dd_dt)
    if order < 3:
        return
    out[12, i] = -discount * growth**3 * pdf * d / (stdev * stdev)
    out[13, i] = gamma * (d * d - 1.0) / sigma
    out[14, i] = -gamma * (2.0 * b - r - d * dd_dt - 1.0 / (2.0 * t))
    out[15, i] = vega * d * d * (d * d - 3.0) / (sigma * sigma)


@numba.njit(cache=True, fastmath=False, nogil=True)
def _greeks_at(i: int, model: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
               t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray, out: np.ndarray,
               reason: np.ndarray, order: int) -> None:  # fmt: skip
    code = check_inputs(model, spot[i], strike[i], t[i], r[i], q[i], sigma[i])
    reason[i] = code
    if code != OK:
        for row in range(out.shape[0]):
            out[row, i] = np.nan
    elif model == MODEL_BACHELIER:
        normal_greeks(sign[i], spot[i], strike[i], t[i], r[i], q[i], sigma[i], out, i, order)
    else:
        lognormal_greeks(
            model, sign[i], spot[i], strike[i], t[i], r[i], q[i], sigma[i], out, i, order
        )


@numba.njit(cache=True, fastmath=False, nogil=True, parallel=True)
def greeks_kernel(model: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
                  t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray,
                  out: np.ndarray, reason: np.ndarray, order: int) -> None:  # fmt: skip
    for i in prange(out.shape[1]):
        _greeks_at(i, model, sign, spot, strike, t, r, q, sigma, out, reason, order)


@numba.njit(cache=True, fastmath=False, nogil=True)
def greeks_serial(model: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
                  t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray,
                  out: np.ndarray, reason: np.ndarray, order: int) -> None:  # fmt: skip
    for i in range(out.shape[1]):
        _greeks_at(i, model, sign, spot, strike, t, r, q, sigma, out, reason, order)

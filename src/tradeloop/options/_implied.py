"""Numba kernel of the Black implied volatility, after Jäckel's "Let's Be Rational" (2015).

Private: the public API is ``tradeloop.options.implied_vol``. The steps, as in Jäckel:

1. Normalise: ``x = ln(F/K)``, ``beta = price / (D sqrt(F K))``. Check the bounds: below the
   normalised intrinsic value, at it (no vega, no information) and at or above the maximum
   (``exp(theta x / 2)``) each get their reason code and NaN.
2. Reduce to an out-of-the-money call with ``x <= 0`` (put-call parity removes the intrinsic
   value, and ``b(x, s, put) = b(-x, s, call)``).
3. Split at the inflection point ``s_c = sqrt(2|x|)``. Below it the objective is
   ``1/ln b(s) - 1/ln beta`` (almost linear in ``s``, and exact for prices down to the
   smallest double); above it ``ln(b_max - b(s)) - ln(b_max - beta)``, with ``b_max - b(s)``
   summed from two positive terms (no cancellation near the maximum).
4. Halley steps on that objective from ``s_c`` (or from an asymptotic guess), kept inside a
   bracket that every step narrows, until the step is below a few ulps of ``s``.

The normalised price is evaluated with ``erfc``, which keeps full relative precision in the
tails. Every contract whose price carries vega in double precision inverts to within a few
ulps of the volatility that produced the price.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from tradeloop.options._kernels import (
    INV_SQRT_2PI,
    MODEL_BLACK76,
    NON_FINITE_INPUT,
    NON_POSITIVE_PRICE,
    NON_POSITIVE_SPOT,
    NON_POSITIVE_STRIKE,
    NON_POSITIVE_TIME,
    NOT_CONVERGED,
    OK,
    PRICE_ABOVE_MAXIMUM,
    PRICE_AT_INTRINSIC,
    PRICE_BELOW_INTRINSIC,
    PRICE_UNDERFLOW,
    norm_cdf,
)

MAX_ITERATIONS = 60
_RELATIVE_STEP = 4.0 * 2.220446049250313e-16
_HALLEY_DONE = 1e-7
_SMALLEST_BETA = 1e-300
_ROUNDING = 8.0 * 2.220446049250313e-16


@numba.njit(cache=True, fastmath=False, nogil=True)
def _otm_call(x: float, s: float) -> float:
    # normalised out-of-the-money call, x <= 0: e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2)
    h = x / s
    half = 0.5 * s
    return math.exp(0.5 * x) * norm_cdf(h + half) - math.exp(-0.5 * x) * norm_cdf(h - half)


@numba.njit(cache=True, fastmath=False, nogil=True)
def _otm_call_complement(x: float, s: float) -> float:
    # b_max - b(x, s) as a sum of two positive terms
    h = x / s
    half = 0.5 * s
    return math.exp(0.5 * x) * norm_cdf(-h - half) + math.exp(-0.5 * x) * norm_cdf(h - half)


@numba.njit(cache=True, fastmath=False, nogil=True)
def _vega(x: float, s: float) -> float:
    # db/ds = exp(-(h^2 + t^2)/2) / sqrt(2 pi), h = x/s, t = s/2
    h = x / s
    half = 0.5 * s
    return INV_SQRT_2PI * math.exp(-0.5 * (h * h + half * half))


@numba.njit(cache=True, fastmath=False, nogil=True)
def normalised_vol(beta: float, x: float) -> tuple[float, int]:
    """Return (s = sigma sqrt(t), iterations) for an OTM call price beta, x <= 0."""
    b_max = math.exp(0.5 * x)
    s_c = math.sqrt(-2.0 * x)
    b_c = _otm_call(x, s_c) if s_c > 0.0 else 0.0
    lower = beta < b_c
    if lower:
        # asymptotic for small s: ln b ~ -(x/s)^2 / 2, so s ~ |x| / sqrt(-2 ln beta)
        log_beta = math.log(beta)
        guess = -x / math.sqrt(-2.0 * log_beta)
        s = min(guess, s_c) if guess > 0.0 else 0.5 * s_c
        target = 1.0 / log_beta
        low, high = 0.0, s_c
    else:
        # upper branch: b_max - b(s) ~ 2 N(-s/2) for large s (exact at x = 0)
        complement_target = b_max - beta
        log_target = math.log(complement_target)
        if x == 0.0:
            s = 2.0 * max(_erfc_inverse_ratio(complement_target), 1e-8)
        else:
            s = max(s_c, 2.0 * _erfc_inverse_ratio(complement_target))
        low, high = s_c, np.inf
        target = log_target
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):
        h = x / s
        vega = _vega(x, s)
        curvature = h * h / s - 0.25 * s  # b''/b'
        if lower:
            b = _otm_call(x, s)
            if b <= 0.0:
                low = max(low, s)
                s = 0.5 * (s + high) if np.isfinite(high) else 2.0 * s
                continue
            log_b = math.log(b)
            f = 1.0 / log_b - target
            ratio = vega / b  # L'
            d1 = -ratio / (log_b * log_b)
            # f'' = -L''/L^2 + 2 L'^2/L^3, L'' = b''/b - L'^2
            l2 = ratio * curvature - ratio * ratio
            d2 = -l2 / (log_b * log_b) + 2.0 * ratio * ratio / (log_b * log_b * log_b)
            # f decreases with s (1/ln b falls from 0 towards 1/ln b_c)
            if f < 0.0:
                high = min(high, s)
            else:
                low = max(low, s)
        else:
            complement = _otm_call_complement(x, s)
            if complement <= 0.0:
                high = min(high, s)
                s = 0.5 * (low + s)
                continue
            f = math.log(complement) - target
            ratio = vega / complement
            d1 = -ratio
            # f'' = -b''/B - (b'/B)^2
            d2 = -ratio * curvature - ratio * ratio
            # f decreases with s
            if f < 0.0:
                high = min(high, s)
            else:
                low = max(low, s)
        if f == 0.0:
            return s, iterations
        if d1 == 0.0 or not math.isfinite(d1):
            step = np.nan
        else:
            newton = -f / d1
            denominator = 1.0 + 0.5 * newton * d2 / d1
            step = newton / denominator if denominator > 0.5 else newton
        candidate = s + step
        if not (candidate > low and candidate < high) or not math.isfinite(candidate):
            candidate = 0.5 * (low + high) if math.isfinite(high) else 2.0 * s
            s = candidate
        else:
            s = candidate
            # Halley converges cubically: after a step of 1e-7 the error is ~1e-21
            if abs(step) <= _HALLEY_DONE * s:
                return s, iterations
        if high - low <= _RELATIVE_STEP * s:
            return s, iterations
    return s, -iterations


@numba.njit(cache=True, fastmath=False, nogil=True)
def _erfc_inverse_ratio(complement: float) -> float:
    # y with 2 N(-y) = complement, rough (a few percent) from the tail asymptotics;
    # only a starting point for the Halley steps
    if complement >= 1.0:
        return 0.0
    p = 0.5 * complement
    if p > 0.3:
        return (0.5 - p) * math.sqrt(2.0 * math.pi)
    u = math.sqrt(-2.0 * math.log(p))
    return u - (2.515517 + 0.802853 * u + 0.010328 * u * u) / (
        1.0 + 1.432788 * u + 0.189269 * u * u + 0.001308 * u * u * u
    )


@numba.njit(cache=True, fastmath=False, nogil=True)
def implied_vol_one(model: int, sign: int, price: float, spot: float, strike: float, t: float,
                    r: float, q: float) -> tuple[float, int]:  # fmt: skip
    if not (
        math.isfinite(price)
        and math.isfinite(spot)
        and math.isfinite(strike)
        and math.isfinite(t)
        and math.isfinite(r)
        and math.isfinite(q)
    ):
        return np.nan, NON_FINITE_INPUT
    if spot <= 0.0:
        return np.nan, NON_POSITIVE_SPOT
    if strike <= 0.0:
        return np.nan, NON_POSITIVE_STRIKE
    if t <= 0.0:
        return np.nan, NON_POSITIVE_TIME
    if price <= 0.0:
        return np.nan, NON_POSITIVE_PRICE
    forward = spot if model == MODEL_BLACK76 else spot * math.exp((r - q) * t)
    discount = math.exp(-r * t)
    root = math.sqrt(forward * strike)
    beta = price / (discount * root)
    x = math.log(forward / strike)
    maximum = (forward if sign > 0 else strike) / root
    if beta >= maximum:
        return np.nan, PRICE_ABOVE_MAXIMUM
    if sign * x > 0.0:
        # in the money: remove the intrinsic value (parity), leaving the OTM twin's price
        intrinsic = sign * (forward - strike) / root
        if beta < intrinsic:
            return np.nan, PRICE_BELOW_INTRINSIC
        time_value = beta - intrinsic
        if time_value <= _ROUNDING * beta:
            # the time value is within the price's own rounding: no volatility in it
            return np.nan, PRICE_AT_INTRINSIC
        beta = time_value
    if beta <= 0.0:
        return np.nan, PRICE_AT_INTRINSIC
    if beta < _SMALLEST_BETA:
        # a (time) value this small has lost its digits to underflow
        return np.nan, PRICE_UNDERFLOW
    s, iterations = normalised_vol(beta, -abs(x))
    if iterations < 0 or not math.isfinite(s):
        return np.nan, NOT_CONVERGED
    return s / math.sqrt(t), OK


@numba.njit(cache=True, fastmath=False, nogil=True, parallel=True)
def implied_vol_kernel(model: int, sign: np.ndarray, price: np.ndarray, spot: np.ndarray,
                       strike: np.ndarray, t: np.ndarray, r: np.ndarray, q: np.ndarray,
                       out: np.ndarray, reason: np.ndarray) -> None:  # fmt: skip
    for i in prange(out.shape[0]):
        vol, code = implied_vol_one(model, sign[i], price[i], spot[i], strike[i], t[i], r[i], q[i])
        out[i] = vol
        reason[i] = code


@numba.njit(cache=True, fastmath=False, nogil=True)
def implied_vol_serial(model: int, sign: np.ndarray, price: np.ndarray, spot: np.ndarray,
                       strike: np.ndarray, t: np.ndarray, r: np.ndarray, q: np.ndarray,
                       out: np.ndarray, reason: np.ndarray) -> None:  # fmt: skip
    for i in range(out.shape[0]):
        vol, code = implied_vol_one(model, sign[i], price[i], spot[i], strike[i], t[i], r[i], q[i])
        out[i] = vol
        reason[i] = code

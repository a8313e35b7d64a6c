"""Numba kernels of American options: binomial trees and the two analytic approximations.

Private: the public API is ``tradeloop.options.american``. Every kernel loops over flat
contracts in parallel and writes NaN plus a reason code for a contract that breaks a rule.

- CRR (Cox–Ross–Rubinstein): ``u = exp(sigma sqrt(dt))``, ``d = 1/u``, risk-neutral
  ``p = (exp((r - q) dt) - d) / (u - d)``; delta, gamma and theta from the nodes of steps 1
  and 2 exactly as Hull (ch. 21) computes them.
- Leisen–Reimer: Peizer–Pratt inversion (method 2) of ``d1`` and ``d2``, an odd number of
  steps; delta and gamma from the nodes of steps 1 and 2.
- Barone-Adesi–Whaley (1987) quadratic approximation, critical price by Newton's method.
- Bjerksund–Stensland (2002) two-step flat-boundary approximation, and the 1993 one-step
  version (QuantLib's engine); puts via the put-call transformation
  ``P(S, K, T, r, b) = C(K, S, T, r - b, -b)``; both floored at the European value.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from tradeloop.options._bivariate import bivariate_cdf
from tradeloop.options._kernels import (
    MODEL_BSM,
    OK,
    TREE_PROBABILITY,
    check_inputs,
    norm_cdf,
    norm_pdf,
    price_one,
)

METHOD_CRR = 0
METHOD_LEISEN_REIMER = 1
METHOD_BAW = 2
METHOD_BJERKSUND_STENSLAND = 3
METHOD_BJERKSUND_STENSLAND_1993 = 4

CRITICAL_PRICE_TOLERANCE = 1e-12
CRITICAL_PRICE_ITERATIONS = 200


@numba.njit(cache=True, fastmath=False, nogil=True)
def _tree(sign: int, spot: float, strike: float, t: float, r: float, q: float, sigma: float,
          steps: int, leisen_reimer: bool, out: np.ndarray, i: int) -> int:  # fmt: skip
    # Backward induction; writes price, delta, gamma, theta (nan where not from the tree).
    n = steps
    if leisen_reimer and n % 2 == 0:
        n += 1
    dt = t / n
    growth = math.exp((r - q) * dt)
    discount = math.exp(-r * dt)
    if leisen_reimer:
        stdev = sigma * math.sqrt(t)
        d1 = (math.log(spot / strike) + (r - q + 0.5 * sigma * sigma) * t) / stdev
        d2 = d1 - stdev
        p = _peizer_pratt(d2, n)
        p_star = _peizer_pratt(d1, n)
        up = growth * p_star / p
        down = (growth - p * up) / (1.0 - p)
    else:
        up = math.exp(sigma * math.sqrt(dt))
        down = 1.0 / up
        p = (growth - down) / (up - down)
    if not (0.0 < p < 1.0) or down <= 0.0:
        return TREE_PROBABILITY
    up_powers = np.empty(n + 1)
    down_powers = np.empty(n + 1)
    up_powers[0] = 1.0
    down_powers[0] = 1.0
    for k in range(1, n + 1):
        up_powers[k] = up_powers[k - 1] * up
        down_powers[k] = down_powers[k - 1] * down
    values = np.empty(n + 1)
    for j in range(n + 1):
        values[j] = max(sign * (spot * up_powers[j] * down_powers[n - j] - strike), 0.0)
    step2 = np.empty(3)
    step1 = np.empty(2)
    for level in range(n - 1, -1, -1):
        for j in range(level + 1):
            held = discount * (p * values[j + 1] + (1.0 - p) * values[j])
            exercised = sign * (spot * up_powers[j] * down_powers[level - j] - strike)
            values[j] = held if held > exercised else exercised
        if level == 2:
            step2[0], step2[1], step2[2] = values[0], values[1], values[2]
        elif level == 1:
            step1[0], step1[1] = values[0], values[1]
    value = values[0]
    out[0, i] = value
    if n >= 2:
        s_up, s_down = spot * up, spot * down
        out[1, i] = (step1[1] - step1[0]) / (s_up - s_down)
        s_uu, s_ud, s_dd = spot * up * up, spot * up * down, spot * down * down
        delta_up = (step2[2] - step2[1]) / (s_uu - s_ud)
        delta_down = (step2[1] - step2[0]) / (s_ud - s_dd)
        out[2, i] = (delta_up - delta_down) / (0.5 * (s_uu - s_dd))
        # Hull: theta = (f_{2,1} - f_{0,0}) / (2 dt), where the middle node is the spot again
        out[3, i] = (step2[1] - value) / (2.0 * dt) if not leisen_reimer else np.nan
    else:
        out[1, i] = np.nan
        out[2, i] = np.nan
        out[3, i] = np.nan
    return OK


@numba.njit(cache=True, fastmath=False, nogil=True)
def _peizer_pratt(z: float, n: int) -> float:
    # Peizer-Pratt method 2 inversion of the normal CDF for an n-step binomial
    ratio = z / (n + 1.0 / 3.0 + 0.1 / (n + 1.0))
    root = math.sqrt(0.25 - 0.25 * math.exp(-ratio * ratio * (n + 1.0 / 6.0)))
    return 0.5 + root if z >= 0.0 else 0.5 - root


@numba.njit(cache=True, fastmath=False, nogil=True)
def _generalised_bsm(sign: int, spot: float, strike: float, t: float, r: float, b: float,
                     sigma: float) -> float:  # fmt: skip
    # European value with cost of carry b (q = r - b)
    return price_one(MODEL_BSM, sign, spot, strike, t, r, r - b, sigma)


@numba.njit(cache=True, fastmath=False, nogil=True)
def baw_one(sign: int, spot: float, strike: float, t: float, r: float, q: float,
            sigma: float) -> float:  # fmt: skip
    b = r - q
    european = _generalised_bsm(sign, spot, strike, t, r, b, sigma)
    if sign > 0 and b >= r:
        return european  # a call on an asset without dividends is never exercised early
    if sign < 0 and r <= 0.0:
        return european  # nor is a put when cash earns nothing
    variance = sigma * sigma
    sqrt_t = math.sqrt(t)
    n_ = 2.0 * b / variance
    m_ = 2.0 * r / variance
    k_ = -math.expm1(-r * t)
    carry_df = math.exp((b - r) * t)
    root = math.sqrt((n_ - 1.0) ** 2 + 4.0 * m_ / k_)
    root_inf = math.sqrt((n_ - 1.0) ** 2 + 4.0 * m_)
    if sign > 0:
        q2 = 0.5 * (-(n_ - 1.0) + root)
        q2_inf = 0.5 * (-(n_ - 1.0) + root_inf)
        s_inf = strike / (1.0 - 1.0 / q2_inf)
        h2 = -(b * t + 2.0 * sigma * sqrt_t) * strike / (s_inf - strike)
        critical = strike + (s_inf - strike) * (1.0 - math.exp(h2))
        for _ in range(CRITICAL_PRICE_ITERATIONS):
            d1 = (math.log(critical / strike) + (b + 0.5 * variance) * t) / (sigma * sqrt_t)
            cdf = norm_cdf(d1)
            rhs = (
                _generalised_bsm(1, critical, strike, t, r, b, sigma)
                + (1.0 - carry_df * cdf) * critical / q2
            )
            lhs = critical - strike
            if abs(lhs - rhs) <= CRITICAL_PRICE_TOLERANCE * strike:
                break
            slope = (
                carry_df * cdf * (1.0 - 1.0 / q2)
                + (1.0 - carry_df * norm_pdf(d1) / (sigma * sqrt_t)) / q2
            )
            critical = (strike + rhs - slope * critical) / (1.0 - slope)
        if spot >= critical:
            return spot - strike
        d1 = (math.log(critical / strike) + (b + 0.5 * variance) * t) / (sigma * sqrt_t)
        a2 = critical / q2 * (1.0 - carry_df * norm_cdf(d1))
        return european + a2 * math.pow(spot / critical, q2)
    q1 = 0.5 * (-(n_ - 1.0) - root)
    q1_inf = 0.5 * (-(n_ - 1.0) - root_inf)
    s_inf = strike / (1.0 - 1.0 / q1_inf)
    h1 = (b * t - 2.0 * sigma * sqrt_t) * strike / (strike - s_inf)
    critical = s_inf + (strike - s_inf) * math.exp(h1)
    for _ in range(CRITICAL_PRICE_ITERATIONS):
        d1 = (math.log(critical / strike) + (b + 0.5 * variance) * t) / (sigma * sqrt_t)
        cdf = norm_cdf(-d1)
        rhs = (
            _generalised_bsm(-1, critical, strike, t, r, b, sigma)
            - (1.0 - carry_df * cdf) * critical / q1
        )
        lhs = strike - critical
        if abs(lhs - rhs) <= CRITICAL_PRICE_TOLERANCE * strike:
            break
        slope = (
            -carry_df * cdf * (1.0 - 1.0 / q1)
            - (1.0 + carry_df * norm_pdf(-d1) / (sigma * sqrt_t)) / q1
        )
        critical = (strike - rhs + slope * critical) / (1.0 + slope)
    if spot <= critical:
        return strike - spot
    d1 = (math.log(critical / strike) + (b + 0.5 * variance) * t) / (sigma * sqrt_t)
    a1 = -critical / q1 * (1.0 - carry_df * norm_cdf(-d1))
    return european + a1 * math.pow(spot / critical, q1)


@numba.njit(cache=True, fastmath=False, nogil=True)
def _bs_phi(spot: float, t: float, gamma: float, h: float, barrier: float, r: float, b: float,
            sigma: float) -> float:  # fmt: skip
    variance = sigma * sigma
    stdev = sigma * math.sqrt(t)
    lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * variance) * t
    d = -(math.log(spot / h) + (b + (gamma - 0.5) * variance) * t) / stdev
    kappa = 2.0 * b / variance + (2.0 * gamma - 1.0)
    ratio = barrier / spot
    result: float = (
        math.exp(lam)
        * spot**gamma
        * (norm_cdf(d) - ratio**kappa * norm_cdf(d - 2.0 * math.log(ratio) / stdev))
    )
    return result


@numba.njit(cache=True, fastmath=False, nogil=True)
def _bs_psi(spot: float, t: float, gamma: float, h: float, i2: float, i1: float, t1: float,
            r: float, b: float, sigma: float) -> float:  # fmt: skip
    variance = sigma * sigma
    drift = b + (gamma - 0.5) * variance
    stdev1 = sigma * math.sqrt(t1)
    stdev = sigma * math.sqrt(t)
    e1 = (math.log(spot / i1) + drift * t1) / stdev1
    e2 = (math.log(i2 * i2 / (spot * i1)) + drift * t1) / stdev1
    e3 = (math.log(spot / i1) - drift * t1) / stdev1
    e4 = (math.log(i2 * i2 / (spot * i1)) - drift * t1) / stdev1
    f1 = (math.log(spot / h) + drift * t) / stdev
    f2 = (math.log(i2 * i2 / (spot * h)) + drift * t) / stdev
    f3 = (math.log(i1 * i1 / (spot * h)) + drift * t) / stdev
    f4 = (math.log(spot * i1 * i1 / (h * i2 * i2)) + drift * t) / stdev
    rho = math.sqrt(t1 / t)
    lam = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * variance
    kappa = 2.0 * b / variance + (2.0 * gamma - 1.0)
    result: float = (
        math.exp(lam * t)
        * spot**gamma
        * (
            bivariate_cdf(-e1, -f1, rho)
            - (i2 / spot) ** kappa * bivariate_cdf(-e2, -f2, rho)
            - (i1 / spot) ** kappa * bivariate_cdf(-e3, -f3, -rho)
            + (i1 / i2) ** kappa * bivariate_cdf(-e4, -f4, -rho)
        )
    )
    return result


@numba.njit(cache=True, fastmath=False, nogil=True)
def _bs_call(spot: float, strike: float, t: float, r: float, b: float, sigma: float) -> float:
    # Bjerksund-Stensland (2002): a two-step flat exercise boundary, I1 until t1, I2 after
    if b >= r:
        return _generalised_bsm(1, spot, strike, t, r, b, sigma)
    variance = sigma * sigma
    beta = (0.5 - b / variance) + math.sqrt((b / variance - 0.5) ** 2 + 2.0 * r / variance)
    b_inf = beta / (beta - 1.0) * strike
    b_0 = max(strike, r / (r - b) * strike)
    t1 = 0.5 * (math.sqrt(5.0) - 1.0) * t
    scale = strike * strike / ((b_inf - b_0) * b_0)
    h1 = -(b * t1 + 2.0 * sigma * math.sqrt(t1)) * scale
    h2 = -(b * t + 2.0 * sigma * math.sqrt(t)) * scale
    i1 = b_0 + (b_inf - b_0) * (1.0 - math.exp(h1))
    i2 = b_0 + (b_inf - b_0) * (1.0 - math.exp(h2))
    if spot >= i2:
        return spot - strike
    alpha1 = (i1 - strike) * i1 ** (-beta)
    alpha2 = (i2 - strike) * i2 ** (-beta)
    result: float = (
        alpha2 * spot**beta
        - alpha2 * _bs_phi(spot, t1, beta, i2, i2, r, b, sigma)
        + _bs_phi(spot, t1, 1.0, i2, i2, r, b, sigma)
        - _bs_phi(spot, t1, 1.0, i1, i2, r, b, sigma)
        - strike * _bs_phi(spot, t1, 0.0, i2, i2, r, b, sigma)
        + strike * _bs_phi(spot, t1, 0.0, i1, i2, r, b, sigma)
        + alpha1 * _bs_phi(spot, t1, beta, i1, i2, r, b, sigma)
        - alpha1 * _bs_psi(spot, t, beta, i1, i2, i1, t1, r, b, sigma)
        + _bs_psi(spot, t, 1.0, i1, i2, i1, t1, r, b, sigma)
        - _bs_psi(spot, t, 1.0, strike, i2, i1, t1, r, b, sigma)
        - strike * _bs_psi(spot, t, 0.0, i1, i2, i1, t1, r, b, sigma)
        + strike * _bs_psi(spot, t, 0.0, strike, i2, i1, t1, r, b, sigma)
    )
    return result


@numba.njit(cache=True, fastmath=False, nogil=True)
def _bs_call_1993(spot: float, strike: float, t: float, r: float, b: float, sigma: float) -> float:
    # Bjerksund-Stensland (1993): one flat exercise boundary I over the whole life
    if b >= r:
        return _generalised_bsm(1, spot, strike, t, r, b, sigma)
    variance = sigma * sigma
    beta = (0.5 - b / variance) + math.sqrt((b / variance - 0.5) ** 2 + 2.0 * r / variance)
    b_inf = beta / (beta - 1.0) * strike
    b_0 = max(strike, r / (r - b) * strike)
    h_t = -(b * t + 2.0 * sigma * math.sqrt(t)) * b_0 / (b_inf - b_0)
    trigger = b_0 + (b_inf - b_0) * (1.0 - math.exp(h_t))
    if spot >= trigger:
        return spot - strike
    alpha = (trigger - strike) * trigger ** (-beta)
    result: float = (
        alpha * spot**beta
        - alpha * _bs_phi(spot, t, beta, trigger, trigger, r, b, sigma)
        + _bs_phi(spot, t, 1.0, trigger, trigger, r, b, sigma)
        - _bs_phi(spot, t, 1.0, strike, trigger, r, b, sigma)
        - strike * _bs_phi(spot, t, 0.0, trigger, trigger, r, b, sigma)
        + strike * _bs_phi(spot, t, 0.0, strike, trigger, r, b, sigma)
    )
    return result


@numba.njit(cache=True, fastmath=False, nogil=True)
def bjerksund_stensland_one(sign: int, spot: float, strike: float, t: float, r: float, q: float,
                            sigma: float, flat_1993: bool) -> float:  # fmt: skip
    b = r - q
    if flat_1993:
        if sign > 0:
            value = _bs_call_1993(spot, strike, t, r, b, sigma)
        else:
            value = _bs_call_1993(strike, spot, t, r - b, -b, sigma)
    elif sign > 0:
        value = _bs_call(spot, strike, t, r, b, sigma)
    else:
        value = _bs_call(strike, spot, t, r - b, -b, sigma)
    # the flat boundary can put the approximation under the European value (short-dated,
    # low-rate puts): an American option is worth at least its European twin
    return max(value, _generalised_bsm(sign, spot, strike, t, r, b, sigma))


@numba.njit(cache=True, fastmath=False, nogil=True)
def _american_at(i: int, method: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
                 t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray, steps: int,
                 out: np.ndarray, reason: np.ndarray) -> None:  # fmt: skip
    # out rows: price, delta, gamma, theta (the last three from trees only, else nan)
    code = check_inputs(MODEL_BSM, spot[i], strike[i], t[i], r[i], q[i], sigma[i])
    if code == OK:
        if method == METHOD_CRR or method == METHOD_LEISEN_REIMER:  # noqa: SIM109 (Numba)
            code = _tree(sign[i], spot[i], strike[i], t[i], r[i], q[i], sigma[i], steps,
                         method == METHOD_LEISEN_REIMER, out, i)  # fmt: skip
        else:
            if method == METHOD_BAW:
                value = baw_one(sign[i], spot[i], strike[i], t[i], r[i], q[i], sigma[i])
            else:
                value = bjerksund_stensland_one(
                    sign[i],
                    spot[i],
                    strike[i],
                    t[i],
                    r[i],
                    q[i],
                    sigma[i],
                    method == METHOD_BJERKSUND_STENSLAND_1993,
                )
            out[0, i] = value
            out[1, i] = np.nan
            out[2, i] = np.nan
            out[3, i] = np.nan
    reason[i] = code
    if code != OK:
        for row in range(4):
            out[row, i] = np.nan


@numba.njit(cache=True, fastmath=False, nogil=True, parallel=True)
def american_kernel(method: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
                    t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray, steps: int,
                    out: np.ndarray, reason: np.ndarray) -> None:  # fmt: skip
    for i in prange(out.shape[1]):
        _american_at(i, method, sign, spot, strike, t, r, q, sigma, steps, out, reason)


@numba.njit(cache=True, fastmath=False, nogil=True)
def american_serial(method: int, sign: np.ndarray, spot: np.ndarray, strike: np.ndarray,
                    t: np.ndarray, r: np.ndarray, q: np.ndarray, sigma: np.ndarray, steps: int,
                    out: np.ndarray, reason: np.ndarray) -> None:  # fmt: skip
    for i in range(out.shape[1]):
        _american_at(i, method, sign, spot, strike, t, r, q, sigma, steps, out, reason)

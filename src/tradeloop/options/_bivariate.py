"""Bivariate normal CDF (Genz 2004, after Drezner–Wesolowsky): double precision, Numba.

Private: used by the Bjerksund–Stensland (2002) approximation. Gauss–Legendre rules of 6, 12
and 20 points by the size of the correlation, and Genz's expansion for |rho| >= 0.925.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from tradeloop.options._kernels import norm_cdf

_W6 = np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904])
_X6 = np.array([-0.9324695142031522, -0.6612093864662647, -0.2386191860831970])
_W12 = np.array(
    [
        0.04717533638651177,
        0.1069393259953183,
        0.1600783285433464,
        0.2031674267230659,
        0.2334925365383547,
        0.2491470458134029,
    ]
)
_X12 = np.array(
    [
        -0.9815606342467191,
        -0.9041172563704750,
        -0.7699026741943050,
        -0.5873179542866171,
        -0.3678314989981802,
        -0.1252334085114692,
    ]
)
_W20 = np.array(
    [
        0.01761400713915212,
        0.04060142980038694,
        0.06267204833410906,
        0.08327674157670475,
        0.1019301198172404,
        0.1181945319615184,
        0.1316886384491766,
        0.1420961093183821,
        0.1491729864726037,
        0.1527533871307259,
    ]
)
_X20 = np.array(
    [
        -0.9931285991850949,
        -0.9639719272779138,
        -0.9122344282513259,
        -0.8391169718222188,
        -0.7463319064601508,
        -0.6360536807265150,
        -0.5108670019508271,
        -0.3737060887154196,
        -0.2277858511416451,
        -0.07652652113349733,
    ]
)
_TWO_PI = 2.0 * math.pi


@numba.njit(cache=True, fastmath=False, nogil=True)
def _upper(dh: float, dk: float, r: float) -> float:
    # P(X > dh, Y > dk) for standard normals with correlation r (Genz's BVNU)
    if abs(r) < 0.3:
        weights, nodes = _W6, _X6
    elif abs(r) < 0.75:
        weights, nodes = _W12, _X12
    else:
        weights, nodes = _W20, _X20
    h, k = dh, dk
    hk = h * k
    total = 0.0
    if abs(r) < 0.925:
        hs = 0.5 * (h * h + k * k)
        asr = math.asin(r)
        for i in range(weights.shape[0]):
            for side in (-1.0, 1.0):
                sn = math.sin(0.5 * asr * (side * nodes[i] + 1.0))
                total += weights[i] * math.exp((sn * hk - hs) / (1.0 - sn * sn))
        return total * asr / (2.0 * _TWO_PI) + norm_cdf(-h) * norm_cdf(-k)
    if r < 0.0:
        k = -k
        hk = -hk
    if abs(r) < 1.0:
        a_s = (1.0 - r) * (1.0 + r)
        a = math.sqrt(a_s)
        b_s = (h - k) ** 2
        c = (4.0 - hk) / 8.0
        d = (12.0 - hk) / 16.0
        asr = -0.5 * (b_s / a_s + hk)
        if asr > -100.0:
            total = (
                a
                * math.exp(asr)
                * (1.0 - c * (b_s - a_s) * (1.0 - d * b_s / 5.0) / 3.0 + c * d * a_s * a_s / 5.0)
            )
        if -hk < 100.0:
            b = math.sqrt(b_s)
            total -= (
                math.exp(-0.5 * hk)
                * math.sqrt(_TWO_PI)
                * norm_cdf(-b / a)
                * b
                * (1.0 - c * b_s * (1.0 - d * b_s / 5.0) / 3.0)
            )
        a = 0.5 * a
        for i in range(weights.shape[0]):
            for side in (-1.0, 1.0):
                xs = (a * (side * nodes[i] + 1.0)) ** 2
                rs = math.sqrt(1.0 - xs)
                asr = -0.5 * (b_s / xs + hk)
                if asr > -100.0:
                    total += (
                        a
                        * weights[i]
                        * math.exp(asr)
                        * (
                            math.exp(-hk * (1.0 - rs) / (2.0 * (1.0 + rs))) / rs
                            - (1.0 + c * xs * (1.0 + d * xs))
                        )
                    )
        total = -total / _TWO_PI
    if r > 0.0:
        total += norm_cdf(-max(h, k))
    else:
        total = -total
        if k > h:
            total += norm_cdf(k) - norm_cdf(h)
    return total


@numba.njit(cache=True, fastmath=False, nogil=True)
def bivariate_cdf(a: float, b: float, rho: float) -> float:
    """Return P(X <= a, Y <= b) for standard normals with correlation rho."""
    return _upper(-a, -b, rho)

"""Option quotes from a fitted surface: bid, mid and ask of a contract along an underlying path.

The bundled chain is one day (SPX, 2011-01-03). To backtest an option position over the
following weeks, :func:`surface_quotes` marks a contract at each instant of a real
underlying path with the SSVI surface fitted to that day held fixed in log-forward-moneyness
(*sticky moneyness*): ``k = ln(K / F)``, ``F = S exp((r - q) t)``, vol ``sigma(k, t)`` from
the surface, price by Black-Scholes-Merton, bid and ask at ``sigma -/+ half_spread_vol``
rounded out to the tick (bid down, ask up). These are **model quotes**, not traded prices:
the smile's shape and level stay those of the fit day, so realised volatility along the path
differs from the implied one as it would for a trader who bought vol on that day; the
surface's own dynamics (vol rising in a sell-off) are not in them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError
from tradeloop.options.european import price
from tradeloop.options.ssvi import SSVISurface

F64 = npt.NDArray[np.float64]

__all__ = ["SurfaceQuotes", "surface_quotes"]


@dataclass(frozen=True, slots=True)
class SurfaceQuotes:
    """Quotes of one contract at each instant: bid, ask (on the tick grid), model mid and vol."""

    bid: F64
    ask: F64
    mid: F64
    vol: F64


def surface_quotes(
    surface: SSVISurface,
    *,
    spot: npt.ArrayLike,
    t: npt.ArrayLike,
    strike: float,
    r: float,
    q: float,
    option_type: str,
    half_spread_vol: float,
    tick: float = 0.01,
) -> SurfaceQuotes:
    """Return the quotes of one contract along ``spot`` with ``t`` years left at each point.

    Raises
    ------
    InvalidValueError
        If a ``t`` is not positive (mark only before expiry), a spot is not positive, or
        ``half_spread_vol`` or ``tick`` is negative.
    """
    s = np.asarray(spot, dtype=np.float64)
    tt = np.broadcast_to(np.asarray(t, dtype=np.float64), s.shape)
    if not np.all(tt > 0):
        raise InvalidValueError("surface quotes need t > 0 at every point (mark before expiry)")
    if not np.all(s > 0):
        raise InvalidValueError("surface quotes need a positive spot at every point")
    if half_spread_vol < 0 or not tick > 0 or not math.isfinite(half_spread_vol):
        raise InvalidValueError(
            f"half_spread_vol {half_spread_vol} must be >= 0 and tick {tick} > 0"
        )
    k = np.log(strike / (s * np.exp((r - q) * tt)))
    vol = np.asarray(surface.implied_vol(k, tt), dtype=np.float64)

    def at(sigma: F64) -> F64:
        return np.asarray(
            price(spot=s, strike=strike, t=tt, r=r, q=q, sigma=sigma, option_type=option_type)
        )

    mid = at(vol)
    bid = np.floor(at(np.maximum(vol - half_spread_vol, 1e-4)) / tick + 1e-9) * tick
    ask = np.ceil(at(vol + half_spread_vol) / tick - 1e-9) * tick
    ask = np.maximum(ask, bid + tick)
    return SurfaceQuotes(np.round(bid, 10), np.round(ask, 10), mid, vol)

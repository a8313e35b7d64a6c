"""Spread costs (pure functions): the quoted spread of a quote, the half spread a taker pays,
and the effective spread of a fill.

A marketable order crosses from the mid to the far touch, so its expected spread cost is
**half** the quoted spread: ``half_spread_bps = (ask - bid) / 2 / mid * 10_000``. When no
quote is at hand, pass an average quoted spread in bps (for example the mean over the last
session) to ``half_spread_bps``.
"""

from __future__ import annotations

import math
from typing import Final

from tradeloop.core.errors import DataIntegrityError, InvalidValueError
from tradeloop.core.fixed import Price
from tradeloop.model.data import QuoteTick
from tradeloop.model.enums import OrderSide

__all__ = [
    "effective_spread_bps",
    "half_spread_bps",
    "half_spread_cost",
    "quote_half_spread_bps",
    "quoted_spread_bps",
]

_BPS: Final = 10_000.0  # basis points per unit


def quoted_spread_bps(bid: Price | float, ask: Price | float) -> float:
    """Return the quoted spread ``(ask - bid) / mid`` in basis points of the mid.

    Raises
    ------
    DataIntegrityError
        If a price is not finite, the mid is not positive, or the quote is crossed
        (bid above ask). A locked quote (bid equal to ask) has a spread of 0.
    """
    bid_value, ask_value = float(bid), float(ask)
    if not (math.isfinite(bid_value) and math.isfinite(ask_value)):
        raise DataIntegrityError(f"quote bid {bid_value} / ask {ask_value} is not finite")
    if bid_value > ask_value:
        raise DataIntegrityError(f"quote is crossed: bid {bid_value} is above ask {ask_value}")
    mid = (bid_value + ask_value) / 2
    if mid <= 0:
        raise DataIntegrityError(f"quote mid {mid} must be positive to express a spread in bps")
    return (ask_value - bid_value) / mid * _BPS


def half_spread_bps(spread_bps: float) -> float:
    """Return the half spread (the cost a taker pays versus the mid) of a spread in bps.

    Raises
    ------
    InvalidValueError
        If ``spread_bps`` is negative or not finite.
    """
    if not math.isfinite(spread_bps) or spread_bps < 0:
        raise InvalidValueError(f"spread {spread_bps} bps must be finite and non-negative")
    return spread_bps / 2


def quote_half_spread_bps(quote: QuoteTick) -> float:
    """Return the half spread in bps of the mid of ``quote``.

    Raises
    ------
    DataIntegrityError
        If the quote is crossed or its mid is not positive.
    """
    return quoted_spread_bps(quote.bid_price, quote.ask_price) / 2


def half_spread_cost(notional: float, spread_bps: float) -> float:
    """Return the half-spread cost in money of trading ``notional`` (absolute) at ``spread_bps``.

    Raises
    ------
    InvalidValueError
        If ``notional`` or ``spread_bps`` is negative or not finite.
    """
    if not math.isfinite(notional) or notional < 0:
        raise InvalidValueError(f"notional {notional} must be finite and non-negative")
    return notional * half_spread_bps(spread_bps) / _BPS


def effective_spread_bps(fill_price: Price | float, mid: Price | float, side: OrderSide) -> float:
    """Return the effective spread ``2 * s * (fill - mid) / mid`` in bps (positive = cost).

    ``s`` is +1 for a buy and -1 for a sell, so a buy filled above the mid has a positive
    effective spread. Twice the distance to the mid makes it comparable with the quoted spread.

    Raises
    ------
    DataIntegrityError
        If ``mid`` is not positive or a price is not finite.
    """
    fill_value, mid_value = float(fill_price), float(mid)
    if not (math.isfinite(fill_value) and math.isfinite(mid_value)) or mid_value <= 0:
        raise DataIntegrityError(
            f"fill price {fill_value} and mid {mid_value} must be finite with a positive mid"
        )
    sign = 1.0 if side == OrderSide.BUY else -1.0
    return 2 * sign * (fill_value - mid_value) / mid_value * _BPS

"""A turnover limit over the whole book: every trade of a rebalance counts.

Turnover of a rebalance is ``sum_i |target_i - current_i| * price_i * multiplier_i / equity``
over **every** instrument that trades: names with a new score, names being sold off because
their score is gone, and the hedge leg. When it exceeds ``max_turnover`` every trade is
scaled by the same fraction ``s = max_turnover / turnover`` (a partial move from the current
book toward the target book, so the targets' proportions and the hedge ratio are kept) and
rounded toward zero to whole lots, so the limit holds exactly: the sum is computed on the
exact notionals (money raw), and if rounding ever left it above the limit the largest trade
gives up a lot at a time until it fits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.model.instruments import Instrument

__all__ = ["TurnoverLimit", "book_turnover", "limit_turnover"]


@dataclass(frozen=True, slots=True)
class TurnoverLimit:
    """The targets after the limit, and the turnover (fractions of equity) before and after.

    ``scale`` is the fraction every trade was scaled by (1.0: the limit did not bind).
    """

    target_signed_raw: Mapping[str, int]
    scale: float
    turnover_before: float
    turnover_after: float


def _traded_raw(
    instrument: Instrument, price: Price, current: int, target: int
) -> int:  # money raw of |target - current|
    quantity = Quantity(abs(target - current), instrument.size_precision)
    return instrument.notional(quantity, price).raw


def book_turnover(
    target_signed_raw: Mapping[str, int],
    current_signed_raw: Mapping[str, int],
    *,
    prices: Mapping[str, Price],
    instruments: Mapping[str, Instrument],
    equity: Money,
) -> float:
    """Return the turnover (fraction of equity) of moving every position to its target.

    Raises
    ------
    InvalidValueError
        If equity is not positive or an instrument or price is missing.
    """
    if equity.raw <= 0:
        raise InvalidValueError(f"equity {equity} must be above 0 to measure turnover")
    total = 0
    for instrument_id in sorted(set(target_signed_raw) | set(current_signed_raw)):
        current = int(current_signed_raw.get(instrument_id, 0))
        target = int(target_signed_raw.get(instrument_id, current))
        if target != current:
            instrument, price = _inputs(instrument_id, prices, instruments)
            total += _traded_raw(instrument, price, current, target)
    return total / equity.raw


def _inputs(
    instrument_id: str, prices: Mapping[str, Price], instruments: Mapping[str, Instrument]
) -> tuple[Instrument, Price]:
    instrument = instruments.get(instrument_id)
    price = prices.get(instrument_id)
    if instrument is None or price is None:
        raise InvalidValueError(f"instrument {instrument_id} has no instrument or price")
    return instrument, price


def limit_turnover(
    target_signed_raw: Mapping[str, int],
    current_signed_raw: Mapping[str, int],
    *,
    prices: Mapping[str, Price],
    instruments: Mapping[str, Instrument],
    equity: Money,
    max_turnover: float,
) -> TurnoverLimit:
    """Return targets whose book turnover is at most ``max_turnover`` (module docstring).

    Instruments missing from ``target_signed_raw`` keep their current position.

    Raises
    ------
    InvalidValueError
        If ``max_turnover`` is negative or not finite, equity is not positive, or an
        instrument or price is missing.
    """
    if not (math.isfinite(max_turnover) and max_turnover >= 0):
        raise InvalidValueError(f"max_turnover {max_turnover!r} must be a finite number >= 0")
    if equity.raw <= 0:
        raise InvalidValueError(f"equity {equity} must be above 0 to limit turnover")
    names = sorted(set(target_signed_raw) | set(current_signed_raw))
    current = {n: int(current_signed_raw.get(n, 0)) for n in names}
    target = {n: int(target_signed_raw.get(n, current[n])) for n in names}
    traded = {}
    for name in names:
        if target[name] != current[name]:
            instrument, price = _inputs(name, prices, instruments)
            traded[name] = _traded_raw(instrument, price, current[name], target[name])
    before = sum(traded.values())
    limit = int((Decimal(repr(max_turnover)) * equity.raw).to_integral_value(ROUND_DOWN))
    if before <= limit:
        return TurnoverLimit(target, 1.0, before / equity.raw, before / equity.raw)
    limited = dict(target)
    after = 0
    for name in traded:
        instrument = instruments[name]
        lot = instrument.lot_size_raw
        delta = target[name] - current[name]
        lots = abs(delta) * limit // before // lot  # floor(|delta| * limit / before) in lots
        limited[name] = current[name] + (lots * lot if delta > 0 else -lots * lot)
        after += _traded_raw(instrument, prices[name], current[name], limited[name])
    while after > limit:  # notional rounding: give up whole lots from the largest trade
        name = max(
            (n for n in traded if limited[n] != current[n]),
            key=lambda n: (_traded_raw(instruments[n], prices[n], current[n], limited[n]), n),
        )
        step = instruments[name].lot_size_raw
        old = _traded_raw(instruments[name], prices[name], current[name], limited[name])
        limited[name] += step if limited[name] < current[name] else -step
        after += _traded_raw(instruments[name], prices[name], current[name], limited[name]) - old
    return TurnoverLimit(limited, limit / before, before / equity.raw, after / equity.raw)

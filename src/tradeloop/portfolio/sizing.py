"""Sizing: the one place where float target weights become ``Quantity`` orders.

``size_target_weights`` takes, per instrument, a target weight (a float fraction of equity,
signed), the account equity, a regime multiplier, prices and current positions, and
returns the order deltas that move each position to its target. Per instrument, in sorted
id order:

1. target units = ``weight × equity × regime_multiplier / (price × contract multiplier)``,
   in ``Decimal`` arithmetic that rounds every step toward zero, so the result never
   exceeds the exact quotient in size;
2. the size is rounded **toward zero** to the instrument's precision and lot
   (``Instrument.make_quantity(..., ROUND_DOWN)``) and the sign restored: the gross
   notional of the targets never exceeds ``sum |weight| × equity × multiplier``;
3. the delta is target minus current position (signed raws at the size precision);
4. a delta whose notional is below ``min_trade_notional`` (dust) is skipped when it would
   add exposure, but kept when it reduces, closes or flips a position, so that skipping it
   never leaves a position larger than its target; a delta below the instrument's minimum
   quantity is skipped (the venue would refuse it) and reported.

Every skipped delta is returned with its reason. Prices and equity must be in the same
currency (no FX conversion here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext

from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.model.enums import OrderSide
from tradeloop.model.instruments import Instrument

__all__ = ["OrderDelta", "SizingResult", "SkippedDelta", "size_target_weights"]

# Digits of the intermediate Decimal arithmetic: far more than any price × quantity needs.
_DECIMAL_DIGITS = 60


@dataclass(frozen=True, slots=True)
class OrderDelta:
    """An order that moves one position from ``current_signed_raw`` to ``target_signed_raw``.

    Signed raws are at the instrument's size precision (long > 0); ``quantity`` is the
    absolute difference and ``side`` its direction; ``notional`` is ``quantity × price ×
    multiplier``.

    Raises
    ------
    InvalidValueError
        If the side and quantity do not equal the difference of the signed raws.
    """

    instrument_id: str
    side: OrderSide
    quantity: Quantity
    current_signed_raw: int
    target_signed_raw: int
    notional: Money

    def __post_init__(self) -> None:
        delta = self.target_signed_raw - self.current_signed_raw
        expected_side = OrderSide.BUY if delta > 0 else OrderSide.SELL
        if delta == 0 or self.quantity.raw != abs(delta) or self.side is not expected_side:
            raise InvalidValueError(
                f"order delta for {self.instrument_id} says {self.side} {self.quantity}, "
                f"but the position moves from {self.current_signed_raw} to "
                f"{self.target_signed_raw} (raw)"
            )


@dataclass(frozen=True, slots=True)
class SkippedDelta:
    """A delta that was not turned into an order, and why."""

    instrument_id: str
    delta_signed_raw: int
    notional: Money
    reason: str


@dataclass(frozen=True, slots=True)
class SizingResult:
    """The orders to send, the deltas skipped, and every target position (signed raw)."""

    orders: tuple[OrderDelta, ...]
    skipped: tuple[SkippedDelta, ...]
    target_signed_raw: Mapping[str, int]


def _check_finite(name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise InvalidValueError(f"{name} {value!r} is not a finite number")
    return number


def size_target_weights(
    target_weights: Mapping[str, float],
    *,
    equity: Money,
    prices: Mapping[str, Price],
    instruments: Mapping[str, Instrument],
    current_signed_raw: Mapping[str, int],
    regime_multiplier: float = 1.0,
    min_trade_notional: Money | None = None,
) -> SizingResult:
    """Return the orders that move current positions to ``target_weights`` of equity.

    Parameters
    ----------
    target_weights
        Signed target weight per instrument id (fraction of equity; -0.2 is a short of
        20 % of equity). Every instrument with a current position must have a weight (0
        to close it), so that nothing is closed by omission.
    equity
        Account equity, > 0, in the instruments' quote currency.
    prices
        Price per instrument id (for example the last close or mid), > 0.
    instruments
        Instrument per id: size precision, lot size, multiplier, minimum quantity.
    current_signed_raw
        Current signed position per instrument id, as a raw at the instrument's size
        precision (``Position.signed_raw``); missing ids are flat.
    regime_multiplier
        Multiplier of every target (from ``regime.RegimeMultipliers``), finite and >= 0.
    min_trade_notional
        Smallest notional worth trading when adding exposure (dust threshold).

    Returns
    -------
    SizingResult
        Orders in sorted instrument id order, the skipped deltas, and every target.

    Raises
    ------
    InvalidValueError
        If a weight, the equity, a price or the multiplier is invalid, an instrument or
        price is missing, a held instrument has no target weight, or currencies differ.
    """
    multiplier = _check_finite("regime multiplier", regime_multiplier)
    if multiplier < 0.0:
        raise InvalidValueError(f"regime multiplier {regime_multiplier!r} must be 0 or above")
    if equity.raw <= 0:
        raise InvalidValueError(f"equity {equity} must be above 0 to size targets")
    held = sorted(instrument_id for instrument_id, raw in current_signed_raw.items() if raw != 0)
    missing = [instrument_id for instrument_id in held if instrument_id not in target_weights]
    if missing:
        raise InvalidValueError(
            f"instruments {missing} are held but have no target weight; give 0 to close them"
        )
    if min_trade_notional is not None and min_trade_notional.currency != equity.currency:
        raise InvalidValueError(
            f"min_trade_notional is in {min_trade_notional.currency}, equity in {equity.currency}"
        )
    orders: list[OrderDelta] = []
    skipped: list[SkippedDelta] = []
    targets: dict[str, int] = {}
    for instrument_id in sorted(target_weights):
        weight = _check_finite(f"target weight of {instrument_id}", target_weights[instrument_id])
        instrument = instruments.get(instrument_id)
        if instrument is None:
            raise InvalidValueError(f"instrument {instrument_id} is unknown to sizing")
        if instrument.quote_currency != equity.currency:
            raise InvalidValueError(
                f"instrument {instrument_id} is quoted in {instrument.quote_currency}, "
                f"equity is in {equity.currency}; sizing does not convert currencies"
            )
        price = prices.get(instrument_id)
        if price is None:
            raise InvalidValueError(f"instrument {instrument_id} has no price to size with")
        if price.raw <= 0:
            raise InvalidValueError(f"price {price} of {instrument_id} must be above 0")
        with localcontext() as context:
            # Toward zero at every step (all operands are >= 0): the units never exceed the
            # exact quotient, and the quantize leaves make_quantity nothing to round up.
            context.prec = _DECIMAL_DIGITS
            context.rounding = ROUND_DOWN
            budget = Decimal(abs(weight)) * equity.as_decimal() * Decimal(multiplier)
            units = budget / (price.as_decimal() * Decimal(instrument.multiplier))
            units = units.quantize(Decimal(1).scaleb(-instrument.size_precision))
        size = instrument.make_quantity(units, rounding=ROUND_DOWN)
        target = -size.raw if weight < 0.0 else size.raw
        targets[instrument_id] = target
        current = int(current_signed_raw.get(instrument_id, 0))
        delta = target - current
        if delta == 0:
            continue
        quantity = Quantity(abs(delta), instrument.size_precision)
        notional = instrument.notional(quantity, price)
        adds_exposure = abs(target) > abs(current) and (
            current == 0 or (current > 0) == (target > 0)
        )
        if (
            min_trade_notional is not None
            and adds_exposure
            and notional.raw < min_trade_notional.raw
        ):
            skipped.append(
                SkippedDelta(
                    instrument_id,
                    delta,
                    notional,
                    f"notional {notional} is below min_trade_notional {min_trade_notional}",
                )
            )
            continue
        minimum = instrument.min_quantity_raw
        if minimum is not None and quantity.raw < minimum:
            skipped.append(
                SkippedDelta(
                    instrument_id,
                    delta,
                    notional,
                    f"quantity {quantity} is below the minimum quantity "
                    f"{Quantity(minimum, instrument.size_precision)} of {instrument_id}",
                )
            )
            continue
        orders.append(
            OrderDelta(
                instrument_id=instrument_id,
                side=OrderSide.BUY if delta > 0 else OrderSide.SELL,
                quantity=quantity,
                current_signed_raw=current,
                target_signed_raw=target,
                notional=notional,
            )
        )
    return SizingResult(tuple(orders), tuple(skipped), targets)

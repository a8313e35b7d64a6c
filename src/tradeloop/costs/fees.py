"""Commission models (pure functions of a fill): per share, basis points of notional, with a
minimum and an optional maximum per fill, and optional rounding to the currency's precision.

Examples (as configured in ``CommissionConfig``)::

    kind="bps", bps=10                     # 0.1 % of notional
    kind="per_share", per_share="0.005", minimum="1.00", maximum_pct=1.0   # IBKR-style fixed
"""

from __future__ import annotations

import functools
from decimal import Decimal

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import MONEY_PRECISION, Money, Price, Quantity, currency
from tradeloop.model.instruments import Instrument


class CommissionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a venue charges commissions.

    kind: ``"none"``, ``"bps"`` (basis points of notional) or ``"per_share"`` (per unit of
    quantity). ``minimum`` is per fill in the quote currency; ``maximum_pct`` caps a fill's
    commission at a percentage of its notional; ``round_to_currency`` rounds each
    commission to the currency's precision (cents), as many brokers do.
    """

    kind: str = "none"
    bps: float = 0.0
    per_share: str = "0"
    minimum: str = "0"
    maximum_pct: float | None = None
    round_to_currency: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("none", "bps", "per_share"):
            raise ConfigError(f"commission kind {self.kind!r} is not one of none, bps, per_share")
        if self.bps < 0 or Decimal(self.per_share) < 0 or Decimal(self.minimum) < 0:
            raise ConfigError("commission bps, per_share and minimum must not be negative")


@functools.lru_cache(maxsize=64)
def _rational(value: float | str) -> tuple[int, int]:
    numerator, denominator = Decimal(
        repr(value) if isinstance(value, float) else value
    ).as_integer_ratio()
    return numerator, denominator


def _div_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def commission(
    config: CommissionConfig, instrument: Instrument, quantity: Quantity, price: Price
) -> Money:
    """Return the commission of one fill of ``quantity`` at ``price`` (exact to 1e-9, half-even)."""
    code = instrument.quote_currency
    if config.kind == "none":
        return Money(0, code)
    notional_raw = instrument.notional(quantity, price).raw  # money raw, 9 decimals
    if config.kind == "bps":
        num, den = _rational(config.bps)
        fee_raw = _div_half_even(notional_raw * num, den * 10_000)
    else:
        num, den = _rational(config.per_share)
        scale = (
            10 ** (MONEY_PRECISION - quantity.precision)
            if quantity.precision <= MONEY_PRECISION
            else 1
        )
        fee_raw = _div_half_even(quantity.raw * scale * num, den)
    minimum_num, minimum_den = _rational(config.minimum)
    fee_raw = max(fee_raw, _div_half_even(minimum_num * 10**MONEY_PRECISION, minimum_den))
    if config.maximum_pct is not None:
        num, den = _rational(config.maximum_pct)
        fee_raw = min(fee_raw, _div_half_even(notional_raw * num, den * 100))
    if config.round_to_currency:
        step = 10 ** (MONEY_PRECISION - currency(code).precision)
        fee_raw = _div_half_even(fee_raw, step) * step
    return Money(fee_raw, code)

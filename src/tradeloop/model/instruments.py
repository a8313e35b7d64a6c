"""Instruments: what can be traded, with tick size, lot size, multiplier and currency.

An instrument id is ``SYMBOL.VENUE`` (``ORCL.XNAS``, ``BTCUSDT.BINANCE``). Prices and
quantities for an instrument are built with ``make_price`` / ``make_quantity``, which bind
them to the instrument's precision; ``price_error`` / ``quantity_error`` say in words why a
value does not fit (used by the risk engine).
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import (
    Money,
    Price,
    Quantity,
    currency,
    decimal_to_raw,
    float_to_raw,
    format_raw,
    notional_raw,
    pow10,
)
from tradeloop.model.enums import AccountType, InstrumentKind


def split_instrument_id(instrument_id: str) -> tuple[str, str]:
    """Return ``(symbol, venue)`` from ``SYMBOL.VENUE``.

    Raises
    ------
    InvalidValueError
        If the id has no ``.VENUE`` part.
    """
    symbol, dot, venue = instrument_id.rpartition(".")
    if not dot or not symbol or not venue:
        raise InvalidValueError(f"instrument id {instrument_id!r} is not of the form SYMBOL.VENUE")
    return symbol, venue


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable instrument.

    Attributes
    ----------
    id : ``SYMBOL.VENUE``.
    kind : equity, crypto spot or perpetual, FX spot, future, option.
    quote_currency : currency prices are quoted in (and P&L settles in).
    base_currency : the asset bought, for crypto and FX pairs (``None`` for equities, futures).
    price_precision, size_precision : decimals of prices and quantities.
    tick_size_raw : tick size at ``price_precision`` (1 means one unit of the last decimal).
    lot_size_raw : lot size at ``size_precision``.
    multiplier : contract multiplier as a decimal string (``"50"`` for ES, ``"1"`` for stocks).
    min_quantity_raw, max_quantity_raw : optional bounds at ``size_precision``.
    exchange_calendar : exchange-calendars code of the sessions (``"XNYS"``); ``None`` for 24/7.
    expiry_ns : expiry of a dated future.
    """

    id: str
    kind: InstrumentKind
    quote_currency: str
    base_currency: str | None = None
    price_precision: int
    size_precision: int
    tick_size_raw: int = 1
    lot_size_raw: int = 1
    multiplier: str = "1"
    min_quantity_raw: int | None = None
    max_quantity_raw: int | None = None
    exchange_calendar: str | None = None
    expiry_ns: int | None = None

    def __post_init__(self) -> None:
        split_instrument_id(self.id)
        currency(self.quote_currency)
        if self.tick_size_raw <= 0 or self.lot_size_raw <= 0:
            raise InvalidValueError(f"instrument {self.id}: tick and lot sizes must be positive")
        if not 0 <= self.price_precision <= 16 or not 0 <= self.size_precision <= 16:
            raise InvalidValueError(f"instrument {self.id}: precisions must be within 0..16")
        multiplier = Decimal(self.multiplier)
        if not multiplier.is_finite() or multiplier <= 0:
            raise InvalidValueError(
                f"instrument {self.id}: multiplier {self.multiplier} must be positive"
            )

    # -- derived properties -------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        """Return the symbol part of the id."""
        return split_instrument_id(self.id)[0]

    @property
    def venue(self) -> str:
        """Return the venue part of the id."""
        return split_instrument_id(self.id)[1]

    @property
    def tick_size(self) -> Price:
        """Return the tick size as a ``Price``."""
        return Price(self.tick_size_raw, self.price_precision)

    @property
    def lot_size(self) -> Quantity:
        """Return the lot size as a ``Quantity``."""
        return Quantity(self.lot_size_raw, self.size_precision)

    @property
    def account_type(self) -> AccountType:
        """Return how trades in this instrument settle: cash (spot) or margin (derivatives, FX)."""
        return _ACCOUNT_TYPES[self.kind]

    @property
    def multiplier_parts(self) -> tuple[int, int]:
        """Return the multiplier as ``(raw, precision)``."""
        return _multiplier_parts(self.multiplier)

    # -- building values ----------------------------------------------------------------------

    def make_price(
        self, value: float | str | Decimal | int, rounding: str = ROUND_HALF_EVEN
    ) -> Price:
        """Return ``value`` as a price at this instrument's precision, rounded to a tick.

        Raises
        ------
        InvalidValueError
            If ``value`` is NaN, infinite or not a number.
        """
        raw = self._to_raw(value, self.price_precision, "price", rounding)
        tick = self.tick_size_raw
        if raw % tick:
            raw = int((Decimal(raw) / tick).quantize(Decimal(1), rounding=rounding)) * tick
        return Price(raw, self.price_precision)

    def make_quantity(
        self, value: float | str | Decimal | int, rounding: str = ROUND_HALF_EVEN
    ) -> Quantity:
        """Return ``value`` as a quantity at this instrument's size precision, rounded to a lot.

        Raises
        ------
        InvalidValueError
            If ``value`` is NaN, infinite, negative or not a number.
        """
        raw = self._to_raw(value, self.size_precision, "quantity", rounding)
        lot = self.lot_size_raw
        if raw % lot:
            raw = int((Decimal(raw) / lot).quantize(Decimal(1), rounding=rounding)) * lot
        return Quantity(raw, self.size_precision)

    @staticmethod
    def _to_raw(
        value: float | str | Decimal | int, precision: int, what: str, rounding: str
    ) -> int:
        if isinstance(value, bool):
            raise InvalidValueError(f"{what} {value!r} is not a number")
        if isinstance(value, int):
            return value * pow10(precision)
        if isinstance(value, float):
            return float_to_raw(value, precision, what, rounding)
        if isinstance(value, str):
            try:
                value = Decimal(value.strip())
            except ArithmeticError:
                raise InvalidValueError(f"{what} {value!r} is not a decimal number") from None
        return decimal_to_raw(value, precision, what, rounding)

    # -- checks (used by the risk engine) -----------------------------------------------------

    def price_error(self, price: Price) -> str | None:
        """Return why ``price`` does not fit this instrument, or ``None`` if it does."""
        if price.precision != self.price_precision:
            return (
                f"price {price} has precision {price.precision}, "
                f"instrument {self.id} uses {self.price_precision}"
            )
        if price.raw % self.tick_size_raw:
            return f"price {price} is not a multiple of tick size {self.tick_size} for {self.id}"
        return None

    def quantity_error(self, quantity: Quantity) -> str | None:
        """Return why ``quantity`` does not fit this instrument, or ``None`` if it does."""
        if quantity.precision != self.size_precision:
            return (
                f"quantity {quantity} has precision {quantity.precision}, "
                f"instrument {self.id} uses {self.size_precision}"
            )
        if quantity.raw <= 0:
            return f"quantity {quantity} must be positive"
        if quantity.raw % self.lot_size_raw:
            return (
                f"quantity {quantity} is not a multiple of lot size {self.lot_size} for {self.id}"
            )
        if self.min_quantity_raw is not None and quantity.raw < self.min_quantity_raw:
            minimum = format_raw(self.min_quantity_raw, self.size_precision)
            return f"quantity {quantity} is below minimum {minimum} for {self.id}"
        if self.max_quantity_raw is not None and quantity.raw > self.max_quantity_raw:
            maximum = format_raw(self.max_quantity_raw, self.size_precision)
            return f"quantity {quantity} is above maximum {maximum} for {self.id}"
        return None

    def notional(self, quantity: Quantity, price: Price) -> Money:
        """Return quantity × price × multiplier in the quote currency (exact to 9 decimals)."""
        mult_raw, mult_precision = self.multiplier_parts
        return Money(notional_raw(price, quantity, mult_raw, mult_precision), self.quote_currency)


_ACCOUNT_TYPES: dict[InstrumentKind, AccountType] = {
    kind: AccountType.CASH
    if kind in (InstrumentKind.EQUITY, InstrumentKind.CRYPTO_SPOT, InstrumentKind.OPTION)
    else AccountType.MARGIN
    for kind in InstrumentKind
}


@functools.lru_cache(maxsize=256)
def _multiplier_parts(multiplier: str) -> tuple[int, int]:
    value = Decimal(multiplier)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    precision = max(0, -exponent)
    return int(value.scaleb(precision)), precision


# -- factories ---------------------------------------------------------------------------------


def _raw(value: str, precision: int) -> int:
    return decimal_to_raw(Decimal(value), precision, "size")


def equity(
    symbol: str,
    venue: str = "XNYS",
    *,
    currency_code: str = "USD",
    price_precision: int = 2,
    tick_size: str = "0.01",
    lot_size: str = "1",
    calendar: str | None = "XNYS",
) -> Instrument:
    """Return a cash equity (whole shares by default, one-cent tick)."""
    return Instrument(
        id=f"{symbol}.{venue}",
        kind=InstrumentKind.EQUITY,
        quote_currency=currency_code,
        price_precision=price_precision,
        size_precision=0,
        tick_size_raw=_raw(tick_size, price_precision),
        lot_size_raw=_raw(lot_size, 0),
        exchange_calendar=calendar,
    )


def crypto_spot(
    symbol: str,
    venue: str,
    *,
    base: str,
    quote: str,
    price_precision: int,
    size_precision: int,
    tick_size: str | None = None,
    lot_size: str | None = None,
) -> Instrument:
    """Return a crypto spot pair such as ``BTCUSDT.BINANCE`` (trades 24/7)."""
    return Instrument(
        id=f"{symbol}.{venue}",
        kind=InstrumentKind.CRYPTO_SPOT,
        quote_currency=quote,
        base_currency=base,
        price_precision=price_precision,
        size_precision=size_precision,
        tick_size_raw=_raw(tick_size, price_precision) if tick_size else 1,
        lot_size_raw=_raw(lot_size, size_precision) if lot_size else 1,
    )


def crypto_perpetual(
    symbol: str,
    venue: str,
    *,
    base: str,
    quote: str,
    price_precision: int,
    size_precision: int,
    tick_size: str | None = None,
    lot_size: str | None = None,
) -> Instrument:
    """Return a linear perpetual swap (margin account, no expiry)."""
    return Instrument(
        id=f"{symbol}.{venue}",
        kind=InstrumentKind.CRYPTO_PERPETUAL,
        quote_currency=quote,
        base_currency=base,
        price_precision=price_precision,
        size_precision=size_precision,
        tick_size_raw=_raw(tick_size, price_precision) if tick_size else 1,
        lot_size_raw=_raw(lot_size, size_precision) if lot_size else 1,
    )


def fx_pair(
    pair: str,
    venue: str = "SIM",
    *,
    price_precision: int = 5,
    size_precision: int = 0,
    lot_size: str = "1000",
) -> Instrument:
    """Return an FX spot pair from ``"GBP/USD"`` (symbol ``GBPUSD``), margin-settled."""
    base, sep, quote = pair.partition("/")
    if not sep:
        raise InvalidValueError(f"FX pair {pair!r} must look like BASE/QUOTE, e.g. GBP/USD")
    return Instrument(
        id=f"{base}{quote}.{venue}",
        kind=InstrumentKind.FX_SPOT,
        quote_currency=quote,
        base_currency=base,
        price_precision=price_precision,
        size_precision=size_precision,
        lot_size_raw=_raw(lot_size, size_precision),
    )


def future(
    symbol: str,
    venue: str,
    *,
    currency_code: str,
    price_precision: int,
    tick_size: str,
    multiplier: str,
    expiry_ns: int | None = None,
    calendar: str | None = None,
) -> Instrument:
    """Return a dated future (whole contracts), e.g. ``6EH4.XCME`` with multiplier 125000."""
    return Instrument(
        id=f"{symbol}.{venue}",
        kind=InstrumentKind.FUTURE,
        quote_currency=currency_code,
        price_precision=price_precision,
        size_precision=0,
        tick_size_raw=_raw(tick_size, price_precision),
        multiplier=multiplier,
        expiry_ns=expiry_ns,
        exchange_calendar=calendar,
    )

"""Fixed-point value types: ``Price``, ``Quantity`` and ``Money``.

A value is an integer ``raw`` plus a decimal ``precision``: ``Price(1001234, 4)`` is 100.1234.
Arithmetic on raws is exact. Floats enter only through ``from_float`` (at the edge, with an
explicit rounding mode) and leave only through ``float()`` / ``as_float()`` for analytics.

``Money`` always uses ``MONEY_PRECISION`` (9) decimals so that fees such as 0.1 % of a
notional stay exact; a currency's own precision (2 for USD) is for display and for venues
that round fees (see the venue's commission model).

Equal values compare equal whatever their precision: ``Price(1000, 3) == Price(100, 2)``.
"""

from __future__ import annotations

import math
import numbers
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

import msgspec

from tradeloop.core.errors import InvalidValueError

MAX_PRECISION: Final = 16
MONEY_PRECISION: Final = 9
_POW10: Final[tuple[int, ...]] = tuple(10**i for i in range(MAX_PRECISION + MONEY_PRECISION + 20))


def pow10(exponent: int) -> int:
    """Return ``10**exponent`` from a table (exponent in 0..44)."""
    return _POW10[exponent]


def rescale_raw(
    raw: int, from_precision: int, to_precision: int, rounding: str = ROUND_HALF_EVEN
) -> int:
    """Return ``raw`` (at ``from_precision``) expressed at ``to_precision``.

    Widening is exact. Narrowing rounds with ``rounding`` (a ``decimal`` rounding mode).
    """
    if to_precision >= from_precision:
        return raw * _POW10[to_precision - from_precision]
    divisor = _POW10[from_precision - to_precision]
    quotient, remainder = divmod(raw, divisor)
    if remainder == 0:
        return quotient
    value = (Decimal(raw) / Decimal(divisor)).quantize(Decimal(1), rounding=rounding)
    return int(value)


def _check_precision(precision: int, what: str) -> None:
    if not 0 <= precision <= MAX_PRECISION:
        raise InvalidValueError(f"{what} precision {precision} is outside 0..{MAX_PRECISION}")


def decimal_to_raw(
    value: Decimal, precision: int, what: str, rounding: str = ROUND_HALF_EVEN
) -> int:
    """Return ``value`` as a raw integer at ``precision``, rounding with ``rounding``.

    Raises
    ------
    InvalidValueError
        If ``value`` is NaN or infinite.
    """
    if not value.is_finite():
        raise InvalidValueError(f"{what} {value} is not a finite number")
    try:
        scaled = value.scaleb(precision).quantize(Decimal(1), rounding=rounding)
    except InvalidOperation:
        raise InvalidValueError(
            f"{what} {value} cannot be represented at precision {precision}"
        ) from None
    return int(scaled)


def float_to_raw(value: float, precision: int, what: str, rounding: str = ROUND_HALF_EVEN) -> int:
    """Return the float ``value`` as a raw integer at ``precision`` (exact value, then rounded).

    Raises
    ------
    InvalidValueError
        If ``value`` is NaN or infinite.
    """
    if not math.isfinite(value):
        raise InvalidValueError(f"{what} {value} is not a finite number")
    return decimal_to_raw(Decimal(value), precision, what, rounding)


def _parse_decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidValueError(f"{what} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise InvalidValueError(f"{what} {text!r} is not a finite number")
    return value


def _decimals_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def format_raw(raw: int, precision: int) -> str:
    """Return ``raw`` at ``precision`` as a plain decimal string, e.g. ``"100.1234"``."""
    if precision == 0:
        return str(raw)
    sign = "-" if raw < 0 else ""
    whole, frac = divmod(abs(raw), _POW10[precision])
    return f"{sign}{whole}.{frac:0{precision}d}"


def _reject_components(type_name: str, raw: object, second: object, second_name: str) -> None:
    # Called only when a component is not a plain int (the constructor's fast check failed):
    # integer-like values (NumPy integers) pass; anything else is an error that points to the
    # constructor the caller wanted.
    lowered = type_name.lower()
    if not isinstance(raw, numbers.Integral):
        if isinstance(raw, float | Decimal | str):
            method = {float: "from_float", str: "from_str"}.get(type(raw), "from_decimal")
            argument = repr(raw) if isinstance(raw, str) else f"{raw!s}"
            if isinstance(raw, Decimal):
                argument = f"Decimal('{raw}')"
            raise InvalidValueError(
                f"{lowered} raw {raw!r} is a {type(raw).__name__}, not an integer: "
                f"{type_name}(raw, {second_name}) takes the integer number of units of the last "
                f"decimal; build it from a {type(raw).__name__} with "
                f"{type_name}.{method}({argument}, {second!r})"
            )
        raise InvalidValueError(
            f"{lowered} raw {raw!r} is a {type(raw).__name__}, not an integer: "
            f"{type_name}(raw, {second_name}) takes the integer number of units of the last decimal"
        )
    if second_name == "precision" and not isinstance(second, numbers.Integral):
        raise InvalidValueError(
            f"{lowered} precision {second!r} is a {type(second).__name__}, not an integer "
            f"number of decimals"
        )


class Price(msgspec.Struct, frozen=True, gc=False):
    """A price: ``raw`` / 10**``precision``. May be negative (spreads, some futures)."""

    raw: int
    precision: int

    def __post_init__(self) -> None:
        if self.raw.__class__ is not int or self.precision.__class__ is not int:
            _reject_components("Price", self.raw, self.precision, "precision")

    @classmethod
    def from_str(cls, text: str, precision: int | None = None) -> Price:
        """Return a price parsed from ``text``; ``precision`` defaults to the digits given.

        Raises
        ------
        InvalidValueError
            If ``text`` is not a finite decimal, or has more decimals than ``precision``
            (use ``from_decimal`` with a rounding mode to round on purpose).
        """
        value = _parse_decimal(text, "price")
        digits = _decimals_of(value)
        target = digits if precision is None else precision
        _check_precision(target, "price")
        if digits > target and value != value.quantize(Decimal(1).scaleb(-target)):
            raise InvalidValueError(f"price {text} has more decimals than precision {target}")
        return cls(decimal_to_raw(value, target, "price"), target)

    @classmethod
    def from_decimal(cls, value: Decimal, precision: int, rounding: str = ROUND_HALF_EVEN) -> Price:
        """Return ``value`` rounded to ``precision`` with ``rounding``."""
        _check_precision(precision, "price")
        return cls(decimal_to_raw(value, precision, "price", rounding), precision)

    @classmethod
    def from_float(cls, value: float, precision: int, rounding: str = ROUND_HALF_EVEN) -> Price:
        """Return the float ``value`` rounded to ``precision`` with ``rounding``.

        Raises
        ------
        InvalidValueError
            If ``value`` is NaN or infinite.
        """
        _check_precision(precision, "price")
        return cls(float_to_raw(value, precision, "price", rounding), precision)

    def as_decimal(self) -> Decimal:
        """Return the exact value as a ``Decimal``."""
        return Decimal(self.raw).scaleb(-self.precision)

    def as_float(self) -> float:
        """Return the value as a float (for analytics only)."""
        return self.raw / _POW10[self.precision]

    def to_precision(self, precision: int, rounding: str = ROUND_HALF_EVEN) -> Price:
        """Return this price at ``precision`` (exact when widening, rounded when narrowing)."""
        return Price(rescale_raw(self.raw, self.precision, precision, rounding), precision)

    def __float__(self) -> float:
        return self.raw / _POW10[self.precision]

    def __str__(self) -> str:
        return format_raw(self.raw, self.precision)

    def __repr__(self) -> str:
        return f"Price('{format_raw(self.raw, self.precision)}')"

    def __hash__(self) -> int:
        # Equal values at different precisions divide to the same correctly rounded float.
        return hash(self.raw / _POW10[self.precision])

    def __eq__(self, other: object) -> bool:
        if type(other) is not Price:
            return NotImplemented
        return self.raw * _POW10[other.precision] == other.raw * _POW10[self.precision]

    def __lt__(self, other: Price) -> bool:
        return self.raw * _POW10[other.precision] < other.raw * _POW10[self.precision]

    def __le__(self, other: Price) -> bool:
        return self.raw * _POW10[other.precision] <= other.raw * _POW10[self.precision]

    def __gt__(self, other: Price) -> bool:
        return self.raw * _POW10[other.precision] > other.raw * _POW10[self.precision]

    def __ge__(self, other: Price) -> bool:
        return self.raw * _POW10[other.precision] >= other.raw * _POW10[self.precision]

    def __add__(self, other: Price) -> Price:
        p = max(self.precision, other.precision)
        return Price(
            self.raw * _POW10[p - self.precision] + other.raw * _POW10[p - other.precision], p
        )

    def __sub__(self, other: Price) -> Price:
        p = max(self.precision, other.precision)
        return Price(
            self.raw * _POW10[p - self.precision] - other.raw * _POW10[p - other.precision], p
        )

    def __neg__(self) -> Price:
        return Price(-self.raw, self.precision)


class Quantity(msgspec.Struct, frozen=True, gc=False):
    """A non-negative quantity: ``raw`` / 10**``precision``."""

    raw: int
    precision: int

    def __post_init__(self) -> None:
        if self.raw.__class__ is not int or self.precision.__class__ is not int:
            _reject_components("Quantity", self.raw, self.precision, "precision")
        if self.raw < 0:
            raise InvalidValueError(
                f"quantity {format_raw(self.raw, self.precision)} is negative; "
                "quantities are non-negative (the side carries the sign)"
            )

    @classmethod
    def from_str(cls, text: str, precision: int | None = None) -> Quantity:
        """Return a quantity parsed from ``text``; ``precision`` defaults to the digits given.

        Raises
        ------
        InvalidValueError
            If ``text`` is not a finite, non-negative decimal with at most ``precision`` decimals.
        """
        value = _parse_decimal(text, "quantity")
        digits = _decimals_of(value)
        target = digits if precision is None else precision
        _check_precision(target, "quantity")
        if digits > target and value != value.quantize(Decimal(1).scaleb(-target)):
            raise InvalidValueError(f"quantity {text} has more decimals than precision {target}")
        return cls(decimal_to_raw(value, target, "quantity"), target)

    @classmethod
    def from_decimal(
        cls, value: Decimal, precision: int, rounding: str = ROUND_HALF_EVEN
    ) -> Quantity:
        """Return ``value`` rounded to ``precision`` with ``rounding``."""
        _check_precision(precision, "quantity")
        return cls(decimal_to_raw(value, precision, "quantity", rounding), precision)

    @classmethod
    def from_float(cls, value: float, precision: int, rounding: str = ROUND_HALF_EVEN) -> Quantity:
        """Return the float ``value`` rounded to ``precision`` with ``rounding``.

        Raises
        ------
        InvalidValueError
            If ``value`` is NaN, infinite or negative.
        """
        _check_precision(precision, "quantity")
        return cls(float_to_raw(value, precision, "quantity", rounding), precision)

    @classmethod
    def from_int(cls, value: int, precision: int = 0) -> Quantity:
        """Return the whole number ``value`` at ``precision``."""
        _check_precision(precision, "quantity")
        return cls(value * _POW10[precision], precision)

    @classmethod
    def zero(cls, precision: int = 0) -> Quantity:
        """Return a zero quantity at ``precision``."""
        return cls(0, precision)

    def as_decimal(self) -> Decimal:
        """Return the exact value as a ``Decimal``."""
        return Decimal(self.raw).scaleb(-self.precision)

    def as_float(self) -> float:
        """Return the value as a float (for analytics only)."""
        return self.raw / _POW10[self.precision]

    def to_precision(self, precision: int, rounding: str = ROUND_HALF_EVEN) -> Quantity:
        """Return this quantity at ``precision`` (exact when widening, rounded when narrowing)."""
        return Quantity(rescale_raw(self.raw, self.precision, precision, rounding), precision)

    def is_zero(self) -> bool:
        """Return whether the quantity is zero."""
        return self.raw == 0

    def __bool__(self) -> bool:
        return self.raw != 0

    def __float__(self) -> float:
        return self.raw / _POW10[self.precision]

    def __str__(self) -> str:
        return format_raw(self.raw, self.precision)

    def __repr__(self) -> str:
        return f"Quantity('{format_raw(self.raw, self.precision)}')"

    def __hash__(self) -> int:
        return hash(self.raw / _POW10[self.precision])

    def __eq__(self, other: object) -> bool:
        if type(other) is not Quantity:
            return NotImplemented
        return self.raw * _POW10[other.precision] == other.raw * _POW10[self.precision]

    def __lt__(self, other: Quantity) -> bool:
        return self.raw * _POW10[other.precision] < other.raw * _POW10[self.precision]

    def __le__(self, other: Quantity) -> bool:
        return self.raw * _POW10[other.precision] <= other.raw * _POW10[self.precision]

    def __gt__(self, other: Quantity) -> bool:
        return self.raw * _POW10[other.precision] > other.raw * _POW10[self.precision]

    def __ge__(self, other: Quantity) -> bool:
        return self.raw * _POW10[other.precision] >= other.raw * _POW10[self.precision]

    def __add__(self, other: Quantity) -> Quantity:
        p = max(self.precision, other.precision)
        return Quantity(
            self.raw * _POW10[p - self.precision] + other.raw * _POW10[p - other.precision], p
        )

    def __sub__(self, other: Quantity) -> Quantity:
        """Return the difference; raises ``InvalidValueError`` if it would be negative."""
        p = max(self.precision, other.precision)
        return Quantity(
            self.raw * _POW10[p - self.precision] - other.raw * _POW10[p - other.precision], p
        )


class Currency(msgspec.Struct, frozen=True, gc=False):
    """A currency: ISO-4217 or crypto code, display precision and kind."""

    code: str
    precision: int
    is_crypto: bool = False


CURRENCIES: Final[dict[str, Currency]] = {
    c.code: c
    for c in (
        Currency("USD", 2),
        Currency("EUR", 2),
        Currency("GBP", 2),
        Currency("JPY", 0),
        Currency("CHF", 2),
        Currency("AUD", 2),
        Currency("CAD", 2),
        Currency("USDT", 8, is_crypto=True),
        Currency("USDC", 8, is_crypto=True),
        Currency("BTC", 8, is_crypto=True),
        Currency("ETH", 8, is_crypto=True),
        Currency("XRP", 8, is_crypto=True),
        Currency("ADA", 8, is_crypto=True),
    )
}


def currency(code: str) -> Currency:
    """Return the ``Currency`` for ``code``.

    Raises
    ------
    InvalidValueError
        If the code is unknown.
    """
    try:
        return CURRENCIES[code]
    except KeyError:
        known = ", ".join(sorted(CURRENCIES))
        raise InvalidValueError(
            f"currency {code!r} is unknown; known currencies: {known}"
        ) from None


class Money(msgspec.Struct, frozen=True, gc=False):
    """An amount of one currency, held exactly at ``MONEY_PRECISION`` (9) decimals."""

    raw: int
    currency: str

    def __post_init__(self) -> None:
        if self.raw.__class__ is not int:
            _reject_components("Money", self.raw, self.currency, "currency")

    @classmethod
    def from_str(cls, text: str, currency_code: str) -> Money:
        """Return ``text`` (a decimal string) in ``currency_code``.

        Raises
        ------
        InvalidValueError
            If ``text`` is not a finite decimal or the currency is unknown.
        """
        currency(currency_code)
        value = _parse_decimal(text, "money")
        return cls(decimal_to_raw(value, MONEY_PRECISION, "money"), currency_code)

    @classmethod
    def from_decimal(
        cls, value: Decimal, currency_code: str, rounding: str = ROUND_HALF_EVEN
    ) -> Money:
        """Return ``value`` in ``currency_code`` (rounded to 9 decimals with ``rounding``)."""
        return cls(decimal_to_raw(value, MONEY_PRECISION, "money", rounding), currency_code)

    @classmethod
    def from_float(cls, value: float, currency_code: str, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Return the float ``value`` in ``currency_code``; rejects NaN and infinity."""
        return cls(float_to_raw(value, MONEY_PRECISION, "money", rounding), currency_code)

    @classmethod
    def zero(cls, currency_code: str) -> Money:
        """Return zero in ``currency_code``."""
        return cls(0, currency_code)

    def as_decimal(self) -> Decimal:
        """Return the exact amount as a ``Decimal``."""
        return Decimal(self.raw).scaleb(-MONEY_PRECISION)

    def as_float(self) -> float:
        """Return the amount as a float (for analytics only)."""
        return self.raw / _POW10[MONEY_PRECISION]

    def rounded(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Return the amount rounded to the currency's own precision (2 for USD)."""
        digits = currency(self.currency).precision
        raw = rescale_raw(self.raw, MONEY_PRECISION, digits, rounding)
        return Money(raw * _POW10[MONEY_PRECISION - digits], self.currency)

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidValueError(
                f"cannot combine {self.currency} with {other.currency} without an FX conversion"
            )

    def __float__(self) -> float:
        return self.raw / _POW10[MONEY_PRECISION]

    def __str__(self) -> str:
        digits = (
            currency(self.currency).precision if self.currency in CURRENCIES else MONEY_PRECISION
        )
        raw = rescale_raw(self.raw, MONEY_PRECISION, digits)
        return f"{format_raw(raw, digits)} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{format_raw(self.raw, MONEY_PRECISION)}', '{self.currency}')"

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.raw + other.raw, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.raw - other.raw, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.raw, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.raw < other.raw

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.raw <= other.raw

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.raw > other.raw

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.raw >= other.raw


def notional_raw(
    price: Price, quantity: Quantity, multiplier_raw: int, multiplier_precision: int
) -> int:
    """Return price × quantity × multiplier as a raw money amount at ``MONEY_PRECISION``.

    Exact when the combined precision is at most 9 decimals; otherwise rounded half-even.
    """
    product = price.raw * quantity.raw * multiplier_raw
    scale = price.precision + quantity.precision + multiplier_precision
    return rescale_raw(product, scale, MONEY_PRECISION)

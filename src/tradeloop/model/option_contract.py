"""Option contracts: underlying, strike, expiry, right, exercise style, multiplier.

A contract is an immutable record; ``tradeloop.options`` prices it (``t`` from
:meth:`OptionContract.years_to_expiry`). OCC-style symbols (``SPXW  110107C01050000``: root
padded to 6, ``YYMMDD``, ``C``/``P``, strike x 1000 in 8 digits) parse with
:meth:`OptionContract.from_occ`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import msgspec

from tradeloop.core.errors import InvalidValueError
from tradeloop.model.instruments import split_instrument_id

_NS_PER_DAY = 86_400 * 1_000_000_000


class OptionRight(StrEnum):
    """The holder's right: buy (call) or sell (put) the underlying at the strike."""

    CALL = "call"
    PUT = "put"


class ExerciseStyle(StrEnum):
    """When the holder may exercise: at expiry only, or any time up to it."""

    EUROPEAN = "european"
    AMERICAN = "american"


class OptionContract(msgspec.Struct, frozen=True, kw_only=True):
    """One listed option.

    Attributes
    ----------
    id : ``SYMBOL.VENUE`` of the option itself.
    underlying_id : ``SYMBOL.VENUE`` (or index name) of what it is written on.
    strike : strike price as a decimal string (``"1050"``).
    expiry_ns : expiry, integer nanoseconds since the epoch, UTC.
    right : call or put.
    exercise : european or american.
    multiplier : contract multiplier as a decimal string (``"100"`` for US equity options).
    quote_currency : currency of the premium and strike.
    """

    id: str
    underlying_id: str
    strike: str
    expiry_ns: int
    right: OptionRight
    exercise: ExerciseStyle
    multiplier: str = "100"
    quote_currency: str = "USD"

    def __post_init__(self) -> None:
        split_instrument_id(self.id)
        if not self.underlying_id:
            raise InvalidValueError(f"option {self.id}: underlying_id must not be empty")
        for name in ("strike", "multiplier"):
            text = getattr(self, name)
            try:
                value = Decimal(text)
            except InvalidOperation:
                raise InvalidValueError(
                    f"option {self.id}: {name} {text!r} is not a number"
                ) from None
            if not value.is_finite() or value <= 0:
                raise InvalidValueError(f"option {self.id}: {name} {text} must be positive")
        if self.expiry_ns <= 0:
            raise InvalidValueError(f"option {self.id}: expiry_ns {self.expiry_ns} must be > 0")

    @property
    def strike_value(self) -> float:
        """Return the strike as a float (for pricing)."""
        return float(self.strike)

    @property
    def option_type(self) -> str:
        """Return ``"call"`` or ``"put"``, the ``option_type`` of ``tradeloop.options``."""
        return self.right.value

    def years_to_expiry(self, ts_ns: int, days_per_year: float = 365.0) -> float:
        """Return the time from ``ts_ns`` to expiry in years (calendar days / ``days_per_year``).

        Raises
        ------
        InvalidValueError
            If ``ts_ns`` is at or after the expiry.
        """
        if ts_ns >= self.expiry_ns:
            raise InvalidValueError(
                f"option {self.id}: time {ts_ns} is not before its expiry {self.expiry_ns}"
            )
        return (self.expiry_ns - ts_ns) / _NS_PER_DAY / days_per_year

    @classmethod
    def from_occ(
        cls,
        occ_symbol: str,
        *,
        venue: str,
        underlying_id: str,
        exercise: ExerciseStyle,
        multiplier: str = "100",
        quote_currency: str = "USD",
        expiry_time: dt.time = dt.time(0, 0),
    ) -> OptionContract:
        """Return the contract of an OCC symbol such as ``"SPXW  110107C01050000"``.

        The expiry is the symbol's date at ``expiry_time`` UTC (midnight unless given).

        Raises
        ------
        InvalidValueError
            If the symbol is not 21 characters of root, ``YYMMDD``, ``C``/``P`` and 8 digits.

        Examples
        --------
        >>> c = OptionContract.from_occ("SPXW  110107C01050000", venue="CBOE",
        ...                             underlying_id="SPX", exercise=ExerciseStyle.EUROPEAN)
        >>> c.id, c.strike, c.right.value
        ('SPXW110107C01050000.CBOE', '1050', 'call')
        """
        text = occ_symbol
        if len(text) != 21 or text[12] not in "CP" or not (text[6:12] + text[13:]).isdigit():
            raise InvalidValueError(
                f"OCC symbol {occ_symbol!r} must be root (6, space padded), YYMMDD, C or P and "
                "the strike x 1000 in 8 digits"
            )
        try:
            day = dt.date(2000 + int(text[6:8]), int(text[8:10]), int(text[10:12]))
        except ValueError:
            raise InvalidValueError(f"OCC symbol {occ_symbol!r} has no valid date") from None
        expiry = dt.datetime.combine(day, expiry_time, tzinfo=dt.UTC)
        strike = Decimal(int(text[13:])) / 1000
        return cls(
            id=f"{text.replace(' ', '')}.{venue}",
            underlying_id=underlying_id,
            strike=format(strike.normalize(), "f"),
            expiry_ns=int(expiry.timestamp()) * 1_000_000_000,
            right=OptionRight.CALL if text[12] == "C" else OptionRight.PUT,
            exercise=exercise,
            multiplier=multiplier,
            quote_currency=quote_currency,
        )

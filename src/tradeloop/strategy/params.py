"""Quantities and prices given in a config: exact on the instrument's grid, never rounded.

A config that says ``quantity = "10.5"`` for a share that trades in whole lots, or
``"0"``, is a mistake the user must hear about at startup: ``exact_quantity`` and
``exact_price`` return the value only when it is a positive multiple of the lot size (tick
size) at the instrument's precision, and raise a ``ConfigError`` naming the setting, the
value and the rule otherwise. Sizing that computes a quantity (a float target) rounds on
purpose, in one named place (``portfolio.sizing``); these are for values a person typed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.instruments import Instrument

_Exact = TypeVar("_Exact", Price, Quantity)


def exact_quantity(instrument: Instrument, text: str, what: str, where: str) -> Quantity:
    """Return ``text`` as a quantity of ``instrument`` if it lies on the lot grid.

    Raises
    ------
    ConfigError
        If ``text`` is not a decimal number, or not a positive multiple of the instrument's
        lot size at its size precision; the message starts with ``where`` and names ``what``.
    """
    grid = f"{instrument.id}'s lot size {instrument.lot_size}"
    return _exact(instrument.make_quantity, text, what, where, grid)


def exact_price(instrument: Instrument, text: str, what: str, where: str) -> Price:
    """Return ``text`` as a price of ``instrument`` if it lies on the tick grid.

    Raises
    ------
    ConfigError
        If ``text`` is not a decimal number, or not a positive multiple of the instrument's
        tick size at its price precision.
    """
    grid = f"{instrument.id}'s tick size {instrument.tick_size}"
    return _exact(instrument.make_price, text, what, where, grid)


def _exact(make: Callable[[str], _Exact], text: str, what: str, where: str, grid: str) -> _Exact:
    try:
        written = Decimal(text)
    except (ArithmeticError, TypeError):
        raise ConfigError(f"{where}: {what} {text!r} is not a decimal number") from None
    if not written.is_finite() or written <= 0:
        raise ConfigError(f"{where}: {what} {text} is not a positive multiple of {grid}")
    try:
        value = make(text)
    except InvalidValueError as error:
        raise ConfigError(f"{where}: {what} {text}: {error}") from None
    if value.raw <= 0 or value.as_decimal() != written:
        raise ConfigError(f"{where}: {what} {text} is not a positive multiple of {grid}")
    return value

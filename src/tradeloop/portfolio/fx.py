"""Converting an amount in another currency with the run's own market prices.

A venue may charge a fee in the asset bought (Binance takes a buy's commission in BTC): the
portfolio's cash is in the run's base currency, so the amount is converted at the latest mark
of an instrument that trades one currency against the other (``BTCUSDT``: 1 BTC = its mark in
USDT), or the inverse of one that trades them the other way round. Without such an instrument
or before its first price the conversion is refused with a clear error, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price
from tradeloop.model.instruments import Instrument

MarkPrice = Callable[[str], Price | None]


class InstrumentMarkFx:
    """An ``FxConverter`` from the marks of the run's instruments (module docstring)."""

    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self._pairs: dict[tuple[str, str], str] = {}
        for instrument in sorted(instruments.values(), key=lambda i: i.id):
            if instrument.base_currency is not None:
                pair = (instrument.base_currency, instrument.quote_currency)
                self._pairs.setdefault(pair, instrument.id)
        self._mark: MarkPrice | None = None

    def bind(self, mark_price: MarkPrice) -> None:
        """Read marks from ``mark_price`` (the portfolio's, once it exists)."""
        self._mark = mark_price

    def rate(self, from_currency: str, to_currency: str, ts_ns: int) -> Decimal:
        """Return how many ``to_currency`` one ``from_currency`` is worth at the latest mark.

        Raises
        ------
        ConfigError
            If no instrument trades the two currencies against each other, or it has no
            price yet.
        """
        if from_currency == to_currency:
            return Decimal(1)
        direct = self._pairs.get((from_currency, to_currency))
        inverse = self._pairs.get((to_currency, from_currency))
        instrument_id = direct or inverse
        mark = None if instrument_id is None or self._mark is None else self._mark(instrument_id)
        if mark is None or mark.raw <= 0:
            raise ConfigError(
                f"an amount in {from_currency} cannot be valued in {to_currency}: no instrument "
                f"of the run trades {from_currency} against {to_currency}"
                + ("" if instrument_id is None else f" ({instrument_id} has no price yet)")
            )
        price = mark.as_decimal()
        return price if direct is not None else Decimal(1) / price

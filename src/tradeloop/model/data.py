"""Market data records. Every record carries ``ts_event`` (when it happened at the source)
and ``ts_init`` (when tradeloop saw it); the kernel orders records by ``ts_init``.

A bar's ``ts_event`` is the time its interval closed (a daily bar of an NYSE stock closes at
16:00 New York time), so a bar never reveals prices before it could have been known.

Records are frozen msgspec structs: a ``Bar`` costs about 50 ns to build (its prices are raw
integers, turned into ``Price`` objects only when read), cheap enough for the hot loop
(measured in ``make bench``).
"""

from __future__ import annotations

import msgspec

from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.enums import AggressorSide, BookAction, BookSide


class Bar(msgspec.Struct, frozen=True, gc=False):
    """An OHLCV bar of ``instrument_id`` that closed at ``ts_event``.

    Prices are stored as raw integers at ``price_precision`` (the volume at
    ``volume_precision``); ``bar.open`` … ``bar.close`` return exact ``Price`` objects and
    ``bar.volume`` a ``Quantity``, built on access. Hot code reads the ``*_raw`` fields.
    """

    instrument_id: str
    open_raw: int
    high_raw: int
    low_raw: int
    close_raw: int
    volume_raw: int
    price_precision: int
    volume_precision: int
    ts_event: int
    ts_init: int

    @property
    def open(self) -> Price:
        """Return the opening price."""
        return Price(self.open_raw, self.price_precision)

    @property
    def high(self) -> Price:
        """Return the highest price."""
        return Price(self.high_raw, self.price_precision)

    @property
    def low(self) -> Price:
        """Return the lowest price."""
        return Price(self.low_raw, self.price_precision)

    @property
    def close(self) -> Price:
        """Return the closing price."""
        return Price(self.close_raw, self.price_precision)

    @property
    def volume(self) -> Quantity:
        """Return the traded volume."""
        return Quantity(self.volume_raw, self.volume_precision)


class QuoteTick(msgspec.Struct, frozen=True, gc=False):
    """Best bid and ask with their sizes."""

    instrument_id: str
    bid_price: Price
    ask_price: Price
    bid_size: Quantity
    ask_size: Quantity
    ts_event: int
    ts_init: int


class TradeTick(msgspec.Struct, frozen=True, gc=False):
    """One trade printed by the venue."""

    instrument_id: str
    price: Price
    size: Quantity
    aggressor_side: AggressorSide
    trade_id: str
    ts_event: int
    ts_init: int


class OrderBookDelta(msgspec.Struct, frozen=True, gc=False):
    """One change to an order book: a price level (L2, ``order_id`` 0) or an order (L3).

    ``flags`` carries venue flags (for example "last message of an event"); ``sequence`` is
    the venue's sequence number, used to detect gaps.
    """

    instrument_id: str
    action: BookAction
    side: BookSide
    price: Price
    size: Quantity
    order_id: int
    flags: int
    sequence: int
    ts_event: int
    ts_init: int


MarketData = Bar | QuoteTick | TradeTick | OrderBookDelta

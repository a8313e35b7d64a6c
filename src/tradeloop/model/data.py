"""Market data records. Every record carries ``ts_event`` (when it happened at the source)
and ``ts_init`` (when tradeloop saw it); the kernel orders records by ``ts_init``.

A bar's ``ts_event`` is the time its interval closed (a daily bar of an NYSE stock closes at
16:00 New York time), so a bar never reveals prices before it could have been known.

Records are frozen msgspec structs: building one costs about 70 ns, cheap enough for the hot
loop (measured in ``make bench``).
"""

from __future__ import annotations

import msgspec

from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.enums import AggressorSide, BookAction, BookSide


class Bar(msgspec.Struct, frozen=True, gc=False):
    """An OHLCV bar of ``instrument_id`` that closed at ``ts_event``."""

    instrument_id: str
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Quantity
    ts_event: int
    ts_init: int


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

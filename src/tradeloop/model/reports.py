"""What a venue says about its own state: order, fill, position and balance reports.

A live ``ExecutionClient`` answers queries (one order by client order id, the open orders,
the fills since a time, the positions and the balances) with these records, in the venue's
own terms translated to tradeloop's: exact prices and quantities, integer-nanosecond times,
tradeloop instrument ids and client order ids. Startup reconciliation and crash recovery
compare them with what the journal rebuilt; no report is ever applied to state without
becoming an event first.
"""

from __future__ import annotations

import msgspec

from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType


class OrderStatusReport(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's view of one order."""

    venue: str
    instrument_id: str
    client_order_id: str
    venue_order_id: str
    side: OrderSide
    order_type: OrderType
    status: OrderStatus
    quantity: Quantity
    filled_qty: Quantity
    price: Price | None = None
    avg_px: Price | None = None
    ts_last: int
    reason: str = ""


class FillReport(msgspec.Struct, frozen=True, kw_only=True):
    """One fill as the venue reports it (``trade_id`` is the venue's, unique per fill)."""

    venue: str
    instrument_id: str
    client_order_id: str
    venue_order_id: str
    trade_id: str
    side: OrderSide
    last_qty: Quantity
    last_px: Price
    commission: Money
    liquidity_side: LiquiditySide
    ts_event: int


class PositionReport(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's net position in one instrument: ``signed_qty`` is its size (a
    ``Quantity`` is never negative) and ``is_short`` its side."""

    venue: str
    instrument_id: str
    signed_qty: Quantity
    is_short: bool = False
    avg_px: Price | None = None
    ts_last: int


class BalanceReport(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's balance of one currency: ``total`` = ``free`` + ``locked``."""

    venue: str
    currency: str
    total: Money
    free: Money
    locked: Money
    ts_last: int

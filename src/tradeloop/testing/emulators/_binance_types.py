"""Binance emulator values: errors in Binance's shape, orders and fills as the venue holds
them, and Binance's number format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

FEE_RATE = Decimal("0.001")  # Binance spot's standard maker and taker commission, 0.1 %
MIN_NOTIONAL = Decimal("5")
MAX_PRICE = Decimal("1000000")
MAX_QUANTITY = Decimal("9000")
_EIGHT = Decimal("0.00000001")


class BinanceError(Exception):
    """A Binance error answer: HTTP status, ``code`` and ``msg``."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg

    def body(self) -> dict[str, Any]:
        """Return the JSON body Binance sends."""
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> BinanceError:
    """Return Binance's error for a missing mandatory parameter."""
    return BinanceError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def fmt(value: Decimal) -> str:
    """Return ``value`` with Binance's eight decimals."""
    return f"{value.quantize(_EIGHT):f}"


@dataclass(slots=True)
class BinanceFill:
    """One fill of one of our orders (a ``myTrades`` row)."""

    trade_id: int
    order_id: int
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_buyer: bool
    is_maker: bool
    realized_pnl: Decimal = Decimal(0)  # USD-M futures: the profit this fill realized


@dataclass(slots=True)
class BinanceOrder:
    """An order as the emulator's venue holds it."""

    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    time_ms: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cummulative_quote_qty: Decimal = Decimal(0)
    update_time_ms: int = 0
    stop_price: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)  # what the order holds of the balance it spends
    lock_price: Decimal = Decimal(0)  # buys: the price the quote balance was held at
    fills: list[BinanceFill] = field(default_factory=list)
    reject_reason: str = ""
    reduce_only: bool = False  # USD-M futures: the order may only reduce the position

    @property
    def is_open(self) -> bool:
        """Return whether the order still works."""
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def as_query(self) -> dict[str, Any]:
        """Return the order as ``GET /api/v3/order`` shows it."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "cummulativeQuoteQty": fmt(self.cummulative_quote_qty),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
            "stopPrice": fmt(self.stop_price),
            "icebergQty": "0.00000000",
            "time": self.time_ms,
            "updateTime": self.update_time_ms,
            "isWorking": self.is_open,
            "workingTime": self.time_ms,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


Listener = Callable[[dict[str, Any]], None]

"""ccxt's unified order, trade, balance and position structures in tradeloop's terms.

Prices and quantities are read exactly (ccxt's floats through their shortest text) at the
instrument's precisions; times are converted from milliseconds to nanoseconds.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradeloop.model.instruments import Instrument
from tradeloop.model.reports import BalanceReport, FillReport, OrderStatusReport, PositionReport
from tradeloop.venues.ccxt._exchange import ms_to_ns, to_decimal

# The venues' client order id rules (the field a client order id travels in).
_BINANCE_RULE = (re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$"), "1 to 36 of A-Z a-z 0-9 . : / _ -")
CLIENT_ID_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "binance": _BINANCE_RULE,
    "binanceusdm": _BINANCE_RULE,
    "bybit": (re.compile(r"^[A-Za-z0-9_-]{1,36}$"), "1 to 36 of A-Z a-z 0-9 _ -"),
}
_DEFAULT_RULE = (re.compile(r"^[A-Za-z0-9._:/-]{1,36}$"), "1 to 36 of A-Z a-z 0-9 . _ : / -")


def client_id_error(exchange_id: str, client_order_id: str) -> str | None:
    """Return why ``client_order_id`` cannot be sent to ``exchange_id`` (``None``: it can)."""
    pattern, rule = CLIENT_ID_RULES.get(exchange_id, _DEFAULT_RULE)
    if pattern.match(client_order_id):
        return None
    return (
        f"client order id {client_order_id!r} breaks {exchange_id}'s rule for client ids "
        f"({rule} characters)"
    )


def decimal_of(value: Any, what: str) -> Decimal:
    """Return a required number of a ccxt structure.

    Raises
    ------
    ValueError
        If it is absent.
    """
    number = to_decimal(value)
    if number is None:
        raise ValueError(f"{what} is missing")
    return number


def quantity(instrument: Instrument, value: Any, what: str) -> Quantity:
    """Return a ccxt amount as a ``Quantity`` at the instrument's size precision."""
    return Quantity.from_decimal(decimal_of(value, what), instrument.size_precision)


def price(instrument: Instrument, value: Any, what: str) -> Price:
    """Return a ccxt price as a ``Price`` at the instrument's price precision."""
    return Price.from_decimal(decimal_of(value, what), instrument.price_precision)


def optional_price(instrument: Instrument, value: Any) -> Price | None:
    """Return a ccxt price, ``None`` when absent or zero."""
    number = to_decimal(value)
    if number is None or number == 0:
        return None
    return Price.from_decimal(number, instrument.price_precision)


def order_side(value: Any) -> OrderSide:
    """Return ccxt's ``"buy"``/``"sell"`` as an ``OrderSide``."""
    if value == "buy":
        return OrderSide.BUY
    if value == "sell":
        return OrderSide.SELL
    raise ValueError(f"side {value!r} is neither buy nor sell")


def order_type(order: dict[str, Any]) -> OrderType:
    """Return the order type of a ccxt order."""
    text = str(order.get("type") or "").lower()
    has_trigger = order.get("triggerPrice") or order.get("stopPrice")
    if "stop" in text or "take_profit" in text or has_trigger:
        return OrderType.STOP_MARKET if "market" in text or text == "stop" else OrderType.STOP_LIMIT
    return OrderType.MARKET if text == "market" else OrderType.LIMIT


def liquidity(trade: dict[str, Any], default: LiquiditySide) -> LiquiditySide:
    """Return the trade's maker/taker side (``default`` when ccxt does not say)."""
    side = trade.get("takerOrMaker")
    if side == "maker":
        return LiquiditySide.MAKER
    if side == "taker":
        return LiquiditySide.TAKER
    return default


def commission(trade: dict[str, Any], instrument: Instrument) -> Money:
    """Return the trade's fee in its own currency (zero quote currency when none)."""
    fee = trade.get("fee") or {}
    cost, code = to_decimal(fee.get("cost")), fee.get("currency")
    if cost is None or not code:
        return Money.zero(instrument.quote_currency)
    return Money.from_decimal(cost, str(code))


def order_status(order: dict[str, Any], filled: Quantity) -> OrderStatus:
    """Return tradeloop's status of a ccxt order (``open`` with fills: partially filled)."""
    status = order.get("status")
    if status == "open":
        return OrderStatus.PARTIALLY_FILLED if filled.raw > 0 else OrderStatus.ACCEPTED
    if status == "closed":
        return OrderStatus.FILLED
    if status == "canceled":
        return OrderStatus.CANCELED
    if status == "expired":
        return OrderStatus.EXPIRED
    if status == "rejected":
        return OrderStatus.REJECTED
    raise ValueError(f"order status {status!r} is unknown")


def order_report(
    venue: str, instrument: Instrument, order: dict[str, Any], now_ns: int
) -> OrderStatusReport:
    """Return the ``OrderStatusReport`` of a ccxt order."""
    filled = quantity(instrument, order.get("filled") or 0, "order filled")
    ts_last = ms_to_ns(order.get("lastUpdateTimestamp")) or ms_to_ns(order.get("timestamp"))
    return OrderStatusReport(
        venue=venue,
        instrument_id=instrument.id,
        client_order_id=str(order.get("clientOrderId") or ""),
        venue_order_id=str(order.get("id")),
        side=order_side(order.get("side")),
        order_type=order_type(order),
        status=order_status(order, filled),
        quantity=quantity(instrument, order.get("amount"), "order amount"),
        filled_qty=filled,
        price=optional_price(instrument, order.get("price")),
        avg_px=optional_price(instrument, order.get("average")) if filled.raw else None,
        ts_last=ts_last or now_ns,
    )


def fill_report(
    venue: str,
    instrument: Instrument,
    trade: dict[str, Any],
    client_order_id: str,
    now_ns: int,
) -> FillReport:
    """Return the ``FillReport`` of a ccxt trade of ours."""
    return FillReport(
        venue=venue,
        instrument_id=instrument.id,
        client_order_id=client_order_id,
        venue_order_id=str(trade.get("order") or ""),
        trade_id=str(trade.get("id")),
        side=order_side(trade.get("side")),
        last_qty=quantity(instrument, trade.get("amount"), "trade amount"),
        last_px=price(instrument, trade.get("price"), "trade price"),
        commission=commission(trade, instrument),
        liquidity_side=liquidity(trade, LiquiditySide.NONE),
        ts_event=ms_to_ns(trade.get("timestamp")) or now_ns,
    )


def balance_reports(venue: str, balance: dict[str, Any], now_ns: int) -> list[BalanceReport]:
    """Return one ``BalanceReport`` per currency with a non-zero total, sorted by currency."""
    totals: dict[str, Any] = balance.get("total") or {}
    free: dict[str, Any] = balance.get("free") or {}
    used: dict[str, Any] = balance.get("used") or {}
    ts = ms_to_ns(balance.get("timestamp")) or now_ns
    reports = []
    for code in sorted(totals):
        total = to_decimal(totals[code]) or Decimal(0)
        if total == 0:
            continue
        reports.append(
            BalanceReport(
                venue=venue,
                currency=code,
                total=Money.from_decimal(total, code),
                free=Money.from_decimal(to_decimal(free.get(code)) or Decimal(0), code),
                locked=Money.from_decimal(to_decimal(used.get(code)) or Decimal(0), code),
                ts_last=ts,
            )
        )
    return reports


def position_report(
    venue: str, instrument: Instrument, position: dict[str, Any], now_ns: int
) -> PositionReport:
    """Return the ``PositionReport`` of a ccxt position (contracts × contract size)."""
    contracts = to_decimal(position.get("contracts")) or Decimal(0)
    size = contracts * (to_decimal(position.get("contractSize")) or Decimal(1))
    is_short = position.get("side") == "short"
    signed = Quantity.from_decimal(abs(size), instrument.size_precision)
    return PositionReport(
        venue=venue,
        instrument_id=instrument.id,
        signed_qty=signed,
        is_short=is_short,
        avg_px=optional_price(instrument, position.get("entryPrice")),
        ts_last=ms_to_ns(position.get("timestamp")) or now_ns,
    )

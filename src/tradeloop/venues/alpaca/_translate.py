"""Alpaca's JSON (orders, trade updates, fill activities, positions, account) in tradeloop's
terms: exact prices and quantities, integer-nanosecond times, tradeloop's enums."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.core.ids import content_hash
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradeloop.model.instruments import Instrument
from tradeloop.model.reports import BalanceReport, FillReport, OrderStatusReport, PositionReport

ORDER_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP_MARKET,
    "stop_limit": OrderType.STOP_LIMIT,
}
STATUSES = {
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "pending_new": OrderStatus.SUBMITTED,
    "accepted_for_bidding": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "done_for_day": OrderStatus.ACCEPTED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "replaced": OrderStatus.CANCELED,
    "pending_cancel": OrderStatus.PENDING_CANCEL,
    "pending_replace": OrderStatus.PENDING_UPDATE,
    "stopped": OrderStatus.ACCEPTED,
    "rejected": OrderStatus.REJECTED,
    "suspended": OrderStatus.ACCEPTED,
    "calculated": OrderStatus.ACCEPTED,
    "held": OrderStatus.ACCEPTED,
}
USD = "USD"
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$")


def ts_ns(text: str) -> int:
    """Return Alpaca's RFC 3339 time (nanoseconds allowed) as integer nanoseconds."""
    match = _RFC3339.match(text.strip())
    if match is None:
        raise ValueError(f"time {text!r} is not RFC 3339")
    body, digits, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    moment = dt.datetime.fromisoformat(body + zone)
    fraction = int(((digits or "") + "000000000")[:9])
    return int(moment.timestamp()) * 1_000_000_000 + fraction


def rfc3339(ts: int) -> str:
    """Return integer nanoseconds as RFC 3339 UTC with microseconds."""
    seconds, nanos = divmod(ts, 1_000_000_000)
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos // 1000:06d}Z"


def decimals(value: Decimal) -> int:
    """Return how many decimal places ``value`` has (0 for integers)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def exact_price(text: Any, instrument: Instrument) -> Price:
    """Return Alpaca's price text exactly: the instrument's precision, more if it has more
    decimals (sub-penny executions are never rounded)."""
    value = Decimal(str(text))
    return Price.from_decimal(value, max(instrument.price_precision, decimals(value)))


def exact_quantity(text: Any, instrument: Instrument) -> Quantity:
    """Return Alpaca's quantity text exactly (fractional shares keep their decimals)."""
    value = Decimal(str(text))
    return Quantity.from_decimal(value, max(instrument.size_precision, decimals(value)))


def fill_trade_id(venue_order_id: str, cumulative_qty: Any) -> str:
    """Return the stable trade id of the fill that brought ``venue_order_id`` to
    ``cumulative_qty`` filled.

    Alpaca has no trade id per fill that both the stream and the account activities carry;
    the order id and the cumulative quantity after the fill name one fill in both, so a
    replayed or duplicated update yields the same id and is dropped, never counted twice.
    """
    cumulative = f"{Decimal(str(cumulative_qty)).normalize():f}"
    return f"alpaca-{content_hash(venue_order_id, cumulative)}"


def side(text: Any) -> OrderSide:
    """Return Alpaca's ``buy``/``sell`` as an ``OrderSide``."""
    if text == "buy":
        return OrderSide.BUY
    if text == "sell":
        return OrderSide.SELL
    raise ValueError(f"order side {text!r} is not buy or sell")


def order_report(venue: str, order: Mapping[str, Any], instrument: Instrument) -> OrderStatusReport:
    """Return Alpaca's order JSON as an ``OrderStatusReport``."""
    limit, average = order.get("limit_price"), order.get("filled_avg_price")
    return OrderStatusReport(
        venue=venue,
        instrument_id=instrument.id,
        client_order_id=str(order["client_order_id"]),
        venue_order_id=str(order["id"]),
        side=side(order["side"]),
        order_type=ORDER_TYPES.get(
            str(order.get("type") or order.get("order_type")), OrderType.MARKET
        ),
        status=STATUSES.get(str(order["status"]), OrderStatus.ACCEPTED),
        quantity=exact_quantity(order.get("qty") or "0", instrument),
        filled_qty=exact_quantity(order.get("filled_qty") or "0", instrument),
        price=None if limit in (None, "") else exact_price(limit, instrument),
        avg_px=None if average in (None, "", "0") else exact_price(average, instrument),
        ts_last=ts_ns(str(order.get("updated_at") or order["created_at"])),
        reason="rejected by Alpaca" if order.get("status") == "rejected" else "",
    )


def fill_report(
    venue: str, activity: Mapping[str, Any], client_order_id: str, instrument: Instrument
) -> FillReport:
    """Return one ``FILL`` account activity as a ``FillReport``."""
    return FillReport(
        venue=venue,
        instrument_id=instrument.id,
        client_order_id=client_order_id,
        venue_order_id=str(activity["order_id"]),
        trade_id=fill_trade_id(str(activity["order_id"]), activity["cum_qty"]),
        side=side(activity["side"]),
        last_qty=exact_quantity(activity["qty"], instrument),
        last_px=exact_price(activity["price"], instrument),
        commission=Money.zero(USD),
        liquidity_side=LiquiditySide.NONE,
        ts_event=ts_ns(str(activity["transaction_time"])),
    )


def position_report(
    venue: str, position: Mapping[str, Any], instrument: Instrument
) -> PositionReport:
    """Return Alpaca's position JSON as a ``PositionReport`` (``is_short`` for shorts)."""
    qty = Decimal(str(position["qty"]))
    is_short = position.get("side") == "short" or qty < 0
    # tradeloop quantities are never negative: the size, with is_short for the sign
    signed = abs(qty)
    average = position.get("avg_entry_price")
    return PositionReport(
        venue=venue,
        instrument_id=instrument.id,
        signed_qty=Quantity.from_decimal(signed, max(instrument.size_precision, decimals(qty))),
        is_short=is_short,
        avg_px=None if average in (None, "") else exact_price(average, instrument),
        ts_last=0,
    )


def cash_report(venue: str, account: Mapping[str, Any], ts: int) -> BalanceReport:
    """Return the account's cash as a USD ``BalanceReport`` (free: what buying power leaves
    of it, locked: the rest)."""
    currency = str(account.get("currency") or USD)
    cash = Decimal(str(account["cash"]))
    power = account.get("non_marginable_buying_power")
    free = cash if power in (None, "") else max(Decimal(0), min(cash, Decimal(str(power))))
    return BalanceReport(
        venue=venue,
        currency=currency,
        total=Money.from_decimal(cash, currency),
        free=Money.from_decimal(free, currency),
        locked=Money.from_decimal(cash - free, currency),
        ts_last=ts,
    )

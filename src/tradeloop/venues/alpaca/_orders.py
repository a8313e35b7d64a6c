"""The Alpaca execution client's order bookkeeping: what it tracks per order, the alpaca-py
request of a new order, the trading stream with a connection hook, and the events of orders
that ended."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from alpaca.trading.enums import OrderSide as AlpacaSide
from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)
from alpaca.trading.stream import TradingStream

from tradeloop.core.errors import VenueRejectedError
from tradeloop.model.enums import OrderSide, OrderType, TimeInForce
from tradeloop.model.events import (
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderInitialized,
    OrderRejected,
)
from tradeloop.model.instruments import Instrument

_TIME_IN_FORCE = {
    TimeInForce.DAY: AlpacaTimeInForce.DAY,
    TimeInForce.GTC: AlpacaTimeInForce.GTC,
    TimeInForce.IOC: AlpacaTimeInForce.IOC,
    TimeInForce.FOK: AlpacaTimeInForce.FOK,
}


@dataclass(slots=True)
class Tracked:
    """What the execution client knows of one order it sent (or saw on the stream)."""

    client_order_id: str
    strategy_id: str
    instrument_id: str
    side: OrderSide
    order_type: OrderType
    venue_order_id: str = ""
    is_accepted: bool = False
    is_done: bool = False
    # Replacements (``modify_order``): the order's total quantity and what filled of it, how
    # many times it was replaced, the replacement under way (its client order id) and the
    # Alpaca ids it had before (their late events are still this order's).
    quantity_raw: int = 0
    filled_raw: int = 0
    replacements: int = 0
    pending_replacement: str = ""
    filled_before_raw: int = 0
    replaced_ids: set[str] = field(default_factory=set)


class HookedTradingStream(TradingStream):
    """alpaca-py's trading stream, telling ``on_connected`` when each (re)connection is up."""

    def __init__(
        self, key: str, secret: str, paper: bool, url: str, on_connected: Callable[[], None]
    ):
        super().__init__(key, secret, paper=paper, raw_data=True, url_override=url)
        self._on_connected = on_connected

    async def _start_ws(self) -> None:
        await super()._start_ws()  # type: ignore[no-untyped-call]
        self._on_connected()


def order_request(
    order: OrderInitialized, instruments: Mapping[str, Instrument], venue: str
) -> OrderRequest:
    """Return the alpaca-py request of ``order``.

    Raises
    ------
    VenueRejectedError
        If the instrument is unknown, or the time in force, the quantity or the type cannot
        be sent to Alpaca.
    """
    instrument = instruments.get(order.instrument_id)
    if instrument is None:
        raise VenueRejectedError(f"instrument {order.instrument_id} is not traded on {venue}")
    tif = _TIME_IN_FORCE.get(order.time_in_force)
    if tif is None:
        raise VenueRejectedError(
            f"time in force {order.time_in_force} is not supported on Alpaca (DAY, GTC, IOC, FOK)"
        )
    qty = order.quantity.as_decimal()
    if qty != qty.to_integral_value():
        raise VenueRejectedError(
            f"quantity {qty} of {order.instrument_id} is not whole: the Alpaca adapter sends "
            "whole shares only"
        )
    fields: dict[str, Any] = {
        "symbol": instrument.symbol,
        "qty": float(qty),
        "side": AlpacaSide.BUY if order.side is OrderSide.BUY else AlpacaSide.SELL,
        "time_in_force": tif,
        "client_order_id": order.client_order_id,
    }
    price = None if order.price is None else float(order.price.as_decimal())
    trigger = None if order.trigger_price is None else float(order.trigger_price.as_decimal())
    if order.order_type is OrderType.MARKET:
        return MarketOrderRequest(**fields)
    if order.order_type is OrderType.LIMIT:
        return LimitOrderRequest(**fields, limit_price=price)
    if order.order_type is OrderType.STOP_MARKET:
        return StopOrderRequest(**fields, stop_price=trigger)
    return StopLimitOrderRequest(**fields, limit_price=price, stop_price=trigger)


def terminal_event(
    tracked: Tracked, event: str, venue_id: str, ts_event: int, ts: int
) -> OrderEvent:
    """Return the event of an order that ended: canceled, expired or rejected (an order
    replaced from outside this client ends canceled)."""
    if event == "replaced":
        event = "canceled"
    if event == "canceled":
        return OrderCanceled(
            client_order_id=tracked.client_order_id,
            strategy_id=tracked.strategy_id,
            instrument_id=tracked.instrument_id,
            venue_order_id=venue_id,
            ts_event=ts_event,
            ts_init=ts,
        )
    if event == "expired":
        return OrderExpired(
            client_order_id=tracked.client_order_id,
            strategy_id=tracked.strategy_id,
            instrument_id=tracked.instrument_id,
            venue_order_id=venue_id,
            ts_event=ts_event,
            ts_init=ts,
        )
    return OrderRejected(
        client_order_id=tracked.client_order_id,
        strategy_id=tracked.strategy_id,
        instrument_id=tracked.instrument_id,
        reason="rejected by Alpaca",
        ts_event=ts_event,
        ts_init=ts,
    )

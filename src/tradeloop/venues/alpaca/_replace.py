"""Modifying an Alpaca order: Alpaca replaces it (``PATCH /v2/orders/{id}``) with a new order
that has its own id and client order id, and ends the old one ``replaced``.

tradeloop keeps one order: the replacement goes out with the client order id
``<client order id>-r<n>`` (the n-th replacement), the client maps every event of the new
Alpaca order back to the tradeloop order, and ``OrderUpdated`` says what it is now (its total
quantity: what filled before plus what the new Alpaca order trades). The ``replaced`` event of
the old Alpaca order is not an end; its late fills still count.
"""

from __future__ import annotations

from decimal import Decimal

from alpaca.trading.requests import ReplaceOrderRequest

from tradeloop.core.errors import VenueRejectedError
from tradeloop.core.fixed import Quantity
from tradeloop.model.commands import ModifyOrder
from tradeloop.model.instruments import Instrument
from tradeloop.venues.alpaca._orders import Tracked

MAX_CLIENT_ID = 128  # Alpaca's limit on client_order_id


def replacement_id(client_order_id: str, number: int) -> str:
    """Return the client order id of the ``number``-th replacement of an order.

    Raises
    ------
    VenueRejectedError
        If it would pass Alpaca's 128 characters.
    """
    replaced = f"{client_order_id}-r{number}"
    if len(replaced) > MAX_CLIENT_ID:
        raise VenueRejectedError(
            f"replacement client order id {replaced!r} is longer than Alpaca's "
            f"{MAX_CLIENT_ID} characters"
        )
    return replaced


def replace_request(
    command: ModifyOrder, tracked: Tracked, instrument: Instrument, client_order_id: str
) -> tuple[ReplaceOrderRequest, Quantity]:
    """Return the alpaca-py request that replaces ``tracked`` as ``command`` asks, and the
    order's new total quantity.

    Raises
    ------
    VenueRejectedError
        If the new quantity is not whole or not above what already filled, or a trigger
        price is asked of an order without one.
    """
    total_raw = tracked.quantity_raw if command.quantity is None else command.quantity.raw
    total = Quantity(total_raw, instrument.size_precision)
    remaining = total_raw - tracked.filled_raw
    if remaining <= 0:
        filled = Quantity(tracked.filled_raw, instrument.size_precision)
        raise VenueRejectedError(
            f"new quantity {total} of {command.client_order_id} is not above the {filled} "
            "already filled"
        )
    shares = Quantity(remaining, instrument.size_precision).as_decimal()
    if shares != shares.to_integral_value():
        raise VenueRejectedError(
            f"quantity {shares} of {command.instrument_id} is not whole: the Alpaca adapter "
            "sends whole shares only"
        )
    limit = None if command.price is None else float(command.price.as_decimal())
    stop = None if command.trigger_price is None else float(command.trigger_price.as_decimal())
    request = ReplaceOrderRequest(
        qty=int(Decimal(shares)),
        limit_price=limit,
        stop_price=stop,
        client_order_id=client_order_id,
    )
    return request, total

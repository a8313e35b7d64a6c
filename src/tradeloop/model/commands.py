"""Commands: imperative requests (``SubmitOrder``, ``CancelOrder``, ``ModifyOrder``).

A command is journaled before it is sent; the client order id inside it is assigned before
any venue sees it. Commands are tagged msgspec structs like events.
"""

from __future__ import annotations

import msgspec

from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.events import OrderInitialized


class Command(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="type", gc=False):
    """Base of every command."""

    strategy_id: str
    ts_init: int


class SubmitOrder(Command, frozen=True, kw_only=True):
    """Send a new order (its full description is the ``OrderInitialized`` event)."""

    order: OrderInitialized


class CancelOrder(Command, frozen=True, kw_only=True):
    """Cancel one working order; ``reason`` says who cancelled it and why (the venue's
    ``OrderCanceled`` carries it back)."""

    instrument_id: str
    client_order_id: str
    reason: str = ""


class ModifyOrder(Command, frozen=True, kw_only=True):
    """Change the quantity, price or trigger price of a working order (``None`` keeps it)."""

    instrument_id: str
    client_order_id: str
    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None

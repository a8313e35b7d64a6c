"""The execution ports: how the order manager talks to a venue, simulated or real, and how
execution algorithms send their orders.

A client receives commands and answers only through the ``emit`` callback it was given,
with ``OrderEvent``s (accepted, rejected, filled, …). The kernel chooses the client; nothing
else knows whether a venue is simulated. An ``OrderGateway`` is an algorithm's path to the
order manager (the owning strategy's, through risk).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.events import OrderEvent
from tradeloop.model.order_factory import OrderFactory
from tradeloop.model.orders import Order

EventSink = Callable[[OrderEvent], None]


class OrderGateway(Protocol):
    """How an algorithm sends and cancels orders (the strategy's path through risk)."""

    @property
    def order_factory(self) -> OrderFactory:
        """Return the factory of the owning strategy."""
        ...

    def submit_order(self, order: object) -> Order:
        """Send an order."""
        ...

    def cancel_order(self, order: Order | str) -> bool:
        """Cancel an open order."""
        ...


class ExecutionClient(Protocol):
    """A venue connection: sends commands, reports events through its sink."""

    venue: str

    def submit_order(self, command: SubmitOrder) -> None:
        """Send a new order."""
        ...

    def cancel_order(self, command: CancelOrder) -> None:
        """Ask the venue to cancel an order."""
        ...

    def modify_order(self, command: ModifyOrder) -> None:
        """Ask the venue to modify an order."""
        ...

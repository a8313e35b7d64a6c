"""The execution port: how the order manager talks to a venue, simulated or real.

A client receives commands and answers only through the ``emit`` callback it was given,
with ``OrderEvent``s (accepted, rejected, filled, …). The kernel chooses the client; nothing
else knows whether a venue is simulated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.events import OrderEvent

EventSink = Callable[[OrderEvent], None]


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

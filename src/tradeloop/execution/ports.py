"""The execution ports: how the order manager talks to a venue, simulated or real, and how
execution algorithms send their orders.

A client receives commands and answers only with ``OrderEvent``s (accepted, rejected,
filled, …) handed to where it was told: the simulated venue to the kernel's deferred queue
(its ``emit`` sink), a live venue (``LiveExecutionClient``) to the kernel's inbox, from its own
thread. The kernel chooses the client; nothing else knows whether a venue is simulated.
An ``OrderGateway`` is an algorithm's path to the order manager (the owning strategy's,
through risk).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tradeloop.core.fixed import Quantity
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.events import OrderEvent, OrderInitialized
from tradeloop.model.order_factory import OrderFactory
from tradeloop.model.orders import Order
from tradeloop.model.reports import (
    BalanceReport,
    FillReport,
    OrderStatusReport,
    PositionReport,
)

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


class LiveExecutionClient(ExecutionClient, Protocol):
    """A connection to a real venue: the commands, plus what reconciliation asks of it.

    Implementations (``venues.ccxt``, ``venues.alpaca``) do their network I/O on their own
    event-loop thread. ``submit_order`` sends the order with its client order id as the
    venue's client id field and returns at once; every answer (accepted, rejected with the
    venue's code and text, filled, canceled …) arrives later as an ``OrderEvent`` put in the
    inbox the client was given, never by a return value. Venue failures are typed:
    ``TransientVenueError`` (retried with backoff inside the client, and journaled as an
    alert) and ``VenueRejectedError`` (never retried; the order is ``OrderRejected``).

    The queries block until the venue answered and raise ``VenueError`` when it cannot.
    """

    def connect(self) -> None:
        """Connect, authenticate and start the order and fill streams.

        Raises
        ------
        VenueRejectedError
            If the venue refuses the credentials (an unknown key, a bad secret).
        TransientVenueError
            If the venue cannot be reached.
        """
        ...

    def disconnect(self) -> None:
        """Stop the streams and the event-loop thread."""
        ...

    def restore_order(
        self, order: OrderInitialized, venue_order_id: str | None, filled_qty: Quantity
    ) -> None:
        """Track an order this node sent before a restart (rebuilt from its journal,
        ``--resume``), so that its cancels and fills are handled as the client's own."""
        ...

    def query_order(self, client_order_id: str, instrument_id: str) -> OrderStatusReport | None:
        """Return the venue's report of the order with this client order id (None: unknown)."""
        ...

    def open_orders(self, instrument_id: str | None = None) -> list[OrderStatusReport]:
        """Return the venue's open orders (of one instrument, or all)."""
        ...

    def fills_since(self, ts_ns: int, instrument_id: str | None = None) -> list[FillReport]:
        """Return the venue's fills at or after ``ts_ns``, oldest first."""
        ...

    def positions(self) -> list[PositionReport]:
        """Return the venue's positions (derivatives; spot venues report balances)."""
        ...

    def balances(self) -> list[BalanceReport]:
        """Return the venue's balances, one per currency."""
        ...

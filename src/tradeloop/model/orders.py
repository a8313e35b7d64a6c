"""Orders: the request (``OrderInitialized``) plus the state derived from applying events.

An ``Order`` changes only through ``apply(event)``. The allowed transitions are the table
``TRANSITIONS`` below; any other event raises ``OrderStateError`` naming the order, its
status and the event, and leaves the order unchanged.

::

    INITIALIZED ─ submitted ─> SUBMITTED ─ accepted ─> ACCEPTED ─ triggered ─> TRIGGERED
         │                        │                      │  ▲                    │
       denied                 rejected              pending cancel/update ───────┤
         ▼                        ▼                      ▼  │ (rejected: back)   │
       DENIED                 REJECTED             PENDING_CANCEL / PENDING_UPDATE
    any working state ─ filled ─> PARTIALLY_FILLED ─ filled ─> FILLED
    any working state ─ canceled / expired ─> CANCELED / EXPIRED
    CANCELED / EXPIRED ─ late fill ─> (same; FILLED once complete)
"""

from __future__ import annotations

from typing import Final

from tradeloop.core.errors import OrderStateError
from tradeloop.core.fixed import Quantity, format_raw, pow10
from tradeloop.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradeloop.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)

S = OrderStatus
# Marker targets resolved when the event is applied.
_FILL: Final = "fill"
_BACK: Final = "back"

_WORKING_EXITS: Final[dict[type[OrderEvent], OrderStatus | str]] = {
    OrderPendingCancel: S.PENDING_CANCEL,
    OrderPendingUpdate: S.PENDING_UPDATE,
    OrderCanceled: S.CANCELED,
    OrderExpired: S.EXPIRED,
    OrderFilled: _FILL,
}

TRANSITIONS: Final[dict[OrderStatus, dict[type[OrderEvent], OrderStatus | str]]] = {
    S.INITIALIZED: {
        OrderDenied: S.DENIED,
        OrderSubmitted: S.SUBMITTED,
        OrderCanceled: S.CANCELED,
        OrderRejected: S.REJECTED,
    },
    S.SUBMITTED: {
        OrderAccepted: S.ACCEPTED,
        OrderRejected: S.REJECTED,
        OrderTriggered: S.TRIGGERED,
        OrderModifyRejected: S.SUBMITTED,
        OrderCancelRejected: S.SUBMITTED,
        **_WORKING_EXITS,
    },
    S.ACCEPTED: {
        OrderTriggered: S.TRIGGERED,
        OrderUpdated: S.ACCEPTED,
        OrderRejected: S.REJECTED,
        OrderModifyRejected: S.ACCEPTED,
        OrderCancelRejected: S.ACCEPTED,
        **_WORKING_EXITS,
    },
    S.TRIGGERED: {
        OrderUpdated: S.TRIGGERED,
        OrderRejected: S.REJECTED,
        OrderModifyRejected: S.TRIGGERED,
        OrderCancelRejected: S.TRIGGERED,
        **_WORKING_EXITS,
    },
    S.PENDING_CANCEL: {
        OrderRejected: S.REJECTED,  # the cancel went out before the venue refused the order
        OrderCanceled: S.CANCELED,
        OrderCancelRejected: _BACK,
        OrderExpired: S.EXPIRED,
        OrderFilled: _FILL,
        OrderAccepted: S.PENDING_CANCEL,
        OrderTriggered: S.PENDING_CANCEL,
    },
    S.PENDING_UPDATE: {
        OrderRejected: S.REJECTED,
        OrderUpdated: _BACK,
        OrderModifyRejected: _BACK,
        OrderPendingCancel: S.PENDING_CANCEL,
        OrderCanceled: S.CANCELED,
        OrderExpired: S.EXPIRED,
        OrderFilled: _FILL,
        OrderTriggered: S.PENDING_UPDATE,
    },
    S.PARTIALLY_FILLED: {
        OrderAccepted: S.PARTIALLY_FILLED,
        OrderUpdated: S.PARTIALLY_FILLED,
        OrderModifyRejected: S.PARTIALLY_FILLED,
        OrderCancelRejected: S.PARTIALLY_FILLED,
        **_WORKING_EXITS,
    },
    # A cancel or modify refused because the order had just filled or ended crosses that
    # fill on the wire (latency): it is a no-op on a finished order, not an error. So is an
    # acknowledgement that arrives after the order's fill or cancel (a venue's WebSocket fill
    # overtakes its REST answer). A fill that arrives after the cancel or expiry happened at
    # the venue before it: it is applied (the position changed), the order stays closed
    # (FILLED once it is complete).
    S.DENIED: {},
    S.REJECTED: {},
    S.CANCELED: {
        OrderCancelRejected: S.CANCELED,
        OrderModifyRejected: S.CANCELED,
        OrderAccepted: S.CANCELED,
        OrderFilled: _FILL,
    },
    S.EXPIRED: {
        OrderCancelRejected: S.EXPIRED,
        OrderModifyRejected: S.EXPIRED,
        OrderAccepted: S.EXPIRED,
        OrderFilled: _FILL,
    },
    S.FILLED: {
        OrderCancelRejected: S.FILLED,
        OrderModifyRejected: S.FILLED,
        OrderAccepted: S.FILLED,
    },
}

_CARRIES_VENUE_ID: Final = frozenset({OrderAccepted, OrderTriggered, OrderUpdated})
_PENDING: Final = frozenset({S.PENDING_CANCEL, S.PENDING_UPDATE})

TERMINAL_STATUSES: Final = frozenset({S.DENIED, S.REJECTED, S.CANCELED, S.EXPIRED, S.FILLED})
OPEN_STATUSES: Final = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.TRIGGERED, S.PENDING_CANCEL, S.PENDING_UPDATE, S.PARTIALLY_FILLED}
)


class Order:
    """One order: its immutable request and the state its events produced."""

    __slots__ = (
        "_fill_cost_raw",
        "_previous_status",
        "events",
        "filled_raw",
        "init",
        "price",
        "quantity",
        "status",
        "trade_ids",
        "trigger_price",
        "ts_last",
        "venue_order_id",
    )

    def __init__(self, init: OrderInitialized) -> None:
        self.init = init
        self.status = S.INITIALIZED
        self._previous_status = S.INITIALIZED
        self.quantity = init.quantity
        self.price = init.price
        self.trigger_price = init.trigger_price
        self.filled_raw = 0
        self._fill_cost_raw = 0  # sum of last_px.raw * last_qty.raw at (price + size) precision
        self.venue_order_id: str | None = None
        self.events: list[OrderEvent] = [init]
        self.trade_ids: list[str] = []  # few per order: a list is smaller than a set
        self.ts_last = init.ts_init

    # -- request fields -----------------------------------------------------------------------

    @property
    def client_order_id(self) -> str:
        """Return the client order id."""
        return self.init.client_order_id

    @property
    def strategy_id(self) -> str:
        """Return the id of the strategy that owns the order."""
        return self.init.strategy_id

    @property
    def instrument_id(self) -> str:
        """Return the instrument id."""
        return self.init.instrument_id

    @property
    def side(self) -> OrderSide:
        """Return the order side."""
        return self.init.side

    @property
    def order_type(self) -> OrderType:
        """Return the order type."""
        return self.init.order_type

    @property
    def time_in_force(self) -> TimeInForce:
        """Return the time in force."""
        return self.init.time_in_force

    @property
    def is_reduce_only(self) -> bool:
        """Return whether the order may only reduce a position."""
        return self.init.is_reduce_only

    @property
    def is_post_only(self) -> bool:
        """Return whether the order must rest (maker only)."""
        return self.init.is_post_only

    # -- derived state ------------------------------------------------------------------------

    @property
    def filled_qty(self) -> Quantity:
        """Return the quantity filled so far."""
        return Quantity(self.filled_raw, self.quantity.precision)

    @property
    def leaves_qty(self) -> Quantity:
        """Return the quantity still to fill."""
        return Quantity(self.quantity.raw - self.filled_raw, self.quantity.precision)

    @property
    def avg_px(self) -> float | None:
        """Return the average fill price (float, for display), or ``None`` before any fill."""
        if self.filled_raw == 0:
            return None
        last = self.last_fill
        assert last is not None
        return self._fill_cost_raw / self.filled_raw / pow10(last.last_px.precision)

    @property
    def last_fill(self) -> OrderFilled | None:
        """Return the most recent fill, if any."""
        for event in reversed(self.events):
            if type(event) is OrderFilled:
                return event
        return None

    @property
    def is_open(self) -> bool:
        """Return whether the order is working at a venue."""
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self) -> bool:
        """Return whether the order reached a terminal status."""
        return self.status in TERMINAL_STATUSES

    @property
    def is_buy(self) -> bool:
        """Return whether the order buys."""
        return self.init.side is OrderSide.BUY

    # -- the only mutator ---------------------------------------------------------------------

    def apply(self, event: OrderEvent) -> None:
        """Apply ``event`` to the order.

        Raises
        ------
        OrderStateError
            If the event is not allowed in the current status, belongs to another order, or a
            fill would overfill the order. The order is left unchanged.
        """
        if event.client_order_id != self.init.client_order_id:
            raise OrderStateError(
                f"event {type(event).__name__} for order {event.client_order_id} "
                f"applied to order {self.init.client_order_id}"
            )
        kind = type(event)
        status = self.status
        target = TRANSITIONS[status].get(kind)
        if target is None:
            raise OrderStateError(
                f"order {self.init.client_order_id} in status {status} cannot apply {kind.__name__}"
            )
        if target is _FILL:
            assert isinstance(event, OrderFilled)
            self._apply_fill(event)
        elif target is _BACK:
            self.status = self._previous_status
        else:
            assert isinstance(target, OrderStatus)
            if target in _PENDING and status not in _PENDING:
                self._previous_status = status
            self.status = target
        if kind in _CARRIES_VENUE_ID:
            self.venue_order_id = event.venue_order_id  # type: ignore[attr-defined]
        if kind is OrderUpdated:
            assert isinstance(event, OrderUpdated)
            self.quantity = event.quantity
            if event.price is not None:
                self.price = event.price
            if event.trigger_price is not None:
                self.trigger_price = event.trigger_price
        self.events.append(event)
        self.ts_last = event.ts_event

    def _apply_fill(self, fill: OrderFilled) -> None:
        if fill.trade_id in self.trade_ids:
            raise OrderStateError(
                f"order {self.init.client_order_id} already has a fill "
                f"with trade id {fill.trade_id}"
            )
        qty = fill.last_qty
        if qty.precision != self.quantity.precision:
            qty = qty.to_precision(self.quantity.precision)
        filled = self.filled_raw + qty.raw
        if filled > self.quantity.raw:
            raise OrderStateError(
                f"fill {fill.trade_id} of {fill.last_qty} would overfill order "
                f"{self.init.client_order_id}: filled {format_raw(self.filled_raw, qty.precision)} "
                f"of {self.quantity}"
            )
        if qty.raw <= 0:
            raise OrderStateError(f"fill {fill.trade_id} has non-positive quantity {fill.last_qty}")
        self.filled_raw = filled
        self._fill_cost_raw += fill.last_px.raw * qty.raw
        self.venue_order_id = fill.venue_order_id
        self.trade_ids.append(fill.trade_id)
        if self.status in (S.CANCELED, S.EXPIRED) and filled < self.quantity.raw:
            return  # a late fill of a closed order: counted, the order stays closed
        if self.status in (S.PENDING_CANCEL, S.PENDING_UPDATE) and filled < self.quantity.raw:
            # Stays pending (the request is still in flight); a rejection returns here.
            self._previous_status = S.PARTIALLY_FILLED
            return
        self.status = S.FILLED if filled == self.quantity.raw else S.PARTIALLY_FILLED

    def __repr__(self) -> str:
        price = f" @ {self.price}" if self.price is not None else ""
        trigger = f" trigger {self.trigger_price}" if self.trigger_price is not None else ""
        return (
            f"Order({self.init.client_order_id} {self.init.side} {self.quantity} "
            f"{self.init.instrument_id} {self.init.order_type}{price}{trigger} "
            f"{self.init.time_in_force} {self.status} filled {self.filled_qty})"
        )

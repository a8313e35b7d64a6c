"""The order manager: the only path from a strategy to a venue.

``submit`` takes an ``OrderInitialized`` request and:

1. registers the order (its client order id was assigned before any venue call);
2. journals the ``SubmitOrder`` command before anything is sent;
3. asks the pre-trade check (the risk engine) and, if denied, applies ``OrderDenied``;
4. otherwise applies ``OrderSubmitted`` and hands the command to the venue's client.

Every venue response comes back through ``handle_venue_event``: it is applied to its order,
journaled and published on ``events.order.<strategy_id>``. A fill whose trade id was already
counted (the order has it, or it was kept as external; trade ids are the venue's, unique per
instrument) is a duplicate: it is recorded as an ``ExternalFillRecorded`` with an alert and
not applied. A fill for an unknown order, or one its order's state machine refuses (it would
overfill it, the order was rejected), is recorded the same way and still reaches the
portfolio once (the venue's position changed). A fill that arrives after its order's cancel
is applied to the order (``model.orders``). Any other event the state machine refuses is
recorded with an alert. Nothing a venue says is dropped and no fill is counted twice.

Memory stays bounded however many orders a run sends: open orders are always held, and of
the closed ones only the ``retain_closed`` most recent (the journal keeps every one);
``stats`` counts orders and fills by outcome for summaries.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

from tradeloop.bus.bus import MessageBus
from tradeloop.bus.topics import ALERTS, order_events_topic
from tradeloop.core.clock import Clock
from tradeloop.core.errors import InvariantViolation, OrderStateError
from tradeloop.core.fixed import Price, Quantity, notional_raw
from tradeloop.execution.ports import ExecutionClient
from tradeloop.journal.store import Journal
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.enums import OrderSide, OrderStatus
from tradeloop.model.events import (
    AlertRaised,
    ExternalFillRecorded,
    OrderAccepted,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSubmitted,
)
from tradeloop.model.instruments import Instrument
from tradeloop.model.orders import OPEN_STATUSES, TERMINAL_STATUSES, Order
from tradeloop.model.reports import OrderStatusReport

EXTERNAL_STRATEGY_ID = "EXTERNAL"

_EVICTED_TRADE_IDS = 100_000
"""Trade ids of closed orders no longer held that are still checked for duplicates."""

log = logging.getLogger("tradeloop.execution")


class PreTradeCheck(Protocol):
    """The risk seam: return why an order must be denied, or ``None``."""

    def check_submit(self, order: OrderInitialized) -> str | None:
        """Return a denial reason or ``None``."""
        ...


class OrderManager:
    """Route orders through risk to venues, and venue events back to orders."""

    def __init__(
        self,
        clock: Clock,
        bus: MessageBus,
        journal: Journal,
        instruments: Mapping[str, Instrument],
        price_of: Callable[[str], Price | None],
        retain_closed: int = 10_000,
    ) -> None:
        self.clock = clock
        self.bus = bus
        self.journal = journal
        self.instruments = instruments
        self._price_of = price_of
        self._risk: PreTradeCheck | None = None
        self._clients: dict[str, ExecutionClient] = {}
        self.orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}
        # Cash reserved by open buy orders, kept as orders change (a check per order must not
        # walk every resting order): priced buys by client id -> (venue, notional raw), their
        # sums, and the open buys without a price (valued at the mark when asked).
        self._reserved: dict[str, tuple[str, int]] = {}
        self._reserved_total = 0
        self._reserved_by_venue: dict[str, int] = {}
        self._unpriced_buys: dict[str, Order] = {}
        self._closed: deque[str] = deque()
        self._retain_closed = max(0, retain_closed)
        self._issued_ids: set[str] = set()
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "submitted",
                "denied",
                "rejected",
                "canceled",
                "expired",
                "filled",
                "filled_buy",
                "filled_sell",
                "fills",
            ),
            0,
        )
        # (instrument id, trade id) of fills applied outside an order (external, refused), and
        # the trade ids of the most recent closed orders no longer held (duplicate checks)
        self._external_trade_ids: set[tuple[str, str]] = set()
        self._evicted_trade_ids: dict[tuple[str, str], None] = {}
        self._topics: dict[str, str] = {}
        self.fill_count = 0

    # -- wiring ---------------------------------------------------------------------------------

    def set_risk(self, risk: PreTradeCheck) -> None:
        """Install the pre-trade check every submitted order passes."""
        self._risk = risk

    def register_client(self, client: ExecutionClient) -> None:
        """Route orders for ``client.venue`` to ``client``."""
        self._clients[client.venue] = client

    # -- commands -------------------------------------------------------------------------------

    def submit(self, init: OrderInitialized) -> Order:
        """Register, journal, risk-check and send an order; return it (possibly denied)."""
        if self._risk is None:
            raise InvariantViolation(
                "order manager has no risk check installed; no order may bypass risk"
            )
        if init.client_order_id in self._issued_ids:
            raise InvariantViolation(f"client order id {init.client_order_id} is already in use")
        order = Order(init)
        self.orders[init.client_order_id] = order
        self._issued_ids.add(init.client_order_id)
        command = SubmitOrder(
            strategy_id=init.strategy_id, ts_init=self.clock.timestamp_ns(), order=init
        )
        self.journal.append(command, durable=True)
        reason = self._risk.check_submit(init)
        venue = init.instrument_id.rpartition(".")[2]
        client = self._clients.get(venue)
        if reason is None and client is None:
            reason = f"no execution client for venue {venue}"
        now = self.clock.timestamp_ns()
        if reason is not None:
            self._apply(
                order,
                OrderDenied(
                    client_order_id=init.client_order_id,
                    strategy_id=init.strategy_id,
                    instrument_id=init.instrument_id,
                    reason=reason,
                    ts_event=now,
                    ts_init=now,
                ),
            )
            return order
        assert client is not None
        self._apply(
            order,
            OrderSubmitted(
                client_order_id=init.client_order_id,
                strategy_id=init.strategy_id,
                instrument_id=init.instrument_id,
                venue=venue,
                ts_event=now,
                ts_init=now,
            ),
        )
        client.submit_order(command)
        return order

    def was_issued(self, client_order_id: str) -> bool:
        """Return whether this manager issued ``client_order_id`` (held or not)."""
        return client_order_id in self._issued_ids

    def restore(self, order: Order) -> None:
        """Hold ``order``, rebuilt from a journal (``--resume``): open orders stay open and
        their answers are applied to it; its trade ids count as seen."""
        self.orders[order.client_order_id] = order
        self._issued_ids.add(order.client_order_id)
        if order.status in OPEN_STATUSES:
            self._open[order.client_order_id] = order
            self._reserve(order)  # an open buy holds its cash again

    def restore_external_fill(self, instrument_id: str, trade_id: str) -> None:
        """Mark an external fill rebuilt from a journal as counted (``--resume``)."""
        self._external_trade_ids.add((instrument_id, trade_id))

    def adopt(self, report: OrderStatusReport, strategy_id: str) -> Order:
        """Hold an open order only the venue knows as ``strategy_id``'s (a claimed external
        order): its initialization, submission and acknowledgement are journaled."""
        now = self.clock.timestamp_ns()
        init = OrderInitialized(
            client_order_id=report.client_order_id,
            strategy_id=strategy_id,
            instrument_id=report.instrument_id,
            side=report.side,
            order_type=report.order_type,
            quantity=report.quantity,
            price=report.price,
            ts_event=report.ts_last,
            ts_init=now,
        )
        order = Order(init)
        self.orders[init.client_order_id] = order
        self._issued_ids.add(init.client_order_id)
        self.journal.append(init)
        venue = report.venue
        ids = {
            "client_order_id": init.client_order_id,
            "strategy_id": strategy_id,
            "instrument_id": init.instrument_id,
        }
        self._apply(order, OrderSubmitted(venue=venue, ts_event=now, ts_init=now, **ids))
        self._apply(
            order,
            OrderAccepted(venue_order_id=report.venue_order_id, ts_event=now, ts_init=now, **ids),
        )
        return order

    def cancel(self, client_order_id: str, reason: str = "") -> bool:
        """Ask the venue to cancel an open order (``reason``: who cancels it and why, carried
        back on ``OrderCanceled``); return False if it is not open or a cancel of it is already
        pending (the venue answers the first one; a second would be a duplicate)."""
        order = self._open.get(client_order_id)
        if order is None or order.status is OrderStatus.PENDING_CANCEL:
            return False
        now = self.clock.timestamp_ns()
        command = CancelOrder(
            strategy_id=order.strategy_id,
            ts_init=now,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            reason=reason,
        )
        self.journal.append(command, durable=True)
        self._apply(
            order,
            OrderPendingCancel(
                client_order_id=client_order_id,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                venue_order_id=order.venue_order_id,
                ts_event=now,
                ts_init=now,
            ),
        )
        self._client_for(order).cancel_order(command)
        return True

    def modify(
        self,
        client_order_id: str,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> bool:
        """Ask the venue to modify an open order; return False if it is not open."""
        order = self._open.get(client_order_id)
        if order is None:
            return False
        now = self.clock.timestamp_ns()
        command = ModifyOrder(
            strategy_id=order.strategy_id,
            ts_init=now,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )
        self.journal.append(command, durable=True)
        reason = self._modify_error(order, quantity, price, trigger_price)
        if reason is not None:
            rejected = OrderModifyRejected(
                client_order_id=client_order_id,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
            self._apply(order, rejected)
            return False
        pending = OrderPendingUpdate(
            client_order_id=client_order_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            venue_order_id=order.venue_order_id,
            ts_event=now,
            ts_init=now,
        )
        self._apply(order, pending)
        self._client_for(order).modify_order(command)
        return True

    def _modify_error(
        self,
        order: Order,
        quantity: Quantity | None,
        price: Price | None,
        trigger_price: Price | None,
    ) -> str | None:
        instrument = self.instruments[order.instrument_id]
        if quantity is not None:
            if quantity.raw < order.filled_raw:
                return f"new quantity {quantity} is below the filled quantity {order.filled_qty}"
            reason = instrument.quantity_error(quantity)
            if reason:
                return reason
        for value in (price, trigger_price):
            if value is not None:
                reason = instrument.price_error(value)
                if reason:
                    return reason
        return None

    def _client_for(self, order: Order) -> ExecutionClient:
        venue = order.instrument_id.rpartition(".")[2]
        return self._clients[venue]

    # -- venue events ---------------------------------------------------------------------------

    def handle_venue_event(self, event: OrderEvent) -> None:
        """Apply a venue's event to its order, journal and publish it; never drop it."""
        order = self.orders.get(event.client_order_id)
        if isinstance(event, OrderFilled) and self._counted_elsewhere(event):
            self._record_external(event, f"duplicate trade id {event.trade_id}", apply=False)
            return
        if order is None:
            if isinstance(event, OrderFilled):
                self._record_external(event, "fill for an unknown order", apply=True)
            else:
                self._alert(
                    "error", f"{type(event).__name__} for unknown order {event.client_order_id}"
                )
            return
        if isinstance(event, OrderFilled) and event.trade_id in order.trade_ids:
            self._record_external(event, f"duplicate trade id {event.trade_id}", apply=False)
            return
        try:
            self._apply(order, event)
        except OrderStateError as error:
            if isinstance(event, OrderFilled):
                # the venue says it traded: the position follows it, the order does not
                self._record_external(event, f"fill refused by its order: {error}", apply=True)
                return
            self.journal.append(event)
            if any(type(seen) is type(event) for seen in order.events):
                # the venue said it twice (a stream that repeats itself): recorded, no action
                self._alert("info", f"repeated venue event not applied again: {error}")
                return
            self._alert("error", f"venue event refused by the order state machine: {error}")

    def _counted_elsewhere(self, fill: OrderFilled) -> bool:
        key = (fill.instrument_id, fill.trade_id)
        return key in self._external_trade_ids or key in self._evicted_trade_ids

    def has_fill(self, instrument_id: str, trade_id: str) -> bool:
        """Return whether the fill ``trade_id`` of ``instrument_id`` was already counted (by an
        order this manager still holds, as an external fill, or by a recently closed order)."""
        key = (instrument_id, trade_id)
        if key in self._external_trade_ids or key in self._evicted_trade_ids:
            return True
        return any(
            trade_id in order.trade_ids
            for order in self.orders.values()
            if order.instrument_id == instrument_id
        )

    def _apply(self, order: Order, event: OrderEvent) -> None:
        was_closed = order.status in TERMINAL_STATUSES
        order.apply(event)
        if type(event) is OrderFilled:
            self.fill_count += 1
            self.stats["fills"] += 1
        status = order.status
        self._reserve(order)
        if status in OPEN_STATUSES:
            self._open[order.init.client_order_id] = order
        elif not was_closed and status in TERMINAL_STATUSES:
            self._open.pop(order.init.client_order_id, None)
            self._count_closed(order)
            closed = self._closed
            closed.append(order.init.client_order_id)
            if len(closed) > self._retain_closed:
                orders = self.orders
                evicted = self._evicted_trade_ids
                while len(closed) > self._retain_closed:
                    gone = orders.pop(closed.popleft(), None)
                    if gone is not None:
                        for trade_id in gone.trade_ids:
                            evicted[(gone.instrument_id, trade_id)] = None
                while len(evicted) > _EVICTED_TRADE_IDS:
                    del evicted[next(iter(evicted))]
        self.journal.append(event)
        strategy_id = order.init.strategy_id
        topic = self._topics.get(strategy_id)
        if topic is None:
            topic = self._topics[strategy_id] = order_events_topic(strategy_id)
        self.bus.publish(topic, event)

    def _reserve(self, order: Order) -> None:
        # Bring the order's part of the reserved buy notional up to date.
        client_order_id = order.init.client_order_id
        held = self._reserved.pop(client_order_id, None)
        if held is not None:
            self._reserved_total -= held[1]
            self._reserved_by_venue[held[0]] -= held[1]
        self._unpriced_buys.pop(client_order_id, None)
        if order.init.side is not OrderSide.BUY or order.status not in OPEN_STATUSES:
            return
        price = order.price or order.trigger_price
        if price is None:
            self._unpriced_buys[client_order_id] = order
            return
        instrument = self.instruments[order.instrument_id]
        mult_raw, mult_precision = instrument.multiplier_parts
        raw = notional_raw(price, order.leaves_qty, mult_raw, mult_precision)
        venue = instrument.venue
        self._reserved[client_order_id] = (venue, raw)
        self._reserved_total += raw
        self._reserved_by_venue[venue] = self._reserved_by_venue.get(venue, 0) + raw

    def _count_closed(self, order: Order) -> None:
        stats = self.stats
        status = order.status
        if status is OrderStatus.DENIED:
            stats["denied"] += 1
            return
        stats["submitted"] += 1
        if status is OrderStatus.REJECTED:
            stats["rejected"] += 1
        elif status is OrderStatus.CANCELED:
            stats["canceled"] += 1
        elif status is OrderStatus.EXPIRED:
            stats["expired"] += 1
        if order.filled_raw:
            stats["filled"] += 1
            stats["filled_buy" if order.side is OrderSide.BUY else "filled_sell"] += 1

    def order_counts(self) -> dict[str, int]:
        """Return ``stats`` plus the orders still open (counted as submitted, by fills so far)."""
        counts = dict(self.stats)
        for order in self._open.values():
            counts["submitted"] += 1
            if order.filled_raw:
                counts["filled"] += 1
                counts["filled_buy" if order.side is OrderSide.BUY else "filled_sell"] += 1
        counts["open"] = len(self._open)
        return counts

    def _record_external(self, fill: OrderFilled, reason: str, *, apply: bool) -> None:
        now = self.clock.timestamp_ns()
        record = ExternalFillRecorded(
            instrument_id=fill.instrument_id,
            client_order_id=fill.client_order_id,
            trade_id=fill.trade_id,
            reason=reason,
            fill=fill,
            ts_event=fill.ts_event,
            ts_init=now,
        )
        self.journal.append(record)
        self._alert("warning", f"external fill {fill.trade_id} on {fill.instrument_id}: {reason}")
        key = (fill.instrument_id, fill.trade_id)
        if apply and key not in self._external_trade_ids:
            self._external_trade_ids.add(key)
            self.bus.publish(order_events_topic(EXTERNAL_STRATEGY_ID), fill)

    def _alert(self, severity: str, message: str) -> None:
        now = self.clock.timestamp_ns()
        alert = AlertRaised(
            severity=severity, source="execution", message=message, ts_event=now, ts_init=now
        )
        log.warning("%s", message)
        self.journal.append(alert)
        self.bus.publish(ALERTS, alert)

    # -- views (risk, strategies) -----------------------------------------------------------------

    def open_orders(
        self, instrument_id: str | None = None, strategy_id: str | None = None
    ) -> list[Order]:
        """Return open orders, oldest first, optionally for one instrument and/or strategy."""
        return [
            o
            for o in self._open.values()
            if (instrument_id is None or o.instrument_id == instrument_id)
            and (strategy_id is None or o.strategy_id == strategy_id)
        ]

    def has_open_orders(self, instrument_id: str) -> bool:
        """Return whether any order is open on ``instrument_id``."""
        return any(o.instrument_id == instrument_id for o in self._open.values())

    def open_buy_notional_raw(self, venue: str | None = None) -> int:
        """Return the estimated notional of open buy orders (money raw), of one ``venue``'s
        instruments or of all: limit and stop buys at their price (kept up to date as orders
        change), market buys at the instrument's latest price."""
        total = self._reserved_total if venue is None else self._reserved_by_venue.get(venue, 0)
        for order in self._unpriced_buys.values():
            instrument = self.instruments[order.instrument_id]
            if venue is not None and instrument.venue != venue:
                continue
            price = self._price_of(order.instrument_id)
            if price is None:
                continue
            mult_raw, mult_precision = instrument.multiplier_parts
            total += notional_raw(price, order.leaves_qty, mult_raw, mult_precision)
        return total

    def open_quantity_raw(self, instrument_id: str, side: OrderSide) -> int:
        """Return the unfilled quantity of open orders on one side of an instrument."""
        return sum(
            o.quantity.raw - o.filled_raw
            for o in self._open.values()
            if o.instrument_id == instrument_id and o.side is side
        )

"""Bus subscribers that turn the kernel's events into metrics and recent-activity lists.

They run on the kernel thread, inside the publication of each event, and do as little as
possible there: order events are only **queued** (a C ``deque.append``, no Python frame per
event) and counted later, when someone asks (a scrape, the API, the probe's snapshot about
once a second): ``drain`` turns the queued events into counts, fills, traded notional and
slippage, under a lock a busy kernel never waits for (the probe skips a drain a scrape is
doing). Order events are heard at a low priority, after the portfolio and the strategies.

- ``events.order.*``: queued (at most ``PENDING`` between two drains: a node drains about
  once a second); drained into orders submitted, denied, rejected, canceled, expired,
  filled; fills, traded notional, slippage vs the order's arrival price;
- tick-to-order latency (from the latest market record's ``ts_init`` to an
  ``OrderSubmitted``, in wall seconds) needs the record that was latest when the order went,
  so it is taken as the order goes: the latest record is kept by a ``deque.append`` on
  ``data.*`` and a small handler times each ``OrderSubmitted``. On a clock that stands
  still (a backtest's ``TestClock``: every latency is 0) neither is subscribed;
- ``events.alert``: alerts by severity; ``events.risk``: trading state changes.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

from tradeloop.bus.bus import MessageBus
from tradeloop.bus.topics import ALERTS, RISK_EVENTS
from tradeloop.core.clock import TestClock
from tradeloop.core.time import ns_to_iso
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import (
    AlertRaised,
    ControlActionTaken,
    OrderFilled,
    OrderSubmitted,
    TradingStateChanged,
)
from tradeloop.monitoring.metrics import NodeMetrics
from tradeloop.monitoring.snapshot import KernelView

RECENT = 200
"""How many recent fills, alerts and control actions the node keeps for the API."""

PENDING = 1 << 18
"""How many order events wait for a drain at most (the oldest are dropped beyond)."""


class MetricsSubscriber:
    """Count the kernel's events into ``metrics`` (module docstring)."""

    def __init__(self, metrics: NodeMetrics, kernel: KernelView) -> None:
        self.metrics = metrics
        self.kernel = kernel
        # The latest market record the kernel took: its C ``append`` is the subscriber of
        # every record (no Python frame per record); only on a clock that moves.
        self.last_record: deque[Any] = deque(maxlen=1)
        self.measures_latency = not isinstance(kernel.clock, TestClock)
        self._ns_per_wall_s = 1e9 * float(getattr(kernel.clock, "speed", 1.0))
        self.pending: deque[Any] = deque(maxlen=PENDING)
        self._drain_lock = threading.Lock()
        self.recent_fills: deque[tuple[OrderFilled, float | None]] = deque(maxlen=RECENT)
        self.recent_alerts: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.recent_actions: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.alert_count = 0

    def attach(self, bus: MessageBus) -> None:
        """Subscribe to the bus (call it on the kernel thread)."""
        kernel = self.kernel
        self.metrics.records = lambda: kernel.records_processed
        self.metrics.before_scrape = self.drain
        bus.subscribe("events.order.*", self.pending.append, priority=-1_000)
        if self.measures_latency:
            bus.subscribe("data.*", self.last_record.append, priority=1_000)
            bus.subscribe("events.order.*", self.on_order_event, priority=-1_000)
        bus.subscribe(ALERTS, self.on_alert, priority=-1_000)
        bus.subscribe(RISK_EVENTS, self.on_risk_event, priority=-1_000)

    def detach(self, bus: MessageBus) -> None:
        """Unsubscribe and count what is queued (kernel thread)."""
        bus.unsubscribe("events.order.*", self.pending.append)
        if self.measures_latency:
            bus.unsubscribe("data.*", self.last_record.append)
            bus.unsubscribe("events.order.*", self.on_order_event)
        bus.unsubscribe(ALERTS, self.on_alert)
        bus.unsubscribe(RISK_EVENTS, self.on_risk_event)
        self.drain()

    def on_order_event(self, event: object) -> None:
        """Time an ``OrderSubmitted`` from the latest market record (a clock that moves)."""
        if type(event) is OrderSubmitted and self.last_record:
            # From the record's ts_init (its arrival, stamped by the inbox; a replay's record
            # is released when the clock reaches it) to the order, on the clock, in wall
            # seconds.
            elapsed_ns = event.ts_init - self.last_record[0].ts_init
            if elapsed_ns >= 0:
                self.metrics.tick_to_order.observe(elapsed_ns / self._ns_per_wall_s)

    def drain(self, wait: bool = True) -> None:
        """Count the queued order events (any thread; ``wait=False``: skip it when another
        thread is draining, as the kernel's probe does)."""
        if not self._drain_lock.acquire(blocking=wait):
            return
        try:
            pending = self.pending
            popleft = pending.popleft
            # Taken in one C-level sweep: events appended meanwhile wait for the next drain.
            batch = [popleft() for _ in range(len(pending))]
            counts = self.metrics.event_counts
            for kind, number in Counter(map(type, batch)).items():
                counts[kind] = counts.get(kind, 0) + number
            self._on_fills([e for e in batch if type(e) is OrderFilled])
        finally:
            self._drain_lock.release()

    def _on_fills(self, fills: list[OrderFilled]) -> None:
        metrics = self.metrics
        orders = self.kernel.order_manager.orders
        observe = metrics.slippage.observe
        keep = self.recent_fills.append
        notional = 0.0
        for fill in fills:
            px = fill.last_px
            price = px.raw / 10**px.precision
            qty = fill.last_qty
            notional += abs(price * qty.raw / 10**qty.precision)
            order = orders.get(fill.client_order_id)
            slippage = None
            if order is not None:
                # Counted once: at the fill that completed it (the order may be further on).
                trade_ids = order.trade_ids
                if trade_ids and trade_ids[-1] == fill.trade_id and not order.leaves_qty.raw:
                    metrics.orders_filled += 1
                arrival = order.init.arrival_price
                if arrival is not None and arrival.raw > 0:
                    reference = arrival.raw / 10**arrival.precision
                    slippage = (price - reference) / reference
                    if fill.order_side is not OrderSide.BUY:
                        slippage = -slippage
                    observe(slippage)
            # Kept as the (immutable) event: formatted only when someone asks (``fills``).
            keep((fill, slippage))
        metrics.traded_notional += notional

    def fills(self) -> list[dict[str, Any]]:
        """Return the recent fills, newest first, for the API (any thread)."""
        self.drain()
        return [
            {
                "ts": ns_to_iso(fill.ts_event),
                "client_order_id": fill.client_order_id,
                "strategy_id": fill.strategy_id,
                "instrument_id": fill.instrument_id,
                "side": str(fill.order_side),
                "quantity": str(fill.last_qty),
                "price": str(fill.last_px),
                "commission": str(fill.commission),
                "slippage_bps": None if slippage is None else round(slippage * 1e4, 3),
            }
            for fill, slippage in reversed(list(self.recent_fills))
        ]

    def on_alert(self, alert: object) -> None:
        """Count an alert and keep it for the API."""
        if not isinstance(alert, AlertRaised):
            return
        self.alert_count += 1
        self.metrics.alerts.labels(alert.severity).inc()
        self.recent_alerts.append(
            {
                "id": self.alert_count,
                "ts": ns_to_iso(alert.ts_event),
                "severity": alert.severity,
                "source": alert.source,
                "message": alert.message,
                "acknowledged_by": None,
            }
        )

    def on_risk_event(self, event: object) -> None:
        """Keep trading state changes and control actions for the API."""
        if isinstance(event, TradingStateChanged):
            self.recent_actions.append(
                {
                    "ts": ns_to_iso(event.ts_event),
                    "action": "trading_state",
                    "state": str(event.state),
                    "reason": event.reason,
                }
            )

    def on_control_action(self, event: ControlActionTaken) -> None:
        """Count a control action (the control surface calls it once it is journaled)."""
        self.metrics.control_actions.labels(event.action).inc()
        self.recent_actions.append(
            {
                "ts": ns_to_iso(event.ts_event),
                "action": event.action,
                "actor": event.actor,
                "role": event.role,
                "reason": event.reason,
                "target": event.target,
                "outcome": event.outcome,
            }
        )

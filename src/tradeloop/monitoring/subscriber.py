"""Bus subscribers that turn the kernel's events into metrics and recent-activity lists.

They run on the kernel thread, inside the publication of each event, so each does a few
counter increments and list appends and returns: never I/O, never a lock another thread
holds for long (``prometheus_client`` counters take a short lock of their own; hot counts are
plain integers read at scrape time). Order events are heard at a low priority, after the
portfolio and the strategies.

- ``data.*`` (first, before the strategies): the wall time the kernel took the record (the
  start of tick-to-order), the record count, each instrument's last record;
- ``events.order.*``: orders submitted, denied, rejected, canceled, expired, filled; fills,
  traded notional, slippage vs the order's arrival price; tick-to-order latency on each
  ``OrderSubmitted`` (from the latest market record the kernel took);
- ``events.alert``: alerts by severity; ``events.risk``: trading state changes.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from tradeloop.bus.bus import MessageBus
from tradeloop.bus.topics import ALERTS, RISK_EVENTS
from tradeloop.core.time import ns_to_iso
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import (
    AlertRaised,
    ControlActionTaken,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    TradingStateChanged,
)
from tradeloop.monitoring.metrics import NodeMetrics
from tradeloop.monitoring.snapshot import KernelView

RECENT = 200
"""How many recent fills, alerts and control actions the node keeps for the API."""


class MetricsSubscriber:
    """Count the kernel's events into ``metrics`` (module docstring)."""

    def __init__(self, metrics: NodeMetrics, kernel: KernelView) -> None:
        self.metrics = metrics
        self.kernel = kernel
        self.tick_started_ns = 0
        self.last_record_monotonic: float | None = None
        self.recent_fills: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.recent_alerts: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.recent_actions: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.alert_count = 0

    def attach(self, bus: MessageBus) -> None:
        """Subscribe to the bus (call it on the kernel thread)."""
        bus.subscribe("data.*", self.on_market_data, priority=1_000)
        bus.subscribe("events.order.*", self.on_order_event, priority=-1_000)
        bus.subscribe(ALERTS, self.on_alert, priority=-1_000)
        bus.subscribe(RISK_EVENTS, self.on_risk_event, priority=-1_000)

    def detach(self, bus: MessageBus) -> None:
        """Unsubscribe (kernel thread)."""
        bus.unsubscribe("data.*", self.on_market_data)
        bus.unsubscribe("events.order.*", self.on_order_event)
        bus.unsubscribe(ALERTS, self.on_alert)
        bus.unsubscribe(RISK_EVENTS, self.on_risk_event)

    def on_market_data(self, record: object) -> None:
        """Note when the kernel took a market record."""
        self.tick_started_ns = time.perf_counter_ns()
        self.metrics.market_records += 1

    def on_order_event(self, event: object) -> None:
        """Count an order event."""
        metrics = self.metrics
        kind = type(event)
        if kind is OrderFilled:
            assert isinstance(event, OrderFilled)
            self._on_fill(event)
        elif kind is OrderSubmitted:
            metrics.orders_submitted.inc()
            if self.tick_started_ns:
                metrics.tick_to_order.observe((time.perf_counter_ns() - self.tick_started_ns) / 1e9)
        elif kind is OrderDenied:
            metrics.orders_denied.inc()
        elif kind is OrderRejected:
            metrics.orders_rejected.inc()
        elif kind is OrderCanceled:
            metrics.orders_canceled.inc()
        elif kind is OrderExpired:
            metrics.orders_expired.inc()

    def _on_fill(self, fill: OrderFilled) -> None:
        metrics = self.metrics
        metrics.fills.inc()
        price = float(fill.last_px)
        qty = float(fill.last_qty)
        metrics.traded_notional.inc(abs(price * qty))
        order = self.kernel.order_manager.orders.get(fill.client_order_id)
        slippage = None
        if order is not None:
            if order.is_closed:
                metrics.orders_filled.inc()
            arrival = order.init.arrival_price
            if arrival is not None and float(arrival) > 0:
                sign = 1.0 if fill.order_side is OrderSide.BUY else -1.0
                slippage = sign * (price - float(arrival)) / float(arrival)
                metrics.slippage.observe(slippage)
        self.recent_fills.append(
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
        )

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

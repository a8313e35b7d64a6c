"""Reconciliation while a live node runs: in-flight, open-order and fill checks.

Timers on the node's live clock (``[reconciliation]``, defaults in brackets; compare
NautilusTrader's ``inflight_check_*``, ``open_check_*`` and ``position_check_*``):

- **in-flight** (every ``inflight_check_s`` / 2 [2.5 s]): an order submitted, or with a
  cancel or modify pending, that the venue has not answered for ``inflight_check_s`` [5 s] is
  queried by client order id. An answer is reconciled (acknowledged, filled, canceled …);
  no answer is asked again at the next check, up to ``inflight_retries`` [3] times, and then
  the order is resolved as never received (``OrderRejected``, not re-sent).
- **open orders** (every ``open_check_interval_s`` [60 s]): the venue's open orders are
  fetched; an order the node holds open that the venue no longer lists is queried and
  reconciled (a fill or cancel whose message was lost), an order only the venue lists is
  recorded as external.
- **fills / positions** (every ``position_check_interval_s`` [300 s]): the venue's fills
  since the previous check (less a minute) are compared with the fills the node counted;
  a missing one is journaled as ``FillReconciled`` and applied, so the position follows.
  Then the venue's balances and positions are compared with the run's baseline plus its
  fills (``engine.balances``; a read that raced a fill waits for the next check).

Every check goes through ``engine.reconcile`` (the startup path); a venue that does not
answer raises an ``AlertRaised`` warning and the check runs again at its next time. The
queries run on the kernel thread: a check costs one venue round trip per request, and the
in-flight check asks only about overdue orders. A value of 0 turns a check off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from tradeloop.config.schema import ReconciliationSection
from tradeloop.core.clock import Clock, TimeEvent
from tradeloop.core.errors import VenueError
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.reconcile import Books, VenueView, reconcile, reconcile_holdings
from tradeloop.execution.ports import LiveExecutionClient
from tradeloop.model.enums import OrderStatus
from tradeloop.model.orders import Order
from tradeloop.model.reports import OrderStatusReport

log = logging.getLogger("tradeloop.engine.checks")

_IN_FLIGHT = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_UPDATE}
)
_LOOKBACK_NS = 60_000_000_000


@dataclass
class LiveChecks:
    """The running checks of one node (module docstring)."""

    clock: Clock
    books: Books
    clients: dict[str, LiveExecutionClient]
    config: ReconciliationSection
    alert: Callable[[str], None]
    attempts: dict[str, int] = field(default_factory=dict)
    last_fill_check_ns: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: {"inflight": 0, "open": 0, "fills": 0, "resolved": 0}
    )

    def _venue_of(self, order: Order) -> str:
        return order.instrument_id.rpartition(".")[2]

    def _pass(self, view: VenueView, trigger: str) -> int:
        outcome = reconcile(
            self.books,
            view,
            trigger=trigger,
            on_break=self.config.on_break,
            claim_external_orders=self.config.claim_external_orders,
            balance_tolerance=self.config.balance_tolerance,
        )
        return outcome.orders_resolved + outcome.fills_inferred

    def check_in_flight(self, _event: TimeEvent | None = None) -> None:
        """Query overdue in-flight orders; resolve those the venue never answers."""
        now = self.clock.timestamp_ns()
        overdue_ns = int(self.config.inflight_check_s * 1e9)
        manager = self.books.order_manager
        by_venue: dict[str, dict[str, OrderStatusReport | None]] = {}
        for order in manager.open_orders():
            if order.status not in _IN_FLIGHT or now - order.ts_last < overdue_ns:
                continue
            venue = self._venue_of(order)
            client = self.clients.get(venue)
            if client is None:
                continue
            try:
                report = client.query_order(order.client_order_id, order.instrument_id)
            except VenueError as error:
                self.alert(f"in-flight check of {order.client_order_id} failed: {error}")
                continue
            coid = order.client_order_id
            if report is None and order.status is OrderStatus.SUBMITTED:
                tries = self.attempts.get(coid, 0) + 1
                self.attempts[coid] = tries
                if tries <= self.config.inflight_retries:
                    continue  # asked again at the next check
            self.attempts.pop(coid, None)
            by_venue.setdefault(venue, {})[coid] = report
        for venue, asked in sorted(by_venue.items()):
            view = self._with_fills(venue, asked)
            if view is None:
                continue
            self.counts["inflight"] += 1
            self.counts["resolved"] += self._pass(view, "inflight")

    def _with_fills(
        self,
        venue: str,
        asked: dict[str, OrderStatusReport | None],
        open_orders: list[OrderStatusReport] | None = None,
    ) -> VenueView | None:
        # An order the venue filled further than the node knows: its fills are fetched too, so
        # the real trade ids are counted (never a guessed fill that the real one would repeat)
        manager = self.books.order_manager
        behind = [
            r
            for r in asked.values()
            if r is not None
            and (order := manager.orders.get(r.client_order_id)) is not None
            and r.filled_qty.raw > order.filled_raw
        ]
        fills = []
        if behind:
            since = min(manager.orders[r.client_order_id].init.ts_init for r in behind)
            try:
                fills = self.clients[venue].fills_since(max(0, since - _LOOKBACK_NS))
            except VenueError as error:
                self.alert(f"fills of {venue} for a check failed: {error}")
                return None
        return VenueView(
            venue=venue,
            orders=asked,
            open_orders=open_orders or [],
            fills=fills,
            has_all_fills=bool(behind),
        )

    def check_open_orders(self, _event: TimeEvent | None = None) -> None:
        """Compare the node's open orders with the venue's (module docstring)."""
        manager = self.books.order_manager
        for venue, client in sorted(self.clients.items()):
            try:
                listed = client.open_orders()
                listed_ids = {r.client_order_id for r in listed}
                asked: dict[str, OrderStatusReport | None] = {}
                for order in manager.open_orders():
                    if self._venue_of(order) != venue or order.client_order_id in listed_ids:
                        continue
                    if order.status is OrderStatus.SUBMITTED:
                        continue  # the in-flight check owns it
                    asked[order.client_order_id] = client.query_order(
                        order.client_order_id, order.instrument_id
                    )
            except VenueError as error:
                self.alert(f"open-order check of {venue} failed: {error}")
                continue
            view = self._with_fills(venue, asked, listed)
            if view is None:
                continue
            self.counts["open"] += 1
            self.counts["resolved"] += self._pass(view, "open_orders")

    def check_fills(self, _event: TimeEvent | None = None) -> None:
        """Ask the venues for their fills since the previous check; count the missing ones."""
        now = self.clock.timestamp_ns()
        since = max(0, (self.last_fill_check_ns or now) - _LOOKBACK_NS)
        ledger = self.books.ledger
        answered = True
        for venue, client in sorted(self.clients.items()):
            try:
                fills = client.fills_since(since)
                self.counts["resolved"] += self._pass(
                    VenueView(venue=venue, orders={}, fills=fills), "fills"
                )
                if ledger is not None and ledger.has_baseline(venue):
                    before = self.books.order_manager.fill_count
                    reconcile_holdings(
                        self.books, client, self.config, since_ns=since, trigger="balances"
                    )
                    self.counts["resolved"] += self.books.order_manager.fill_count - before
            except VenueError as error:
                self.alert(f"fill check of {venue} failed: {error}")
                answered = False
                continue
            self.counts["fills"] += 1
        if answered:  # a venue that did not answer is asked from the same time next time
            self.last_fill_check_ns = now


def install_checks(
    kernel: Kernel,
    clients: list[LiveExecutionClient],
    config: ReconciliationSection,
    books: Books,
) -> LiveChecks | None:
    """Start the checks on ``kernel``'s clock for the live ``clients`` (None if none)."""
    if not clients:
        return None
    clock = kernel.clock

    def alert(message: str) -> None:
        log.warning("%s", message)
        kernel.raise_alert("warning", "reconciliation", message)

    checks = LiveChecks(
        clock=clock,
        books=books,
        clients={client.venue: client for client in clients},
        config=config,
        alert=alert,
        last_fill_check_ns=clock.timestamp_ns(),
    )
    speed = getattr(clock, "speed", 1.0)
    for name, seconds, callback in (
        ("reconciliation.inflight", config.inflight_check_s / 2, checks.check_in_flight),
        ("reconciliation.open_orders", config.open_check_interval_s, checks.check_open_orders),
        ("reconciliation.fills", config.position_check_interval_s, checks.check_fills),
    ):
        if seconds > 0:
            clock.set_timer(name, int(seconds * 1e9 * speed), callback)
    return checks

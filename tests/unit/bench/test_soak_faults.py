"""The venue-fault soak in small (the full one is ``make soak``), and the running checks it
relies on: an order whose request never arrived is asked about ``inflight_retries`` times and
then resolved; one whose answer was lost is acknowledged and filled from the venue's reports."""

from __future__ import annotations

import numpy as np

from tradeloop.bench.soak_faults import (
    INSTRUMENT,
    START,
    Faults,
    FaultyVenue,
    soak_faults,
)
from tradeloop.bus import MessageBus
from tradeloop.config.schema import ReconciliationSection
from tradeloop.core import Price, Quantity, TestClock
from tradeloop.engine.checks import LiveChecks
from tradeloop.engine.reconcile import Books
from tradeloop.execution import OrderManager
from tradeloop.journal import MemoryJournal
from tradeloop.model import OrderFactory, OrderRejected, OrderSide, OrderStatus
from tradeloop.portfolio.accounting import Portfolio

SECOND = 1_000_000_000


def test_a_few_hundred_fault_scenarios_break_no_invariant() -> None:
    result = soak_faults(300, seed=5)
    assert result["examples"] == []
    assert (result["invariant_breaks"], result["lost_orders"], result["duplicate_orders"]) == (
        0,
        0,
        0,
    )
    injected = result["faults_injected"]
    for kind in (
        "timeout_after_accept",
        "lost_request",
        "429_or_5xx",
        "reject",
        "partial_fill",
        "duplicate_message",
        "out_of_order",
        "disconnect_mid_fill",
        "stale_stream",
        "cancel_fill_race",
    ):
        assert injected.get(kind, 0) > 0, kind
    assert injected["resolved_by_checks"] > 0


class _Allow:
    def check_submit(self, order: object) -> str | None:
        return None


def _node(faults: Faults) -> tuple[TestClock, OrderManager, Portfolio, FaultyVenue, LiveChecks]:
    clock, bus, journal = TestClock(1_000 * SECOND), MessageBus(), MemoryJournal()
    instruments = {INSTRUMENT.id: INSTRUMENT}
    portfolio = Portfolio(clock, bus, journal, instruments, START)
    bus.subscribe("events.order.*", portfolio.on_order_event, priority=100)
    manager = OrderManager(clock, bus, journal, instruments, lambda _: Price(10_000, 2))
    manager.set_risk(_Allow())
    venue = FaultyVenue(np.random.default_rng(0), faults, clock)
    manager.register_client(venue)
    books = Books(
        clock=clock,
        journal=journal,
        order_manager=manager,
        position_raw=portfolio.position_raw,
        cash_raw=portfolio.cash_raw,
        set_trading_state=lambda state, reason: None,
        size_precision=lambda _: 0,
        quote_currency=lambda _: "USD",
        base_currency="USD",
    )
    config = ReconciliationSection(inflight_check_s=5.0, inflight_retries=2)
    checks = LiveChecks(clock, books, {venue.venue: venue}, config, alert=lambda _: None)
    return clock, manager, portfolio, venue, checks


def _faults(**chosen: float) -> Faults:
    values = dict.fromkeys(Faults.__dataclass_fields__, 0.0)
    values.update(chosen)
    return Faults(**values)


def test_an_order_that_never_arrived_is_asked_about_then_resolved_and_never_resent() -> None:
    clock, manager, _, venue, checks = _node(_faults(lost_request=1.0))
    order = manager.submit(
        OrderFactory("s", clock).market(INSTRUMENT.id, OrderSide.BUY, Quantity(3, 0))
    )
    statuses = []
    for _ in range(4):
        clock.advance_time(clock.timestamp_ns() + 6 * SECOND)
        checks.check_in_flight()
        statuses.append(order.status)
    # asked twice with no answer (inflight_retries = 2), resolved at the third check
    assert statuses[:2] == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED]
    assert statuses[2] is OrderStatus.REJECTED
    assert isinstance(order.events[-1], OrderRejected)
    assert "not re-sent" in order.events[-1].reason
    assert venue.received == []  # nothing was sent again


def test_an_order_whose_answers_were_lost_is_accepted_and_filled_from_the_venue() -> None:
    clock, manager, portfolio, venue, checks = _node(_faults(timeout=1.0))
    order = manager.submit(
        OrderFactory("s", clock).market(INSTRUMENT.id, OrderSide.BUY, Quantity(3, 0))
    )
    venue.stream.clear()  # the fill messages are lost too
    assert order.status is OrderStatus.SUBMITTED
    clock.advance_time(clock.timestamp_ns() + 6 * SECOND)
    checks.check_in_flight()
    assert order.status is OrderStatus.FILLED
    assert portfolio.position_raw(INSTRUMENT.id) == 3
    assert venue.truth() == (portfolio.position_raw(INSTRUMENT.id), portfolio.cash_raw())

"""Alpaca's cash and positions against the run's baseline plus its fills, through alpaca-py
and the emulator (``engine.reconcile.reconcile_holdings``): a filled order moves both as the
node counts it (no break), then cash or shares moved behind the node's back are breaks with
both values."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from tests.unit.testing.emulators.helpers import control
from tests.unit.venues.alpaca.conftest import CREDENTIALS, connection, drain_until

from tradeloop.bus.bus import MessageBus
from tradeloop.bus.inbox import Inbox
from tradeloop.config.schema import ReconciliationSection
from tradeloop.core.clock import LiveClock
from tradeloop.core.fixed import Money, Quantity
from tradeloop.engine.balances import VenueLedger, read_holdings
from tradeloop.engine.reconcile import Books, reconcile_holdings
from tradeloop.execution.order_manager import OrderManager
from tradeloop.journal.store import MemoryJournal
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.enums import OrderSide, OrderType, TimeInForce
from tradeloop.model.events import OrderFilled, OrderInitialized, ReconciliationBreak
from tradeloop.model.instruments import Instrument
from tradeloop.portfolio.accounting import Portfolio
from tradeloop.testing import EmulatorThread
from tradeloop.venues.alpaca import AlpacaExecutionClient

SPY = "SPY.ARCX"


@pytest.fixture
def venue(
    alpaca: EmulatorThread, inbox: Inbox, instruments: list[Instrument]
) -> Iterator[AlpacaExecutionClient]:
    spy = [i for i in instruments if i.id == SPY]
    client = AlpacaExecutionClient(
        connection(alpaca.url), "ARCX", inbox, spy, credentials=CREDENTIALS
    )
    client.connect()
    try:
        yield client
    finally:
        client.disconnect()


def test_cash_and_shares_moved_behind_the_nodes_back_are_breaks_with_both_values(
    alpaca: EmulatorThread,
    inbox: Inbox,
    instruments: list[Instrument],
    venue: AlpacaExecutionClient,
) -> None:
    by_id = {i.id: i for i in instruments if i.id == SPY}
    clock = LiveClock()
    bus, journal = MessageBus(), MemoryJournal()
    portfolio = Portfolio(clock, bus, journal, by_id, Money.from_str("100000", "USD"))
    bus.subscribe("events.order.*", portfolio.on_order_event, priority=100)
    manager = OrderManager(clock, bus, journal, by_id, lambda _: None)
    ledger = VenueLedger(by_id, frozenset({"ARCX"}))
    portfolio.fill_observers.append(ledger.on_fill)
    books = Books(
        clock=clock,
        journal=journal,
        order_manager=manager,
        position_raw=portfolio.position_raw,
        cash_raw=portfolio.cash_raw,
        set_trading_state=lambda _state, _reason: None,
        size_precision=lambda iid: by_id[iid].size_precision,
        quote_currency=lambda iid: by_id[iid].quote_currency,
        base_currency="USD",
        ledger=ledger,
    )
    start_ns = clock.timestamp_ns()
    holdings = read_holdings(venue, ledger.position_ids("ARCX"))
    ledger.baseline_of("ARCX", holdings, start_ns, reason="the run's first start")

    def check() -> list[ReconciliationBreak]:  # the breaks of one more check
        seen = len(journal.records)
        reconcile_holdings(books, venue, ReconciliationSection(), since_ns=start_ns, trigger="t")
        return [r for r in journal.records[seen:] if isinstance(r, ReconciliationBreak)]

    order = OrderInitialized(
        client_order_id="tl-bal-1",
        strategy_id="alpaca-test",
        instrument_id=SPY,
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        quantity=Quantity.from_int(2),
        time_in_force=TimeInForce.GTC,
        ts_event=start_ns,
        ts_init=start_ns,
    )
    venue.submit_order(SubmitOrder(order=order, strategy_id="alpaca-test", ts_init=start_ns))
    records: list[Any] = drain_until(
        inbox, lambda got: any(isinstance(r, OrderFilled) for r in got)
    )
    for record in records:
        if isinstance(record, OrderFilled):
            manager.handle_venue_event(record)  # an order of another node: an external fill
    assert portfolio.position_raw(SPY) == 2
    assert check() == []

    control(alpaca.url, "/_emulator/transfer", {"cash": "-100"})
    (cash,) = check()
    assert (cash.kind, cash.subject) == ("balance", "ARCX USD")
    assert Decimal(cash.local.split()[0]) - Decimal(cash.venue.split()[0]) == 100

    control(alpaca.url, "/_emulator/transfer", {"symbol": "SPY", "qty": "3"})
    position, still = check()  # the cash difference stays a break until it is resolved
    assert (position.kind, position.subject, position.local, position.venue) == (
        "position",
        SPY,
        "2",
        "5",
    )
    assert (still.kind, still.local, still.venue) == (cash.kind, cash.local, cash.venue)

from typing import Any

from tradeloop.bus import MessageBus
from tradeloop.core import Money, Price, Quantity, TestClock
from tradeloop.execution import OrderManager
from tradeloop.journal import MemoryJournal
from tradeloop.model import (
    AlertRaised,
    CancelOrder,
    ExternalFillRecorded,
    LiquiditySide,
    OrderAccepted,
    OrderDenied,
    OrderFactory,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    SubmitOrder,
    equity,
)

AAPL = equity("AAPL", "XNAS")


class RecordingClient:
    venue = "XNAS"

    def __init__(self, journal: MemoryJournal) -> None:
        self.journal = journal
        self.seen: list[Any] = []
        self.journal_len_when_sent: list[int] = []

    def submit_order(self, command: SubmitOrder) -> None:
        self.journal_len_when_sent.append(len(self.journal.records))
        self.seen.append(command)

    def cancel_order(self, command: CancelOrder) -> None:
        self.seen.append(command)

    def modify_order(self, command: Any) -> None:
        self.seen.append(command)


class Risk:
    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason

    def check_submit(self, order: OrderInitialized) -> str | None:
        return self.reason


def setup(
    reason: str | None = None,
) -> tuple[OrderManager, RecordingClient, MemoryJournal, list[Any], OrderFactory]:
    clock, bus, journal = TestClock(5), MessageBus(), MemoryJournal()
    published: list[Any] = []
    bus.subscribe("events.order.*", published.append)
    manager = OrderManager(clock, bus, journal, {AAPL.id: AAPL}, lambda _: Price(10000, 2))
    manager.set_risk(Risk(reason))
    client = RecordingClient(journal)
    manager.register_client(client)
    return manager, client, journal, published, OrderFactory("s", clock)


def fill(client_order_id: str, trade_id: str, qty: int = 10) -> OrderFilled:
    return OrderFilled(
        client_order_id=client_order_id,
        strategy_id="s",
        instrument_id=AAPL.id,
        venue_order_id="V-1",
        trade_id=trade_id,
        order_side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        last_qty=Quantity(qty, 0),
        last_px=Price(10000, 2),
        commission=Money(0, "USD"),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=6,
        ts_init=6,
    )


def test_command_is_journaled_before_the_venue_sees_it() -> None:
    manager, client, journal, _, f = setup()
    manager.submit(f.market(AAPL.id, OrderSide.BUY, Quantity(10, 0)))
    assert isinstance(journal.records[0], SubmitOrder)
    assert client.journal_len_when_sent == [2]  # the command and OrderSubmitted are recorded first
    assert isinstance(journal.records[1], OrderSubmitted)


def test_denied_order_never_reaches_the_venue_and_the_denial_is_an_event() -> None:
    manager, client, journal, published, f = setup("too big")
    order = manager.submit(f.market(AAPL.id, OrderSide.BUY, Quantity(10, 0)))
    assert order.status is OrderStatus.DENIED
    assert client.seen == []
    assert [type(r) for r in journal.records] == [SubmitOrder, OrderDenied]
    assert isinstance(published[0], OrderDenied)
    assert published[0].reason == "too big"


def test_duplicate_fill_is_recorded_and_alerted_but_applied_once() -> None:
    manager, _, journal, _, f = setup()
    order = manager.submit(f.market(AAPL.id, OrderSide.BUY, Quantity(10, 0)))
    manager.handle_venue_event(
        OrderAccepted(
            client_order_id=order.client_order_id,
            strategy_id="s",
            instrument_id=AAPL.id,
            venue_order_id="V-1",
            ts_event=6,
            ts_init=6,
        )
    )
    manager.handle_venue_event(fill(order.client_order_id, "T-1", 4))
    manager.handle_venue_event(fill(order.client_order_id, "T-1", 4))
    assert order.filled_raw == 4
    assert any(
        isinstance(r, ExternalFillRecorded) and "duplicate trade id T-1" in r.reason
        for r in journal.records
    )
    assert any(isinstance(r, AlertRaised) for r in journal.records)


def test_fill_for_an_unknown_order_is_kept_as_external_and_reaches_subscribers() -> None:
    manager, _, journal, published, _ = setup()
    manager.handle_venue_event(fill("O-ghost-1", "T-7"))
    assert isinstance(journal.records[0], ExternalFillRecorded)
    assert [p.trade_id for p in published if isinstance(p, OrderFilled)] == ["T-7"]


def test_illegal_venue_event_is_recorded_with_an_alert_not_raised() -> None:
    manager, _, journal, _, f = setup()
    order = manager.submit(f.market(AAPL.id, OrderSide.BUY, Quantity(10, 0)))
    manager.handle_venue_event(fill(order.client_order_id, "T-1", 6))
    manager.handle_venue_event(fill(order.client_order_id, "T-2", 5))  # 11 of 10
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_raw == 6
    assert isinstance(journal.records[-1], AlertRaised)
    assert "overfill" in journal.records[-1].message


def test_cancel_is_journaled_and_only_for_open_orders() -> None:
    manager, client, journal, _, f = setup()
    order = manager.submit(f.limit(AAPL.id, OrderSide.BUY, Quantity(10, 0), Price(9900, 2)))
    assert manager.cancel(order.client_order_id, "superseded by R-7") is True
    command = journal.records[-2]
    assert isinstance(command, CancelOrder)
    assert command.reason == "superseded by R-7"
    assert manager.cancel("O-unknown") is False
    assert isinstance(client.seen[-1], CancelOrder)


def test_a_second_cancel_while_one_is_pending_is_a_no_op_not_an_error() -> None:
    # A limit-then-market algorithm cancels its limit at the timeout; a risk exit on the same
    # bar cancels the algorithm again before the venue answered.
    manager, client, journal, _, f = setup()
    order = manager.submit(f.limit(AAPL.id, OrderSide.BUY, Quantity(10, 0), Price(9900, 2)))
    assert manager.cancel(order.client_order_id, "limit_then_market timeout") is True
    assert order.status is OrderStatus.PENDING_CANCEL
    records, sent = len(journal.records), len(client.seen)
    assert manager.cancel(order.client_order_id, "superseded by risk-1") is False
    assert order.status is OrderStatus.PENDING_CANCEL
    assert (len(journal.records), len(client.seen)) == (records, sent)

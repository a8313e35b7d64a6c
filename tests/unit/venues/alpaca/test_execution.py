"""AlpacaExecutionClient against the Alpaca emulator through alpaca-py: orders accepted and
filled with tradeloop's client order ids, cancel, Alpaca's refusals as OrderRejected, retried
429/5xx, a timed-out order never sent twice, duplicate stream updates never double a fill, and
the reconciliation queries."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from tests.unit.testing.emulators.helpers import control
from tests.unit.venues.alpaca.conftest import CREDENTIALS, connection, drain_until

from tradeloop.bus.inbox import Inbox
from tradeloop.core.errors import VenueRejectedError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.commands import CancelOrder, SubmitOrder
from tradeloop.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradeloop.model.events import (
    AlertRaised,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from tradeloop.model.instruments import Instrument
from tradeloop.testing import AlpacaEmulatorConfig, EmulatorThread, start_alpaca_emulator
from tradeloop.venues.alpaca import AlpacaCredentials, AlpacaExecutionClient, Secret

SPY, GOOG = "SPY.ARCX", "GOOG.XNAS"


def _order(
    client_order_id: str,
    qty: int,
    *,
    instrument_id: str = SPY,
    side: OrderSide = OrderSide.BUY,
    price: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> SubmitOrder:
    order = OrderInitialized(
        client_order_id=client_order_id,
        strategy_id="alpaca-test",
        instrument_id=instrument_id,
        side=side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=Quantity.from_int(qty),
        price=None if price is None else Price.from_str(price),
        time_in_force=tif,
        ts_event=1,
        ts_init=1,
    )
    return SubmitOrder(order=order, strategy_id="alpaca-test", ts_init=1)


def _of(records: list[Any], kind: type, client_order_id: str | None = None) -> list[Any]:
    return [
        r
        for r in records
        if isinstance(r, kind)
        and (client_order_id is None or getattr(r, "client_order_id", None) == client_order_id)
    ]


def _emulator_orders(url: str, client_order_id: str) -> list[dict[str, Any]]:
    orders = control(url, "/_emulator/orders")
    return [o for o in orders if o["client_order_id"] == client_order_id]


@pytest.fixture
def venue(
    alpaca: EmulatorThread, inbox: Inbox, instruments: list[Instrument]
) -> Iterator[AlpacaExecutionClient]:
    client = AlpacaExecutionClient(
        connection(alpaca.url), "ALPACA", inbox, instruments, credentials=CREDENTIALS
    )
    client.connect()
    try:
        yield client
    finally:
        client.disconnect()
        control(alpaca.url, "/_emulator/faults", {"timeout_probability": 0.0,
                "server_error_probability": 0.0, "rate_limit_probability": 0.0,
                "ws_duplicate_probability": 0.0})  # fmt: skip


def test_market_order_is_accepted_and_filled_with_the_client_order_id(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    venue.submit_order(_order("tl-mkt-1", 3))
    records = drain_until(inbox, lambda got: bool(_of(got, OrderFilled, "tl-mkt-1")))
    [accepted] = _of(records, OrderAccepted, "tl-mkt-1")
    [filled] = _of(records, OrderFilled, "tl-mkt-1")
    assert records.index(accepted) < records.index(filled)
    assert filled.strategy_id == "alpaca-test"
    assert filled.last_qty == Quantity.from_int(3)
    assert filled.venue_order_id == accepted.venue_order_id
    [sent] = _emulator_orders(alpaca.url, "tl-mkt-1")
    assert sent["status"] == "filled"
    assert sent["id"] == accepted.venue_order_id
    assert Decimal(sent["fills"][0]["price"]) == filled.last_px.as_decimal()
    # the reconciliation queries see the same order and fill (same trade id)
    report = venue.query_order("tl-mkt-1", SPY)
    assert report is not None
    assert report.status is OrderStatus.FILLED
    assert report.filled_qty == Quantity.from_int(3)
    fills = [f for f in venue.fills_since(0) if f.client_order_id == "tl-mkt-1"]
    assert [f.trade_id for f in fills] == [filled.trade_id]
    assert venue.query_order("never-sent", SPY) is None
    [position] = [p for p in venue.positions() if p.instrument_id == SPY]
    assert position.signed_qty.as_decimal() >= 3
    [cash] = venue.balances()
    assert cash.currency == "USD"
    assert cash.total.as_decimal() < Decimal(100000)


def test_limit_order_rests_and_is_canceled(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    venue.submit_order(_order("tl-lmt-1", 2, instrument_id=GOOG, price="1.00"))
    drain_until(inbox, lambda got: bool(_of(got, OrderAccepted, "tl-lmt-1")))
    [open_report] = [r for r in venue.open_orders(GOOG) if r.client_order_id == "tl-lmt-1"]
    assert open_report.price == Price.from_str("1.00")
    venue.cancel_order(
        CancelOrder(strategy_id="alpaca-test", instrument_id=GOOG, client_order_id="tl-lmt-1",
                    ts_init=2)
    )  # fmt: skip
    records = drain_until(inbox, lambda got: bool(_of(got, OrderCanceled, "tl-lmt-1")))
    [canceled] = _of(records, OrderCanceled, "tl-lmt-1")
    assert canceled.venue_order_id == open_report.venue_order_id
    assert _emulator_orders(alpaca.url, "tl-lmt-1")[0]["status"] == "canceled"
    assert not [r for r in venue.open_orders() if r.client_order_id == "tl-lmt-1"]


def test_refusals_become_order_rejected_with_alpacas_reason(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    venue.submit_order(_order("tl-big-1", 1_000_000))
    venue.submit_order(_order("tl-gtd-1", 1, tif=TimeInForce.GTD))
    records = drain_until(inbox, lambda got: len(_of(got, OrderRejected)) == 2)
    reasons = {r.client_order_id: r.reason for r in _of(records, OrderRejected)}
    assert "403" in reasons["tl-big-1"]
    assert "insufficient buying power" in reasons["tl-big-1"]
    assert "GTD" in reasons["tl-gtd-1"]
    assert not _of(records, OrderAccepted)
    assert _emulator_orders(alpaca.url, "tl-big-1")[0]["status"] == "rejected"
    assert _emulator_orders(alpaca.url, "tl-gtd-1") == []  # refused before sending


def test_rate_limits_and_server_errors_are_retried_then_succeed(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    control(alpaca.url, "/_emulator/faults", {"server_error_probability": 0.3,
            "rate_limit_probability": 0.2, "seed": 7})  # fmt: skip
    ids = [f"tl-retry-{n}" for n in range(4)]
    for client_order_id in ids:
        venue.submit_order(_order(client_order_id, 1))
    records = drain_until(
        inbox, lambda got: all(_of(got, OrderFilled, i) for i in ids), timeout_s=20
    )
    assert all(len(_of(records, OrderAccepted, i)) == 1 for i in ids)
    assert all(len(_of(records, OrderFilled, i)) == 1 for i in ids)
    retries = [a for a in _of(records, AlertRaised) if "retry" in a.message]
    assert retries
    assert all(a.severity == "warning" for a in retries)
    assert venue.retries == len(retries)
    assert all(len(_emulator_orders(alpaca.url, i)) == 1 for i in ids)


def test_an_order_whose_answer_timed_out_is_found_not_sent_twice(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    control(alpaca.url, "/_emulator/faults", {"timeout_probability": 1.0})
    venue.submit_order(_order("tl-timeout-1", 1))
    records = drain_until(
        inbox,
        lambda got: (
            bool(_of(got, OrderFilled, "tl-timeout-1"))
            and any("did not answer in time" in a.message for a in _of(got, AlertRaised))
        ),
        timeout_s=15,
    )
    control(alpaca.url, "/_emulator/faults", {"timeout_probability": 0.0})
    assert len(_of(records, OrderAccepted, "tl-timeout-1")) == 1
    assert len(_of(records, OrderFilled, "tl-timeout-1")) == 1
    assert any("did not answer in time" in a.message for a in _of(records, AlertRaised))
    assert len(_emulator_orders(alpaca.url, "tl-timeout-1")) == 1


def test_duplicated_stream_updates_never_duplicate_a_fill(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    control(alpaca.url, "/_emulator/faults", {"ws_duplicate_probability": 1.0})
    venue.submit_order(_order("tl-dup-1", 2))
    records = drain_until(inbox, lambda got: bool(_of(got, OrderFilled, "tl-dup-1")))
    control(alpaca.url, "/_emulator/faults", {"ws_duplicate_probability": 0.0})
    venue.submit_order(_order("tl-dup-2", 1))  # a later update: every duplicate has arrived
    records += drain_until(inbox, lambda got: bool(_of(got, OrderFilled, "tl-dup-2")))
    assert len(_of(records, OrderFilled, "tl-dup-1")) == 1
    assert len(_of(records, OrderAccepted, "tl-dup-1")) == 1
    assert venue.duplicates_dropped >= 1


def test_a_wrong_key_fails_connect_with_one_clear_error(
    alpaca: EmulatorThread, inbox: Inbox, instruments: list[Instrument]
) -> None:
    wrong = AlpacaCredentials(Secret("emulator-key"), Secret("wrong-secret-4242"))
    client = AlpacaExecutionClient(connection(alpaca.url), "ALPACA", inbox, instruments, wrong)
    with pytest.raises(VenueRejectedError) as refused:
        client.connect()
    message = str(refused.value)
    assert "\n" not in message
    assert "401" in message
    assert "APCA_API_KEY_ID" in message
    assert "wrong-secret-4242" not in message
    assert "wrong-secret-4242" not in repr(client.config) + repr(wrong)


def test_an_unreachable_venue_fails_connect_as_transient(
    inbox: Inbox, instruments: list[Instrument]
) -> None:
    from tradeloop.core.errors import TransientVenueError

    with start_alpaca_emulator(AlpacaEmulatorConfig()) as gone:
        url = gone.url
    client = AlpacaExecutionClient(connection(url), "ALPACA", inbox, instruments, CREDENTIALS)
    with pytest.raises(TransientVenueError, match="cannot be reached"):
        client.connect()


@pytest.mark.slow
def test_fills_missed_while_the_stream_was_down_are_caught_up_once(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    control(alpaca.url, "/_emulator/disconnect", {})
    venue.submit_order(_order("tl-gap-1", 1))  # filled while no stream listens
    records = drain_until(
        inbox,
        lambda got: (
            bool(_of(got, OrderFilled, "tl-gap-1"))
            and any("reconnected" in a.message for a in _of(got, AlertRaised))
        ),
        timeout_s=20,
    )
    [filled] = _of(records, OrderFilled, "tl-gap-1")
    assert len(_of(records, OrderAccepted, "tl-gap-1")) == 1
    [report] = [f for f in venue.fills_since(0) if f.client_order_id == "tl-gap-1"]
    assert report.trade_id == filled.trade_id
    assert report.last_px == filled.last_px
    assert venue.fills_caught_up == 1  # from the account activities, not the stream


def test_an_unfillable_immediate_or_cancel_order_is_canceled_without_a_fill(
    venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    venue.submit_order(_order("tl-ioc-1", 1, price="1.00", tif=TimeInForce.IOC))
    records = drain_until(inbox, lambda got: bool(_of(got, OrderCanceled, "tl-ioc-1")))
    assert len(_of(records, OrderCanceled, "tl-ioc-1")) == 1
    assert not _of(records, OrderExpired, "tl-ioc-1")
    assert not _of(records, OrderFilled, "tl-ioc-1")


def test_an_order_before_connect_is_rejected_not_lost(
    alpaca: EmulatorThread, inbox: Inbox, instruments: list[Instrument]
) -> None:
    client = AlpacaExecutionClient(
        connection(alpaca.url), "ALPACA", inbox, instruments, CREDENTIALS
    )
    client.submit_order(_order("tl-early-1", 1))
    [rejected] = drain_until(inbox, lambda got: bool(got), timeout_s=2)
    assert isinstance(rejected, OrderRejected)
    assert "not connected" in rejected.reason
    assert _emulator_orders(alpaca.url, "tl-early-1") == []


def test_a_modified_order_is_replaced_at_alpaca_and_stays_one_order(
    alpaca: EmulatorThread, venue: AlpacaExecutionClient, inbox: Inbox
) -> None:
    from tradeloop.model.commands import ModifyOrder
    from tradeloop.model.events import OrderModifyRejected, OrderUpdated

    venue.submit_order(_order("tl-rep-1", 2, instrument_id=GOOG, price="1.00"))
    drain_until(inbox, lambda got: bool(_of(got, OrderAccepted, "tl-rep-1")))
    [before] = [r for r in venue.open_orders(GOOG) if r.client_order_id == "tl-rep-1"]
    venue.modify_order(
        ModifyOrder(strategy_id="alpaca-test", instrument_id=GOOG, client_order_id="tl-rep-1",
                    quantity=Quantity.from_int(5), price=Price.from_str("1.50"), ts_init=2)
    )  # fmt: skip
    records = drain_until(inbox, lambda got: bool(_of(got, OrderUpdated, "tl-rep-1")))
    [updated] = _of(records, OrderUpdated, "tl-rep-1")
    assert updated.quantity == Quantity.from_int(5)
    assert updated.price == Price.from_str("1.50")
    assert updated.venue_order_id != before.venue_order_id
    # Alpaca holds two orders: the old one replaced by the new one, which carries the rest
    [old] = _emulator_orders(alpaca.url, "tl-rep-1")
    [new] = _emulator_orders(alpaca.url, "tl-rep-1-r1")
    assert old["status"] == "replaced"
    assert new["id"] == updated.venue_order_id
    assert Decimal(new["qty"]) == 5
    assert Decimal(new["limit_price"]) == Decimal("1.50")
    # the old order's "replaced" did not end the order; queries see one order, as modified
    assert not _of(records, OrderCanceled, "tl-rep-1")
    [now_open] = [r for r in venue.open_orders(GOOG) if r.client_order_id == "tl-rep-1"]
    assert now_open.quantity == Quantity.from_int(5)
    assert now_open.price == Price.from_str("1.50")
    report = venue.query_order("tl-rep-1", GOOG)
    assert report is not None
    assert report.status is OrderStatus.ACCEPTED
    assert report.venue_order_id == updated.venue_order_id
    # a quantity Alpaca cannot take is refused; the order works on unchanged
    venue.modify_order(
        ModifyOrder(strategy_id="alpaca-test", instrument_id=GOOG, client_order_id="tl-rep-1",
                    quantity=Quantity.from_int(10_000_000), ts_init=3)
    )  # fmt: skip
    records = drain_until(inbox, lambda got: bool(_of(got, OrderModifyRejected, "tl-rep-1")))
    [refused] = _of(records, OrderModifyRejected, "tl-rep-1")
    assert "HTTP 403" in refused.reason
    assert "insufficient buying power" in refused.reason
    # and the replacement cancels as the order it is
    venue.cancel_order(
        CancelOrder(strategy_id="alpaca-test", instrument_id=GOOG, client_order_id="tl-rep-1",
                    ts_init=4)
    )  # fmt: skip
    records = drain_until(inbox, lambda got: bool(_of(got, OrderCanceled, "tl-rep-1")))
    [canceled] = _of(records, OrderCanceled, "tl-rep-1")
    assert canceled.venue_order_id == updated.venue_order_id
    assert _emulator_orders(alpaca.url, "tl-rep-1-r1")[0]["status"] == "canceled"

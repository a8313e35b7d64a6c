"""CcxtExecutionClient against the Binance emulator through ccxt and ccxt.pro: orders
accepted, filled with the venue's trade ids, canceled and rejected with the venue's code;
retries of transient failures; no duplicate order after a lost answer; no duplicate fill from
repeated stream messages; the reconciliation queries; a bad key fails connect in one line."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from tests.unit.testing.emulators.helpers import control
from tests.unit.venues.ccxt.helpers import BTCUSDT, collect, connection

from tradeloop.bus.inbox import Inbox
from tradeloop.core.errors import VenueRejectedError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradeloop.model.events import (
    AlertRaised,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderRejected,
)
from tradeloop.testing import EmulatorThread
from tradeloop.venues.ccxt import CcxtExecutionClient

pytestmark = pytest.mark.usefixtures("credentials")


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("tradeloop-exec-")}


def make_client(url: str, inbox: Inbox, **overrides: Any) -> Iterator[CcxtExecutionClient]:
    client = CcxtExecutionClient(connection(url, **overrides), "BINANCE", inbox, [BTCUSDT])
    try:
        yield client
    finally:
        client.disconnect()
        assert "tradeloop-exec-BINANCE" not in _threads()


@pytest.fixture
def execution(emulator: EmulatorThread, inbox: Inbox) -> Iterator[CcxtExecutionClient]:
    yield from make_client(emulator.url, inbox)


def submit(
    client_order_id: str,
    side: OrderSide,
    quantity: str,
    price: str | None = None,
    *,
    tif: TimeInForce = TimeInForce.GTC,
    post_only: bool = False,
) -> SubmitOrder:
    order = OrderInitialized(
        ts_event=0, ts_init=0, client_order_id=client_order_id, strategy_id="S-1",
        instrument_id=BTCUSDT.id, side=side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=Quantity.from_str(quantity, 6),
        price=None if price is None else Price.from_str(price, 2),
        time_in_force=tif, is_post_only=post_only,
    )  # fmt: skip
    return SubmitOrder(order=order, strategy_id="S-1", ts_init=0)


def cancel(client_order_id: str, reason: str = "") -> CancelOrder:
    return CancelOrder(
        strategy_id="S-1", ts_init=0, instrument_id=BTCUSDT.id,
        client_order_id=client_order_id, reason=reason,
    )  # fmt: skip


def of(items: list[Any], kind: type, client_order_id: str | None = None) -> list[Any]:
    return [
        i for i in items
        if isinstance(i, kind)
        and (client_order_id is None or getattr(i, "client_order_id", None) == client_order_id)
    ]  # fmt: skip


def venue_orders(url: str, client_order_id: str) -> list[dict[str, Any]]:
    return [o for o in control(url, "/_emulator/orders") if o["clientOrderId"] == client_order_id]


def test_market_and_limit_orders_are_accepted_filled_and_canceled(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox
) -> None:
    execution.connect()
    execution.submit_order(submit("mkt-1", OrderSide.BUY, "0.02"))
    execution.submit_order(submit("lmt-1", OrderSide.BUY, "0.01", "20000.00"))
    items = collect(
        inbox, lambda got: of(got, OrderFilled, "mkt-1") and of(got, OrderAccepted, "lmt-1")
    )
    [accepted] = of(items, OrderAccepted, "mkt-1")
    fills = of(items, OrderFilled, "mkt-1")
    [record] = venue_orders(emulator.url, "mkt-1")  # the client order id reached the venue
    assert accepted.venue_order_id == str(record["orderId"])
    assert items.index(accepted) < items.index(fills[0])
    assert sorted(f.trade_id for f in fills) == sorted(str(f["tradeId"]) for f in record["fills"])
    fill = fills[0]
    assert fill.venue_order_id == accepted.venue_order_id
    assert fill.order_side is OrderSide.BUY
    assert fill.liquidity_side is LiquiditySide.TAKER
    assert fill.commission.currency == "BTC"  # Binance charges a buy in the bought asset
    assert sum(f.commission.as_decimal() for f in fills) == sum(
        Decimal(f["commission"]) for f in record["fills"]
    )
    assert sum(f.last_qty.raw for f in fills) == 20_000
    assert venue_orders(emulator.url, "lmt-1")[0]["status"] == "NEW"
    execution.cancel_order(cancel("lmt-1", "strategy stopped"))
    items = collect(inbox, lambda got: of(got, OrderCanceled, "lmt-1"))
    [canceled] = of(items, OrderCanceled, "lmt-1")
    assert canceled.reason == "strategy stopped"
    assert venue_orders(emulator.url, "lmt-1")[0]["status"] == "CANCELED"
    more = collect(inbox, lambda got: False, timeout_s=1.0)  # the stream repeats: no new events
    assert of(more, OrderCanceled) == []
    assert of(more, OrderFilled) == []
    assert of(more, OrderAccepted) == []
    execution.cancel_order(cancel("lmt-1"))
    items = collect(inbox, lambda got: of(got, OrderCancelRejected, "lmt-1"))
    assert "already canceled" in of(items, OrderCancelRejected, "lmt-1")[0].reason


def test_rejects_carry_the_venue_code_and_are_never_retried(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox
) -> None:
    execution.connect()
    execution.submit_order(submit("big-1", OrderSide.BUY, "50"))  # 50 BTC: 100k USDT is not enough
    execution.submit_order(submit("bad id with spaces", OrderSide.BUY, "0.01"))
    execution.submit_order(submit("x" * 37, OrderSide.BUY, "0.01"))
    execution.submit_order(submit("day-1", OrderSide.BUY, "0.01", "20000.00", tif=TimeInForce.DAY))
    items = collect(inbox, lambda got: len(of(got, OrderRejected)) >= 4)
    reasons = {r.client_order_id: r.reason for r in of(items, OrderRejected)}
    assert (
        reasons["big-1"] == "binance -2010: Account has insufficient balance for requested action."
    )
    assert "breaks binance's rule for client ids" in reasons["bad id with spaces"]
    assert "breaks binance's rule" in reasons["x" * 37]
    assert "time in force DAY is not supported" in reasons["day-1"]
    assert len(venue_orders(emulator.url, "big-1")) == 1  # sent once, refused, not retried
    assert venue_orders(emulator.url, "bad id with spaces") == []  # never sent
    assert of(items, AlertRaised) == []


def test_rate_limits_and_server_errors_are_retried_with_alerts_then_succeed(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox
) -> None:
    execution.connect()
    control(emulator.url, "/_emulator/faults", {"rate_limit_probability": 1.0})
    execution.submit_order(submit("retry-1", OrderSide.BUY, "0.01"))
    items = collect(inbox, lambda got: len(of(got, AlertRaised)) >= 2)
    control(emulator.url, "/_emulator/faults", {"rate_limit_probability": 0.0,
                                                "server_error_probability": 1.0})  # fmt: skip
    items += collect(inbox, lambda got: any("-1008" in a.message for a in of(got, AlertRaised)))
    control(emulator.url, "/_emulator/faults", {"server_error_probability": 0.0})
    items += collect(inbox, lambda got: of(got, OrderFilled, "retry-1"))
    alerts = of(items, AlertRaised)
    assert any("-1003" in a.message and "retry 1 of 5" in a.message for a in alerts)
    assert any("-1008" in a.message and "asking the venue" in a.message for a in alerts)
    assert all(a.severity == "warning" for a in alerts)
    assert len(of(items, OrderAccepted, "retry-1")) == 1
    assert of(items, OrderRejected) == []
    assert [o["status"] for o in venue_orders(emulator.url, "retry-1")] == ["FILLED"]


def test_an_order_whose_answer_was_lost_is_looked_up_not_sent_twice(
    emulator: EmulatorThread, inbox: Inbox
) -> None:
    for execution in make_client(emulator.url, inbox, timeout_ms=1000):
        execution.connect()
        control(emulator.url, "/_emulator/faults", {"timeout_probability": 1.0})
        execution.submit_order(submit("lost-1", OrderSide.BUY, "0.01"))
        # the stream may tell of the order before the request times out: wait for both
        items = collect(
            inbox,
            lambda got: (
                of(got, OrderFilled, "lost-1")
                and any("lost-1" in a.message for a in of(got, AlertRaised))
            ),
            timeout_s=15.0,
        )
        items += collect(inbox, lambda got: False, timeout_s=1.0)  # the lookup's answer
        control(emulator.url, "/_emulator/faults", {"timeout_probability": 0.0})
        assert len(venue_orders(emulator.url, "lost-1")) == 1  # carried out once, never resent
        assert len(of(items, OrderAccepted, "lost-1")) == 1
        assert of(items, OrderFilled, "lost-1")
        [alert] = [a for a in of(items, AlertRaised) if "lost-1" in a.message]
        assert "asking the venue whether it has the order" in alert.message


def test_duplicated_stream_messages_do_not_duplicate_fills(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox
) -> None:
    # partial fills: the order fills quote by quote, so its later fills reach the client only
    # through the user-data stream, where every message is sent twice
    control(emulator.url, "/_emulator/faults",
            {"ws_duplicate_probability": 1.0, "partial_fills": True})  # fmt: skip
    execution.connect()
    execution.submit_order(submit("part-dup", OrderSide.BUY, "1"))

    def filled(got: list[Any]) -> bool:
        return sum(f.last_qty.raw for f in of(got, OrderFilled, "part-dup")) >= 1_000_000

    items = collect(inbox, filled, timeout_s=15.0)
    items += collect(inbox, lambda got: False, timeout_s=1.0)
    fills = of(items, OrderFilled, "part-dup")
    [record] = venue_orders(emulator.url, "part-dup")
    assert record["status"] == "FILLED"
    assert len(record["fills"]) >= 2
    assert [f.trade_id for f in fills] == [str(f["tradeId"]) for f in record["fills"]]
    assert sum(f.last_qty.raw for f in fills) == 1_000_000
    assert len(of(items, OrderAccepted, "part-dup")) == 1
    assert execution.book.duplicate_fills > 0


def test_queries_report_orders_fills_and_balances(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox
) -> None:
    execution.connect()
    before = inbox.now_ns()
    execution.submit_order(submit("q-mkt", OrderSide.BUY, "0.01"))
    execution.submit_order(submit("q-lmt", OrderSide.BUY, "0.01", "20000.00"))
    collect(inbox, lambda got: of(got, OrderFilled, "q-mkt") and of(got, OrderAccepted, "q-lmt"))
    report = execution.query_order("q-lmt", BTCUSDT.id)
    assert report is not None
    assert (report.client_order_id, report.status) == ("q-lmt", OrderStatus.ACCEPTED)
    assert report.price == Price.from_str("20000.00")
    assert execution.query_order("never-sent", BTCUSDT.id) is None
    [open_order] = execution.open_orders()
    assert open_order.client_order_id == "q-lmt"
    assert execution.open_orders(BTCUSDT.id) == [open_order]
    fills = execution.fills_since(before - 60_000_000_000)
    assert {f.client_order_id for f in fills} == {"q-mkt"}
    [record] = venue_orders(emulator.url, "q-mkt")
    assert [f.trade_id for f in fills] == [str(f["tradeId"]) for f in record["fills"]]
    balances = {b.currency: b for b in execution.balances()}
    assert balances["USDT"].locked.as_decimal() == 200  # 0.01 at 20000 rests
    assert balances["BTC"].total.as_decimal() > 1
    assert execution.positions() == []  # spot holdings are balances
    execution.modify_order(
        ModifyOrder(strategy_id="S-1", ts_init=0, instrument_id=BTCUSDT.id,
                    client_order_id="q-lmt", price=Price.from_str("20001.00"))
    )  # fmt: skip
    items = collect(inbox, lambda got: of(got, OrderModifyRejected, "q-lmt"))
    assert of(items, OrderModifyRejected, "q-lmt")[0].reason.startswith("binance")


def test_an_unknown_api_key_fails_connect_with_one_clear_line(
    emulator: EmulatorThread, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "not-the-emulator-secret-0123456789"
    monkeypatch.setenv("TL_TEST_BINANCE_KEY", "unknown-key-abcdef")
    monkeypatch.setenv("TL_TEST_BINANCE_SECRET", secret)
    client = CcxtExecutionClient(connection(emulator.url), "BINANCE", inbox, [BTCUSDT])
    with pytest.raises(VenueRejectedError) as error:
        client.connect()
    text = str(error.value)
    assert "\n" not in text
    assert text == (
        "BINANCE: binance refused the API key from environment variables "
        "TL_TEST_BINANCE_KEY/TL_TEST_BINANCE_SECRET (binance -2015: Invalid API-key, IP, or "
        "permissions for action.)"
    )
    assert "unknown-key-abcdef" not in text + repr(client.credentials)
    assert secret not in text + repr(client.credentials)
    assert "tradeloop-exec-BINANCE" not in _threads()


@pytest.mark.slow
def test_fills_missed_while_the_user_stream_is_down_are_found_by_lookup(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox
) -> None:
    control(emulator.url, "/_emulator/faults", {"partial_fills": True})
    execution.connect()
    # every user-data message now closes the socket instead of arriving
    control(emulator.url, "/_emulator/faults", {"ws_disconnect_probability": 1.0})
    execution.submit_order(submit("gap-1", OrderSide.BUY, "1"))

    def filled(got: list[Any]) -> bool:
        alerted = any("stream disconnected" in a.message for a in of(got, AlertRaised))
        return alerted and sum(f.last_qty.raw for f in of(got, OrderFilled, "gap-1")) >= 1_000_000

    items = collect(inbox, filled, timeout_s=20.0)
    control(emulator.url, "/_emulator/faults", {"ws_disconnect_probability": 0.0})
    [record] = venue_orders(emulator.url, "gap-1")
    fills = of(items, OrderFilled, "gap-1")
    assert record["status"] == "FILLED"
    assert len(record["fills"]) >= 2  # the later ones happened while the stream was down
    assert sorted(f.trade_id for f in fills) == sorted(str(f["tradeId"]) for f in record["fills"])
    assert filled(items)


def test_ioc_remainders_expire_and_post_only_orders_that_would_take_are_refused(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox
) -> None:
    execution.connect()
    execution.submit_order(submit("ioc-1", OrderSide.BUY, "0.01", "20000.00", tif=TimeInForce.IOC))
    execution.submit_order(submit("po-1", OrderSide.BUY, "0.01", "90000.00", post_only=True))
    execution.submit_order(submit("po-2", OrderSide.BUY, "0.01", "20000.00", post_only=True))
    items = collect(
        inbox,
        lambda got: (
            of(got, OrderCanceled, "ioc-1")
            and of(got, OrderRejected, "po-1")
            and of(got, OrderAccepted, "po-2")
        ),
    )
    [expired] = of(items, OrderCanceled, "ioc-1")
    assert "expired" in expired.reason
    assert of(items, OrderFilled, "ioc-1") == []
    assert venue_orders(emulator.url, "ioc-1")[0]["status"] == "EXPIRED"
    [refused] = of(items, OrderRejected, "po-1")
    assert refused.reason.startswith("binance -2010: ")
    assert venue_orders(emulator.url, "po-2")[0]["type"] == "LIMIT_MAKER"

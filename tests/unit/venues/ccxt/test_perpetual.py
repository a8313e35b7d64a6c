"""The ccxt adapter on Binance's USD-M perpetual (``market_type = "swap"``), against the
emulator's futures surface through the unmodified ccxt and ccxt.pro clients: the instrument
from the markets (also through ``tradeloop venue instruments``), orders sent with tradeloop's
client order id as Binance's ``newClientOrderId`` and filled on the futures user stream, a
short position, reduce-only orders (refused with the venue's code when they would open a
position, trimmed when larger than it), and the positions and balances reports of the
margin account."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.unit.testing.emulators.helpers import control
from tests.unit.venues.ccxt.helpers import collect, connection
from typer.testing import CliRunner

from tradeloop.bus.inbox import Inbox
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.commands import CancelOrder, SubmitOrder
from tradeloop.model.enums import InstrumentKind, OrderSide, OrderType, TimeInForce
from tradeloop.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from tradeloop.model.instruments import Instrument
from tradeloop.testing import EmulatorThread
from tradeloop.venues.ccxt import CcxtExecutionClient, fetch_instruments

pytestmark = pytest.mark.usefixtures("credentials")


@pytest.fixture
def perp(emulator: EmulatorThread) -> Instrument:
    [instrument] = fetch_instruments(connection(emulator.url, market_type="swap"), "BINANCE")
    return instrument


@pytest.fixture
def execution(
    emulator: EmulatorThread, inbox: Inbox, perp: Instrument
) -> Iterator[CcxtExecutionClient]:
    client = CcxtExecutionClient(
        connection(emulator.url, market_type="swap"), "BINANCE", inbox, [perp]
    )
    try:
        yield client
    finally:
        client.disconnect()


def submit(
    perp: Instrument,
    client_order_id: str,
    side: OrderSide,
    quantity: str,
    price: str | None = None,
    *,
    reduce_only: bool = False,
) -> SubmitOrder:
    order = OrderInitialized(
        ts_event=0, ts_init=0, client_order_id=client_order_id, strategy_id="S-1",
        instrument_id=perp.id, side=side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=Quantity.from_str(quantity, perp.size_precision),
        price=None if price is None else Price.from_str(price, perp.price_precision),
        time_in_force=TimeInForce.GTC, is_reduce_only=reduce_only,
    )  # fmt: skip
    return SubmitOrder(order=order, strategy_id="S-1", ts_init=0)


def of(items: list[Any], kind: type, client_order_id: str) -> list[Any]:
    return [i for i in items if isinstance(i, kind) and i.client_order_id == client_order_id]


def usdm_orders(url: str, client_order_id: str) -> list[dict[str, Any]]:
    return [
        o
        for o in control(url, "/_emulator/orders?market=usdm")
        if o["clientOrderId"] == client_order_id
    ]


def test_the_perpetual_instrument_comes_from_the_futures_markets(perp: Instrument) -> None:
    assert perp.id == "BTCUSDT.BINANCE"
    assert perp.kind is InstrumentKind.CRYPTO_PERPETUAL
    assert (perp.base_currency, perp.quote_currency) == ("BTC", "USDT")
    assert perp.tick_size.as_decimal() == Decimal("0.1")  # PRICE_FILTER tickSize 0.10
    assert perp.lot_size.as_decimal() == Decimal("0.001")  # LOT_SIZE stepSize 0.001
    assert perp.min_quantity_raw == 1  # minQty 0.001 at three decimals
    assert perp.max_quantity_raw == 1_000_000  # maxQty 1000


def test_venue_instruments_prints_the_perpetual_of_the_shipped_example(
    emulator: EmulatorThread, tmp_path: Path
) -> None:
    from tradeloop.cli.main import app

    example = Path(__file__).resolve().parents[4] / "examples" / "live" / "binance_perp_live.toml"
    config = tmp_path / "binance_perp_live.toml"
    config.write_text(example.read_text().replace("http://127.0.0.1:8765", emulator.url))
    result = CliRunner().invoke(app, ["venue", "instruments", str(config)])
    assert result.exit_code == 0, result.output
    assert 'kind = "crypto_perpetual"' in result.output
    assert 'tick_size = "0.1"' in result.output
    assert 'lot_size = "0.001"' in result.output


def test_a_short_is_opened_reported_and_closed_reduce_only(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox, perp: Instrument
) -> None:
    execution.connect()
    execution.submit_order(submit(perp, "short-1", OrderSide.SELL, "0.010"))
    items = collect(inbox, lambda got: of(got, OrderFilled, "short-1"))
    [accepted] = of(items, OrderAccepted, "short-1")
    fills = of(items, OrderFilled, "short-1")
    [record] = usdm_orders(emulator.url, "short-1")  # tradeloop's id is the venue's client id
    assert accepted.venue_order_id == str(record["orderId"])
    assert [f.trade_id for f in fills] == [str(f["tradeId"]) for f in record["fills"]]
    assert sum(f.last_qty.as_decimal() for f in fills) == Decimal("0.010")
    assert all(f.commission.currency == "USDT" for f in fills)  # USD-M fees are in USDT
    assert fills[0].last_px.as_decimal() % Decimal("0.1") == 0  # the perpetual's grid
    [position] = execution.positions()
    assert position.instrument_id == perp.id
    assert position.is_short
    assert position.signed_qty.as_decimal() == Decimal("0.010")
    entry = sum(f.last_px.as_decimal() * f.last_qty.as_decimal() for f in fills) / Decimal("0.010")
    assert position.avg_px is not None
    assert abs(position.avg_px.as_decimal() - entry) <= Decimal("0.1")
    [usdt] = execution.balances()
    assert usdt.currency == "USDT"
    assert usdt.locked.as_decimal() > 0  # the position's initial margin
    assert usdt.total.as_decimal() < 100_000  # the commission was paid
    # a reduce-only sell would add to the short: the venue refuses it with its code
    execution.submit_order(submit(perp, "ro-bad", OrderSide.SELL, "0.010", reduce_only=True))
    items = collect(inbox, lambda got: of(got, OrderRejected, "ro-bad"))
    [rejected] = of(items, OrderRejected, "ro-bad")
    assert "-2022" in rejected.reason
    assert usdm_orders(emulator.url, "ro-bad")[0]["status"] == "REJECTED"
    # a reduce-only buy larger than the short is trimmed to it: flat, not long
    execution.submit_order(submit(perp, "ro-buy", OrderSide.BUY, "0.020", reduce_only=True))
    items = collect(inbox, lambda got: of(got, OrderFilled, "ro-buy"))
    [record] = usdm_orders(emulator.url, "ro-buy")
    assert record["reduceOnly"] is True
    assert Decimal(record["executedQty"]) == Decimal("0.010")
    assert execution.positions() == []


def test_a_resting_perp_order_is_accepted_queried_and_canceled(
    execution: CcxtExecutionClient, emulator: EmulatorThread, inbox: Inbox, perp: Instrument
) -> None:
    execution.connect()
    book = control(emulator.url, "/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    below = (Decimal(book["bids"][0][0]) * Decimal("0.97")).quantize(Decimal("0.1"))
    execution.submit_order(submit(perp, "rest-1", OrderSide.BUY, "0.010", str(below)))
    got = collect(inbox, lambda got: of(got, OrderAccepted, "rest-1"))
    assert of(got, OrderAccepted, "rest-1"), got
    [working] = execution.open_orders(perp.id)
    assert (working.client_order_id, working.price) == ("rest-1", Price.from_decimal(below, 1))
    [usdt] = execution.balances()
    assert usdt.locked.as_decimal() == (below * Decimal("0.010") / 20).quantize(
        Decimal("0.00000001")
    )  # the open order's initial margin at the default leverage 20
    execution.cancel_order(
        CancelOrder(strategy_id="S-1", ts_init=0, instrument_id=perp.id,
                    client_order_id="rest-1", reason="done")
    )  # fmt: skip
    items = collect(inbox, lambda got: of(got, OrderCanceled, "rest-1"))
    assert of(items, OrderCanceled, "rest-1")
    assert usdm_orders(emulator.url, "rest-1")[0]["status"] == "CANCELED"
    assert execution.open_orders(perp.id) == []

"""Unmodified alpaca-py clients against the Alpaca emulator: TradingClient, the market-data
REST client, TradingStream and StockDataStream (msgpack), and Alpaca's error answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.live import StockDataStream
from alpaca.data.requests import StockBarsRequest, StockLatestBarRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest, MarketOrderRequest
from alpaca.trading.stream import TradingStream
from tests.unit.testing.emulators.helpers import control, run

from tradeloop.testing import (
    DEFAULT_ALPACA_KEY_ID,
    DEFAULT_ALPACA_SECRET,
    AlpacaEmulatorConfig,
    EmulatorThread,
    start_alpaca_emulator,
)

KEY, SECRET = DEFAULT_ALPACA_KEY_ID, DEFAULT_ALPACA_SECRET
FIXTURES = Path(__file__).parents[3] / "data" / "venue_fixtures" / "ccxt"


@pytest.fixture(scope="module")
def alpaca() -> Iterator[EmulatorThread]:
    # speed 60: one replayed bar a second, so streams have something to say within a test
    with start_alpaca_emulator(AlpacaEmulatorConfig(speed=60.0)) as running:
        yield running


def _trading(url: str, secret: str = SECRET) -> TradingClient:
    client = TradingClient(KEY, secret, url_override=url)
    client._retry = 0  # alpaca-py retries 429s three times, 3 s apart; answer at once
    return client


def test_account_assets_clock_and_positions(alpaca: EmulatorThread) -> None:
    client = _trading(alpaca.url)
    account = client.get_account()
    assert account.status.value == "ACTIVE"
    assert Decimal(str(account.cash)) == Decimal(100000)
    assets = client.get_all_assets()
    assert sorted(a.symbol for a in assets) == ["GOOG", "SPY"]
    assert client.get_asset("SPY").exchange.value == "ARCA"
    clock = client.get_clock()
    assert clock.is_open
    assert clock.next_close > clock.timestamp


def test_market_and_limit_orders_by_client_order_id(alpaca: EmulatorThread) -> None:
    client = _trading(alpaca.url)
    bought = client.submit_order(
        MarketOrderRequest(symbol="SPY", qty=10, side=OrderSide.BUY,
                           time_in_force=TimeInForce.DAY, client_order_id="alp-mkt-1")
    )  # fmt: skip
    assert bought.status is OrderStatus.FILLED
    assert bought.client_order_id == "alp-mkt-1"
    assert float(bought.filled_qty or 0) == 10
    resting = client.submit_order(
        LimitOrderRequest(symbol="GOOG", qty=2, side=OrderSide.BUY, limit_price=1.0,
                          time_in_force=TimeInForce.GTC, client_order_id="alp-lmt-1")
    )  # fmt: skip
    assert resting.status is OrderStatus.NEW
    assert client.get_order_by_client_id("alp-lmt-1").id == resting.id
    assert client.get_order_by_id(resting.id).limit_price == "1"
    all_orders = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert {"alp-mkt-1", "alp-lmt-1"} <= {o.client_order_id for o in all_orders}
    client.cancel_order_by_id(resting.id)
    assert client.get_order_by_id(resting.id).status is OrderStatus.CANCELED
    [position] = [p for p in client.get_all_positions() if p.symbol == "SPY"]
    assert position.qty == "10"
    assert Decimal(position.cost_basis) == Decimal(str(bought.filled_avg_price)) * 10
    orders = {o["client_order_id"]: o for o in control(alpaca.url, "/_emulator/orders")}
    assert orders["alp-mkt-1"]["status"] == "filled"
    assert len(orders["alp-mkt-1"]["fills"]) == 1
    assert orders["alp-lmt-1"]["status"] == "canceled"


def test_close_position_sells_the_whole_position(alpaca: EmulatorThread) -> None:
    client = _trading(alpaca.url)
    client.submit_order(
        MarketOrderRequest(symbol="GOOG", qty=4, side=OrderSide.BUY,
                           time_in_force=TimeInForce.DAY, client_order_id="alp-close-1")
    )  # fmt: skip
    assert client.get_open_position("GOOG").qty == "4"
    closing = client.close_position("GOOG")
    assert closing.side is OrderSide.SELL
    assert closing.qty == "4"
    assert closing.status is OrderStatus.FILLED
    assert "GOOG" not in {p.symbol for p in client.get_all_positions()}
    with pytest.raises(APIError) as missing:
        client.get_open_position("GOOG")
    assert missing.value.status_code == 404


def test_errors_are_alpacas_codes(alpaca: EmulatorThread) -> None:
    with pytest.raises(APIError) as unauthorized:
        _trading(alpaca.url, secret="wrong").get_account()
    assert unauthorized.value.status_code == 401
    assert json.loads(str(unauthorized.value))["code"] == 40110000
    client = _trading(alpaca.url)
    with pytest.raises(APIError) as poor:
        client.submit_order(
            MarketOrderRequest(symbol="SPY", qty=100000, side=OrderSide.BUY,
                               time_in_force=TimeInForce.DAY, client_order_id="alp-big")
        )  # fmt: skip
    assert poor.value.status_code == 403
    assert json.loads(str(poor.value))["message"] == "insufficient buying power"
    with pytest.raises(APIError) as missing:
        client.get_order_by_client_id("never-sent")
    assert missing.value.status_code == 404
    with pytest.raises(APIError) as bad_qty:
        client.submit_order(
            MarketOrderRequest(symbol="SPY", qty=1.5, side=OrderSide.BUY,
                               time_in_force=TimeInForce.DAY)
        )  # fmt: skip
    assert bad_qty.value.status_code == 422
    [refused] = control(alpaca.url, "/_emulator/orders?client_order_id=alp-big")
    assert refused["status"] == "rejected"
    assert refused["error"] == {"code": 40310000, "message": "insufficient buying power"}


def test_rate_limit_headers_and_429() -> None:
    with start_alpaca_emulator(AlpacaEmulatorConfig(requests_per_minute=3)) as emulator:

        async def hammer() -> list[tuple[int, dict[str, str]]]:
            headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
            answers = []
            async with aiohttp.ClientSession(headers=headers) as session:
                for _ in range(4):
                    async with session.get(f"{emulator.url}/v2/clock") as response:
                        headers_seen = {k.lower(): v for k, v in response.headers.items()}
                        answers.append((response.status, headers_seen))
            return answers

        answers = run(hammer())
        with pytest.raises(APIError) as limited:
            _trading(emulator.url).get_clock()
    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert [h["x-ratelimit-remaining"] for _, h in answers[:3]] == ["2", "1", "0"]
    assert limited.value.status_code == 429


def test_historical_bars_are_the_replayed_recording(alpaca: EmulatorThread) -> None:
    client = StockHistoricalDataClient(KEY, SECRET, url_override=alpaca.url)
    bars = client.get_stock_bars(
        StockBarsRequest(symbol_or_symbols=["SPY", "GOOG"], timeframe=TimeFrame.Minute, limit=5)
    )
    spy = bars["SPY"]
    assert len(spy) == 5
    assert len(bars["GOOG"]) == 5
    assert all(b.high >= max(b.open, b.close) and b.low <= min(b.open, b.close) for b in spy)
    stamps = [b.timestamp for b in spy]
    assert stamps == sorted(stamps)
    latest = client.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols="SPY"))
    assert latest["SPY"].close == spy[-1].close


@pytest.mark.slow
def test_trading_stream_delivers_trade_updates(alpaca: EmulatorThread) -> None:
    ws = alpaca.url.replace("http", "ws")

    async def body() -> list[Any]:
        updates: list[Any] = []
        stream = TradingStream(KEY, SECRET, url_override=f"{ws}/stream")

        async def on_update(update: Any) -> None:
            updates.append(update)

        stream.subscribe_trade_updates(on_update)
        task = asyncio.ensure_future(stream._run_forever())
        await asyncio.sleep(1.0)
        await asyncio.to_thread(
            _trading(alpaca.url).submit_order,
            MarketOrderRequest(symbol="SPY", qty=1, side=OrderSide.BUY,
                               time_in_force=TimeInForce.DAY, client_order_id="alp-ws-1"),
        )  # fmt: skip
        for _ in range(100):
            if len(updates) >= 2:
                break
            await asyncio.sleep(0.1)
        task.cancel()  # stop_ws() would wait out alpaca-py's 5 s receive timeout
        await stream.close()
        return updates

    updates = run(body())
    assert [(str(u.event), u.order.client_order_id) for u in updates[:2]] == [
        ("new", "alp-ws-1"),
        ("fill", "alp-ws-1"),
    ]
    assert updates[1].qty == 1.0
    assert updates[1].position_qty is not None


@pytest.mark.slow
def test_stock_data_stream_delivers_bars_in_msgpack(alpaca: EmulatorThread) -> None:
    ws = alpaca.url.replace("http", "ws")

    async def body() -> list[Any]:
        bars: list[Any] = []
        stream = StockDataStream(KEY, SECRET, url_override=f"{ws}/v2/iex")

        async def on_bar(bar: Any) -> None:
            bars.append(bar)

        stream.subscribe_bars(on_bar, "SPY")
        task = asyncio.ensure_future(stream._run_forever())
        for _ in range(100):
            if len(bars) >= 2:
                break
            await asyncio.sleep(0.1)
        task.cancel()
        await stream.close()
        return bars

    bars = run(body())
    assert len(bars) >= 2
    assert all(b.symbol == "SPY" and b.high >= b.low for b in bars)
    assert bars[1].timestamp > bars[0].timestamp


def test_clock_and_bar_shapes_match_alpacas_recorded_answers(alpaca: EmulatorThread) -> None:
    # ccxt's recorded Alpaca answers (tests/data/venue_fixtures): /v2/clock, and the bar
    # records of the crypto bars endpoint, which share the stock bars' fields
    recorded = json.loads((FIXTURES / "response" / "alpaca.json").read_text())["methods"]
    clock = recorded["fetchTime"][0]["httpResponse"]
    bar = next(iter(recorded["fetchOHLCV"][0]["httpResponse"]["bars"].values()))[0]

    async def body() -> tuple[Any, Any]:
        headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.get(f"{alpaca.url}/v2/clock") as response:
                mine_clock = await response.json()
            async with session.get(
                f"{alpaca.url}/v2/stocks/bars", params={"symbols": "SPY", "timeframe": "1Min"}
            ) as response:
                mine_bars = await response.json()
        return mine_clock, mine_bars

    mine_clock, mine_bars = run(body())
    assert set(mine_clock) == set(clock)
    assert set(mine_bars) == {"bars", "next_page_token"}
    assert set(mine_bars["bars"]["SPY"][0]) == set(bar)
    for key, value in bar.items():
        assert isinstance(mine_bars["bars"]["SPY"][0][key], int | float) == isinstance(
            value, int | float
        ), key


def test_reject_and_server_error_faults_reach_alpaca_py() -> None:
    with start_alpaca_emulator(AlpacaEmulatorConfig()) as emulator:
        client = _trading(emulator.url)
        control(emulator.url, "/_emulator/faults", {"reject_probability": 1.0})
        with pytest.raises(APIError) as rejected:
            client.submit_order(
                MarketOrderRequest(symbol="SPY", qty=1, side=OrderSide.BUY,
                                   time_in_force=TimeInForce.DAY, client_order_id="alp-rej")
            )  # fmt: skip
        [record] = control(emulator.url, "/_emulator/orders?client_order_id=alp-rej")
        control(emulator.url, "/_emulator/faults",
                {"reject_probability": 0.0, "server_error_probability": 1.0})  # fmt: skip
        with pytest.raises(APIError) as failed:
            client.get_account()
    assert rejected.value.status_code == 403
    assert record["status"] == "rejected"
    assert failed.value.status_code == 500

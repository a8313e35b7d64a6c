"""The Alpaca emulator's trades and quotes with each bar, its fill activities, and the
data-injection and disconnect controls, through unmodified alpaca-py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from alpaca.data.live import StockDataStream
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest
from tests.unit.testing.emulators.helpers import control, run

from tradeloop.testing import (
    DEFAULT_ALPACA_KEY_ID,
    DEFAULT_ALPACA_SECRET,
    AlpacaEmulatorConfig,
    EmulatorThread,
    start_alpaca_emulator,
)

KEY, SECRET = DEFAULT_ALPACA_KEY_ID, DEFAULT_ALPACA_SECRET


@pytest.fixture(scope="module")
def alpaca() -> Iterator[EmulatorThread]:
    with start_alpaca_emulator(AlpacaEmulatorConfig(speed=60.0)) as running:
        yield running


def test_fill_activities_list_every_fill_with_its_cumulative_quantity(
    alpaca: EmulatorThread,
) -> None:
    client = TradingClient(KEY, SECRET, url_override=alpaca.url)
    order = client.submit_order(
        MarketOrderRequest(symbol="SPY", qty=4, side=OrderSide.BUY,
                           time_in_force=TimeInForce.DAY, client_order_id="act-1")
    )  # fmt: skip
    activities: Any = client.get("/account/activities/FILL", {"direction": "asc"})
    [fill] = [a for a in activities if a["order_id"] == str(order.id)]
    assert fill["activity_type"] == "FILL"
    assert fill["type"] == "fill"
    assert fill["cum_qty"] == "4"
    assert fill["leaves_qty"] == "0"
    assert Decimal(fill["price"]) == Decimal(str(order.filled_avg_price))
    assert client.get("/account/activities/FILL", {"after": fill["transaction_time"]}) == []


@pytest.mark.slow
def test_quotes_and_trades_come_with_each_bar_and_injected_messages_pass(
    alpaca: EmulatorThread,
) -> None:
    ws = alpaca.url.replace("http", "ws")

    async def body() -> list[Any]:
        got: list[Any] = []
        stream = StockDataStream(KEY, SECRET, raw_data=True, url_override=f"{ws}/v2/iex")

        async def on_message(message: Any) -> None:
            got.append(message)

        stream.subscribe_quotes(on_message, "SPY")
        stream.subscribe_trades(on_message, "SPY")
        task = asyncio.ensure_future(stream._run_forever())
        for _ in range(100):
            if {"q", "t"} <= {m["T"] for m in got}:
                break
            await asyncio.sleep(0.1)
        sent = await asyncio.to_thread(
            control, alpaca.url, "/_emulator/data", [{"T": "t", "S": "SPY", "p": 1.5}]
        )
        for _ in range(50):
            if any(m.get("p") == 1.5 for m in got):
                break
            await asyncio.sleep(0.1)
        task.cancel()
        await stream.close()
        assert sent["sessions"] == 1
        return got

    got = run(body())
    quote = next(m for m in got if m["T"] == "q")
    trade = next(m for m in got if m["T"] == "t" and "i" in m)
    assert quote["bp"] < quote["ap"]
    assert trade["p"] == quote["bp"]
    assert any(m.get("p") == 1.5 for m in got)


def test_disconnect_closes_every_stream_connection(alpaca: EmulatorThread) -> None:
    ws = alpaca.url.replace("http", "ws")

    async def body() -> tuple[Any, bool]:
        import websockets

        async with websockets.connect(f"{ws}/v2/iex") as socket:
            await socket.recv()  # connected
            answer = await asyncio.to_thread(control, alpaca.url, "/_emulator/disconnect", {})
            try:
                await asyncio.wait_for(socket.recv(), 5)
                closed = False
            except websockets.ConnectionClosed:
                closed = True
        return answer, closed

    answer, closed = run(body())
    assert answer["closed"] >= 1
    assert closed

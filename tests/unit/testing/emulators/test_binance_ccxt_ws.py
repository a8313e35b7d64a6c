"""An unmodified ccxt.pro client against the Binance emulator's streams: the order book
synchronised from the REST snapshot and the diff stream, trades, klines, and the user data
stream (orders and fills) of orders placed over REST."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from tests.unit.testing.emulators.helpers import client, run

from tradeloop.testing import BinanceEmulatorConfig, EmulatorThread, start_binance_emulator

pytestmark = pytest.mark.slow  # each test watches a few seconds of the replay


def test_watch_order_book_syncs_and_follows_the_diff_stream(emulator: EmulatorThread) -> None:
    async def body() -> Any:
        exchange = client(emulator.url, pro=True)
        try:
            nonces, tops = [], []
            for _ in range(5):
                book = await exchange.watch_order_book("BTC/USDT")
                nonces.append(book["nonce"])
                tops.append(
                    (book["bids"][0], book["asks"][0], len(book["bids"]), len(book["asks"]))
                )
            snapshot = await exchange.fetch_order_book("BTC/USDT")
            book = await exchange.watch_order_book("BTC/USDT")
            return nonces, tops, snapshot, book
        finally:
            await exchange.close()

    nonces, tops, snapshot, book = run(body())
    assert nonces == sorted(nonces)
    assert len(set(nonces)) == len(nonces)
    for bid, ask, bid_levels, ask_levels in tops:
        assert bid[0] < ask[0]
        assert (bid_levels, ask_levels) == (1, 1)  # stale levels were removed by qty 0 diffs
    assert book["nonce"] >= snapshot["nonce"]


def test_watch_trades_and_ohlcv_follow_the_replay(emulator: EmulatorThread) -> None:
    async def body() -> Any:
        exchange = client(emulator.url, pro=True)
        try:
            seen: list[Any] = []
            while len(seen) < 5:
                seen.extend(await exchange.watch_trades("BTC/USDT"))
            bars = await exchange.watch_ohlcv("BTC/USDT", "1m")
            return seen, bars
        finally:
            await exchange.close()

    trades, bars = run(body())
    ids = [int(t["id"]) for t in trades]
    assert ids == sorted(ids)
    assert all(t["symbol"] == "BTC/USDT" and t["amount"] > 0 for t in trades)
    assert bars[-1][0] % 60_000 == 0
    assert bars[-1][2] >= bars[-1][3]


def test_watch_orders_and_my_trades_see_an_order_placed_over_rest(
    emulator: EmulatorThread,
) -> None:
    async def body() -> Any:
        exchange = client(emulator.url, pro=True)
        try:
            await exchange.load_markets()
            orders_task = asyncio.ensure_future(exchange.watch_orders("BTC/USDT"))
            trades_task = asyncio.ensure_future(exchange.watch_my_trades("BTC/USDT"))
            await asyncio.sleep(0.5)  # the user data subscription is acknowledged
            placed = await exchange.create_order(
                "BTC/USDT", "market", "sell", 0.02, params={"clientOrderId": "ws-sell-1"}
            )
            orders = await asyncio.wait_for(orders_task, 10)
            fills = await asyncio.wait_for(trades_task, 10)
            return placed, orders, fills
        finally:
            await exchange.close()

    placed, orders, fills = run(body())
    assert orders[-1]["clientOrderId"] == "ws-sell-1"
    assert orders[-1]["id"] == placed["id"]
    assert orders[-1]["status"] in ("open", "closed")
    assert fills[0]["order"] == placed["id"]
    assert fills[0]["side"] == "sell"
    assert fills[0]["fee"]["currency"] == "USDT"


def test_combined_streams_wrap_messages_with_their_stream_name(emulator: EmulatorThread) -> None:
    ws_url = emulator.url.replace("http", "ws")

    async def body() -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(
                f"{ws_url}/stream?streams=btcusdt@trade/btcusdt@bookTicker"
            ) as socket,
        ):
            names: set[str] = set()
            while len(names) < 2:
                message = json.loads((await socket.receive(timeout=10)).data)
                names.add(message["stream"])
                assert set(message) == {"stream", "data"}
            await socket.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 7})
            while True:
                reply = json.loads((await socket.receive(timeout=10)).data)
                if reply.get("id") == 7:
                    return names, reply

    names, reply = run(body())
    assert names == {"btcusdt@trade", "btcusdt@bookTicker"}
    assert reply == {"result": ["btcusdt@bookTicker", "btcusdt@trade"], "id": 7}


def test_watch_ticker_and_watch_balance(emulator: EmulatorThread) -> None:
    async def body() -> Any:
        exchange = client(emulator.url, pro=True)
        try:
            await exchange.load_markets()
            ticker = await exchange.watch_ticker("BTC/USDT")
            balance_task = asyncio.ensure_future(exchange.watch_balance())
            await asyncio.sleep(0.5)
            await exchange.create_order("BTC/USDT", "market", "buy", 0.001)
            balance = await asyncio.wait_for(balance_task, 10)
            rest_balance = await exchange.fetch_balance()
            return ticker, balance, rest_balance
        finally:
            await exchange.close()

    ticker, balance, rest_balance = run(body())
    assert ticker["symbol"] == "BTC/USDT"
    assert 39_000 < ticker["last"] < 40_000
    assert ticker["high"] >= ticker["low"] > 0
    assert balance["BTC"]["free"] == pytest.approx(rest_balance["BTC"]["free"])
    assert balance["USDT"]["free"] == pytest.approx(rest_balance["USDT"]["free"])


def test_a_listen_key_stream_carries_the_user_data(emulator: EmulatorThread) -> None:
    ws_url = emulator.url.replace("http", "ws")

    async def body() -> Any:
        exchange = client(emulator.url)
        try:
            await exchange.load_markets()
            listen_key = (await exchange.publicPostUserDataStream())["listenKey"]
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{ws_url}/ws/{listen_key}") as socket,
            ):
                await exchange.create_order(
                    "BTC/USDT", "market", "buy", 0.001, params={"clientOrderId": "lk-1"}
                )
                events = []
                while len(events) < 3:
                    events.append(json.loads((await socket.receive(timeout=10)).data))
                await socket.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})
                return events
        finally:
            await exchange.close()

    events = run(body())
    reports = [e for e in events if e["e"] == "executionReport"]
    assert [(r["c"], r["x"]) for r in reports][:2] == [("lk-1", "NEW"), ("lk-1", "TRADE")]
    assert any(e["e"] == "outboundAccountPosition" for e in events)


def test_the_replay_loops_without_breaking_the_streams() -> None:
    # speed 20: the 47 s recording restarts every 2.4 s; the book's update ids and the trade
    # ids run on across the restart, so ccxt.pro keeps its book without a resync error
    with start_binance_emulator(BinanceEmulatorConfig(speed=20.0)) as fast:

        async def body() -> Any:
            exchange = client(fast.url, pro=True)
            try:
                nonces: list[int] = []
                trade_ids: list[int] = []
                deadline = asyncio.get_running_loop().time() + 6.0
                while asyncio.get_running_loop().time() < deadline:
                    book = await exchange.watch_order_book("BTC/USDT")
                    nonces.append(book["nonce"])
                    trades = await exchange.watch_trades("BTC/USDT")
                    trade_ids.extend(int(t["id"]) for t in trades)
                return nonces, trade_ids, book
            finally:
                await exchange.close()

        nonces, trade_ids, book = run(body())
    loop_quotes = 451
    assert nonces[-1] - nonces[0] > loop_quotes  # more than one pass over the recording
    assert nonces == sorted(nonces)
    assert (len(book["bids"]), len(book["asks"])) == (1, 1)
    assert sorted(set(trade_ids)) == sorted(trade_ids)  # no id seen twice

"""An unmodified ccxt async client against the Binance emulator: market data, account,
orders, and Binance's errors as ccxt types them."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest
from tests.unit.testing.emulators.helpers import client, control, run

from tradeloop.testing import EmulatorThread


async def _with_client(url: str, body: Any, **config: Any) -> Any:
    exchange = client(url, **config)
    try:
        await exchange.load_markets()
        return await body(exchange)
    finally:
        await exchange.close()


def test_load_markets_lists_btcusdt_with_the_symbol_filters(emulator: EmulatorThread) -> None:
    async def body(exchange: Any) -> Any:
        return exchange.markets

    markets = run(_with_client(emulator.url, body))
    assert list(markets) == ["BTC/USDT"]
    market = markets["BTC/USDT"]
    assert market["id"] == "BTCUSDT"
    assert market["precision"]["price"] == 0.01
    assert market["precision"]["amount"] == 0.000001
    assert market["limits"]["cost"]["min"] == 5.0


def test_order_book_trades_ohlcv_and_ticker_come_from_the_replayed_market(
    emulator: EmulatorThread,
) -> None:
    async def body(exchange: Any) -> Any:
        return (
            await exchange.fetch_order_book("BTC/USDT"),
            await exchange.fetch_trades("BTC/USDT", limit=50),
            await exchange.fetch_ohlcv("BTC/USDT", "1m", limit=5),
            await exchange.fetch_ticker("BTC/USDT"),
            await exchange.fetch_time(),
        )

    book, trades, bars, ticker, server_ms = run(_with_client(emulator.url, body))
    assert book["bids"][0][0] < book["asks"][0][0]
    assert book["nonce"] > 0
    assert len(trades) == 50
    ids = [int(t["id"]) for t in trades]
    assert ids == list(range(ids[0], ids[0] + 50))  # consecutive prints of the recording
    assert all(39_000 < t["price"] < 40_000 for t in trades)  # BTCUSDT on 2021-01-08
    assert len(bars) == 5
    assert all(b[2] >= max(b[1], b[4]) and b[3] <= min(b[1], b[4]) for b in bars)
    assert [b[0] % 60_000 for b in bars] == [0] * 5
    assert ticker["bid"] == book["bids"][0][0] or ticker["bid"] > 0
    assert abs(server_ms - time.time() * 1000) < 5_000


def test_market_and_limit_orders_fill_cancel_and_show_in_the_account(
    emulator: EmulatorThread,
) -> None:
    async def body(exchange: Any) -> Any:
        before = await exchange.fetch_balance()
        market = await exchange.create_order(
            "BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "rest-mkt-1"}
        )
        after_buy = await exchange.fetch_balance()
        book = await exchange.fetch_order_book("BTC/USDT")
        far = round(book["bids"][0][0] * 0.8, 2)
        limit = await exchange.create_order(
            "BTC/USDT", "limit", "buy", 0.01, far, params={"clientOrderId": "rest-lmt-1"}
        )
        fetched = await exchange.fetch_order(limit["id"], "BTC/USDT")
        open_orders = await exchange.fetch_open_orders("BTC/USDT")
        locked = await exchange.fetch_balance()
        canceled = await exchange.cancel_order(limit["id"], "BTC/USDT")
        trades = await exchange.fetch_my_trades("BTC/USDT")
        return before, market, after_buy, limit, fetched, open_orders, locked, canceled, trades

    before, market, after, limit, fetched, open_orders, locked, canceled, trades = run(
        _with_client(emulator.url, body)
    )
    assert market["status"] == "closed"
    assert market["clientOrderId"] == "rest-mkt-1"
    assert market["filled"] == 0.01
    cost = market["cost"]
    assert after["USDT"]["total"] == pytest.approx(before["USDT"]["total"] - cost)
    assert after["BTC"]["total"] == pytest.approx(before["BTC"]["total"] + 0.01 * 0.999)
    assert market["fee"] == {"currency": "BTC", "cost": pytest.approx(0.00001)}
    assert limit["status"] == "open"
    assert limit["clientOrderId"] == "rest-lmt-1"
    assert fetched["status"] == "open"
    assert fetched["price"] == limit["price"]
    assert [o["id"] for o in open_orders] == [limit["id"]]
    assert locked["USDT"]["used"] == pytest.approx(limit["price"] * 0.01)
    assert canceled["status"] == "canceled"
    mine = [t for t in trades if t["order"] == market["id"]]
    assert sum(t["amount"] for t in mine) == pytest.approx(0.01)
    assert all(t["takerOrMaker"] == "taker" for t in mine)
    orders = {o["clientOrderId"]: o for o in control(emulator.url, "/_emulator/orders")}
    assert orders["rest-mkt-1"]["status"] == "FILLED"
    assert len(orders["rest-mkt-1"]["fills"]) == len(mine)
    assert orders["rest-lmt-1"]["status"] == "CANCELED"
    assert orders["rest-lmt-1"]["fills"] == []


def test_a_wrong_secret_is_an_authentication_error(emulator: EmulatorThread) -> None:
    async def body() -> None:
        exchange = client(emulator.url, secret="not-the-secret")
        try:
            await exchange.fetch_balance()
        finally:
            await exchange.close()

    with pytest.raises(ccxt.AuthenticationError, match="Signature for this request is not valid"):
        run(body())


def test_an_order_beyond_the_balance_is_insufficient_funds(emulator: EmulatorThread) -> None:
    async def body(exchange: Any) -> Any:
        return await exchange.create_order(
            "BTC/USDT", "market", "buy", 100, params={"clientOrderId": "rest-too-big"}
        )

    with pytest.raises(ccxt.InsufficientFunds):
        run(_with_client(emulator.url, body))
    orders = {o["clientOrderId"]: o for o in control(emulator.url, "/_emulator/orders")}
    assert orders["rest-too-big"]["status"] == "REJECTED"
    assert orders["rest-too-big"]["error"]["code"] == -2010


def test_unknown_orders_are_order_not_found(emulator: EmulatorThread) -> None:
    async def fetch(exchange: Any) -> Any:
        return await exchange.fetch_order("987654321", "BTC/USDT")

    async def cancel(exchange: Any) -> Any:
        return await exchange.cancel_order("987654321", "BTC/USDT")

    with pytest.raises(ccxt.OrderNotFound):
        run(_with_client(emulator.url, fetch))
    with pytest.raises(ccxt.OrderNotFound):
        run(_with_client(emulator.url, cancel))


def test_a_price_off_the_tick_is_a_filter_failure(emulator: EmulatorThread) -> None:
    async def body(exchange: Any) -> Any:
        # ccxt rounds prices to the tick itself, so send the raw request
        return await exchange.privatePostOrder(
            {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": "0.01", "price": "30000.001"}
        )  # fmt: skip

    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        run(_with_client(emulator.url, body))


def test_a_stop_loss_limit_order_rests_until_cancelled(emulator: EmulatorThread) -> None:
    async def body(exchange: Any) -> Any:
        book = await exchange.fetch_order_book("BTC/USDT")
        stop = round(book["bids"][0][0] * 0.5, 2)
        placed = await exchange.create_order(
            "BTC/USDT", "limit", "sell", 0.01, round(stop * 0.99, 2),
            params={"stopLossPrice": stop, "clientOrderId": "rest-stop-1"},
        )  # fmt: skip
        fetched = await exchange.fetch_order(placed["id"], "BTC/USDT")
        canceled = await exchange.cancel_order(placed["id"], "BTC/USDT")
        return stop, fetched, canceled

    stop, fetched, canceled = run(_with_client(emulator.url, body))
    assert fetched["status"] == "open"
    assert fetched["info"]["type"] == "STOP_LOSS_LIMIT"
    assert fetched["triggerPrice"] == stop
    assert canceled["status"] == "canceled"

"""Fault knobs and Binance's security and rate-limit answers, seen by ccxt and by raw HTTP and
WebSocket clients."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt
import pytest
from tests.unit.testing.emulators.helpers import client, control, run

from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulatorConfig,
    EmulatorThread,
    FaultConfig,
    start_binance_emulator,
)
from tradeloop.testing.emulators._binance_auth import RateLimits
from tradeloop.testing.emulators._faults import Faults


@pytest.fixture
def fresh() -> Iterator[EmulatorThread]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running


async def _raw(
    url: str, method: str, path: str, params: dict[str, Any] | None = None,
    *, signed: bool = False, api_key: str | None = DEFAULT_API_KEY,
    secret: str = DEFAULT_SECRET,
) -> tuple[int, dict[str, str], Any]:  # fmt: skip
    query = dict(params or {})
    headers = {} if api_key is None else {"X-MBX-APIKEY": api_key}
    if signed:
        query.setdefault("timestamp", int(time.time() * 1000))
        payload = urlencode(query)
        query["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{url}{path}?{urlencode(query)}", headers=headers) as response,
    ):
        return response.status, dict(response.headers), await response.json(content_type=None)


def raw(url: str, method: str, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
    return run(_raw(url, method, path, params, **kw))


def test_signed_requests_check_key_timestamp_and_signature(emulator: EmulatorThread) -> None:
    url = emulator.url
    status, headers, body = raw(url, "GET", "/api/v3/account", signed=True)
    assert status == 200
    assert "balances" in body
    assert int(headers["X-MBX-USED-WEIGHT-1M"]) >= 20
    assert raw(url, "GET", "/api/v3/account", signed=True, api_key=None)[::2] == (
        401, {"code": -2014, "msg": "API-key format invalid."})  # fmt: skip
    assert raw(url, "GET", "/api/v3/account", signed=True, api_key="nobody")[::2] == (
        401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})  # fmt: skip
    assert raw(url, "GET", "/api/v3/account", signed=True, secret="wrong")[::2] == (
        400, {"code": -1022, "msg": "Signature for this request is not valid."})  # fmt: skip
    stale = {"timestamp": int(time.time() * 1000) - 10_000}
    assert raw(url, "GET", "/api/v3/account", stale, signed=True)[::2] == (
        400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})  # fmt: skip
    ahead = {"timestamp": int(time.time() * 1000) + 5_000}
    assert raw(url, "GET", "/api/v3/account", ahead, signed=True)[2]["code"] == -1021
    wide = {"timestamp": int(time.time() * 1000) - 10_000, "recvWindow": 20_000}
    assert raw(url, "GET", "/api/v3/account", wide, signed=True)[0] == 200
    assert raw(url, "GET", "/api/v3/depth", {"symbol": "ETHUSDT"})[::2] == (
        400, {"code": -1121, "msg": "Invalid symbol."})  # fmt: skip


def test_order_answers_carry_the_order_count_headers(emulator: EmulatorThread) -> None:
    status, headers, body = raw(
        emulator.url, "POST", "/api/v3/order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001",
         "newClientOrderId": "hdr-1", "newOrderRespType": "ACK"}, signed=True,
    )  # fmt: skip
    assert status == 200
    assert set(body) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert int(headers["X-MBX-ORDER-COUNT-10S"]) >= 1
    assert int(headers["X-MBX-ORDER-COUNT-1D"]) >= 1


def test_request_weight_over_the_limit_is_429_with_retry_after() -> None:
    config = BinanceEmulatorConfig(limits=RateLimits(weight_per_minute=30))
    with start_binance_emulator(config) as emulator:
        first = raw(emulator.url, "GET", "/api/v3/exchangeInfo")
        second = raw(emulator.url, "GET", "/api/v3/exchangeInfo")

        async def body() -> None:
            exchange = client(emulator.url)
            try:
                await exchange.fetch_time()
            finally:
                await exchange.close()

        with pytest.raises(ccxt.DDoSProtection):
            run(body())
    assert first[0] == 200
    status, headers, error = second
    assert status == 429
    assert error["code"] == -1003
    assert headers["X-MBX-USED-WEIGHT-1M"] == "40"
    assert 1 <= int(headers["Retry-After"]) <= 60


def test_injected_429_418_and_503_reach_ccxt_as_typed_errors(fresh: EmulatorThread) -> None:
    async def fetch_time() -> Any:
        exchange = client(fresh.url)
        try:
            return await exchange.fetch_time()
        finally:
            await exchange.close()

    control(fresh.url, "/_emulator/faults", {"rate_limit_probability": 1.0})
    with pytest.raises(ccxt.DDoSProtection):  # ccxt binance: 429 and 418 alike
        run(fetch_time())
    control(fresh.url, "/_emulator/faults", {"rate_limit_probability": 0.0, "ban_probability": 1.0})
    with pytest.raises(ccxt.DDoSProtection):
        run(fetch_time())
    assert raw(fresh.url, "GET", "/api/v3/time")[0] == 418
    control(
        fresh.url, "/_emulator/faults", {"ban_probability": 0.0, "server_error_probability": 1.0}
    )
    with pytest.raises(ccxt.ExchangeError):
        run(fetch_time())
    assert raw(fresh.url, "GET", "/api/v3/time")[0] == 503
    control(fresh.url, "/_emulator/faults", {"server_error_probability": 0.0})
    assert run(fetch_time()) > 0


def test_a_timed_out_order_was_still_carried_out(fresh: EmulatorThread) -> None:
    control(fresh.url, "/_emulator/faults", {"timeout_probability": 1.0})

    async def body() -> Any:
        exchange = client(fresh.url, timeout=1500)
        try:
            await exchange.load_markets()
            return await exchange.create_order(
                "BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "lost-ack-1"}
            )
        finally:
            await exchange.close()

    with pytest.raises(ccxt.RequestTimeout):
        run(body())
    [order] = control(fresh.url, "/_emulator/orders?clientOrderId=lost-ack-1")
    assert order["status"] == "FILLED"
    assert len(order["fills"]) >= 1


def test_reject_fault_refuses_valid_orders_and_records_them(fresh: EmulatorThread) -> None:
    control(fresh.url, "/_emulator/faults", {"reject_probability": 1.0})

    async def body() -> Any:
        exchange = client(fresh.url)
        try:
            await exchange.load_markets()
            return await exchange.create_order(
                "BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "rej-1"}
            )
        finally:
            await exchange.close()

    with pytest.raises(ccxt.InvalidOrder):
        run(body())
    [order] = control(fresh.url, "/_emulator/orders")
    assert order["clientOrderId"] == "rej-1"
    assert order["status"] == "REJECTED"


def test_partial_fills_fill_a_market_order_quote_by_quote() -> None:
    # 50 BTC is more than any quote of the recording shows (at most 14.7 BTC)
    config = BinanceEmulatorConfig(
        faults=FaultConfig(partial_fills=True), balances={"BTC": "0", "USDT": "10000000"}
    )
    with start_binance_emulator(config) as emulator:

        async def body() -> Any:
            exchange = client(emulator.url)
            try:
                await exchange.load_markets()
                placed = await exchange.create_order(
                    "BTC/USDT", "market", "buy", 50.0, params={"clientOrderId": "part-1"}
                )
                await asyncio.sleep(2.0)
                later = await exchange.fetch_order(placed["id"], "BTC/USDT")
                return placed, later
            finally:
                await exchange.close()

        placed, later = run(body())
        [record] = control(emulator.url, "/_emulator/orders")
    assert 0 < placed["filled"] < 1.0
    assert placed["status"] == "open"
    assert later["filled"] > placed["filled"]
    assert len(record["fills"]) >= 2


def test_latency_delays_every_answer(fresh: EmulatorThread) -> None:
    control(fresh.url, "/_emulator/faults", {"latency_ms": 300.0})
    start = time.perf_counter()
    raw(fresh.url, "GET", "/api/v3/ping")
    assert time.perf_counter() - start >= 0.3


def test_bad_fault_settings_are_refused_with_the_rule(fresh: EmulatorThread) -> None:
    async def post(body: Any) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{fresh.url}/_emulator/faults", json=body) as response,
        ):
            return response.status, await response.json()

    status, body = run(post({"ws_drop_probability": 1.5}))
    assert status == 400
    assert "ws_drop_probability 1.5 must be in [0, 1]" in body["error"]
    status, body = run(post({"no_such_fault": 1}))
    assert status == 400
    assert "no_such_fault" in body["error"]


async def _trade_ids(url: str, seconds: float) -> tuple[list[int], bool]:
    ids: list[int] = []
    closed = False
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url.replace('http', 'ws')}/ws/btcusdt@trade") as socket,
    ):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = await socket.receive(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                closed = True
                break
            ids.append(json.loads(message.data)["t"])
    return ids, closed


@pytest.mark.slow
def test_websocket_faults_drop_duplicate_reorder_and_disconnect(fresh: EmulatorThread) -> None:
    clean, _ = run(_trade_ids(fresh.url, 2.0))
    assert clean
    assert clean == sorted(set(clean))
    control(fresh.url, "/_emulator/faults", {"ws_duplicate_probability": 1.0})
    doubled, _ = run(_trade_ids(fresh.url, 2.0))
    assert doubled
    assert all(a == b for a, b in zip(doubled[::2], doubled[1::2], strict=False))
    control(fresh.url, "/_emulator/faults", {"ws_duplicate_probability": 0.0,
                                             "ws_reorder_probability": 1.0})  # fmt: skip
    swapped, _ = run(_trade_ids(fresh.url, 3.0))
    assert len(swapped) >= 2
    assert swapped != sorted(swapped)
    control(fresh.url, "/_emulator/faults", {"ws_reorder_probability": 0.0,
                                             "ws_drop_probability": 1.0})  # fmt: skip
    assert run(_trade_ids(fresh.url, 1.0)) == ([], False)
    control(fresh.url, "/_emulator/faults", {"ws_drop_probability": 0.0,
                                             "ws_disconnect_probability": 1.0})  # fmt: skip
    assert run(_trade_ids(fresh.url, 5.0)) == ([], True)


def test_fault_draws_are_deterministic_given_the_seed() -> None:
    config = FaultConfig(ws_drop_probability=0.5, latency_jitter_ms=10.0, seed=42)
    first, second = Faults(config, "binance"), Faults(config, "binance")
    draws = [(first.roll("ws_drop_probability"), first.delay_s()) for _ in range(50)]
    assert draws == [(second.roll("ws_drop_probability"), second.delay_s()) for _ in range(50)]
    other = Faults(FaultConfig(ws_drop_probability=0.5, latency_jitter_ms=10.0, seed=43), "binance")
    assert draws != [(other.roll("ws_drop_probability"), other.delay_s()) for _ in range(50)]


@pytest.mark.slow
def test_ccxt_pro_sees_a_dropped_socket_as_a_network_error(fresh: EmulatorThread) -> None:
    control(fresh.url, "/_emulator/faults", {"ws_disconnect_probability": 1.0})

    async def body() -> None:
        exchange = client(fresh.url, pro=True)
        try:
            await exchange.watch_trades("BTC/USDT")
        finally:
            await exchange.close()

    with pytest.raises(ccxt.NetworkError):
        run(body())


def test_depth_weight_grows_with_its_limit(fresh: EmulatorThread) -> None:
    first = raw(fresh.url, "GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 1000})
    second = raw(fresh.url, "GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 50})
    assert first[1]["X-MBX-USED-WEIGHT-1M"] == "50"  # the emulator's first request
    assert second[1]["X-MBX-USED-WEIGHT-1M"] in ("55", "5")  # "5": a new minute began


def test_two_emulators_with_one_seed_fail_the_same_requests() -> None:
    faults = FaultConfig(rate_limit_probability=0.3, server_error_probability=0.2, seed=7)

    def statuses() -> list[int]:
        with start_binance_emulator(BinanceEmulatorConfig(faults=faults)) as emulator:
            return [raw(emulator.url, "GET", "/api/v3/ping")[0] for _ in range(30)]

    first, second = statuses(), statuses()
    assert first == second
    assert {200, 429, 503} <= set(first)

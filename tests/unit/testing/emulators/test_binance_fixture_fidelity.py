"""The Binance emulator answers in the shapes the real venue does.

For each spot case of ccxt's recorded Binance traffic (``tests/data/venue_fixtures``, see
its README), the recorded body and the emulator's answer to the same call go through the
same unmodified ccxt method (the recorded body by replacing the client's ``fetch``, as
ccxt's own offline tests do; the emulator's over HTTP). The two parsed structures must have
the same keys at every level (the raw ``info`` objects included) and the same type wherever
both have a value; the paths where only one side has a value are listed per case with the
reason. The recorded symbols (LTCUSDT, SOLUSDT) are rewritten to BTCUSDT, the emulator's
one market, so ccxt resolves them to the same market.

WebSocket frames: the recorded spot frames (trade, bookTicker, depthUpdate, kline, 24hrMiniTicker,
executionReport, the user-data subscription answer) and the emulator's frames of the same
streams must have the same keys and JSON types; trades and execution reports also go through
ccxt.pro's own parsers (``parse_ws_trade``, ``parse_ws_order``) and are compared likewise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.unit.testing.emulators.helpers import client, run

from tradeloop.testing import EmulatorThread

FIXTURES = Path(__file__).parents[3] / "data" / "venue_fixtures" / "ccxt"
RESPONSES = json.loads((FIXTURES / "response" / "binance.json").read_text())["methods"]
WS_CASES = json.loads((FIXTURES / "ws" / "binance.json").read_text())["methods"]


def _case(method: str, description: str) -> dict[str, Any]:
    [case] = [c for c in RESPONSES[method] if c["description"] == description]
    return case


def _to_btcusdt(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: ("BTCUSDT" if k == "symbol" and isinstance(v, str) else _to_btcusdt(v))
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [_to_btcusdt(item) for item in body]
    return body


def _kind(value: Any) -> str:
    # ccxt's recorded bodies store some integers as strings (its README: "Numbers stored as
    # strings"), so a numeric string counts as a number; Binance's decimals are strings too
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return "str"
        return "number"
    return type(value).__name__


def shape_differences(recorded: Any, emulated: Any, path: str = "") -> list[str]:
    """Return where two parsed structures differ in keys, nesting or value types
    (``one-sided <path>`` where exactly one side has a value)."""
    if recorded is None or emulated is None:
        return [] if recorded is emulated else [f"one-sided {path or '.'}"]
    if _kind(recorded) != _kind(emulated):
        return [f"type {path}: {_kind(recorded)} != {_kind(emulated)}"]
    if isinstance(recorded, dict):
        out = [f"key {path}.{k}" for k in sorted(set(recorded) ^ set(emulated))]
        for key in sorted(set(recorded) & set(emulated)):
            out += shape_differences(recorded[key], emulated[key], f"{path}.{key}")
        return out
    if isinstance(recorded, list) and recorded and emulated:
        # every element has the shape of the recorded first one
        return [d for item in emulated for d in shape_differences(recorded[0], item, f"{path}[]")]
    return []


async def _recorded(exchange: Any, method: str, args: list[Any], body: Any) -> Any:
    original = exchange.fetch

    async def replay(*_args: Any, **_kwargs: Any) -> Any:
        return json.loads(json.dumps(body))

    exchange.fetch = replay
    try:
        return await getattr(exchange, method)(*args)
    finally:
        exchange.fetch = original


async def _parsed_pairs(url: str) -> dict[str, tuple[Any, Any]]:
    exchange = client(url)
    pairs: dict[str, tuple[Any, Any]] = {}

    async def compare(name: str, description: str, args: list[Any]) -> None:
        case = _case(name, description)
        emulated = await getattr(exchange, _snake(name))(*args)
        body = _to_btcusdt(case["httpResponse"])
        recorded = await _recorded(exchange, _snake(name), args, body)
        pairs[f"{name}: {description}"] = (recorded, emulated)

    try:
        await exchange.load_markets()
        book = await exchange.fetch_order_book("BTC/USDT")
        far = round(book["bids"][0][0] * 0.7, 2)
        filled = await exchange.create_order("BTC/USDT", "market", "buy", 0.002)
        await compare("fetchOrder", "Fetch spot closed order", [filled["id"], "BTC/USDT"])
        await compare("fetchMyTrades", "Spot private trade", ["BTC/USDT", None, 1])
        await compare(
            "createOrder", "spot +selfTradePrevention +iceberg",
            ["BTC/USDT", "limit", "buy", 0.002, far],
        )  # fmt: skip
        await exchange.cancel_all_orders("BTC/USDT")
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.002, far, {"postOnly": True})
        await compare("fetchOpenOrders", "Fetch spot open orders", ["BTC/USDT", None, 1])
        await exchange.cancel_all_orders("BTC/USDT")
        await compare("fetchOrders", "fetch spot orders", ["BTC/USDT", None, 1])
        await compare("fetchBalance", "Spot balance", [])
        await compare("fetchOrderBook", "spot orderbook", ["BTC/USDT", 2])
        await compare("fetchTrades", "public spot trades", ["BTC/USDT", None, 1])
        await compare("fetchOHLCV", "Spot OHLCV with since and limit", ["BTC/USDT", "1h", None, 3])
        await compare("fetchTicker", "public spot ticker", ["BTC/USDT"])
    finally:
        await exchange.close()
    return pairs


def _balance_shape(balance: dict[str, Any]) -> dict[str, Any]:
    # a balance is keyed by currency code: compare one currency's entry, whatever its code
    fixed = ("info", "timestamp", "datetime", "free", "used", "total")
    codes = sorted(k for k in balance if k not in fixed)
    shape = {k: balance[k] for k in ("info", "timestamp", "datetime")}
    for k in ("free", "used", "total"):
        shape[k] = {"<code>": balance[k][codes[0]]}
    shape["<code>"] = balance[codes[0]]
    return shape


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).replace(
        "o_h_l_c_v", "ohlcv"
    )


# Paths where only one side has a value, and why: the recorded order was placed with an
# iceberg quantity (the emulator has no iceberg orders); the recorded fetchOHLCV and
# fetchTrades carry exchange-specific nulls on both sides (none here).
EXPECTED_ONE_SIDED: dict[str, set[str]] = {
    "createOrder: spot +selfTradePrevention +iceberg": {"key .info.icebergQty"},
}


@pytest.fixture(scope="module")
def parsed_pairs(emulator: EmulatorThread) -> dict[str, tuple[Any, Any]]:
    return run(_parsed_pairs(emulator.url))


CASES = [
    "fetchOrder: Fetch spot closed order",
    "fetchMyTrades: Spot private trade",
    "createOrder: spot +selfTradePrevention +iceberg",
    "fetchOpenOrders: Fetch spot open orders",
    "fetchOrders: fetch spot orders",
    "fetchBalance: Spot balance",
    "fetchOrderBook: spot orderbook",
    "fetchTrades: public spot trades",
    "fetchOHLCV: Spot OHLCV with since and limit",
    "fetchTicker: public spot ticker",
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_emulator_answers_parse_to_the_recorded_shape(
    parsed_pairs: dict[str, tuple[Any, Any]], case: str
) -> None:
    recorded, emulated = parsed_pairs[case]
    assert recorded
    assert emulated
    if case.startswith("fetchBalance"):
        recorded, emulated = _balance_shape(recorded), _balance_shape(emulated)
    differences = set(shape_differences(recorded, emulated))
    assert differences == EXPECTED_ONE_SIDED.get(case, set())


def test_shape_differences_sees_keys_types_and_nesting() -> None:
    assert shape_differences({"a": 1, "b": [{"c": "x"}]}, {"a": 2.5, "b": [{"c": "y"}]}) == []
    assert shape_differences({"a": 1}, {"a": "1"}) == []  # numbers stored as strings
    assert shape_differences({"a": 1}, {"a": "x"}) == ["type .a: number != str"]
    assert shape_differences({"a": 1}, {"a": 1, "z": 0}) == ["key .z"]
    assert shape_differences({"b": [{"c": 1}]}, {"b": [{"d": 1}]}) == ["key .b[].c", "key .b[].d"]
    assert shape_differences({"a": None}, {"a": 1}) == ["one-sided .a"]


# -- WebSocket frames ------------------------------------------------------------------------------


def _ws_messages(method: str, description: str) -> list[Any]:
    [case] = [c for c in WS_CASES[method] if c["description"] == description]
    return list(case["messages"])


def _raw_kinds(message: Any) -> Any:
    # the JSON type of every field (nested objects by field; lists by their first element)
    if isinstance(message, dict):
        return {k: _raw_kinds(v) for k, v in message.items()}
    if isinstance(message, list):
        return [_raw_kinds(message[0])] if message else []
    return _kind(message)


async def _parse_ws(url: str, parser: str, recorded: Any, emulated: Any) -> tuple[Any, Any]:
    exchange = client(url, pro=True)
    try:
        await exchange.load_markets()
        market = exchange.market("BTC/USDT")
        parse = getattr(exchange, parser)
        return parse(recorded, market), parse(emulated, market)
    finally:
        await exchange.close()


@pytest.mark.slow
def test_stream_frames_have_the_recorded_fields_and_types(emulator: EmulatorThread) -> None:
    ws = emulator.url.replace("http", "ws")

    async def body() -> dict[str, Any]:
        frames: dict[str, Any] = {}
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{ws}/ws/0") as socket:
            await socket.send_json(
                {"method": "SUBSCRIBE", "id": 1,
                 "params": ["btcusdt@trade", "btcusdt@bookTicker", "btcusdt@depth@100ms",
                            "btcusdt@kline_1m", "btcusdt@miniTicker"]}
            )  # fmt: skip
            frames["ack"] = json.loads((await socket.receive(timeout=10)).data)
            wanted = {"trade", "bookTicker", "depthUpdate", "kline", "24hrMiniTicker"}
            while wanted - set(frames):
                message = json.loads((await socket.receive(timeout=20)).data)
                frames.setdefault(message.get("e", "bookTicker"), message)
        return frames

    frames = run(body())
    recorded = {
        "ack": _ws_messages("watchTrades", "linear swap trades")[0],
        "trade": _ws_messages("watchTrades", "spot public trade message")[0],
        "bookTicker": _ws_messages("watchBidsAsks", "spot bids asks")[1],
        "depthUpdate": _ws_messages(
            "watchOrderBook", "spot orderbook from rest snapshot and two depth deltas"
        )[1],
        "kline": _ws_messages("watchOHLCV", "spot ohlcv 1m")[1],
        "24hrMiniTicker": _ws_messages("watchTicker", "spot ticker")[1],
    }
    for name, message in recorded.items():
        assert _raw_kinds(frames[name]) == _raw_kinds(message), name
    parsed_recorded, parsed_emulated = run(
        _parse_ws(emulator.url, "parse_ws_trade", recorded["trade"], frames["trade"])
    )
    assert shape_differences(parsed_recorded, parsed_emulated) == []


@pytest.mark.slow
def test_user_data_frames_have_the_recorded_fields_and_types(emulator: EmulatorThread) -> None:
    ws = emulator.url.replace("http", "ws")
    recorded = _ws_messages(
        "watchOrders", "spot market order lifecycle from open to closed after fill"
    )

    async def body() -> list[Any]:
        exchange = client(emulator.url, pro=True)
        try:
            await exchange.load_markets()
            request = {"id": "1", "method": "userDataStream.subscribe.signature",
                       "params": exchange.sign_params({})}  # fmt: skip
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{ws}/ws-api/v3") as socket,
            ):
                await socket.send_json(request)
                frames = [json.loads((await socket.receive(timeout=10)).data)]
                await exchange.create_order("BTC/USDT", "market", "buy", 0.002)
                while len(frames) < 3:
                    frame = json.loads((await socket.receive(timeout=10)).data)
                    if frame["event"]["e"] == "executionReport":
                        frames.append(frame)
                return frames
        finally:
            await exchange.close()

    ack, new, trade = run(body())
    assert _raw_kinds(ack) == _raw_kinds(recorded[0])
    assert _raw_kinds(new) == _raw_kinds(recorded[1])
    assert _raw_kinds(trade) == _raw_kinds(recorded[2])
    for mine, theirs in ((new, recorded[1]), (trade, recorded[2])):
        parsed_theirs, parsed_mine = run(
            _parse_ws(emulator.url, "parse_ws_order", theirs["event"], mine["event"])
        )
        assert shape_differences(parsed_theirs, parsed_mine) == []

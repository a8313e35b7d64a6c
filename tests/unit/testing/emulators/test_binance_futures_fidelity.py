"""The Binance emulator's USD-M futures surface answers in the shapes the real venue does.

As ``test_binance_fixture_fidelity`` does for spot: each linear-swap case of ccxt's recorded
Binance traffic (``tests/data/venue_fixtures``: ``response/binance.json`` and
``ws/binance.json``) and the emulator's answer to the same call go through the same
unmodified ccxt method (``defaultType`` swap), and the parsed structures must have the same
keys and value types. Recorded LTCUSDT cases are rewritten to BTCUSDT, the emulator's one
perpetual. The recorded WebSocket frames of the linear streams (trade, depth diffs with
``pu``, partial depth) are compared field by field with the emulator's frames of the same
streams on ``/public/ws``. ccxt's recordings hold no USD-M user-data frames
(``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE``): those are checked through ccxt.pro's own
handlers in ``test_binance_futures.py``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import aiohttp
import pytest
from tests.unit.testing.emulators.helpers import client, run
from tests.unit.testing.emulators.test_binance_fixture_fidelity import (
    WS_CASES,
    _case,
    _kind,
    _raw_kinds,
    _recorded,
    _snake,
    _to_btcusdt,
    shape_differences,
)

from tradeloop.testing import EmulatorThread

PERP = "BTC/USDT:USDT"


async def _parsed_pairs(url: str) -> dict[str, tuple[Any, Any]]:
    exchange = client(url, options={"defaultType": "swap"})
    pairs: dict[str, tuple[Any, Any]] = {}

    async def compare(name: str, description: str, args: list[Any]) -> None:
        case = _case(name, description)
        emulated = await getattr(exchange, _snake(name))(*args)
        body = _to_btcusdt(case["httpResponse"])
        recorded = await _recorded(exchange, _snake(name), args, body)
        pairs[f"{name}: {description}"] = (recorded, emulated)

    try:
        await exchange.load_markets()
        book = await exchange.fetch_order_book(PERP)
        near = round(book["bids"][0][0] * 0.97, 1)
        await exchange.create_order(PERP, "market", "buy", 0.01)
        await compare("fetchMyTrades", "Swap private trade", [PERP, None, 1])
        await compare("fetchPositions", "Fetch linear positions with symbols", [[PERP]])
        await compare(
            "fetchPositions", "Fetch linear positions using account endnpoint",
            [[PERP], {"method": "account"}],
        )  # fmt: skip
        # recorded from /fapi/v2/account (ccxt's default then; v3 now): ask ccxt for v2
        await compare("fetchBalance", "Linear swap balance", [{"type": "swap", "useV2": True}])
        await compare("fetchOrderBook", "swap orderbook", [PERP, 5])
        order = await exchange.create_order(
            PERP, "limit", "buy", 0.01, near, {"timeInForce": "GTX"}
        )
        await compare("fetchOpenOrder", "swap open order", [order["id"], PERP])
        await compare(
            "createOrders", "create swap orders",
            [[{"symbol": PERP, "type": "limit", "side": "sell", "amount": 0.01,
               "price": round(near / 0.97 * 1.03, 1)}]],
        )  # fmt: skip
        await exchange.cancel_all_orders(PERP)
    finally:
        await exchange.close()
    return pairs


@pytest.fixture(scope="module")
def parsed_pairs(emulator: EmulatorThread) -> dict[str, tuple[Any, Any]]:
    return run(_parsed_pairs(emulator.url))


CASES = [
    "fetchMyTrades: Swap private trade",
    "fetchPositions: Fetch linear positions with symbols",
    "fetchPositions: Fetch linear positions using account endnpoint",
    "fetchBalance: Linear swap balance",
    "fetchOrderBook: swap orderbook",
    "fetchOpenOrder: swap open order",
    "createOrders: create swap orders",
]
# Paths where only one side has a value, and why (the recorded account's other margin assets,
# FDUSD, BTC, BNB ..., are left out of the balance comparison: the emulator holds USDT): the
# recorded position could be liquidated, this small long in a 100,000 USDT account cannot: its
# liquidationPrice is 0 (as Binance answers), and ccxt derives marginRatio from it.
EXPECTED: dict[str, set[str]] = {
    "fetchPositions: Fetch linear positions with symbols": {
        "one-sided [].marginRatio",
        "one-sided [].liquidationPrice",
    },
}


def _balance_shape(balance: dict[str, Any]) -> dict[str, Any]:
    shape = {k: balance[k] for k in ("info", "timestamp", "datetime")}
    shape["info"] = {k: v for k, v in shape["info"].items() if k != "assets"} | {
        "assets": [a for a in shape["info"]["assets"] if a["asset"] == "USDT"]
    }
    for k in ("free", "used", "total"):
        shape[k] = {"USDT": balance[k]["USDT"]}
    shape["USDT"] = balance["USDT"]
    return shape


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_futures_answers_parse_to_the_recorded_shape(
    parsed_pairs: dict[str, tuple[Any, Any]], case: str
) -> None:
    recorded, emulated = parsed_pairs[case]
    assert recorded
    assert emulated
    if case.startswith("fetchBalance"):
        recorded, emulated = _balance_shape(recorded), _balance_shape(emulated)
    differences = set(shape_differences(recorded, emulated))
    assert differences == EXPECTED.get(case, set())


def test_positions_and_balance_carry_the_position_values(
    parsed_pairs: dict[str, tuple[Any, Any]],
) -> None:
    _, [position] = parsed_pairs["fetchPositions: Fetch linear positions with symbols"]
    assert position["symbol"] == PERP
    assert position["side"] == "long"
    assert position["contracts"] == pytest.approx(0.01)
    assert position["entryPrice"] > 0
    assert position["unrealizedPnl"] == pytest.approx(
        0.01 * (position["markPrice"] - position["entryPrice"]), abs=1e-6
    )
    _, balance = parsed_pairs["fetchBalance: Linear swap balance"]
    assert balance["USDT"]["total"] < 100_000  # the taker commission was paid in USDT


# -- WebSocket frames ------------------------------------------------------------------------------


def _ws_messages(method: str, description: str) -> list[Any]:
    [case] = [c for c in WS_CASES[method] if c["description"] == description]
    return list(case["messages"])


@pytest.mark.slow
def test_futures_stream_frames_have_the_recorded_fields_and_types(
    emulator: EmulatorThread,
) -> None:
    ws = emulator.url.replace("http", "ws")

    async def body() -> dict[str, Any]:
        frames: dict[str, Any] = {}
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{ws}/public/ws/0") as socket,
        ):
            await socket.send_json(
                {"method": "SUBSCRIBE", "id": 1,
                 "params": ["btcusdt@trade", "btcusdt@depth", "btcusdt@depth5"]}
            )  # fmt: skip
            frames["ack"] = json.loads((await socket.receive(timeout=10)).data)
            while {"trade", "diff", "partial"} - set(frames):
                message = json.loads((await socket.receive(timeout=20)).data)
                if message.get("e") == "trade":
                    frames.setdefault("trade", message)
                elif len(message.get("b", [])) == 1 and len(message.get("a", [])) == 1:
                    frames.setdefault("partial", message)
                else:
                    frames.setdefault("diff", message)
        return frames

    frames = run(body())
    trades = _ws_messages("watchTrades", "linear swap trades")
    # the recorded "depth 5" session subscribed to btcusdt@depth@100ms: a real diff; the
    # "pu continuity chain" case is hand-written by ccxt, so it is not used here
    diff = _ws_messages("watchOrderBook", "linear swap orderbook depth 5")[-1]
    recorded = {"ack": trades[0], "trade": trades[1], "diff": diff, "partial": diff}
    for name, message in recorded.items():
        mine, theirs = _raw_kinds(frames[name]), _raw_kinds(message)
        theirs.pop("st", None)  # not in Binance's USD-M stream docs; not sent here
        if name in ("diff", "partial"):  # a diff may remove no level on one side
            mine = {k: v for k, v in mine.items() if k not in ("a", "b")}
            theirs = {k: v for k, v in theirs.items() if k not in ("a", "b")}
        assert mine == theirs, name
    assert _kind(frames["partial"]["b"][0][0]) == "number"


def test_futures_depth_diffs_chain_by_pu(emulator: EmulatorThread) -> None:
    ws = emulator.url.replace("http", "ws")

    async def body() -> list[Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{ws}/public/ws/0") as socket,
        ):
            await socket.send_json({"method": "SUBSCRIBE", "id": 1, "params": ["btcusdt@depth"]})
            await socket.receive(timeout=10)
            return [json.loads((await socket.receive(timeout=20)).data) for _ in range(4)]

    diffs = run(body())
    for before, after in itertools.pairwise(diffs):
        assert after["pu"] == before["u"]
        assert after["U"] > before["u"]

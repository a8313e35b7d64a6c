"""The Binance emulator's USD-M futures surface through the unmodified ccxt and ccxt.pro
clients (``defaultType`` swap): the venue's error codes, signatures and rate-limit headers on
``/fapi``, the user-data stream (``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE``) through ccxt.pro's
handlers, and the account's position accounting (entry price, realized and unrealized PnL,
fees) as a property over random fill sequences."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.testing.emulators.helpers import client, control, run

from tradeloop.core.clock import LiveClock
from tradeloop.testing import EmulatorThread
from tradeloop.testing.emulators._binance_futures_state import BinanceFuturesState
from tradeloop.testing.emulators._market import ReplayMarket

PERP = "BTC/USDT:USDT"


def swap(url: str, **config: Any) -> Any:
    return client(url, options={"defaultType": "swap"}, **config)


async def _refusal(url: str, *args: Any, **params: Any) -> str:
    exchange = swap(url)
    try:
        await exchange.load_markets()
        with pytest.raises(ccxt.BaseError) as caught:
            await exchange.create_order(PERP, *args, params=params)
        return str(caught.value)
    finally:
        await exchange.close()


def test_orders_are_refused_with_the_usdm_codes(emulator: EmulatorThread) -> None:
    url = emulator.url
    book = control(url, "/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    bid = Decimal(book["bids"][0][0])
    assert '"code": -2022' in run(_refusal(url, "market", "buy", 0.01, None, reduceOnly=True))
    assert '"code": -4016' in run(_refusal(url, "limit", "buy", 0.01, float(bid * 2)))
    assert '"code": -2019' in run(_refusal(url, "market", "buy", 100.0))  # margin: 100 BTC
    assert '"code": -4061' in run(_refusal(url, "market", "buy", 0.01, None, positionSide="LONG"))
    refused = [o for o in control(url, "/_emulator/orders?market=usdm") if o["error"]]
    assert len(refused) >= 4  # every refused request is listed with its error


def test_signed_fapi_requests_are_verified_and_counted(emulator: EmulatorThread) -> None:
    async def body() -> tuple[str, dict[str, str]]:
        bad = swap(emulator.url, secret="not-the-secret")
        good = swap(emulator.url)
        try:
            with pytest.raises(ccxt.AuthenticationError) as caught:
                await bad.fetch_balance()
            await good.fetch_positions([PERP])
            return str(caught.value), dict(good.last_response_headers)
        finally:
            await bad.close()
            await good.close()

    refusal, headers = run(body())
    assert "-1022" in refusal
    assert int(headers["X-MBX-USED-WEIGHT-1M"]) > 0
    with pytest.raises(urllib.error.HTTPError) as caught:  # no key: -2014, 401
        urllib.request.urlopen(f"{emulator.url}/fapi/v2/account?timestamp=1&signature=x")
    assert caught.value.code == 401


def test_the_user_stream_carries_order_and_account_updates(emulator: EmulatorThread) -> None:
    async def body() -> tuple[Any, Any, Any]:
        exchange = swap(emulator.url, pro=True)
        try:
            await exchange.load_markets()
            orders = asyncio.ensure_future(exchange.watch_orders(PERP))
            balance = asyncio.ensure_future(exchange.watch_balance())
            await asyncio.sleep(0.5)  # the listenKey stream is open
            await exchange.create_order(
                PERP, "market", "sell", 0.02, params={"clientOrderId": "u-1"}
            )
            done = await asyncio.wait_for(asyncio.gather(orders, balance), 10)
            return (*done, await exchange.fetch_positions([PERP]))
        finally:
            await exchange.close()

    orders, balance, positions = run(body())
    assert orders[-1]["clientOrderId"] == "u-1"
    assert orders[-1]["symbol"] == PERP
    assert balance["info"]["e"] == "ACCOUNT_UPDATE"
    assert balance["USDT"]["total"] < 100_000  # the wallet after the taker commission
    assert positions[-1]["side"] == "short"
    assert positions[-1]["contracts"] == pytest.approx(0.02)


def test_ccxt_pro_follows_the_perpetuals_book_trades_and_klines(emulator: EmulatorThread) -> None:
    async def body() -> tuple[list[Any], Any, Any]:
        exchange = swap(emulator.url, pro=True)
        try:
            books = []
            for _ in range(3):  # ccxt checks each diff's pu against the previous u
                book = await asyncio.wait_for(exchange.watch_order_book(PERP), 10)
                books.append((book["nonce"], book["bids"][0][0], book["asks"][0][0]))
            trades = await asyncio.wait_for(exchange.watch_trades(PERP), 10)
            bars = await asyncio.wait_for(exchange.watch_ohlcv(PERP, "1m"), 10)
            return books, trades, bars
        finally:
            await exchange.close()

    books, trades, bars = run(body())
    assert [nonce for nonce, _, _ in books] == sorted({nonce for nonce, _, _ in books})
    for _, bid, ask in books:
        assert bid < ask
        assert Decimal(str(bid)) % Decimal("0.1") == 0  # the perpetual's grid
    assert all(t["symbol"] == PERP for t in trades)
    assert all(Decimal(str(price)) % Decimal("0.1") == 0 for price in bars[-1][1:5])


# -- the account's accounting ---------------------------------------------------------------------

_FILL = st.tuples(
    st.integers(min_value=-50, max_value=50).filter(bool),  # signed thousandths of a BTC
    st.integers(min_value=30_000_0, max_value=50_000_0),  # price in tenths of a USDT
)


@settings(max_examples=60, deadline=None)
@given(fills=st.lists(_FILL, min_size=1, max_size=12), mark=st.integers(30_000_0, 50_000_0))
def test_realized_plus_unrealized_is_the_cash_flow_of_the_fills(
    fills: list[tuple[int, int]], mark: int
) -> None:
    state = _STATE
    state.position_amt = state.entry_price = Decimal(0)
    realized = Decimal(0)
    cash = Decimal(0)
    for qty, px in fills:
        signed, price = Decimal(qty) / 1000, Decimal(px) / 10
        realized += state._move_position(signed, price)
        cash -= signed * price
    mark_px = Decimal(mark) / 10
    unrealized = state.position_amt * (mark_px - state.entry_price)
    assert state.position_amt == sum(Decimal(q) / 1000 for q, _ in fills)
    # what the fills paid and received, plus the position at the mark, is the total PnL
    assert realized + unrealized == pytest.approx(cash + state.position_amt * mark_px, abs=1e-6)
    if not state.position_amt:
        assert state.entry_price == 0


_STATE = BinanceFuturesState(ReplayMarket(0), Decimal(1000), clock=LiveClock())


def _fresh_state(wallet: str = "1000") -> tuple[BinanceFuturesState, Decimal]:
    market = ReplayMarket(0)
    state = BinanceFuturesState(market, Decimal(wallet), clock=LiveClock())
    state.on_quote(market.quote_at(1_000_000_000))
    return state, state.mark_price().quantize(Decimal("0.1"))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"price": "+0.05"}, -4014),  # off the 0.10 tick
        ({"quantity": "0.0015"}, -1111),  # off the 0.001 step
        ({"quantity": "0"}, -4003),
        ({"quantity": "1001"}, -4005),  # over LOT_SIZE maxQty
        ({"type": "MARKET", "quantity": "121"}, -4005),  # over MARKET_LOT_SIZE maxQty
        ({"price": "x1.1"}, -4016),  # above PERCENT_PRICE
        ({"price": "x0.9"}, -4024),  # below PERCENT_PRICE
        ({"timeInForce": "GTD2"}, -1115),
        ({"type": "TRAILING_STOP_MARKET"}, -1116),
        ({"quantity": "1"}, -2019),  # 1 BTC at leverage 20 needs ~2000 USDT of margin
    ],
)
def test_the_state_refuses_with_the_usdm_code(changes: dict[str, str], code: int) -> None:
    from tradeloop.testing.emulators._binance_types import BinanceError

    state, mark = _fresh_state()
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.010", "price": str(mark)}  # fmt: skip
    for key, value in changes.items():
        if value.startswith("+"):
            value = str(mark + Decimal(value[1:]))
        elif value.startswith("x"):
            value = str((mark * Decimal(value[1:])).quantize(Decimal("0.1")))
        params[key] = value
    if params["type"] == "MARKET":
        del params["price"], params["timeInForce"]
    with pytest.raises(BinanceError) as caught:
        state.submit(params, 0)
    assert caught.value.code == code


def test_a_post_only_order_that_would_take_expires_and_a_duplicate_id_is_refused() -> None:
    from tradeloop.testing.emulators._binance_types import BinanceError

    state, mark = _fresh_state()
    above = str(mark + Decimal("50"))
    taker = state.submit({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                          "timeInForce": "GTX", "quantity": "0.010", "price": above}, 0)  # fmt: skip
    assert taker.status == "EXPIRED"
    below = str(mark - Decimal("500"))
    resting = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
               "quantity": "0.010", "price": below, "newClientOrderId": "dup"}  # fmt: skip
    assert state.submit(resting, 0).status == "NEW"
    with pytest.raises(BinanceError) as caught:
        state.submit(resting, 0)
    assert caught.value.code == -4116
    assert state.order_margin() == Decimal(below) * Decimal("0.010") / 20

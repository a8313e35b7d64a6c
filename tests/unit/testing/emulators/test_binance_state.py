"""The Binance emulator's venue state on hand-made quotes: stop-loss orders trigger and fill in
the simulated venue, balances are held and released, Binance's refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradeloop.core.clock import TestClock
from tradeloop.testing.emulators._binance_state import BinanceState
from tradeloop.testing.emulators._binance_types import BinanceError
from tradeloop.testing.emulators._market import MarketQuote, ReplayMarket

T0 = 1_700_000_000_000_000_000


def _state() -> tuple[BinanceState, TestClock]:
    clock = TestClock(T0)
    state = BinanceState(
        ReplayMarket(T0), {"BTC": Decimal(2), "USDT": Decimal(10_000)}, clock=clock
    )
    return state, clock


def _quote(state: BinanceState, clock: TestClock, update_id: int, bid: str, ask: str) -> None:
    clock.advance_time(clock.timestamp_ns() + 1_000_000)
    state.on_quote(
        MarketQuote(
            update_id=update_id,
            ts_ns=clock.timestamp_ns(),
            bid_raw=int(Decimal(bid) * 100),
            bid_size_raw=5_000_000,
            ask_raw=int(Decimal(ask) * 100),
            ask_size_raw=5_000_000,
        )
    )


def test_a_stop_loss_limit_sell_waits_triggers_and_fills_at_or_above_its_limit() -> None:
    state, clock = _state()
    _quote(state, clock, 1, "100.00", "100.01")
    order = state.submit(
        {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS_LIMIT", "quantity": "1",
         "price": "98.50", "stopPrice": "99.00", "timeInForce": "GTC",
         "newClientOrderId": "stop-1"},
        now_ms=T0 // 1_000_000,
    )  # fmt: skip
    assert order.status == "NEW"
    assert state.locked["BTC"] == Decimal(1)
    assert state.free["BTC"] == Decimal(1)
    _quote(state, clock, 2, "99.50", "99.51")
    assert order.status == "NEW"
    _quote(state, clock, 3, "98.90", "98.91")
    _quote(state, clock, 4, "98.80", "98.81")
    assert order.status == "FILLED"
    assert all(fill.price >= Decimal("98.50") for fill in order.fills)
    assert state.locked["BTC"] == 0
    assert state.free["BTC"] == Decimal(1)
    proceeds = sum(f.price * f.qty for f in order.fills)
    assert state.free["USDT"] == Decimal(10_000) + proceeds * (1 - Decimal("0.001"))


def test_a_stop_loss_buy_triggers_above_its_stop_and_releases_the_held_quote() -> None:
    state, clock = _state()
    _quote(state, clock, 1, "100.00", "100.01")
    order = state.submit(
        {"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_LOSS", "quantity": "1",
         "stopPrice": "101.00"},
        now_ms=T0 // 1_000_000,
    )  # fmt: skip
    assert state.locked["USDT"] == Decimal("101.00")
    _quote(state, clock, 2, "101.40", "101.50")
    _quote(state, clock, 3, "101.40", "101.50")
    assert order.status == "FILLED"
    paid = sum(f.price * f.qty for f in order.fills)
    assert state.locked["USDT"] == 0
    assert state.free["USDT"] == Decimal(10_000) - paid
    assert state.free["BTC"] == Decimal(2) + Decimal(1) * (1 - Decimal("0.001"))


def test_a_stop_that_would_trigger_at_once_is_refused() -> None:
    state, clock = _state()
    _quote(state, clock, 1, "100.00", "100.01")
    with pytest.raises(BinanceError, match="Order would trigger immediately"):
        state.submit(
            {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "1",
             "stopPrice": "100.50"},
            now_ms=T0 // 1_000_000,
        )  # fmt: skip
    assert state.orders == {}


def test_missing_parameters_and_filters_use_binance_codes() -> None:
    state, clock = _state()
    _quote(state, clock, 1, "100.00", "100.01")
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "99"}
    cases = [
        ({**base, "symbol": "ETHUSDT"}, -1121),
        ({**base, "side": "UP"}, -1117),
        ({**base, "type": "OCO"}, -1116),
        (base, -1102),  # no timeInForce
        ({**base, "timeInForce": "GTC", "quantity": "0.0000001"}, -1013),
        ({**base, "timeInForce": "GTC", "price": "99.001"}, -1013),
        ({**base, "timeInForce": "GTC", "quantity": "0.01"}, -1013),  # notional under 5
        ({**base, "timeInForce": "GTC", "quantity": "500"}, -2010),  # balance
    ]
    for params, code in cases:
        with pytest.raises(BinanceError) as error:
            state.submit(params, now_ms=T0 // 1_000_000)
        assert error.value.code == code, params

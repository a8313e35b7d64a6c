"""Instruments from ccxt markets: the Binance emulator's exchangeInfo through ccxt, ccxt's
recorded Binance markets (decimal-places precision) and Bybit's (tick sizes, perpetuals)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import ccxt
import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.model.enums import InstrumentKind
from tradeloop.testing import ccxt_binance, start_binance_emulator
from tradeloop.venues.ccxt import instruments_from_markets, resolve_symbols

MARKETS = Path(__file__).resolve().parents[3] / "data" / "venue_fixtures" / "ccxt" / "markets"


def offline(exchange_id: str, **config: Any) -> Any:
    markets = json.loads((MARKETS / f"{exchange_id}.json").read_text())
    exchange = getattr(ccxt, exchange_id)(config)
    exchange.set_markets(list(markets.values()))
    return exchange


def test_the_emulators_exchange_info_gives_btcusdt_with_its_filters() -> None:
    async def load(url: str) -> Any:
        exchange = ccxt_binance(url)
        try:
            await exchange.load_markets()
            return exchange
        finally:
            await exchange.close()

    with start_binance_emulator() as emulator:
        exchange = asyncio.run(load(emulator.url))
    [btc] = instruments_from_markets(exchange, "BINANCE")
    assert btc.id == "BTCUSDT.BINANCE"
    assert btc.kind is InstrumentKind.CRYPTO_SPOT
    assert (btc.base_currency, btc.quote_currency) == ("BTC", "USDT")
    assert str(btc.tick_size) == "0.01"
    assert str(btc.lot_size) == "0.000001"
    assert btc.min_quantity_raw is not None
    assert resolve_symbols(exchange, ["BTCUSDT.BINANCE"], {}, "spot") == {
        "BTCUSDT.BINANCE": "BTC/USDT"
    }


def test_binance_recorded_markets_in_decimal_places() -> None:
    # ccxt's recorded file states precision as decimal places (ccxt's older mode)
    exchange = offline("binance", precisionMode=ccxt.DECIMAL_PLACES)
    spot = {i.id: i for i in instruments_from_markets(exchange, "BINANCE")}
    btc = spot["BTCUSDT.BINANCE"]
    assert (btc.price_precision, str(btc.tick_size)) == (2, "0.01")
    assert (btc.size_precision, str(btc.lot_size)) == (5, "0.00001")
    assert btc.min_quantity_raw == 1  # limits.amount.min 0.00001
    assert btc.max_quantity_raw == 9000 * 10**5
    assert all(i.kind is InstrumentKind.CRYPTO_SPOT for i in spot.values())
    skipped: dict[str, str] = {}
    perps = instruments_from_markets(exchange, "BINANCE", market_type="swap", skipped=skipped)
    btc_perp = {i.id: i for i in perps}["BTCUSDT.BINANCE"]
    assert btc_perp.kind is InstrumentKind.CRYPTO_PERPETUAL
    assert str(btc_perp.tick_size) == "0.1"
    assert "only spot and linear swaps" in skipped["BTC/USD:BTC"]  # an inverse perpetual


def test_bybit_recorded_markets_in_tick_sizes_show_the_conversion_is_exchange_generic() -> None:
    exchange = offline("bybit")
    spot = {i.id: i for i in instruments_from_markets(exchange, "BYBIT")}
    btc = spot["BTCUSDT.BYBIT"]
    assert str(btc.tick_size) == "0.1"
    assert str(btc.lot_size) == "0.000001"
    assert btc.min_quantity_raw == 11  # 0.000011
    perps = {i.id: i for i in instruments_from_markets(exchange, "BYBIT", market_type="swap")}
    assert perps["BTCUSDT.BYBIT"].kind is InstrumentKind.CRYPTO_PERPETUAL
    assert str(perps["BTCUSDT.BYBIT"].lot_size) == "0.001"
    assert resolve_symbols(exchange, ["BTCUSDT.BYBIT"], {}, "swap") == {
        "BTCUSDT.BYBIT": "BTC/USDT:USDT"
    }


def test_unknown_symbols_are_config_errors_naming_the_instrument() -> None:
    exchange = offline("bybit")
    with pytest.raises(ConfigError, match=r"instrument NOPE\.BYBIT: bybit has no spot market"):
        resolve_symbols(exchange, ["NOPE.BYBIT"], {}, "spot")
    with pytest.raises(ConfigError, match="not a market of bybit"):
        resolve_symbols(exchange, ["X.BYBIT"], {"X.BYBIT": "X/Y"}, "spot")
    assert resolve_symbols(exchange, ["X.BYBIT"], {"X.BYBIT": "ETH/USDT"}, "spot") == {
        "X.BYBIT": "ETH/USDT"
    }
    with pytest.raises(ConfigError, match="has no market 'NOPE/USDT'"):
        instruments_from_markets(exchange, "BYBIT", symbols=["NOPE/USDT"])

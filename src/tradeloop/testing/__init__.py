"""Testing tools shipped with tradeloop: local exchange emulators that speak the real venues'
APIs, and ccxt clients pointed at them.

Start an emulator and point an unmodified ccxt client at it::

    from tradeloop.testing import BinanceEmulatorConfig, ccxt_binance, start_binance_emulator

    with start_binance_emulator(BinanceEmulatorConfig()) as emulator:
        exchange = ccxt_binance(emulator.url, "emulator-key", "emulator-secret")
        ...  # await exchange.load_markets(), create_order(...), ...

and alpaca-py at the Alpaca emulator (every ``url_override`` keeps Alpaca's paths)::

    from alpaca.trading.client import TradingClient
    from tradeloop.testing import start_alpaca_emulator

    with start_alpaca_emulator() as emulator:
        trading = TradingClient("emulator-key", "emulator-secret", url_override=emulator.url)
        # TradingStream(..., url_override=emulator.url.replace("http", "ws") + "/stream")
        # StockDataStream(..., url_override=emulator.url.replace("http", "ws") + "/v2/iex")
        # StockHistoricalDataClient(..., url_override=emulator.url)
"""

from tradeloop.testing.ccxt_clients import ccxt_binance, repoint_urls
from tradeloop.testing.emulators import (
    DEFAULT_ALPACA_KEY_ID,
    DEFAULT_ALPACA_SECRET,
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    AlpacaEmulator,
    AlpacaEmulatorConfig,
    BinanceEmulator,
    BinanceEmulatorConfig,
    EmulatorThread,
    FaultConfig,
    run_alpaca_emulator,
    run_binance_emulator,
    start_alpaca_emulator,
    start_binance_emulator,
)

__all__ = [
    "DEFAULT_ALPACA_KEY_ID",
    "DEFAULT_ALPACA_SECRET",
    "DEFAULT_API_KEY",
    "DEFAULT_SECRET",
    "AlpacaEmulator",
    "AlpacaEmulatorConfig",
    "BinanceEmulator",
    "BinanceEmulatorConfig",
    "EmulatorThread",
    "FaultConfig",
    "ccxt_binance",
    "repoint_urls",
    "run_alpaca_emulator",
    "run_binance_emulator",
    "start_alpaca_emulator",
    "start_binance_emulator",
]

"""Testing tools shipped with tradeloop: local exchange emulators that speak the real venues'
APIs, and ccxt clients pointed at them.

Start an emulator and point an unmodified ccxt client at it::

    from tradeloop.testing import BinanceEmulatorConfig, ccxt_binance, start_binance_emulator

    with start_binance_emulator(BinanceEmulatorConfig()) as emulator:
        exchange = ccxt_binance(emulator.url, "emulator-key", "emulator-secret")
        ...  # await exchange.load_markets(), create_order(...), ...
"""

from tradeloop.testing.ccxt_clients import ccxt_binance, repoint_urls
from tradeloop.testing.emulators import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulator,
    BinanceEmulatorConfig,
    EmulatorThread,
    FaultConfig,
    run_binance_emulator,
    start_binance_emulator,
)

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_SECRET",
    "BinanceEmulator",
    "BinanceEmulatorConfig",
    "EmulatorThread",
    "FaultConfig",
    "ccxt_binance",
    "repoint_urls",
    "run_binance_emulator",
    "start_binance_emulator",
]

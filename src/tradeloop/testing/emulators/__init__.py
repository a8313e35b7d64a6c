"""Local exchange emulators that speak real venue APIs (REST, signatures, errors, rate
limits, WebSocket streams) over a recorded market, matched by tradeloop's simulated venue."""

from tradeloop.testing.emulators._faults import FaultConfig
from tradeloop.testing.emulators._server import EmulatorThread
from tradeloop.testing.emulators.alpaca import (
    DEFAULT_ALPACA_KEY_ID,
    DEFAULT_ALPACA_SECRET,
    AlpacaEmulator,
    AlpacaEmulatorConfig,
    run_alpaca_emulator,
    start_alpaca_emulator,
)
from tradeloop.testing.emulators.binance import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulator,
    BinanceEmulatorConfig,
    run_binance_emulator,
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
    "run_alpaca_emulator",
    "run_binance_emulator",
    "start_alpaca_emulator",
    "start_binance_emulator",
]

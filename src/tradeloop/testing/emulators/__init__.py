"""Local exchange emulators that speak real venue APIs (REST, signatures, errors, rate
limits, WebSocket streams) over a recorded market, matched by tradeloop's simulated venue."""

from tradeloop.testing.emulators._faults import FaultConfig
from tradeloop.testing.emulators._server import EmulatorThread
from tradeloop.testing.emulators.binance import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulator,
    BinanceEmulatorConfig,
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
    "run_binance_emulator",
    "start_binance_emulator",
]

"""A Binance emulator on a free loopback port, shared by the tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tradeloop.testing import BinanceEmulatorConfig, EmulatorThread, start_binance_emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running

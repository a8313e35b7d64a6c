"""Fixtures of the ccxt adapter tests: a Binance emulator, an inbox on a live clock and the
test credentials in the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tradeloop.bus.inbox import Inbox
from tradeloop.core.clock import LiveClock
from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulatorConfig,
    EmulatorThread,
    start_binance_emulator,
)


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running


@pytest.fixture
def inbox() -> Inbox:
    return Inbox(LiveClock())


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_TEST_BINANCE_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("TL_TEST_BINANCE_SECRET", DEFAULT_SECRET)

"""An Alpaca emulator per test module, the adapter's config pointed at it, and a live inbox."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tradeloop.bus.inbox import Inbox
from tradeloop.core.clock import LiveClock
from tradeloop.model.instruments import Instrument
from tradeloop.testing import (
    DEFAULT_ALPACA_KEY_ID,
    DEFAULT_ALPACA_SECRET,
    AlpacaEmulatorConfig,
    EmulatorThread,
    start_alpaca_emulator,
)
from tradeloop.venues.alpaca import (
    AlpacaConnectionConfig,
    AlpacaCredentials,
    Secret,
    fetch_assets,
)

CREDENTIALS = AlpacaCredentials(Secret(DEFAULT_ALPACA_KEY_ID), Secret(DEFAULT_ALPACA_SECRET))


@pytest.fixture(scope="module")
def alpaca() -> Iterator[EmulatorThread]:
    # speed 60: one replayed bar a second, so the streams have something to say in a test
    with start_alpaca_emulator(AlpacaEmulatorConfig(speed=60.0)) as running:
        yield running


def connection(url: str, **settings: Any) -> AlpacaConnectionConfig:
    """Return a connection config pointed at the emulator at ``url`` (fast retries)."""
    defaults: dict[str, Any] = {
        "base_url": url,
        "request_timeout_s": 2.0,
        "retry_base_ms": 20,
        "retry_max_ms": 200,
    }
    return AlpacaConnectionConfig(**(defaults | settings))


@pytest.fixture
def inbox() -> Inbox:
    return Inbox(LiveClock())


def drain_until(
    inbox: Inbox, is_done: Callable[[list[Any]], bool], timeout_s: float = 10.0
) -> list[Any]:
    """Take records from ``inbox`` until ``is_done(records)`` or the deadline; return them."""
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while not is_done(records):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            records.append(inbox.get(timeout=min(left, 0.2)))
        except queue.Empty:
            continue
    return records


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``condition`` every 20 ms until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture(scope="module")
def instruments(alpaca: EmulatorThread) -> list[Instrument]:
    return [asset.instrument for asset in fetch_assets(connection(alpaca.url), CREDENTIALS)]

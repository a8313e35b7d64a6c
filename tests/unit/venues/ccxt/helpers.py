"""Helpers of the ccxt adapter tests: the emulator's instrument, a connection to it, and
deadline-bound polls of the inbox."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from tradeloop.bus.inbox import Inbox
from tradeloop.model.instruments import crypto_spot
from tradeloop.venues.ccxt import CcxtConnectionConfig

BTCUSDT = crypto_spot(
    "BTCUSDT", "BINANCE", base="BTC", quote="USDT", price_precision=2, size_precision=6,
    tick_size="0.01", lot_size="0.000001",
)  # fmt: skip


def connection(url: str, **overrides: Any) -> CcxtConnectionConfig:
    """Return a connection to the emulator at ``url`` with the test credentials' names."""
    settings: dict[str, Any] = {
        "exchange": "binance",
        "base_url": url,
        "api_key_env": "TL_TEST_BINANCE_KEY",
        "secret_env": "TL_TEST_BINANCE_SECRET",
        "retry_base_s": 0.1,
        "retry_max_s": 0.5,
    }
    settings.update(overrides)
    return CcxtConnectionConfig(**settings)


def collect(inbox: Inbox, done: Callable[[list[Any]], bool], timeout_s: float = 10.0) -> list[Any]:
    """Take items from the inbox until ``done(items)`` or the deadline; return them all."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while not done(items) and time.monotonic() < deadline:
        try:
            items.append(inbox.get(timeout=min(0.1, max(0.0, deadline - time.monotonic()))))
        except queue.Empty:
            continue
    return items


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``check`` until it is true or the deadline passes; return its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()

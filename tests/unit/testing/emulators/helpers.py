"""Helpers of the emulator tests: run a coroutine, call the control endpoints, build clients."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Coroutine
from typing import Any, TypeVar

from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    ccxt_binance,
)

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a fresh event loop."""
    return asyncio.run(coroutine)


def control(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call a ``/_emulator`` endpoint (POST when ``body`` is given) and return its JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}{path}", data=data, method="GET" if data is None else "POST"
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def client(url: str, *, pro: bool = False, secret: str = DEFAULT_SECRET, **config: Any) -> Any:
    """Return an unmodified ccxt binance client pointed at the emulator."""
    return ccxt_binance(url, DEFAULT_API_KEY, secret, pro=pro, config=config)

"""Small typed helpers around ccxt (which has no type stubs): building a client, typing its
errors, reading its numbers, and the event-loop thread every ccxt client runs on."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt

from tradeloop.core.errors import TransientVenueError, VenueError, VenueRejectedError
from tradeloop.venues.ccxt._config import CcxtConnectionConfig, Credentials

T = TypeVar("T")

# ccxt's errors that may succeed when retried (the request was not processed, or its outcome
# is unknown); everything else ccxt raises is the venue refusing the request.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    ccxt.OperationFailed,  # NetworkError: RequestTimeout, RateLimitExceeded, DDoSProtection,
    # ExchangeNotAvailable; and a server busy answer (binance -1008)
)
# A refused-before-processing answer: resending needs no check of the order's fate.
NOT_PROCESSED_ERRORS: tuple[type[Exception], ...] = (ccxt.RateLimitExceeded, ccxt.DDoSProtection)
# Venue codes that ccxt raises as a plain ExchangeError but that mean "busy or unknown, try
# again": Binance -1001 (internal error), -1007 (backend timeout, execution status unknown),
# -1008 (server overloaded, sent with HTTP 503).
TRANSIENT_CODES: dict[str, frozenset[str]] = {
    "binance": frozenset({"-1001", "-1007", "-1008"}),
    "binanceusdm": frozenset({"-1001", "-1007", "-1008"}),
}


def repoint(urls: Any, base_url: str) -> Any:
    """Return ccxt's ``urls['api']`` with scheme and host of every URL replaced by
    ``base_url``, paths kept; WebSocket URLs become ``ws://``/``wss://``."""
    if isinstance(urls, dict):
        return {key: repoint(value, base_url) for key, value in urls.items()}
    if not isinstance(urls, str) or "://" not in urls:
        return urls
    parts = urlsplit(urls)
    base = urlsplit(base_url)
    if parts.scheme in ("ws", "wss"):
        scheme = "wss" if base.scheme == "https" else "ws"
    else:
        scheme = base.scheme
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{base.netloc}{parts.path}{query}"


def make_exchange(config: CcxtConnectionConfig, credentials: Credentials | None) -> Any:
    """Return a ``ccxt.pro`` client (REST and WebSocket methods) for ``config``."""
    import ccxt.pro

    settings: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": config.timeout_ms,
        "options": {
            "defaultType": "spot" if config.market_type == "spot" else "swap",
            "warnOnFetchOpenOrdersWithoutSymbol": False,
        },
    }
    if credentials is not None:
        settings["apiKey"] = credentials.api_key.get_secret_value()
        settings["secret"] = credentials.secret.get_secret_value()
    exchange = getattr(ccxt.pro, config.exchange)(settings)
    if config.base_url is not None:
        exchange.urls["api"] = repoint(exchange.urls["api"], config.base_url)
        exchange.enableRateLimit = False  # the emulator enforces its own limits
        only_market_type(exchange, config.market_type)
    return exchange


def only_market_type(exchange: Any, market_type: str) -> None:
    """Make ``exchange`` load only the markets of ``market_type`` (``spot``, or ``swap``:
    linear contracts), where its ``fetchMarkets`` option lists types.

    With every API on one host (an emulator), ccxt.pro cannot tell a spot stream from a
    futures stream by the host any more (Binance: ``stream.binance.com`` vs
    ``fstream.binance.com``), and an id such as ``BTCUSDT`` names both the spot pair and the
    perpetual: loading only the type traded keeps every id unambiguous.
    """
    fetch_markets = exchange.options.get("fetchMarkets")
    if isinstance(fetch_markets, dict) and isinstance(fetch_markets.get("types"), list):
        fetch_markets["types"] = ["spot"] if market_type == "spot" else ["linear"]


def venue_error_code(exchange_id: str, error: BaseException) -> str | None:
    """Return the venue's error code in a ccxt error's JSON body (``None`` if it has none)."""
    text = str(error)
    prefix = f"{exchange_id} "
    body = text[len(prefix) :] if text.startswith(prefix) else text
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict):
        code = parsed.get("code", parsed.get("retCode", parsed.get("error_code")))
        return None if code is None else str(code)
    return None


def is_transient(exchange_id: str, error: BaseException) -> bool:
    """Return whether ccxt's ``error`` may succeed when retried."""
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    code = venue_error_code(exchange_id, error)
    return code is not None and code in TRANSIENT_CODES.get(exchange_id, frozenset())


def _code_and_message(body: Any) -> tuple[Any, Any] | None:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if not isinstance(body, dict):
        return None
    code = body.get("code", body.get("retCode", body.get("error_code")))
    message = body.get("msg", body.get("retMsg", body.get("message")))
    if code is None or message is None:
        return None
    return code, message


def venue_error_text(exchange_id: str, error: BaseException, last_body: Any = None) -> str:
    """Return ``"<exchange> <code>: <message>"`` from a ccxt error.

    The code comes from the error's JSON body, else from ``last_body`` (the exchange's
    ``last_http_response``) when the error quotes that body's message: ccxt words some
    errors itself ("binance Account has insufficient balance ...") and drops the code.
    """
    text = str(error)
    prefix = f"{exchange_id} "
    body = text[len(prefix) :] if text.startswith(prefix) else text
    parsed = _code_and_message(body)
    if parsed is None and last_body is not None:
        candidate = _code_and_message(last_body)
        if candidate is not None and str(candidate[1]) and str(candidate[1]) in text:
            parsed = candidate
    if parsed is not None:
        return f"{exchange_id} {parsed[0]}: {parsed[1]}"
    try:
        listed = json.loads(body)
    except ValueError:
        listed = None
    if isinstance(listed, dict) and isinstance(listed.get("error"), list) and listed["error"]:
        return f"{exchange_id}: {'; '.join(str(item) for item in listed['error'])}"  # kraken
    name = type(error).__name__
    return f"{exchange_id} {name}: {body}" if body else f"{exchange_id} {name}"


def to_venue_error(
    exchange_id: str,
    error: BaseException,
    credentials: Credentials | None,
    last_body: Any = None,
) -> VenueError:
    """Return ccxt's ``error`` as tradeloop's: transient (retry) or rejected (never retry),
    its text scrubbed of the credentials (``last_body``: see ``venue_error_text``)."""
    text = venue_error_text(exchange_id, error, last_body)
    if credentials is not None:
        text = credentials.scrub(text)
    if is_transient(exchange_id, error):
        return TransientVenueError(text)
    return VenueRejectedError(text)


def backoff_s(config: CcxtConnectionConfig, attempt: int) -> float:
    """Return the wait before retry number ``attempt`` (0-based): base · 2^attempt, capped."""
    return float(min(config.retry_max_s, config.retry_base_s * (2**attempt)))


def to_decimal(value: Any) -> Decimal | None:
    """Return ccxt's number (float, int or string) as a ``Decimal`` (``None`` if absent)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that reads back as the float
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"{value!r} is not a number")


def ms_to_ns(value: Any) -> int | None:
    """Return ccxt's millisecond timestamp in nanoseconds (``None`` if absent)."""
    if value is None or isinstance(value, bool):
        return None
    return int(value) * 1_000_000


class LoopThread:
    """An asyncio event loop running on its own daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @property
    def is_running(self) -> bool:
        """Return whether the loop's thread is alive."""
        return self._thread.is_alive()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for its result (from another thread)."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TransientVenueError(
                f"the venue did not answer within {timeout_s} seconds"
            ) from None

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Start ``coroutine`` on the loop and return at once."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Cancel every task, stop the loop and join its thread."""
        if not self._thread.is_alive():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(timeout_s)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self.loop.close()

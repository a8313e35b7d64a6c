"""Typed helpers around alpaca-py's REST clients: building them (no retries of their own, a
request timeout), turning their failures into tradeloop's venue errors, and the bounded
exponential backoff."""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

from tradeloop.core.errors import TransientVenueError, VenueRejectedError
from tradeloop.venues.alpaca.config import AlpacaConnectionConfig, AlpacaCredentials, alpaca_urls

T = TypeVar("T")
log = logging.getLogger("tradeloop.venues.alpaca")


class AlpacaRejectedError(VenueRejectedError):
    """Alpaca refused a request (HTTP 4xx): ``status``, Alpaca's ``code`` and ``text``."""

    def __init__(self, message: str, status: int, code: int, text: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.text = text


class AlpacaTransientError(TransientVenueError):
    """Alpaca could not answer now (429, 5xx, a timeout, no connection): ``status`` is 0
    without an HTTP answer."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff: retry ``n`` waits ``min(base_s * 2**(n-1), max_s)``."""

    max_retries: int
    base_s: float
    max_s: float

    @classmethod
    def from_config(cls, config: AlpacaConnectionConfig) -> RetryPolicy:
        """Return the policy of ``config``."""
        return cls(config.max_retries, config.retry_base_ms / 1000.0, config.retry_max_ms / 1000.0)

    def delay_s(self, retry: int) -> float:
        """Return the wait before retry number ``retry`` (1-based), in seconds."""
        return float(min(self.base_s * 2 ** (retry - 1), self.max_s))


def trading_client(config: AlpacaConnectionConfig, credentials: AlpacaCredentials) -> TradingClient:
    """Return an alpaca-py ``TradingClient`` answering raw JSON, with the config's timeout."""
    client = TradingClient(
        credentials.api_key.reveal(),
        credentials.secret.reveal(),
        paper=config.paper,
        raw_data=True,
        url_override=alpaca_urls(config).trading,
    )
    # alpaca-py retries 429s itself (3 times, 3 s apart, silently): off, so that the backoff
    # below is the only one and every retry is announced
    client._retry = 0
    # alpaca-py sends without a timeout: an order request the venue never answers would hang
    # the worker forever; every request gets the config's timeout instead
    session: Any = client._session
    session.request = functools.partial(session.request, timeout=config.request_timeout_s)
    return client


def _alpaca_body(error: APIError) -> tuple[int, str]:
    text = str(error)
    try:
        body = json.loads(text)
    except ValueError:
        return 0, text.strip()[:200]
    if not isinstance(body, dict):
        return 0, text.strip()[:200]
    code = body.get("code", 0)
    return (code if isinstance(code, int) else 0), str(body.get("message", ""))


def translate(error: Exception, what: str) -> Exception:
    """Return ``error`` (from alpaca-py or requests) as a tradeloop venue error.

    429 and 5xx answers, timeouts and connection failures are ``AlpacaTransientError``; other
    HTTP errors are ``AlpacaRejectedError``; anything else is returned unchanged.
    """
    if isinstance(error, APIError):
        status = error.status_code or 0
        code, text = _alpaca_body(error)
        message = f"{what}: Alpaca answered HTTP {status} ({code} {text})"
        if status == 429 or status >= 500 or status == 0:
            return AlpacaTransientError(message, status)
        return AlpacaRejectedError(message, status, code, text)
    if isinstance(error, requests.Timeout):
        return AlpacaTransientError(
            f"{what}: Alpaca did not answer in time ({type(error).__name__})"
        )
    if isinstance(error, requests.RequestException):
        return AlpacaTransientError(f"{what}: Alpaca cannot be reached ({type(error).__name__})")
    return error


def call(what: str, request: Callable[[], T]) -> T:
    """Run one alpaca-py request, raising tradeloop's venue errors (``translate``)."""
    try:
        return request()
    except (APIError, requests.RequestException) as error:
        raise translate(error, what) from None


def with_retries(
    what: str,
    request: Callable[[], T],
    policy: RetryPolicy,
    stop: threading.Event,
    on_retry: Callable[[int, TransientVenueError, float], None],
    recover: Callable[[], T | None] | None = None,
) -> T:
    """Run ``request`` (through ``call``), retrying transient failures with ``policy``.

    Before each retry ``on_retry(retry, error, delay_s)`` is told; after the wait ``recover``
    (when given) may return the outcome of the failed attempt instead (an order found by its
    client order id), and then nothing is resent.

    Raises
    ------
    TransientVenueError
        When the retries are used up or ``stop`` is set while waiting.
    VenueRejectedError
        When Alpaca refuses the request (never retried).
    """
    retry = 0
    while True:
        try:
            return call(what, request)
        except TransientVenueError as error:
            retry += 1
            if retry > policy.max_retries:
                raise AlpacaTransientError(
                    f"{error} (gave up after {policy.max_retries} retries)"
                ) from None
            delay = policy.delay_s(retry)
            on_retry(retry, error, delay)
            if stop.wait(delay):
                raise AlpacaTransientError(f"{what}: stopped while retrying") from None
        if recover is not None:
            found = recover()
            if found is not None:
                return found

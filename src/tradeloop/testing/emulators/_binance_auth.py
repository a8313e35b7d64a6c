"""Binance request security and rate limits, as the spot API documents them.

Signed endpoints (``SIGNED``): ``X-MBX-APIKEY`` must name a known key (-2014 when missing or
malformed, -2015 when unknown), ``timestamp`` must lie within ``recvWindow`` (default 5000,
at most 60000 ms) of the server time and at most 1000 ms ahead (-1021), and ``signature``
must be the hex HMAC-SHA256, keyed with the secret, of the request's total parameters: the
query string concatenated with the body, exactly as sent, without the ``signature``
parameter (-1022).

Rate limits: request weight per minute (``X-MBX-USED-WEIGHT-1M`` on every answer) and orders
per 10 seconds and per day (``X-MBX-ORDER-COUNT-10S``, ``X-MBX-ORDER-COUNT-1D`` on order
answers), counted in fixed windows of the clock as Binance does. Over a limit: 429 with
``Retry-After`` (seconds to the window's end) and -1003 (weight) or -1015 (orders).
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

from tradeloop.testing.emulators._binance_types import BinanceError, mandatory

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Return ``raw`` (an urlencoded string) without its ``signature`` parameter, and that
    parameter's value."""
    kept: list[str] = []
    signature = None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def sign(secret: str, payload: str) -> str:
    """Return the hex HMAC-SHA256 of ``payload`` keyed with ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def check_api_key(api_key: str | None, keys: dict[str, str]) -> str:
    """Return the secret of ``api_key``.

    Raises
    ------
    BinanceError
        -2014 (missing or malformed key) or -2015 (unknown key).
    """
    if not api_key or not api_key.isprintable() or " " in api_key:
        raise BinanceError(401, -2014, "API-key format invalid.")
    secret = keys.get(api_key)
    if secret is None:
        raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
    return secret


def check_signed(
    secret: str, raw_query: str, raw_body: str, params: dict[str, str], server_ms: int
) -> None:
    """Check the timestamp window and the signature of a signed request.

    Raises
    ------
    BinanceError
        -1102 (missing timestamp or signature), -1021 (timestamp outside the window) or
        -1022 (signature not valid).
    """
    timestamp_text = params.get("timestamp")
    if not timestamp_text:
        raise mandatory("timestamp")
    try:
        timestamp = int(timestamp_text)
        recv_window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW_MS))
    except ValueError:
        raise BinanceError(
            400, -1100, "Illegal characters found in parameter 'timestamp'."
        ) from None
    if recv_window > MAX_RECV_WINDOW_MS or recv_window <= 0:
        raise BinanceError(400, -1131, "recvWindow must be less than 60000")
    if timestamp > server_ms + 1000:
        raise BinanceError(
            400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if server_ms - timestamp > recv_window:
        raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    query, query_signature = strip_signature(raw_query)
    body, body_signature = strip_signature(raw_body)
    signature = query_signature or body_signature
    if not signature:
        raise mandatory("signature")
    if not hmac.compare_digest(sign(secret, query + body), signature.lower()):
        raise BinanceError(400, -1022, "Signature for this request is not valid.")


class RateLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Binance spot's limits: request weight per minute, orders per 10 s and per day."""

    weight_per_minute: int = 6000
    orders_per_10s: int = 100
    orders_per_day: int = 200000


class RateLimiter:
    """Fixed-window counters of request weight and orders."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._minute = -1
        self._weight = 0
        self._ten_seconds = -1
        self._orders_10s = 0
        self._day = -1
        self._orders_day = 0

    def _roll(self, now_ms: int) -> None:
        minute, ten, day = now_ms // 60000, now_ms // 10000, now_ms // 86_400_000
        if minute != self._minute:
            self._minute, self._weight = minute, 0
        if ten != self._ten_seconds:
            self._ten_seconds, self._orders_10s = ten, 0
        if day != self._day:
            self._day, self._orders_day = day, 0

    def spend(self, weight: int, is_order: bool, now_ms: int) -> dict[str, str]:
        """Count a request and return its rate-limit headers.

        Raises
        ------
        RateLimitedError
            When a limit is exceeded (the request is counted all the same, as Binance does).
        """
        self._roll(now_ms)
        self._weight += weight
        headers = {"X-MBX-USED-WEIGHT-1M": str(self._weight)}
        if is_order:
            self._orders_10s += 1
            self._orders_day += 1
            headers["X-MBX-ORDER-COUNT-10S"] = str(self._orders_10s)
            headers["X-MBX-ORDER-COUNT-1D"] = str(self._orders_day)
        if self._weight > self.limits.weight_per_minute:
            raise RateLimitedError(
                BinanceError(
                    429,
                    -1003,
                    f"Too many requests; current limit of IP(127.0.0.1) request weight per minute "
                    f"is {self.limits.weight_per_minute}. Please use WebSocket Streams for live "
                    "updates to avoid polling the API.",
                ),
                headers,
                retry_after_s=60 - (now_ms // 1000) % 60,
            )
        if is_order and self._orders_10s > self.limits.orders_per_10s:
            raise RateLimitedError(
                BinanceError(
                    429,
                    -1015,
                    f"Too many new orders; current limit is {self.limits.orders_per_10s} orders "
                    "per TEN_SECONDS.",
                ),
                headers,
                retry_after_s=10 - (now_ms // 1000) % 10,
            )
        if is_order and self._orders_day > self.limits.orders_per_day:
            raise RateLimitedError(
                BinanceError(
                    429,
                    -1015,
                    f"Too many new orders; current limit is {self.limits.orders_per_day} orders "
                    "per DAY.",
                ),
                headers,
                retry_after_s=86400 - (now_ms // 1000) % 86400,
            )
        return headers

    def used_weight(self) -> int:
        """Return the weight counted in the current minute."""
        return self._weight


class RateLimitedError(Exception):
    """A request over a rate limit: the error, the headers, and when to retry."""

    def __init__(self, error: BinanceError, headers: dict[str, str], retry_after_s: int) -> None:
        super().__init__(error.msg)
        self.error = error
        self.headers = headers
        self.retry_after_s = max(1, retry_after_s)

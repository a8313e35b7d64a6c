"""The Alpaca emulator's wire formats: market data frames (msgpack or JSON) and query times."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgpack

from tradeloop.testing.emulators._alpaca_state import AlpacaError, rfc3339


def msgpack_frame(message: Any) -> bytes:
    """Return a market data message as alpaca-py reads it: msgpack, times as Timestamps."""

    def convert(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: msgpack.Timestamp.from_unix_nano(v) if k == "t" else convert(v)
                    for k, v in item.items()}  # fmt: skip
        if isinstance(item, list):
            return [convert(value) for value in item]
        return item

    packed: bytes = msgpack.packb(convert(message))
    return packed


def json_frame(message: Any) -> str:
    """Return a market data message as JSON, times as RFC 3339 text."""

    def convert(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: rfc3339(v) if k == "t" and isinstance(v, int) else convert(v)
                    for k, v in item.items()}  # fmt: skip
        if isinstance(item, list):
            return [convert(value) for value in item]
        return item

    return json.dumps(convert(message), separators=(",", ":"))


def parse_time(text: str) -> int:
    """Return an RFC 3339 query time as nanoseconds (422 when it is not one)."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AlpacaError(422, 42210000, f"invalid time {text}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000

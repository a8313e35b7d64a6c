"""Integer-nanosecond UTC time and conversions for display and input parsing.

Every timestamp inside tradeloop is an ``int`` of nanoseconds since the Unix epoch, UTC.
``datetime`` appears only at the edges: parsing user input and formatting output.
"""

from __future__ import annotations

import datetime as dt

from tradeloop.core.errors import InvalidValueError

NANOS_PER_MICRO = 1_000
NANOS_PER_MILLI = 1_000_000
NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MINUTE = 60 * NANOS_PER_SECOND
NANOS_PER_HOUR = 60 * NANOS_PER_MINUTE
NANOS_PER_DAY = 24 * NANOS_PER_HOUR

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def dt_to_ns(value: dt.datetime) -> int:
    """Return ``value`` as nanoseconds since the epoch.

    Raises
    ------
    InvalidValueError
        If ``value`` is naive (has no time zone): tradeloop never guesses a zone.
    """
    if value.tzinfo is None:
        raise InvalidValueError(f"datetime {value.isoformat()} has no time zone; give one (UTC)")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NANOS_PER_SECOND + delta.microseconds * 1_000


def ns_to_dt(ts_ns: int) -> dt.datetime:
    """Return ``ts_ns`` as an aware UTC datetime (microsecond resolution, for display)."""
    return _EPOCH + dt.timedelta(microseconds=ts_ns // 1_000)


def ns_to_iso(ts_ns: int) -> str:
    """Return ``ts_ns`` as ISO-8601 UTC with nanoseconds: ``2020-01-01T00:00:00.000000000Z``."""
    seconds, nanos = divmod(ts_ns, NANOS_PER_SECOND)
    base = (_EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos:09d}Z"


def parse_time(text: str) -> int:
    """Parse an ISO-8601 date or datetime into nanoseconds since the epoch.

    A date (``2014-03-05``) means midnight UTC; a datetime without offset is read as UTC.

    Raises
    ------
    InvalidValueError
        If ``text`` is not an ISO-8601 date or datetime.
    """
    raw = text.strip()
    try:
        if raw.endswith("Z"):
            raw = raw[:-1] + "+00:00"
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidValueError(f"time {text!r} is not an ISO-8601 date or datetime") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return dt_to_ns(value)

"""From an equity curve to returns: simple returns, and end-of-day resampling of intraday curves.

An equity curve is ``ts_ns`` (int64 nanoseconds since the epoch, UTC, strictly increasing)
plus ``equity`` (float, above 0), possibly one point per minute or per fill. Daily metrics
need one point per day: ``daily_equity`` keeps the **last point of each day**, where a day is

- a calendar day in the time zone ``tz`` (an IANA name such as ``"America/New_York"``;
  ``"UTC"`` by default), shifted by
- ``session_start_offset_ns``: the session of date D starts at local midnight of D plus this
  offset. 0 gives calendar days; ``-7 * NANOS_PER_HOUR`` with ``tz="America/Chicago"`` gives
  CME Globex sessions (17:00 the evening before to 17:00), so a point at 18:00 on Monday
  counts towards Tuesday's session.

Days without a point are absent (no forward fill): a return then spans the gap, which is what
an end-of-day equity series of a trading calendar looks like (weekends and holidays).
"""

from __future__ import annotations

import zoneinfo
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradeloop.analytics.metrics import _checks
from tradeloop.analytics.metrics._checks import F64, I64
from tradeloop.core.errors import InvalidValueError
from tradeloop.core.time import NANOS_PER_DAY


class DailyEquity(NamedTuple):
    """End-of-day points of an equity curve.

    ``session_date_ns`` labels each day with UTC midnight of its (session) date;
    ``ts_ns`` and ``equity`` are the timestamp and value of the day's last point.
    """

    session_date_ns: I64
    ts_ns: I64
    equity: F64


def returns_from_equity(equity: npt.ArrayLike) -> F64:
    """Return the simple returns between consecutive points, as ``empyrical.simple_returns``.

    ``(equity[1:] - equity[:-1]) / equity[:-1]``: one return fewer than points.

    Raises
    ------
    InvalidValueError
        If ``equity`` has fewer than 2 points or is not one-dimensional.
    DataIntegrityError
        If an equity value is NaN, infinite, zero or negative.
    """
    e = _checks.as_equity("returns_from_equity", equity, 2)
    return np.diff(e) / e[:-1]


def equity_from_returns(returns: npt.ArrayLike, starting_equity: float = 1.0) -> F64:
    """Return the equity curve that compounds ``returns`` from ``starting_equity``.

    ``[s, s * cumprod(1 + r)]``: one point more than returns, the first one being the start
    (empyrical ``cum_returns(returns, starting_value=s)`` without that first point).

    Raises
    ------
    InvalidValueError
        If ``starting_equity`` is not a finite number above 0.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("equity_from_returns", returns, 0)
    start = float(starting_equity)
    if not 0.0 < start < float("inf"):
        raise InvalidValueError(
            f"equity_from_returns starting_equity {starting_equity!r} is invalid; "
            "it must be a finite number above 0"
        )
    out = np.empty(len(r) + 1)
    out[0] = start
    np.multiply(np.cumprod(r + 1.0), start, out=out[1:])
    return out


def _local_wall_ns(metric: str, ts_ns: I64, tz: str) -> I64:
    # Nanoseconds of the local wall-clock time in ``tz`` (what a clock on the wall shows).
    if tz == "UTC":
        return ts_ns
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidValueError(
            f"{metric} tz {tz!r} is not an IANA time zone name (for example 'America/New_York')"
        ) from None
    local = pd.DatetimeIndex(ts_ns.view("datetime64[ns]"), tz="UTC").tz_convert(tz)
    return np.asarray(local.tz_localize(None).asi8, dtype=np.int64)


def _session_days(metric: str, ts_ns: I64, tz: str, session_start_offset_ns: int) -> I64:
    """Return the session date of each timestamp, as whole days since the epoch.

    Raises
    ------
    InvalidValueError
        If ``tz`` is unknown or the offset is not strictly within one day.
    """
    offset = int(session_start_offset_ns)
    if not -NANOS_PER_DAY < offset < NANOS_PER_DAY:
        raise InvalidValueError(
            f"{metric} session_start_offset_ns {session_start_offset_ns} is invalid; "
            f"it must lie strictly between -{NANOS_PER_DAY} and {NANOS_PER_DAY} (one day)"
        )
    return np.floor_divide(_local_wall_ns(metric, ts_ns, tz) - offset, NANOS_PER_DAY)


# The position of the last point of each day, in time order.
def _last_of_each_day(days: I64) -> I64:
    if len(days) == 0:
        return np.empty(0, dtype=np.int64)
    if np.all(days[1:] >= days[:-1]):
        return np.append(np.flatnonzero(days[1:] != days[:-1]), len(days) - 1).astype(np.int64)
    # A zone whose clocks fall back across the session boundary revisits the previous day for
    # an hour: take the last point carrying each date, then restore time order.
    _, first_in_reversed = np.unique(days[::-1], return_index=True)
    return np.sort(len(days) - 1 - first_in_reversed).astype(np.int64)


def daily_equity(
    ts_ns: npt.ArrayLike,
    equity: npt.ArrayLike,
    tz: str = "UTC",
    session_start_offset_ns: int = 0,
) -> DailyEquity:
    """Return the last point of each day of an equity curve.

    Parameters
    ----------
    ts_ns
        Nanosecond UTC timestamps, strictly increasing.
    equity
        Equity at each timestamp, above 0.
    tz
        IANA time zone whose calendar days (or sessions) group the points.
    session_start_offset_ns
        Start of the session of date D relative to local midnight of D (see the module
        docstring); 0 for calendar days.

    Raises
    ------
    InvalidValueError
        If the curve is empty, the lengths differ, ``tz`` is unknown or the offset is not
        within one day.
    DataIntegrityError
        If an equity value is not a finite number above 0, or timestamps do not increase.
    """
    e = _checks.as_equity("daily_equity", equity, 1)
    ts = _checks.as_timestamps("daily_equity", ts_ns, len(e))
    days = _session_days("daily_equity", ts, tz, session_start_offset_ns)
    last = _last_of_each_day(days)
    return DailyEquity(session_date_ns=days[last] * NANOS_PER_DAY, ts_ns=ts[last], equity=e[last])


def daily_returns(
    ts_ns: npt.ArrayLike,
    equity: npt.ArrayLike,
    tz: str = "UTC",
    session_start_offset_ns: int = 0,
    is_first_point_kept: bool = False,
) -> F64:
    """Return the simple returns between end-of-day equities of a (possibly intraday) curve.

    The curve is first resampled with ``daily_equity`` (last point of each day), then
    ``returns_from_equity`` gives one return per day after the first.

    Parameters
    ----------
    ts_ns, equity, tz, session_start_offset_ns
        As for ``daily_equity``.
    is_first_point_kept
        Keep the curve's first point as the base of the first return when it is not already
        the last point of its day. A backtest that starts at 09:30 with its initial capital
        then has a first return for its first day (from the start to that day's close), and
        the returns compound to ``equity[-1] / equity[0] - 1``. Without it the first day only
        provides the base.

    Raises
    ------
    InvalidValueError
        If the curve gives fewer than 2 daily points, the lengths differ, ``tz`` is unknown or
        the offset is not within one day.
    DataIntegrityError
        If an equity value is not a finite number above 0, or timestamps do not increase.
    """
    e = _checks.as_equity("daily_returns", equity, 1)
    ts = _checks.as_timestamps("daily_returns", ts_ns, len(e))
    last = _last_of_each_day(_session_days("daily_returns", ts, tz, session_start_offset_ns))
    if is_first_point_kept and last[0] != 0:
        last = np.concatenate((np.zeros(1, dtype=np.int64), last))
    if len(last) < 2:
        raise InvalidValueError(
            f"daily_returns needs equity on at least 2 days (or a first point before the end "
            f"of the first day with is_first_point_kept); got {len(last)} daily point"
        )
    daily = e[last]
    return np.diff(daily) / daily[:-1]

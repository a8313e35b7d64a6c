"""Exchange sessions from ``exchange_calendars``, as int64 nanosecond arrays.

Calendars are built for whole years around the data (``get_calendar`` starts its default
range in the recent past, so the range is always given) and cached per (code, years).
``None`` and ``"24/7"`` mean "always open": callers then reason in plain intervals.

Known limits of the upstream calendars, which show up as gap findings rather than being
papered over here: ``CMES`` (CME Globex) sessions run 17:00 to 17:00 Chicago time with no
daily maintenance break, so 1-minute futures data shows one missing hour per session.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError
from tradeloop.core.time import NANOS_PER_DAY, ns_to_dt

I64 = npt.NDArray[np.int64]

ALWAYS_OPEN: Final = "24/7"
_NO_TIME: Final = np.iinfo(np.int64).min


class Sessions:
    """Sessions of a calendar: label (UTC midnight of the session date), open, close, break.

    ``break_start``/``break_end`` hold ``_NO_TIME`` where a session has no break.
    """

    __slots__ = ("break_end", "break_start", "calendar", "close", "label", "open")

    def __init__(
        self,
        calendar: str,
        label: I64,
        open_ns: I64,
        close_ns: I64,
        break_start: I64,
        break_end: I64,
    ) -> None:
        self.calendar = calendar
        self.label = label
        self.open = open_ns
        self.close = close_ns
        self.break_start = break_start
        self.break_end = break_end

    def __len__(self) -> int:
        return len(self.label)

    def containing(self, ts_ns: I64) -> npt.NDArray[np.bool_]:
        """Return True where a bar closing at ``ts_ns`` lies in a session: ``open < ts <= close``
        and not inside a break (``break_start < ts <= break_end``)."""
        idx = np.searchsorted(self.close, ts_ns, "left")
        inside = idx < len(self.close)
        safe = np.minimum(idx, max(len(self.close) - 1, 0))
        if len(self.close) == 0:
            return np.zeros(len(ts_ns), dtype=np.bool_)
        inside &= ts_ns > self.open[safe]
        has_break = self.break_start[safe] != _NO_TIME
        in_break = has_break & (ts_ns > self.break_start[safe]) & (ts_ns <= self.break_end[safe])
        result: npt.NDArray[np.bool_] = inside & ~in_break
        return result


def is_always_open(calendar: str | None) -> bool:
    """Return whether ``calendar`` means trading around the clock (``None`` or ``"24/7"``)."""
    return calendar is None or calendar == ALWAYS_OPEN


def check_calendar(calendar: str) -> None:
    """Raise ``ConfigError`` if ``calendar`` is not an exchange-calendars code."""
    if calendar != ALWAYS_OPEN and calendar not in _names():
        raise ConfigError(
            f"calendar {calendar!r} is unknown to exchange-calendars; use a code such as XNYS, "
            "CMES, XLON, or 24/7"
        )


def sessions_between(calendar: str, start_ns: int, end_ns: int) -> Sessions:
    """Return the sessions of ``calendar`` in the years around ``start_ns``..``end_ns``.

    The range is widened by a day on both sides and rounded to whole years, so a session that
    opens the evening before its date (CME) is included.

    Raises
    ------
    ConfigError
        If the calendar is unknown or does not cover the years asked for.
    """
    check_calendar(calendar)
    first_year = ns_to_dt(start_ns - NANOS_PER_DAY).year
    last_year = ns_to_dt(end_ns + NANOS_PER_DAY).year
    return _sessions(calendar, first_year, last_year)


@functools.lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    import exchange_calendars as xcals  # with pandas, 1+ s: only when a calendar is used

    return frozenset(xcals.get_calendar_names(include_aliases=True))


@functools.lru_cache(maxsize=32)
def _sessions(calendar: str, first_year: int, last_year: int) -> Sessions:
    import exchange_calendars as xcals  # with pandas, 1+ s: only when a calendar is used

    try:
        # exchange-calendars 4.13 still uses pandas APIs that pandas 3.1 deprecates.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cal: Any = xcals.get_calendar(
                calendar,
                start=dt.date(first_year, 1, 1).isoformat(),
                end=dt.date(last_year, 12, 31).isoformat(),
            )
    except ValueError as exc:  # exchange-calendars refuses dates outside its bounds
        raise ConfigError(
            f"calendar {calendar} cannot cover {first_year}..{last_year}: {exc}".splitlines()[0]
        ) from None
    schedule = cal.schedule
    label = np.asarray(schedule.index.as_unit("ns").asi8, dtype=np.int64)

    def column(name: str) -> I64:
        # NaT (no break) viewed as int64 is the minimum int64, which is ``_NO_TIME``.
        naive = schedule[name].dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns")
        return np.array(naive.to_numpy(dtype="datetime64[ns]").view(np.int64), dtype=np.int64)

    sessions = Sessions(
        calendar, label, column("open"), column("close"), column("break_start"), column("break_end")
    )
    for array in (
        sessions.label,
        sessions.open,
        sessions.close,
        sessions.break_start,
        sessions.break_end,
    ):
        array.setflags(write=False)
    return sessions


def session_closes(calendar: str, day_ns: I64) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Return the session close for each date (given as UTC midnight in ns) and a mask of which
    dates are sessions (the close is 0 where not).

    Early closes (the day after Thanksgiving, Christmas Eve) come from the calendar.
    """
    if len(day_ns) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.bool_)
    sessions = sessions_between(calendar, int(day_ns.min()), int(day_ns.max()))
    idx = np.searchsorted(sessions.label, day_ns, "left")
    safe = np.minimum(idx, len(sessions) - 1)
    is_session = (idx < len(sessions)) & (sessions.label[safe] == day_ns)
    closes = np.where(is_session, sessions.close[safe], 0).astype(np.int64)
    return closes, is_session


def expected_bar_closes(calendar: str, interval_ns: int, start_ns: int, end_ns: int) -> I64:
    """Return every bar close ``open + k * interval_ns`` inside the sessions, within
    ``start_ns..end_ns``; closes inside a break are left out. A last partial bar of a session
    (close not on the interval grid) is stamped at the session close.
    """
    sessions = sessions_between(calendar, start_ns, end_ns)
    keep = (sessions.close >= start_ns) & (sessions.open <= end_ns)
    parts: list[I64] = []
    for open_ns, close_ns, b_start, b_end in zip(
        sessions.open[keep].tolist(),
        sessions.close[keep].tolist(),
        sessions.break_start[keep].tolist(),
        sessions.break_end[keep].tolist(),
        strict=True,
    ):
        closes = np.arange(open_ns + interval_ns, close_ns + 1, interval_ns, dtype=np.int64)
        if len(closes) == 0 or closes[-1] != close_ns:
            closes = np.append(closes, np.int64(close_ns))
        if b_start != _NO_TIME:
            closes = closes[(closes <= b_start) | (closes - interval_ns >= b_end)]
        parts.append(closes)
    if not parts:
        return np.zeros(0, dtype=np.int64)
    every = np.concatenate(parts)
    result: I64 = every[(every >= start_ns) & (every <= end_ns)]
    return result


class SessionStatus(NamedTuple):
    """Whether an instant lies in a session, and the next session open after it."""

    is_open: bool
    next_open_ns: int | None


def session_at(calendar: str | None, ts_ns: int) -> SessionStatus:
    """Return whether ``ts_ns`` lies in a session of ``calendar`` and the next open after it.

    In a session means ``open < ts <= close`` and not inside a break (as ``Sessions.containing``:
    a daily bar stamped at the close is in its session). ``None`` and ``"24/7"`` are always
    open. Sessions are built a decade at a time (cached), so a run asks exchange-calendars
    once or twice.

    Raises
    ------
    ConfigError
        If the calendar is unknown or cannot cover ``ts_ns``.
    """
    if is_always_open(calendar):
        return SessionStatus(True, None)
    assert calendar is not None
    sessions = _decade_sessions(calendar, ns_to_dt(ts_ns).year)
    point = np.array([ts_ns], dtype=np.int64)
    is_open = bool(sessions.containing(point)[0])
    after = int(np.searchsorted(sessions.open, ts_ns, "right"))
    next_open = int(sessions.open[after]) if after < len(sessions) else None
    return SessionStatus(is_open, next_open)


@functools.lru_cache(maxsize=8)
def _decade_sessions(calendar: str, year: int) -> Sessions:
    # The decade holding ``year`` plus the next year (for the next open after a decade's end);
    # near the calendar's bounds (recent years), just the years around ``year``.
    check_calendar(calendar)
    first = year - year % 10
    try:
        return _sessions(calendar, first, first + 10)
    except ConfigError:
        return _sessions(calendar, year - 1, year + 1)

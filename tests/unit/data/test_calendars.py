from __future__ import annotations

import numpy as np
import pytest

from tradeloop.core import NANOS_PER_MINUTE, ConfigError, parse_time
from tradeloop.data import (
    expected_bar_closes,
    session_at,
    session_closes,
    sessions_between,
)


def _days(*dates: str) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    return np.asarray([parse_time(d) for d in dates], dtype=np.int64)


def test_session_close_follows_daylight_saving_and_early_closes() -> None:
    closes, is_session = session_closes(
        "XNYS", _days("2013-07-03", "2013-11-27", "2013-11-28", "2013-11-29", "1995-01-03")
    )
    assert is_session.tolist() == [True, True, False, True, True]
    assert closes[0] == parse_time("2013-07-03T17:00:00Z")  # early close 13:00 EDT
    assert closes[1] == parse_time("2013-11-27T21:00:00Z")
    assert closes[3] == parse_time("2013-11-29T18:00:00Z")  # early close 13:00 EST
    assert closes[4] == parse_time("1995-01-03T21:00:00Z")


def test_exchange_closures_are_not_sessions() -> None:
    # NYSE stayed shut 2001-09-11..14 and for Hurricane Sandy on 2012-10-29/30.
    _closes, is_session = session_closes(
        "XNYS", _days("2001-09-11", "2001-09-14", "2001-09-17", "2012-10-30")
    )
    assert is_session.tolist() == [False, False, True, False]


def test_expected_minute_closes_skip_the_lunch_break() -> None:
    # Hong Kong: 09:30-12:00 and 13:00-16:00 local (01:30-04:00, 05:00-08:00 UTC).
    closes = expected_bar_closes(
        "XHKG", NANOS_PER_MINUTE, parse_time("2023-11-14T00:00Z"), parse_time("2023-11-14T23:00Z")
    )
    assert len(closes) == 150 + 180
    assert closes[0] == parse_time("2023-11-14T01:31:00Z")
    assert closes[149] == parse_time("2023-11-14T04:00:00Z")
    assert closes[150] == parse_time("2023-11-14T05:01:00Z")
    assert closes[-1] == parse_time("2023-11-14T08:00:00Z")


def test_sessions_containing_bar_closes() -> None:
    sessions = sessions_between("XNYS", parse_time("2024-01-02"), parse_time("2024-01-03"))
    stamps = np.asarray(
        [
            parse_time(t)
            for t in (
                "2024-01-02T14:31Z",
                "2024-01-02T14:30Z",
                "2024-01-02T21:00Z",
                "2024-01-02T21:01Z",
            )
        ],
        dtype=np.int64,
    )
    assert sessions.containing(stamps).tolist() == [True, False, True, False]


def test_unknown_calendar_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="NOPE"):
        sessions_between("NOPE", 0, 1)


def test_session_at_a_weekend_a_holiday_a_close_and_around_the_clock() -> None:
    # Independence Day 2008 was a Friday: the next open is Monday 2008-07-07 09:30 EDT.
    holiday = session_at("XNYS", parse_time("2008-07-04T20:00Z"))
    assert holiday == (False, parse_time("2008-07-07T13:30Z"))
    weekend = session_at("XNYS", parse_time("2008-06-21T15:00Z"))  # a Saturday
    assert weekend == (False, parse_time("2008-06-23T13:30Z"))
    at_close = session_at("XNYS", parse_time("2008-06-23T20:00Z"))  # a daily bar's stamp
    assert at_close == (True, parse_time("2008-06-24T13:30Z"))
    assert session_at("XNYS", parse_time("2008-06-23T13:30Z")).is_open is False  # at the open
    assert session_at(None, 0) == (True, None)
    assert session_at("24/7", 0) == (True, None)
    # The last session of a decade still finds the next open in the following year.
    assert session_at("XNYS", parse_time("2009-12-31T22:00Z")).next_open_ns == parse_time(
        "2010-01-04T14:30Z"
    )

"""From equity curves to returns: simple returns and end-of-day resampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeloop.analytics import metrics
from tradeloop.core.errors import DataIntegrityError, InvalidValueError
from tradeloop.core.time import NANOS_PER_HOUR, NANOS_PER_MINUTE, parse_time


def test_returns_from_equity_gives_one_simple_return_per_step():
    np.testing.assert_array_equal(metrics.returns_from_equity([100.0, 110.0, 99.0]), [0.1, -0.1])


def test_equity_from_returns_inverts_returns_from_equity(spy):
    rebuilt = metrics.equity_from_returns(metrics.returns_from_equity(spy.close), spy.close[0])
    np.testing.assert_allclose(rebuilt, spy.close, rtol=1e-12)


def test_daily_equity_of_real_5_minute_bars_keeps_the_last_bar_of_each_local_day(index_5min):
    daily = metrics.daily_equity(
        index_5min["ts_ns"].to_numpy(), index_5min["close"].to_numpy(), tz="Europe/Berlin"
    )
    expected = index_5min.groupby("local_date").last()
    assert len(daily.equity) == len(expected) == 21
    np.testing.assert_array_equal(daily.equity, expected["close"].to_numpy())
    np.testing.assert_array_equal(daily.ts_ns, expected["ts_ns"].to_numpy())
    labels = pd.to_datetime(pd.Series(expected.index)).to_numpy("datetime64[ns]").view(np.int64)
    np.testing.assert_array_equal(daily.session_date_ns, labels)
    # The last bar of each day is the 17:30 Berlin bar, 16:30 UTC in January.
    assert set(((daily.ts_ns // NANOS_PER_MINUTE) % (24 * 60)).tolist()) == {16 * 60 + 30}


def test_daily_returns_of_real_5_minute_bars_are_close_to_close_returns(index_5min):
    ts, close = index_5min["ts_ns"].to_numpy(), index_5min["close"].to_numpy()
    day_closes = index_5min.groupby("local_date")["close"].last().to_numpy()
    returns = metrics.daily_returns(ts, close, tz="Europe/Berlin")
    np.testing.assert_array_equal(returns, np.diff(day_closes) / day_closes[:-1])


def test_daily_returns_keeping_the_first_point_compound_to_the_whole_curve(index_5min):
    ts, close = index_5min["ts_ns"].to_numpy(), index_5min["close"].to_numpy()
    returns = metrics.daily_returns(ts, close, tz="Europe/Berlin", is_first_point_kept=True)
    assert len(returns) == 21
    first_day_close = index_5min.groupby("local_date")["close"].last().iloc[0]
    assert returns[0] == (first_day_close - close[0]) / close[0]
    assert metrics.total_return(returns) == pytest.approx(close[-1] / close[0] - 1, rel=1e-12)


def test_keeping_the_first_point_changes_nothing_when_it_is_already_a_day_end(spy):
    kept = metrics.daily_returns(spy.ts_ns, spy.close, is_first_point_kept=True)
    np.testing.assert_array_equal(kept, metrics.daily_returns(spy.ts_ns, spy.close))


def test_time_zone_decides_which_day_an_evening_point_belongs_to():
    ts = np.array(
        [
            parse_time("2024-03-04T20:00:00Z"),  # 15:00 in New York, Monday
            parse_time("2024-03-04T23:30:00Z"),  # 18:30 in New York, Monday
            parse_time("2024-03-05T00:30:00Z"),  # 19:30 in New York, Monday; Tuesday in UTC
        ]
    )
    equity = [100.0, 101.0, 102.0]
    assert metrics.daily_equity(ts, equity).equity.tolist() == [101.0, 102.0]
    new_york = metrics.daily_equity(ts, equity, tz="America/New_York")
    assert new_york.equity.tolist() == [102.0]
    assert new_york.session_date_ns.tolist() == [parse_time("2024-03-04")]


def test_cme_session_convention_puts_evening_points_into_the_next_session():
    # Globex: the session of date D runs from 17:00 Chicago on D-1 to 17:00 on D.
    offset = -7 * NANOS_PER_HOUR
    ts = np.array(
        [
            parse_time("2024-03-04T22:59:00Z"),  # 16:59 Chicago Monday: Monday's session
            parse_time("2024-03-04T23:00:00Z"),  # 17:00 Chicago Monday: Tuesday's session
            parse_time("2024-03-05T15:00:00Z"),  # 09:00 Chicago Tuesday
        ]
    )
    daily = metrics.daily_equity(ts, [1.0, 2.0, 3.0], "America/Chicago", offset)
    assert daily.equity.tolist() == [1.0, 3.0]
    assert daily.session_date_ns.tolist() == [parse_time("2024-03-04"), parse_time("2024-03-05")]


def test_daily_equity_follows_daylight_saving_time_in_the_given_zone():
    # New York switched to EDT on 2024-03-10: 23:59 local is 04:59 UTC before, 03:59 after.
    ts = np.array(
        [
            parse_time("2024-03-09T04:59:00Z"),
            parse_time("2024-03-10T04:59:00Z"),
            parse_time("2024-03-11T03:59:00Z"),
            parse_time("2024-03-11T04:01:00Z"),
        ]
    )
    daily = metrics.daily_equity(ts, [1.0, 2.0, 3.0, 4.0], tz="America/New_York")
    labels = [parse_time(day) for day in ("2024-03-08", "2024-03-09", "2024-03-10", "2024-03-11")]
    assert daily.session_date_ns.tolist() == labels


def test_daily_returns_of_a_single_day_raise_invalid_value_error():
    ts = np.array([parse_time("2024-03-04T10:00:00Z"), parse_time("2024-03-04T11:00:00Z")])
    with pytest.raises(InvalidValueError, match="daily_returns needs equity on at least 2 days"):
        metrics.daily_returns(ts, [1.0, 2.0])


def test_unknown_time_zone_raises_invalid_value_error_naming_it():
    with pytest.raises(InvalidValueError, match="tz 'Mars/Olympus' is not an IANA time zone"):
        metrics.daily_equity([0, 1], [1.0, 2.0], tz="Mars/Olympus")


def test_session_offset_of_a_day_or_more_raises_invalid_value_error():
    with pytest.raises(InvalidValueError, match="session_start_offset_ns"):
        metrics.daily_equity([0, 1], [1.0, 2.0], session_start_offset_ns=24 * NANOS_PER_HOUR)


@pytest.mark.parametrize("ts", [[0, 0, 1], [0, 2, 1]], ids=["repeated", "backwards"])
def test_timestamps_that_do_not_increase_raise_data_integrity_error(ts):
    with pytest.raises(DataIntegrityError, match=r"ts_ns\[.\] .* strictly increasing"):
        metrics.daily_equity(ts, [1.0, 2.0, 3.0])


def test_float_timestamps_raise_invalid_value_error():
    with pytest.raises(InvalidValueError, match="integer array of nanoseconds"):
        metrics.daily_equity([0.0, 1.0], [1.0, 2.0])


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan")])
def test_equity_that_is_not_above_zero_raises_data_integrity_error(bad):
    with pytest.raises(DataIntegrityError, match=r"returns_from_equity equity\[1\]"):
        metrics.returns_from_equity([100.0, bad, 90.0])

"""Intraday volume profile on real CME minute bars, checked by hand; causality; edge cases."""

import pytest

from tradeloop.analytics import IntradayVolumeProfile
from tradeloop.core import InvalidValueError
from tradeloop.core.time import parse_time
from tradeloop.data import bundled

HOUR = 3_600_000_000_000
MINUTE = 60_000_000_000


def _bars() -> list[tuple[int, float]]:
    # CME Euro FX March 2024 (6EH4) 1-minute bars, 2024-01-01 23:01 .. 2024-01-04 22:00 UTC,
    # stamped at their close.
    bars = bundled.load("6eh4_1m").clean
    volume = bars.volume / 10.0**bars.volume_precision
    return list(zip(bars.ts_init.tolist(), volume.tolist(), strict=True))


def test_vwap_weights_on_cme_minutes_are_the_past_days_hourly_means() -> None:
    # Hourly volume of the bundled file (bars with close in (h:00, h+1:00]):
    #   14:00-15:00  Jan 2: 20,254  Jan 3: 15,181   -> mean 17,717.5
    #   15:00-16:00  Jan 2: 26,483  Jan 3: 37,300   -> mean 31,891.5
    #   16:00-17:00  Jan 2: 14,064  Jan 3: 15,441   -> mean 14,752.5
    # Jan 1 starts at 23:01: it does not observe these hours, so it does not dilute them;
    # Jan 4's own bars (before or after 14:00) never count for Jan 4.
    profile = IntradayVolumeProfile(bucket_ns=HOUR, lookback_days=20)
    start = parse_time("2024-01-04T14:00:00Z")
    for ts, volume in _bars():
        if ts > start:
            break
        profile.update(ts, volume)
    assert profile.slice_weights(start, 3, HOUR) == (17717.5, 31891.5, 14752.5)
    # Half-hour slices split each hour evenly (the profile is flat within a bucket).
    assert profile.slice_weights(start, 2, HOUR // 2) == (17717.5 / 2, 17717.5 / 2)


def test_the_profile_never_looks_ahead() -> None:
    start = parse_time("2024-01-04T14:00:00Z")
    partial = IntradayVolumeProfile(bucket_ns=HOUR)
    full = IntradayVolumeProfile(bucket_ns=HOUR)
    for ts, volume in _bars():
        full.update(ts, volume)
        if ts <= start:
            partial.update(ts, volume)
    # Everything Jan 4 brings (before and after the start) leaves the weights unchanged.
    assert full.slice_weights(start, 5, HOUR) == partial.slice_weights(start, 5, HOUR)


def test_a_closed_hour_inside_a_day_expects_no_volume() -> None:
    # CME's daily maintenance break, 22:00-23:00 UTC: no bars on Jan 2 and Jan 3.
    profile = IntradayVolumeProfile(bucket_ns=HOUR)
    for ts, volume in _bars():
        profile.update(ts, volume)
    start = parse_time("2024-01-04T21:00:00Z")
    weights = profile.slice_weights(start, 3, HOUR)
    assert weights is not None
    assert weights[1] == 0.0  # 22:00-23:00
    assert weights[0] == (3191 + 1844) / 2  # 21:00-22:00 of Jan 2 and Jan 3
    assert weights[2] == (2155 + 1820 + 1909) / 3  # 23:00-24:00: Jan 1 observed it too


def test_no_past_day_means_no_profile() -> None:
    profile = IntradayVolumeProfile(bucket_ns=MINUTE)
    day = parse_time("2024-01-02T00:00:00Z")
    for minute in range(1, 61):
        profile.update(day + minute * MINUTE, 10.0)
    assert profile.slice_weights(day + 61 * MINUTE, 3, MINUTE) is None


def test_daily_bars_give_equal_slices() -> None:
    day = 86_400 * 1_000_000_000
    profile = IntradayVolumeProfile(bucket_ns=MINUTE)
    for k, volume in enumerate([100.0, 300.0, 200.0], start=1):
        profile.update(k * day + 21 * HOUR, volume)  # daily bars closing at 21:00 UTC
    weights = profile.slice_weights(3 * day + 21 * HOUR, 3, day)
    assert weights == (200.0, 200.0, 200.0)  # the mean daily volume, once per slice


def test_bad_input_is_an_error() -> None:
    with pytest.raises(InvalidValueError, match="must be positive and divide a day"):
        IntradayVolumeProfile(bucket_ns=7 * MINUTE)
    with pytest.raises(InvalidValueError, match="lookback_days 0 must be >= 1"):
        IntradayVolumeProfile(lookback_days=0)
    profile = IntradayVolumeProfile()
    profile.update(10 * MINUTE, 1.0)
    with pytest.raises(InvalidValueError, match="before the last one"):
        profile.update(5 * MINUTE, 1.0)
    with pytest.raises(InvalidValueError, match="must be finite and >= 0"):
        profile.update(11 * MINUTE, -1.0)

"""Exposure (time in the market, gross leverage) and turnover."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.analytics import metrics
from tradeloop.core.errors import DataIntegrityError, InvalidValueError
from tradeloop.core.time import NANOS_PER_HOUR


def test_exposure_per_period_counts_intervals_after_each_point():
    # Held after points 1 and 2 (two of the four intervals); the last point carries no time.
    gross = [0.0, 50.0, 200.0, 0.0, 999.0]
    equity = [100.0, 100.0, 100.0, 100.0, 100.0]
    result = metrics.exposure(gross, equity)
    assert result.time_in_market == 0.5
    assert result.average_gross_leverage == pytest.approx((0.5 + 2.0) / 4, rel=1e-15)


def test_exposure_with_timestamps_weighs_each_interval_by_its_length():
    ts = np.array([0, 1, 3, 4], dtype=np.int64) * NANOS_PER_HOUR
    result = metrics.exposure([0.0, 100.0, 0.0, 0.0], [100.0, 100.0, 100.0, 100.0], ts)
    assert result.time_in_market == 0.5  # held from hour 1 to hour 3 of 4
    assert result.average_gross_leverage == 0.5


def test_negative_gross_exposure_raises_data_integrity_error():
    with pytest.raises(DataIntegrityError, match=r"gross_exposure\[1\] is -5.0"):
        metrics.exposure([0.0, -5.0, 0.0], [1.0, 1.0, 1.0])


def test_exposure_of_a_single_point_raises_invalid_value_error():
    with pytest.raises(InvalidValueError, match="exposure needs at least 2"):
        metrics.exposure([1.0], [1.0])


def test_turnover_is_two_sided_traded_notional_over_average_equity_per_year():
    # Buy the whole 100 book on day 1, sell it on day 126: one round trip in half a year.
    traded = np.zeros(126)
    traded[0], traded[-1] = 100.0, -100.0
    equity = np.full(126, 100.0)
    assert metrics.turnover(traded, equity, periods_per_year=252) == pytest.approx(4.0, rel=1e-15)


def test_turnover_with_different_lengths_raises_invalid_value_error():
    with pytest.raises(InvalidValueError, match="different lengths"):
        metrics.turnover([1.0, 2.0], [1.0])

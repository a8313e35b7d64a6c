"""Drawdown spells of an equity curve: peak, trough, recovery and duration."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from tradeloop.analytics import metrics
from tradeloop.core.time import NANOS_PER_DAY, NANOS_PER_HOUR

# Peak 110 at 1, trough 88 at 3, back to 110 at 5; peak 120 at 6, trough 96 at 8, not
# recovered by the end (index 9).
EQUITY = np.array([100.0, 110.0, 99.0, 88.0, 104.5, 110.0, 120.0, 108.0, 96.0, 100.0])
DAY_TS = np.arange(10, dtype=np.int64) * NANOS_PER_DAY + 1_600_000_000 * 10**9


def test_drawdown_spells_of_a_curve_with_two_spells_give_peak_trough_and_recovery():
    first, second = metrics.drawdown_spells(EQUITY)
    assert first == metrics.Drawdown(
        depth=-0.2, peak_index=1, trough_index=3, recovery_index=5, duration_periods=4
    )
    assert second.peak_index == 6
    assert second.trough_index == 8
    assert second.recovery_index is None
    assert second.duration_periods == 3
    assert second.depth == pytest.approx(-0.2, rel=1e-15)


def test_spell_still_under_water_at_the_end_lasts_until_the_last_point_in_days():
    spell = metrics.drawdown_spells(EQUITY, DAY_TS)[1]
    assert spell.ts_peak == DAY_TS[6]
    assert spell.ts_trough == DAY_TS[8]
    assert spell.ts_recovery is None
    assert spell.duration_days == 3.0


def test_duration_in_days_follows_the_timestamps_not_the_point_count():
    ts = np.array([0, 1, 2, 30, 31], dtype=np.int64) * NANOS_PER_DAY + 12 * NANOS_PER_HOUR
    spell = metrics.longest_drawdown([10.0, 12.0, 11.0, 11.5, 12.5], ts)
    assert spell is not None
    assert (spell.peak_index, spell.trough_index, spell.recovery_index) == (1, 2, 4)
    assert spell.duration_periods == 3
    assert spell.duration_days == 30.0


def test_worst_drawdown_is_the_deepest_spell_and_the_first_on_ties():
    worst = metrics.worst_drawdown(EQUITY)
    assert worst is not None
    assert worst.peak_index == 1  # both spells are -20 %; the first wins
    deeper = metrics.worst_drawdown([100.0, 90.0, 100.0, 120.0, 60.0])
    assert deeper is not None
    assert (deeper.peak_index, deeper.trough_index, deeper.depth) == (3, 4, -0.5)


def test_longest_drawdown_is_the_longest_spell_even_when_shallower():
    equity = [100.0, 50.0, 100.0, 99.0, 99.5, 99.9, 99.8, 100.0]
    longest = metrics.longest_drawdown(equity)
    worst = metrics.worst_drawdown(equity)
    assert longest is not None
    assert worst is not None
    assert (longest.peak_index, longest.recovery_index, longest.duration_periods) == (2, 7, 5)
    assert (worst.peak_index, worst.recovery_index, worst.depth) == (0, 2, -0.5)


def test_curve_that_never_falls_below_its_high_has_no_drawdown():
    rising = [1.0, 1.0, 2.0, 3.0, 3.0]
    assert metrics.drawdown_spells(rising) == []
    assert metrics.worst_drawdown(rising) is None
    assert metrics.longest_drawdown(rising) is None
    assert metrics.max_drawdown(metrics.returns_from_equity(rising)) == 0.0


def test_worst_drawdown_depth_equals_max_drawdown_of_the_curve_returns(spy):
    worst = metrics.worst_drawdown(spy.close, spy.ts_ns)
    assert worst is not None
    assert worst.depth == pytest.approx(metrics.max_drawdown(spy.returns), rel=1e-12)
    # SPY fell 55 % from its October 2007 high to March 2009 and was back in 2013.
    assert (worst.ts_peak, worst.ts_trough, worst.ts_recovery) == (
        np.datetime64("2007-10-09", "ns").astype(np.int64),
        np.datetime64("2009-03-09", "ns").astype(np.int64),
        np.datetime64("2013-03-14", "ns").astype(np.int64),
    )


def test_drawdown_is_a_json_serialisable_record():
    spell = metrics.drawdown_spells(EQUITY, DAY_TS)[1]
    assert msgspec.json.decode(msgspec.json.encode(spell), type=metrics.Drawdown) == spell

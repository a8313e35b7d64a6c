"""Execution profiles: what each algorithm implies for the cost of a trade, hand-checked."""

from __future__ import annotations

import pytest

from tradeloop.core import InvalidValueError
from tradeloop.costs.execution_profile import (
    PROFILED_ALGORITHMS,
    ExecutionProfile,
    algorithm_profile,
    limit_fill_probability,
)
from tradeloop.execution.algos import ALGORITHMS

HOUR = 3_600_000_000_000
DELAY = 17 * HOUR  # a close to the next open
BAR = 24 * HOUR


def test_every_execution_algorithm_has_a_profile() -> None:
    assert set(PROFILED_ALGORITHMS) == set(ALGORITHMS)


def test_a_buy_limit_at_the_close_fills_when_a_later_bar_opens_at_or_trades_below_it() -> None:
    # Closes 10, 10, 10, 10, 10: bar 1 opens at 10 (fills), bar 2 trades down to 9.99 (fills),
    # bar 3 stays at or above 10 (touches only: no fill "through"), bar 4 opens at 9.5 (fills).
    opens = [10.0, 10.0, 10.2, 10.1, 9.5]
    highs = [10.5, 10.3, 10.4, 10.3, 10.0]
    lows = [9.8, 10.0, 9.99, 10.0, 9.4]
    closes = [10.0, 10.0, 10.0, 10.0, 10.0]
    # Starts 0..3 (each with one bar after it): bars 1, 2, 3, 4 -> fill, fill, no, fill.
    assert limit_fill_probability(opens, highs, lows, closes, is_buy=True, bars=1) == 0.75
    # Two bars to fill in: starts 0..2 look at bars (1, 2), (2, 3), (3, 4): all fill.
    assert limit_fill_probability(opens, highs, lows, closes, is_buy=True, bars=2) == 1.0
    # A limit one 0.05 below the close: bar 1 (low 10.0) no, bar 2 (9.99) no, bar 3 no, bar 4
    # (opens 9.5) yes.
    assert (
        limit_fill_probability(opens, highs, lows, closes, is_buy=True, bars=1, offset=0.05) == 0.25
    )


def test_a_sell_limit_at_the_close_fills_when_a_later_bar_opens_at_or_trades_above_it() -> None:
    opens = [10.0, 9.9, 10.0, 9.8]
    highs = [10.1, 10.0, 10.2, 9.9]
    lows = [9.9, 9.8, 9.9, 9.7]
    closes = [10.0, 10.0, 10.0, 10.0]
    # Bars 1, 2, 3: high 10.0 (touch only), opens at 10.0 (fills), high 9.9 (no).
    assert limit_fill_probability(opens, highs, lows, closes, is_buy=False, bars=1) == 1 / 3


def test_a_series_too_short_to_tell_gives_none_and_bad_inputs_are_refused() -> None:
    assert limit_fill_probability([1.0], [1.0], [1.0], [1.0], is_buy=True, bars=1) is None
    assert (
        limit_fill_probability([1.0] * 3, [1.0] * 3, [1.0] * 3, [1.0] * 3, is_buy=True, bars=3)
        is None
    )
    with pytest.raises(InvalidValueError, match="same length"):
        limit_fill_probability([1.0], [1.0, 2.0], [1.0], [1.0], is_buy=True, bars=1)
    with pytest.raises(InvalidValueError, match="bars 0"):
        limit_fill_probability([1.0], [1.0], [1.0], [1.0], is_buy=True, bars=0)
    with pytest.raises(InvalidValueError, match="offset -1"):
        limit_fill_probability([1.0], [1.0], [1.0], [1.0], is_buy=True, bars=1, offset=-1.0)


def test_immediate_and_sor_take_everything_after_the_delay() -> None:
    for name in ("immediate", "sor"):
        assert algorithm_profile(name, delay_ns=DELAY, bar_interval_ns=BAR) == ExecutionProfile(
            algorithm=name, delay_ns=DELAY
        )


def test_sliced_algorithms_wait_half_the_schedule_on_average() -> None:
    # Slices at the next open, one bar later, two bars later: mean delay d + I.
    for name in ("twap", "vwap", "implementation_shortfall"):
        profile = algorithm_profile(name, delay_ns=DELAY, bar_interval_ns=BAR, slices=3)
        assert profile == ExecutionProfile(algorithm=name, slices=3, delay_ns=DELAY + BAR)


def test_pov_takes_as_many_bars_as_its_rate_of_the_volume_needs() -> None:
    # 25,000 at 10 % of 100,000 a bar: 3 bars, the first child after the first bar:
    # children at d + I, d + 2I, d + 3I, mean d + 2I.
    profile = algorithm_profile(
        "pov", delay_ns=DELAY, bar_interval_ns=BAR, rate=0.1, quantity=25_000, bar_volume=1e5
    )
    assert profile == ExecutionProfile(algorithm="pov", slices=3, delay_ns=DELAY + 2 * BAR)


def test_limit_then_market_takes_only_what_does_not_fill_passively() -> None:
    # p = 0.8: 80 % fills half-way between the next open (17 h) and the bar's end (24 h), the
    # rest at the open after the timeout bar (24 h + 17 h): 0.8 * 20.5 h + 0.2 * 41 h = 24.6 h.
    profile = algorithm_profile(
        "limit_then_market", delay_ns=DELAY, bar_interval_ns=BAR, fill_probability=0.8
    )
    assert profile.taker_fraction == pytest.approx(0.2)
    assert profile.slices == 1
    assert profile.delay_ns == round(24.6 * HOUR)
    assert profile.fill_probability == 0.8
    # Two bars of patience: the passive window ends at 48 h; the rest goes at 48 h + 17 h.
    patient = algorithm_profile(
        "limit_then_market",
        delay_ns=DELAY,
        bar_interval_ns=BAR,
        timeout_bars=2,
        fill_probability=0.8,
    )
    assert patient.delay_ns == round((0.8 * (17 + 48) / 2 + 0.2 * (48 + 17)) * HOUR)
    # No history to estimate the fill probability from: all at market after the timeout.
    unknown = algorithm_profile("limit_then_market", delay_ns=DELAY, bar_interval_ns=BAR)
    assert (unknown.taker_fraction, unknown.delay_ns) == (1.0, BAR + DELAY)


def test_an_iceberg_never_crosses_the_spread() -> None:
    profile = algorithm_profile(
        "iceberg", delay_ns=DELAY, bar_interval_ns=BAR, fill_probability=0.6
    )
    assert (profile.taker_fraction, profile.delay_ns) == (0.0, round(20.5 * HOUR))


def test_unknown_algorithms_and_out_of_range_inputs_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="'fast' is not one of immediate"):
        algorithm_profile("fast", delay_ns=0, bar_interval_ns=0)
    with pytest.raises(InvalidValueError, match=r"fill probability 1\.5"):
        algorithm_profile("limit_then_market", delay_ns=0, bar_interval_ns=0, fill_probability=1.5)
    with pytest.raises(InvalidValueError, match="slices 0"):
        algorithm_profile("twap", delay_ns=0, bar_interval_ns=0, slices=0)
    with pytest.raises(InvalidValueError, match="must be non-negative"):
        algorithm_profile("immediate", delay_ns=-1, bar_interval_ns=0)
    with pytest.raises(InvalidValueError, match="taker fraction 2"):
        ExecutionProfile(taker_fraction=2.0)

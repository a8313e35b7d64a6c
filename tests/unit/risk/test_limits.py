"""The portfolio limits' state machine: daily loss, drawdown pause, kill switch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core.errors import ConfigError
from tradeloop.model import TradingState
from tradeloop.risk import PortfolioLimits, RiskConfig
from tradeloop.risk.limits import DAY_NS, parse_day_start

HOUR_NS = 3_600_000_000_000


def test_no_limit_set_means_no_state_machine() -> None:
    assert RiskConfig().portfolio_limits() is None
    assert RiskConfig(drawdown_pause_pct=0.1).portfolio_limits() is not None


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"daily_loss_limit_pct": 0.0}, "daily_loss_limit_pct 0.0 must be a fraction"),
        ({"kill_switch_drawdown_pct": 1.5}, "kill_switch_drawdown_pct 1.5 must be a fraction"),
        ({"drawdown_pause_pct": 0.1, "drawdown_pause_bars": 0}, "drawdown_pause_bars 0"),
        ({"drawdown_pause_pct": 0.1, "day_start_utc": "25:00"}, "day_start_utc '25:00'"),
        ({"drawdown_pause_pct": 0.1, "day_start_utc": "9:30"}, "day_start_utc '9:30'"),
    ],
)
def test_bad_limits_stop_startup_naming_the_value(
    settings_: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        RiskConfig(**settings_)  # type: ignore[arg-type]


def test_day_start_is_an_offset_from_midnight_utc() -> None:
    assert parse_day_start("00:00") == 0
    assert parse_day_start("22:00") == 22 * HOUR_NS
    limits = PortfolioLimits(daily_loss_limit_pct=0.05, day_start_utc="22:00")
    assert limits.day_of(21 * HOUR_NS) == limits.day_of(-1)  # before 22:00: the day before
    assert limits.day_of(22 * HOUR_NS) == limits.day_of(22 * HOUR_NS + DAY_NS - 1)


def test_daily_loss_reduces_until_the_next_day_then_clears() -> None:
    limits = PortfolioLimits(daily_loss_limit_pct=0.03)
    assert limits.on_equity(1, 1_000) == []
    [breach] = limits.on_equity(2, 969)
    assert (breach.rule, breach.state, round(breach.value, 3)) == (
        "daily_loss_limit",
        TradingState.REDUCING,
        0.031,
    )
    assert limits.on_equity(3, 900) == []  # once a day
    assert limits.state is TradingState.REDUCING
    assert limits.on_equity(DAY_NS + 1, 900) == []  # the new day opens at 900
    assert limits.state is TradingState.ACTIVE
    assert limits.day_start_equity == 900


def test_drawdown_pause_lasts_its_bars_then_measures_from_the_equity_then() -> None:
    limits = PortfolioLimits(drawdown_pause_pct=0.10, drawdown_pause_bars=3)
    limits.on_equity(0, 100)
    [breach] = limits.on_equity(1, 89)
    assert breach.rule == "drawdown_pause"
    states = [limits.on_equity(t, 89) or limits.state for t in (2, 3, 4)]
    assert states == [TradingState.REDUCING, TradingState.REDUCING, TradingState.ACTIVE]
    assert (limits.peak_equity, limits.pause_peak_equity) == (100, 89)
    assert limits.on_equity(5, 81) == []  # 9 % below the pause's new mark
    assert limits.on_equity(6, 80)[0].rule == "drawdown_pause"


def test_the_kill_switch_measures_from_the_runs_high_water_mark_across_pauses() -> None:
    limits = PortfolioLimits(
        drawdown_pause_pct=0.10, drawdown_pause_bars=1, kill_switch_drawdown_pct=0.25
    )
    limits.on_equity(0, 100)
    assert limits.on_equity(1, 89)[0].rule == "drawdown_pause"
    limits.on_equity(2, 89)  # the pause ends: its mark is 89 now, the run's stays 100
    [breach] = limits.on_equity(3, 75)  # 15.7 % below 89, 25 % below 100
    assert (breach.rule, breach.value) == ("kill_switch_drawdown", 0.25)


def test_kill_switch_halts_and_nothing_but_resume_releases_it() -> None:
    limits = PortfolioLimits(kill_switch_drawdown_pct=0.2, daily_loss_limit_pct=0.5)
    limits.on_equity(0, 100)
    [breach] = limits.on_equity(1, 79)
    assert (breach.rule, breach.state) == ("kill_switch_drawdown", TradingState.HALTED)
    assert limits.on_equity(2 * DAY_NS, 200) == []
    assert limits.state is TradingState.HALTED
    limits.resume()
    assert limits.on_equity(3 * DAY_NS, 70) == []  # the high-water mark starts afresh
    assert limits.state is TradingState.ACTIVE


equities = st.lists(
    st.tuples(st.integers(0, 5 * DAY_NS // HOUR_NS), st.integers(1, 10_000)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(
    path=equities,
    daily=st.none() | st.floats(0.01, 0.5),
    pause=st.none() | st.floats(0.01, 0.5),
    bars=st.integers(1, 5),
    kill=st.none() | st.floats(0.01, 0.9),
)
def test_state_machine_invariants(
    path: list[tuple[int, int]],
    daily: float | None,
    pause: float | None,
    bars: int,
    kill: float | None,
) -> None:
    limits = PortfolioLimits(
        daily_loss_limit_pct=daily,
        drawdown_pause_pct=pause,
        drawdown_pause_bars=bars,
        kill_switch_drawdown_pct=kill,
    )
    halted = False
    hours = sorted(h for h, _ in path)
    for hour, (_, equity) in zip(hours, path, strict=True):
        breaches = limits.on_equity(hour * HOUR_NS, equity)
        if halted:
            # HALTED is absorbing: no breach, no change, whatever the equity does.
            assert breaches == []
            assert limits.state is TradingState.HALTED
            continue
        for breach in breaches:
            assert breach.value >= breach.limit  # a breach is reported only at its limit
        rules = [b.rule for b in breaches]
        assert len(rules) == len(set(rules))
        if kill is not None and limits.drawdown() >= kill:
            assert rules == ["kill_switch_drawdown"]
        if "kill_switch_drawdown" in rules:
            assert limits.state is TradingState.HALTED
            halted = True
            continue
        assert limits.peak_equity is not None
        assert limits.pause_peak_equity is not None
        assert limits.peak_equity >= max(equity, limits.pause_peak_equity)
        # REDUCING exactly while a pause runs or the day is stopped.
        reducing = limits.pause_bars_left > 0 or limits.is_daily_stopped
        assert limits.state is (TradingState.REDUCING if reducing else TradingState.ACTIVE)
        if daily is None:
            assert not limits.is_daily_stopped
        if pause is None:
            assert limits.pause_bars_left == 0
        assert 0 <= limits.pause_bars_left <= bars

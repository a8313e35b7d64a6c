import pytest

from tradeloop.core import NEVER_NS, InvalidValueError, LiveClock, TestClock, TimeEvent


def test_test_clock_fires_timers_in_due_order_with_registration_tie_break() -> None:
    clock = TestClock(0)
    fired: list[tuple[str, int, int]] = []

    def record(event: TimeEvent) -> None:
        fired.append((event.name, event.ts_event, clock.timestamp_ns()))

    clock.set_timer("b", 10, record)
    clock.set_timer("a", 10, record)
    clock.set_time_alert("alert", 15, record)
    clock.advance_time(25)
    assert fired == [("b", 10, 10), ("a", 10, 10), ("alert", 15, 15), ("b", 20, 20), ("a", 20, 20)]
    assert clock.timestamp_ns() == 25


def test_timer_stops_after_stop_time_and_cancel_removes_it() -> None:
    clock = TestClock(0)
    fired: list[int] = []
    clock.set_timer("t", 5, lambda e: fired.append(e.ts_event), stop_ns=12)
    clock.set_timer("u", 5, lambda e: fired.append(-e.ts_event))
    clock.advance_time(7)
    clock.cancel_timer("u")
    clock.advance_time(100)
    assert fired == [5, -5, 10]
    assert clock.next_deadline_ns == NEVER_NS
    assert clock.timer_names() == []


def test_test_clock_never_moves_back() -> None:
    clock = TestClock(100)
    with pytest.raises(InvalidValueError, match="cannot move the clock back"):
        clock.set_time(99)


def test_duplicate_timer_name_and_bad_interval_are_rejected() -> None:
    clock = TestClock()
    clock.set_timer("t", 1, lambda e: None)
    with pytest.raises(InvalidValueError, match="already in use"):
        clock.set_time_alert("t", 5, lambda e: None)
    with pytest.raises(InvalidValueError, match="must be positive"):
        clock.set_timer("z", 0, lambda e: None)


def test_live_clock_accelerated_runs_faster_than_the_wall() -> None:
    clock = LiveClock(speed=1_000_000.0, origin_ns=0)
    assert clock.timestamp_ns() >= 0
    # a day of clock time is less than a second of wall time at this speed
    assert clock.wall_seconds_until(86_400 * 10**9) < 1.0


def test_live_clock_rejects_non_positive_speed() -> None:
    with pytest.raises(InvalidValueError):
        LiveClock(speed=0)

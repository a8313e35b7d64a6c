"""Clocks: the only source of time in tradeloop.

``TestClock`` is advanced by the backtest kernel; ``LiveClock`` reads the wall clock, optionally
accelerated (paper trading on a replay feed). Both hold the same timer machinery: repeating
timers and one-off alerts, fired in order of (due time, registration sequence), which is the
documented tie-break for timers due at the same nanosecond.

Core code receives a ``Clock`` and never calls ``time.time`` or ``datetime.now`` itself.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Final

import msgspec

from tradeloop.core.errors import InvalidValueError

NEVER_NS: Final = (1 << 63) - 1
MAX_SPEED: Final = 1e9


class TimeEvent(msgspec.Struct, frozen=True, gc=False):
    """A timer fired: ``name`` was due at ``ts_event`` and seen at ``ts_init``."""

    name: str
    ts_event: int
    ts_init: int


TimerCallback = Callable[[TimeEvent], None]


class _Timer:
    __slots__ = ("callback", "interval_ns", "is_active", "name", "next_ns", "stop_ns")

    def __init__(
        self, name: str, interval_ns: int, next_ns: int, stop_ns: int, callback: TimerCallback
    ) -> None:
        self.name = name
        self.interval_ns = interval_ns
        self.next_ns = next_ns
        self.stop_ns = stop_ns
        self.callback = callback
        self.is_active = True


class Clock:
    """Base of both clocks: current time plus named timers.

    ``next_deadline_ns`` is the due time of the earliest pending timer (``NEVER_NS`` if none),
    kept as a plain attribute so the kernel can compare it with one integer comparison.
    """

    def __init__(self) -> None:
        self._timers: dict[str, _Timer] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._sequence = 0
        self.next_deadline_ns: int = NEVER_NS

    def timestamp_ns(self) -> int:
        """Return the current time in nanoseconds since the epoch."""
        raise NotImplementedError

    # -- timers -------------------------------------------------------------------------------

    def set_timer(
        self,
        name: str,
        interval_ns: int,
        callback: TimerCallback,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        """Fire ``callback`` every ``interval_ns`` from ``start_ns`` (default: now) + interval.

        Raises
        ------
        InvalidValueError
            If the name is already in use or the interval is not positive.
        """
        if interval_ns <= 0:
            raise InvalidValueError(f"timer {name!r} interval_ns {interval_ns} must be positive")
        self._check_name(name)
        start = self.timestamp_ns() if start_ns is None else start_ns
        timer = _Timer(
            name,
            interval_ns,
            start + interval_ns,
            NEVER_NS if stop_ns is None else stop_ns,
            callback,
        )
        self._timers[name] = timer
        self._push(timer)

    def set_time_alert(self, name: str, alert_time_ns: int, callback: TimerCallback) -> None:
        """Fire ``callback`` once at ``alert_time_ns`` (immediately on the next advance if past).

        Raises
        ------
        InvalidValueError
            If the name is already in use.
        """
        self._check_name(name)
        timer = _Timer(name, 0, alert_time_ns, alert_time_ns, callback)
        self._timers[name] = timer
        self._push(timer)

    def cancel_timer(self, name: str) -> None:
        """Cancel the timer ``name`` (no-op if it does not exist or already finished)."""
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.is_active = False
            self._refresh_deadline()

    def timer_names(self) -> list[str]:
        """Return the names of the active timers, sorted."""
        return sorted(self._timers)

    def pop_due(self, until_ns: int) -> list[tuple[TimeEvent, TimerCallback]]:
        """Remove and return every timer event due at or before ``until_ns``, in firing order.

        Each event's ``ts_init`` is its due time: the kernel sets the clock to that time
        before calling the callback.
        """
        fired: list[tuple[TimeEvent, TimerCallback]] = []
        heap = self._heap
        while heap and heap[0][0] <= until_ns:
            due_ns, _seq, name = heapq.heappop(heap)
            timer = self._timers.get(name)
            if timer is None or not timer.is_active or timer.next_ns != due_ns:
                continue
            fired.append((TimeEvent(name, due_ns, due_ns), timer.callback))
            if timer.interval_ns > 0 and due_ns + timer.interval_ns <= timer.stop_ns:
                timer.next_ns = due_ns + timer.interval_ns
                self._push(timer)
            else:
                timer.is_active = False
                del self._timers[name]
        self._refresh_deadline()
        return fired

    def _check_name(self, name: str) -> None:
        if name in self._timers:
            raise InvalidValueError(f"timer name {name!r} is already in use")

    def _push(self, timer: _Timer) -> None:
        self._sequence += 1
        heapq.heappush(self._heap, (timer.next_ns, self._sequence, timer.name))
        if timer.next_ns < self.next_deadline_ns:
            self.next_deadline_ns = timer.next_ns

    def _refresh_deadline(self) -> None:
        heap = self._heap
        while heap:
            due_ns, _seq, name = heap[0]
            timer = self._timers.get(name)
            if timer is not None and timer.is_active and timer.next_ns == due_ns:
                self.next_deadline_ns = due_ns
                return
            heapq.heappop(heap)
        self.next_deadline_ns = NEVER_NS


class TestClock(Clock):
    """A clock that moves only when the kernel sets it; never reads the wall clock."""

    __test__ = False  # not a pytest test class

    def __init__(self, start_ns: int = 0) -> None:
        super().__init__()
        self.now_ns: int = start_ns

    def timestamp_ns(self) -> int:
        """Return the time the kernel last set."""
        return self.now_ns

    def set_time(self, ts_ns: int) -> None:
        """Move the clock to ``ts_ns`` (timers are not fired; see ``advance_time``).

        Raises
        ------
        InvalidValueError
            If ``ts_ns`` is before the current time: time never runs backwards.
        """
        if ts_ns < self.now_ns:
            raise InvalidValueError(f"cannot move the clock back from {self.now_ns} to {ts_ns}")
        self.now_ns = ts_ns

    def advance_time(self, to_ns: int) -> None:
        """Fire every timer due up to ``to_ns`` in order, setting the clock to each due time."""
        while self.next_deadline_ns <= to_ns:
            for event, callback in self.pop_due(self.next_deadline_ns):
                self.set_time(event.ts_event)
                callback(event)
        self.set_time(to_ns)


class LiveClock(Clock):
    """The wall clock, optionally accelerated ``speed`` times from ``origin_ns``.

    With ``speed == 1`` and no origin it is plain UTC wall time. For paper trading on a replay
    feed, ``origin_ns`` is the first record's time: the clock then reads
    ``origin_ns + (wall_now - wall_at_start) * speed``.
    """

    def __init__(self, speed: float = 1.0, origin_ns: int | None = None) -> None:
        super().__init__()
        if not 0 < speed <= MAX_SPEED:
            raise InvalidValueError(
                f"clock speed {speed} must be in (0, {MAX_SPEED:.0e}]: beyond it a second of wall "
                "time spans more than 30 years and nanosecond timestamps overflow 64 bits"
            )
        self.speed = speed
        self._wall_start_ns = time.time_ns()
        self._origin_ns = self._wall_start_ns if origin_ns is None else origin_ns

    def timestamp_ns(self) -> int:
        """Return the (possibly accelerated) current time."""
        elapsed = time.time_ns() - self._wall_start_ns
        if self.speed == 1.0:
            return self._origin_ns + elapsed
        return self._origin_ns + int(elapsed * self.speed)

    def wall_seconds_until(self, ts_ns: int) -> float:
        """Return the wall-clock seconds until the clock reads ``ts_ns`` (0 if already past)."""
        remaining = ts_ns - self.timestamp_ns()
        return max(0.0, remaining / 1e9 / self.speed)

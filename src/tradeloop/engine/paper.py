"""Paper trading on a replay feed driven by the live clock.

The feed runs on its own thread: it releases each record when the (accelerated) live clock
reaches the record's ``ts_init`` and puts it on a queue. The kernel thread takes records off
the queue, fires timers that fell due on the live clock, and dispatches each record exactly
as a backtest does. The kernel thread does no I/O besides the queue and the journal: records
go down a pipe to the journal's writer process, and a command waits for the writer's
acknowledgement that it is on disk before it is sent (journal before send, by design).

With the same data, the strategy, the order manager, the risk engine and the simulated
venue see the same records in the same order as in a backtest, so the orders and fills are
the same (``tests/unit/engine/test_paper.py`` checks it); only the event timestamps come
from the wall clock.

A kernel that cannot keep up with the clock (a heavy strategy at a high ``--speed``) falls
behind it: its decisions are then stamped, and its calendar checks made, at the clock's time,
later than the data they act on. When the lag passes ``max_lag_s`` of wall time the kernel
journals an ``AlertRaised`` warning (once per episode: again only after it caught up), and
``run_paper`` returns the largest lag seen, for the run summary.

**What a killed run keeps.** The journal's records reach its writer process, which commits
each batch as soon as it reads it, whenever the kernel has no input waiting (before it
blocks on the queue) and at least every ``LIVE_FLUSH_INTERVAL_S`` of wall time while it is
busy; a command is on disk before it is sent. A node killed with SIGKILL therefore loses at
most the records of the last 50 ms of continuous work, and none of what it did before it
last went idle: its journal ends with the events of the order it last sent.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable

from tradeloop.core.clock import NEVER_NS, LiveClock
from tradeloop.core.errors import ConfigError
from tradeloop.core.time import ns_to_iso
from tradeloop.engine.feed import FeedRecord
from tradeloop.engine.kernel import Kernel, ProgressCallback

_END = object()

LIVE_FLUSH_INTERVAL_S = 0.05
"""The longest a journal record waits in the kernel's buffer while the kernel is busy (s)."""


class ReplayFeed:
    """Release records on a thread at the pace of a ``LiveClock``."""

    def __init__(
        self, records: Iterable[FeedRecord], clock: LiveClock, max_queue: int = 10_000
    ) -> None:
        self._records = records
        self._clock = clock
        self.queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="replay-feed", daemon=True)

    def start(self) -> None:
        """Start releasing records."""
        self._thread.start()

    def stop(self) -> None:
        """Stop releasing records (the kernel then drains what is queued and ends)."""
        self._stop.set()

    def _run(self) -> None:
        try:
            for record in self._records:
                wait_s = self._clock.wall_seconds_until(record.ts_init)
                if wait_s > 0 and self._stop.wait(wait_s):
                    break
                if self._stop.is_set():
                    break
                self.queue.put(record)
        except BaseException as error:  # surfaced on the kernel thread
            self.error = error
        finally:
            self.queue.put(_END)


def run_paper(
    kernel: Kernel,
    feed: ReplayFeed,
    progress: ProgressCallback | None = None,
    progress_every: int = 1_000,
    *,
    started: bool = False,
    max_lag_s: float = 1.0,
) -> float:
    """Run ``kernel`` on ``feed`` until the feed ends, then stop the kernel; return the largest
    lag behind the clock seen, in wall seconds (see the module docstring).

    ``started`` says the caller already started the kernel (``engine.runner`` does, so that a
    failing ``on_start`` is a startup error).
    """
    clock = kernel.clock
    if not isinstance(clock, LiveClock):
        raise ConfigError("paper trading needs a LiveClock")
    if not started:
        kernel.start()
    feed.start()
    last_ts: int | None = None
    count = 0
    max_lag_ns = 0.0
    alert_lag_ns = max_lag_s * 1e9 * clock.speed
    is_lagging = False
    journal = kernel.journal
    flushed_at = time.monotonic()
    try:
        while True:
            if feed.queue.empty() or time.monotonic() - flushed_at >= LIVE_FLUSH_INTERVAL_S:
                journal.flush()  # idle, or busy for long: the records go to the writer
                flushed_at = time.monotonic()
            timeout = None
            if clock.next_deadline_ns != NEVER_NS:
                timeout = clock.wall_seconds_until(clock.next_deadline_ns)
            try:
                item = feed.queue.get(timeout=timeout)
            except queue.Empty:
                _fire_due(kernel, clock)
                continue
            _fire_due(kernel, clock)
            if item is _END:
                break
            record: FeedRecord = item  # type: ignore[assignment]
            lag_ns = clock.timestamp_ns() - record.ts_init
            if lag_ns > max_lag_ns:
                max_lag_ns = lag_ns
            if lag_ns > alert_lag_ns and not is_lagging:
                is_lagging = True
                kernel.raise_alert(
                    "warning",
                    "engine",
                    f"the kernel is {lag_ns / 1e9 / clock.speed:.1f} s of wall time behind the "
                    f"replay clock at record {ns_to_iso(record.ts_init)}: decisions are stamped at "
                    "the clock's time; lower --speed",
                )
            elif is_lagging and lag_ns < alert_lag_ns / 2:
                is_lagging = False
            if last_ts is not None and record.ts_init != last_ts:
                kernel.portfolio.snapshot(last_ts)
                kernel.fire_step(last_ts)
            last_ts = record.ts_init
            kernel.dispatch(record)
            count += 1
            if progress is not None and count % progress_every == 0:
                progress(count)
    finally:
        feed.stop()
        if last_ts is not None:
            kernel.fire_step(last_ts)
        kernel.set_last_timestamp(last_ts)
        if progress is not None:
            progress(count)
        kernel.stop()
    if feed.error is not None:
        raise feed.error
    return max_lag_ns / 1e9 / clock.speed


def _fire_due(kernel: Kernel, clock: LiveClock) -> None:
    for event, callback in clock.pop_due(clock.timestamp_ns()):
        callback(event)
        kernel.drain()

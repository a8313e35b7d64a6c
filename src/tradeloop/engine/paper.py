"""Paper trading on a replay feed driven by the live clock.

``ReplayFeed`` is a data client for recorded data: on its own thread it releases each record
when the (accelerated) live clock reaches the record's ``ts_init`` and puts it in the
kernel's inbox, then ``FEED_ENDED``. ``run_paper`` runs the one live-clock loop
(``engine.live.run_live``) on it. The records keep the ``ts_init`` of the file they come
from (the file is hashed in the manifest), so they are not journaled again.

With the same data, the strategy, the order manager, the risk engine and the simulated
venue see the same records in the same order as in a backtest, so the orders and fills are
the same (``tests/unit/engine/test_paper.py`` checks it); only the event timestamps come
from the wall clock.

A kernel that cannot keep up with the clock (a heavy strategy at a high ``--speed``) falls
behind it: its decisions are then stamped, and its calendar checks made, at the clock's time,
later than the data they act on. When the lag passes ``max_lag_s`` of wall time the kernel
journals an ``AlertRaised`` warning (once per episode: again only after it caught up), and
``run_paper`` returns the largest lag seen, for the run summary.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from tradeloop.bus.inbox import Inbox
from tradeloop.core.clock import LiveClock
from tradeloop.core.errors import ConfigError
from tradeloop.engine.feed import FeedRecord
from tradeloop.engine.kernel import Kernel, ProgressCallback
from tradeloop.engine.live import FEED_ENDED, LIVE_FLUSH_INTERVAL_S, LiveRunStats, run_live

__all__ = ["LIVE_FLUSH_INTERVAL_S", "ReplayFeed", "run_paper"]


class ReplayFeed:
    """Release recorded market data into an inbox at the pace of a ``LiveClock``."""

    def __init__(
        self,
        records: Iterable[FeedRecord],
        clock: LiveClock,
        max_queue: int = 10_000,
        inbox: Inbox | None = None,
    ) -> None:
        self._records = records
        self._clock = clock
        self.inbox = Inbox(clock, max_items=max_queue) if inbox is None else inbox
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
                self.inbox.put_control(record)  # keeps the file's ts_init
        except BaseException as error:  # surfaced on the kernel thread
            self.error = error
        finally:
            self.inbox.put_control(FEED_ENDED)


def run_paper(
    kernel: Kernel,
    feed: ReplayFeed,
    progress: ProgressCallback | None = None,
    progress_every: int = 1_000,
    *,
    started: bool = False,
    max_lag_s: float = 1.0,
    duration_s: float | None = None,
) -> float:
    """Run ``kernel`` on ``feed`` (``run_paper_stats``); return the largest lag behind the clock
    seen, in wall seconds."""
    return run_paper_stats(
        kernel,
        feed,
        progress,
        progress_every,
        started=started,
        max_lag_s=max_lag_s,
        duration_s=duration_s,
    ).max_lag_s


def run_paper_stats(
    kernel: Kernel,
    feed: ReplayFeed,
    progress: ProgressCallback | None = None,
    progress_every: int = 1_000,
    *,
    started: bool = False,
    max_lag_s: float = 1.0,
    duration_s: float | None = None,
) -> LiveRunStats:
    """Run ``kernel`` on ``feed`` until the feed ends (or ``duration_s``, or the operator stops
    it), then stop the kernel; return the loop's figures (see the module docstring).

    ``started`` says the caller already started the kernel (``engine.runner`` does, so that a
    failing ``on_start`` is a startup error).
    """
    if not isinstance(kernel.clock, LiveClock):
        raise ConfigError("paper trading needs a LiveClock")
    if not started:
        kernel.start()
    feed.start()
    try:
        stats = run_live(
            kernel,
            feed.inbox,
            duration_s=duration_s,
            journal_market_data=False,
            progress=progress,
            progress_every=progress_every,
            max_lag_s=max_lag_s,
        )
    finally:
        feed.stop()
    if feed.error is not None:
        raise feed.error
    return stats

"""The kernel's inbox: the one thread-safe queue through which everything from outside
(market data, venue answers, operator commands) reaches the kernel thread.

Adapters do their I/O on their own threads; to hand a message over they call
``publish(build)``: under one lock the inbox reads the clock, makes the time no earlier than
the previous message's (``ts_init`` never goes back, even when two threads race), builds the
record with it and queues it. Queue order is therefore ``ts_init`` order, and the kernel and
the journal see every inbound message with the time the inbox gave it: a live session
replays as a backtest, decision for decision.

Another thread that needs the kernel's state or must change it (the control API, a monitor)
puts a ``KernelCall`` in the inbox and waits on its future: the kernel thread runs it between
two items, so no state is ever shared across threads.

The queue is bounded (``max_items``): a kernel that cannot keep up makes publishers wait
(backpressure) instead of losing messages; ``high_water`` records the deepest it got.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from tradeloop.core.clock import Clock

R = TypeVar("R")


class InboxPort(Protocol):
    """Where a data or execution client puts what it receives."""

    def publish(self, build: Callable[[int], R]) -> R:
        """Build a record with the inbox's ``ts_init`` and queue it; return it."""
        ...

    def now_ns(self) -> int:
        """Return the clock's time (for timestamps that are not ``ts_init``)."""
        ...


class Inbox:
    """A bounded, thread-safe, time-stamping queue (module docstring)."""

    def __init__(self, clock: Clock, max_items: int = 1_000_000) -> None:
        self.clock = clock
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_items)
        self._lock = threading.Lock()
        self._last_ns = 0
        self.published = 0
        self.high_water = 0

    def now_ns(self) -> int:
        """Return the clock's time, never earlier than the last ``ts_init`` given."""
        with self._lock:
            return max(self.clock.timestamp_ns(), self._last_ns)

    def publish(self, build: Callable[[int], R]) -> R:
        """Build a record with ``ts_init`` = now (monotonic) and queue it; return it."""
        with self._lock:
            ts = max(self.clock.timestamp_ns(), self._last_ns)
            self._last_ns = ts
            record = build(ts)
            self._queue.put(record)
            self.published += 1
            depth = self._queue.qsize()
            if depth > self.high_water:
                self.high_water = depth
        return record

    def put_control(self, item: object) -> None:
        """Queue ``item`` as it is (a control message: the end of a feed, a stop request)."""
        self._queue.put(item)

    def get(self, timeout: float | None) -> Any:
        """Return the next item, waiting up to ``timeout`` seconds (``queue.Empty`` after)."""
        return self._queue.get(timeout=timeout)

    def get_nowait(self) -> Any:
        """Return the next item if there is one (``queue.Empty`` otherwise)."""
        return self._queue.get_nowait()

    def empty(self) -> bool:
        """Return whether nothing is waiting."""
        return self._queue.empty()

    def qsize(self) -> int:
        """Return how many items wait."""
        return self._queue.qsize()


class KernelCall:
    """A function for the kernel thread, put in the inbox by another thread (``Inbox.put_control``).

    The loop runs ``function(kernel)`` between two items and sets ``future`` to its result
    (or its exception), so the caller waits for it with a timeout and the kernel never shares
    its state with another thread.
    """

    __slots__ = ("function", "future")

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function
        self.future: Future[Any] = Future()

    def run(self, kernel: Any) -> None:
        """Run the function and set the future (the kernel thread calls it)."""
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.function(kernel)
        except BaseException as error:  # handed to the waiting thread, not the loop's
            self.future.set_exception(error)
        else:
            self.future.set_result(result)

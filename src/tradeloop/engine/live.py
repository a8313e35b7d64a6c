"""The live-clock driver loop: one loop for paper (live or replayed data), shadow and live.

Everything from outside reaches the kernel through one ``Inbox`` (``bus.inbox``): data clients
and the replay feed put market data in it, live execution clients put their order events in
it, other components their own events (alerts, feed status). The kernel thread takes one item
at a time and:

1. fires the timers that fell due on the live clock (before the item, as a backtest fires
   those due before a record);
2. for market data: closes the previous instant when the time moved on (equity point,
   ``events.clock.step``), journals the record when it was stamped by the inbox (a live feed:
   ``MarketDataReceived``, so ``backtest --from-journal`` replays the session record for
   record; a replayed file is in the manifest already) and dispatches it as a backtest does;
3. for an order event: hands it to the order manager (journal, order state, portfolio,
   strategies), exactly as a simulated venue's event;
4. for any other event: journals and publishes it;
5. ends at the end of the feed (replay), at the ``--for`` deadline, on a ``StopRequested``
   in the inbox, or when the operator stops it: Ctrl-C (or SIGTERM, turned into a
   ``KeyboardInterrupt`` by the CLI) ends the loop as cleanly as a deadline, and
   ``LiveRunStats.stopped`` says so (the run is then marked ``stopped``, with its outputs). On
   the way out it cancels the open orders when told to (``cancel_open_orders``: every cancel
   is a journaled command), then stops the kernel. A second Ctrl-C while it waits for the
   venue's answers to those cancels goes up as an error.

Journal records reach the writer process whenever the inbox is empty and at least every
``LIVE_FLUSH_INTERVAL_S`` while the kernel is busy (what a SIGKILL can lose: see
``docs/design-notes.md``). A kernel that falls behind the clock journals an ``AlertRaised``
warning once per episode; ``run_live`` returns the largest lag, for the run summary.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass

import msgspec

from tradeloop.bus.inbox import Inbox
from tradeloop.bus.topics import ALERTS
from tradeloop.core.clock import NEVER_NS, LiveClock
from tradeloop.core.errors import ConfigError
from tradeloop.core.time import ns_to_iso
from tradeloop.engine.feed import BookEvent
from tradeloop.engine.kernel import Kernel, ProgressCallback
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.events import AlertRaised, Event, MarketDataReceived, OrderEvent

LIVE_FLUSH_INTERVAL_S = 0.05
"""The longest a journal record waits in the kernel's buffer while the kernel is busy (s)."""

FEED_ENDED = object()
"""Put in the inbox by a replay feed after its last record: the run ends there."""


class StopRequested(msgspec.Struct, frozen=True):
    """Put in the inbox to end the run (an operator, a signal handler); ``reason`` is kept."""

    reason: str


CANCEL_WAIT_S = 5.0
"""How long a stopping node waits for a live venue to answer its cancels (s)."""


@dataclass
class LiveRunStats:
    """What a live-clock run reports in its summary.

    ``unprocessed_on_stop`` counts the market records that arrived while a stopping node
    waited for its cancels' answers, and the book deltas of a venue event the feed had not
    finished when it stopped: they are not dispatched (the session is over).
    """

    unprocessed_on_stop: int = 0
    records: int = 0
    order_events: int = 0
    max_lag_s: float = 0.0
    end_reason: str = ""
    stopped: bool = False


_MARKET = (Bar, QuoteTick, TradeTick, OrderBookDelta, BookEvent)


def _received(record: Bar | QuoteTick | TradeTick | OrderBookDelta) -> MarketDataReceived:
    bar = record if type(record) is Bar else None
    quote = record if type(record) is QuoteTick else None
    trade = record if type(record) is TradeTick else None
    delta = record if type(record) is OrderBookDelta else None
    return MarketDataReceived(
        bar=bar,
        quote=quote,
        trade=trade,
        delta=delta,
        ts_event=min(record.ts_event, record.ts_init) or record.ts_init,
        ts_init=record.ts_init,
    )


def run_live(
    kernel: Kernel,
    inbox: Inbox,
    *,
    duration_s: float | None = None,
    journal_market_data: bool = True,
    cancel_open_orders: bool = False,
    progress: ProgressCallback | None = None,
    progress_every: int = 1_000,
    max_lag_s: float = 1.0,
) -> LiveRunStats:
    """Drive ``kernel`` from ``inbox`` on its live clock until the run ends (module docstring).

    The caller has started the kernel (``Kernel.start``) and the clients that fill the inbox.
    ``duration_s`` ends the run after that much wall time; ``journal_market_data`` journals
    every market record as ``MarketDataReceived`` (live feeds; a replayed file is already in
    the manifest); ``cancel_open_orders`` cancels every open order on the way out.
    """
    clock = kernel.clock
    if not isinstance(clock, LiveClock):
        raise ConfigError("a live-clock run needs a LiveClock")
    stats = LiveRunStats()
    journal = kernel.journal
    order_manager = kernel.order_manager
    flushed_at = time.monotonic()
    deadline = None if duration_s is None else time.monotonic() + duration_s
    last_ts: int | None = None
    alert_lag_ns = max_lag_s * 1e9 * clock.speed
    max_lag_ns = 0.0
    is_lagging = False
    book_events: dict[str, list[OrderBookDelta]] = {}
    try:
        try:
            while True:
                now_wall = time.monotonic()
                if inbox.empty() or now_wall - flushed_at >= LIVE_FLUSH_INTERVAL_S:
                    journal.flush()  # idle, or busy for long: the records go to the writer
                    flushed_at = now_wall
                if deadline is not None and now_wall >= deadline:
                    stats.end_reason = f"the run's duration ({duration_s:g} s) is over"
                    break
                timeout = None
                if clock.next_deadline_ns != NEVER_NS:
                    timeout = clock.wall_seconds_until(clock.next_deadline_ns)
                if deadline is not None:
                    left = max(0.0, deadline - now_wall)
                    timeout = left if timeout is None else min(timeout, left)
                try:
                    item = inbox.get(timeout)
                except queue.Empty:
                    _fire_due(kernel, clock)
                    continue
                _fire_due(kernel, clock)
                if item is FEED_ENDED:
                    stats.end_reason = "the market data ran out"
                    break
                kind = type(item)
                if kind is OrderBookDelta:
                    # A live feed's deltas reach the kernel one venue event at a time (up to
                    # the one flagged LAST), stamped with the event's ts_init (its last
                    # delta's) and journaled so, as a replay of the journal delivers them.
                    book_events.setdefault(item.instrument_id, []).append(item)
                    if not item.flags & _LAST:
                        continue
                    deltas = _stamp_event(book_events.pop(item.instrument_id))
                    if journal_market_data:
                        for delta in deltas:
                            journal.append(_received(delta))
                    item = _book_event(deltas)
                    kind = BookEvent
                if kind in _MARKET:
                    ts = item.ts_init
                    lag_ns = clock.timestamp_ns() - ts
                    if lag_ns > max_lag_ns:
                        max_lag_ns = lag_ns
                    if lag_ns > alert_lag_ns and not is_lagging:
                        is_lagging = True
                        kernel.raise_alert(
                            "warning",
                            "engine",
                            f"the kernel is {lag_ns / 1e9 / clock.speed:.1f} s of wall time behind "
                            f"the clock at record {ns_to_iso(ts)}: decisions are stamped at the "
                            "clock's time; lower --speed or the strategy's load",
                        )
                    elif is_lagging and lag_ns < alert_lag_ns / 2:
                        is_lagging = False
                    if last_ts is not None and ts != last_ts:
                        kernel.portfolio.snapshot(last_ts)
                        kernel.fire_step(last_ts)
                    last_ts = ts
                    if journal_market_data and kind is not BookEvent:
                        journal.append(_received(item))
                    kernel.dispatch(item)
                    stats.records += 1
                    if progress is not None and stats.records % progress_every == 0:
                        progress(stats.records)
                elif isinstance(item, OrderEvent):
                    order_manager.handle_venue_event(item)
                    kernel.drain()
                    stats.order_events += 1
                elif isinstance(item, Event):
                    journal.append(item)
                    if kind is AlertRaised:
                        kernel.bus.publish(ALERTS, item)
                elif kind is StopRequested:
                    stats.end_reason = item.reason
                    break
                else:
                    raise ConfigError(f"the inbox got a {kind.__name__}, which no stage handles")
        except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM through the CLI: a clean stop
            stats.end_reason = getattr(interrupt, "reason", "interrupted by the operator (Ctrl-C)")
            stats.stopped = True
    finally:
        if last_ts is not None:
            kernel.fire_step(last_ts)
        kernel.set_last_timestamp(last_ts)
        # Deltas of a venue event the feed never finished (no LAST before the stop).
        stats.unprocessed_on_stop += sum(len(v) for v in book_events.values())
        if cancel_open_orders:
            for order in order_manager.open_orders():
                order_manager.cancel(order.client_order_id, "the node is stopping")
            kernel.drain()
            stats.unprocessed_on_stop += _await_cancels(kernel, inbox, CANCEL_WAIT_S)
        if progress is not None:
            progress(stats.records)
    kernel.stop()
    stats.max_lag_s = max_lag_ns / 1e9 / clock.speed
    return stats


_LAST = 128  # BookFlag.LAST: the delta that ends a venue event


def _stamp_event(deltas: list[OrderBookDelta]) -> list[OrderBookDelta]:
    ts_init = deltas[-1].ts_init
    return [
        d if d.ts_init == ts_init else msgspec.structs.replace(d, ts_init=ts_init) for d in deltas
    ]


def _book_event(deltas: list[OrderBookDelta]) -> BookEvent:
    # One venue event of a live feed's deltas, as the columnar rows a replay would give.
    from tradeloop.data.books.columns import BookDeltaColumns

    columns = BookDeltaColumns.from_deltas(deltas)
    last = deltas[-1]
    return BookEvent(last.instrument_id, columns, 0, len(deltas), last.ts_event, last.ts_init)


def _await_cancels(kernel: Kernel, inbox: Inbox, wait_s: float) -> int:
    # A live venue answers a cancel later, through the inbox: wait (bounded) until no order
    # is open, applying the order events and journaling the other events that come; market
    # records are counted, not dispatched. Returns how many were not dispatched.
    order_manager = kernel.order_manager
    deadline = time.monotonic() + wait_s
    skipped = 0
    while order_manager.open_orders() and time.monotonic() < deadline:
        try:
            item = inbox.get(0.05)
        except queue.Empty:
            continue
        if isinstance(item, OrderEvent):
            order_manager.handle_venue_event(item)
            kernel.drain()
        elif isinstance(item, Event):
            kernel.journal.append(item)
        elif type(item) in _MARKET:
            skipped += 1
    return skipped


def _fire_due(kernel: Kernel, clock: LiveClock) -> None:
    for event, callback in clock.pop_due(clock.timestamp_ns()):
        callback(event)
        kernel.drain()

"""Live-clock sessions on live data: ``paper``, ``shadow`` and ``live``.

The three modes differ only at the edges, chosen here and nowhere else:

| mode   | market data              | orders go to                                       |
|--------|--------------------------|----------------------------------------------------|
| paper  | the ``[[feeds]]``        | the simulated venue                                |
| shadow | the ``[[feeds]]``        | the simulated venue; nothing leaves the machine    |
| live   | the ``[[feeds]]``        | the venue's own connection (``[connections.X]``)  |

Steps of ``run_session``:

1. Convert the ``[connections.<NAME>]`` tables (``engine.connections``); ``live`` refuses a
   connection that leaves this machine unless its table says ``confirm_real_money = true``.
2. Create ``runs/<run_id>-<mode>-<wall ns>/``, open the journal (commands durable before
   they are sent), build the kernel on the wall clock with order ids scoped to this run
   (``O-<scope>-<strategy>-<n>``: never repeated across runs at a venue that keeps them).
3. Connect the data clients, and in ``live`` each venue's execution client, routing that
   venue's orders to it: an unknown key or an unreachable endpoint is one clear error before
   any strategy starts, and leaves no run directory.
4. Start the strategies, then subscribe every feed; every message goes through the one inbox,
   stamped, and is journaled.
5. Run the live loop (``engine.live.run_live``) until ``duration_s`` is over, the operator
   stops it (Ctrl-C) or it fails; open orders are cancelled on the way out unless
   ``[live] on_stop = "leave"``; then the clients are closed and the run ends as every run
   does (``RunEnded``, outputs).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

from tradeloop.bus.inbox import Inbox, InboxPort
from tradeloop.config.schema import FeedSection
from tradeloop.core.clock import LiveClock
from tradeloop.core.errors import ConfigError
from tradeloop.data.ports import DataClient
from tradeloop.engine.connections import Connection, load_connections, venue_connections
from tradeloop.engine.deployment import check_stage
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.live import Operations, run_live
from tradeloop.engine.resume import ResumedRunDir, prepare_node
from tradeloop.engine.runner import (
    PreparedRun,
    ProgressFactory,
    RunResult,
    _ending,
    _finish,
    _RunDir,
    _start,
)
from tradeloop.engine.shadow import ShadowObserver
from tradeloop.execution.ports import LiveExecutionClient
from tradeloop.venues.feed_group import FeedGroup

MODES = ("paper", "shadow", "live")


def session_scope(wall_ns: int) -> str:
    """Return the client order id scope of a session that started at ``wall_ns``: its start
    in base-36 seconds (short, sortable, unique per second per node)."""
    seconds = wall_ns // 1_000_000_000
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while seconds:
        seconds, rest = divmod(seconds, 36)
        out = digits[rest] + out
    return out or "0"


def check_session(prepared: PreparedRun, mode: str) -> dict[str, Connection]:
    """Check that ``prepared`` can run in ``mode`` on live data; return its connections.

    Raises
    ------
    ConfigError
        If the mode is unknown, the config has no ``[[feeds]]``, a connection is invalid, a
        traded venue has none (``live``), a ``live`` connection leaves this machine without
        ``confirm_real_money = true``, or ``live`` runs at no live capital stage
        (``engine.deployment.check_stage``).
    """
    config = prepared.config
    if mode not in MODES:
        raise ConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if not config.feeds:
        raise ConfigError(
            f"{mode} on live data needs [[feeds]] (or --replay DATA to replay recorded data)"
        )
    check_stage(config, mode)
    connections = load_connections(config)
    if mode == "live":
        for venue, connection in sorted(
            venue_connections(config, connections, prepared.instruments).items()
        ):
            if not connection.is_loopback and not getattr(
                connection.config, "confirm_real_money", False
            ):
                raise ConfigError(
                    f"[connections.{venue}] reaches a venue outside this machine with real "
                    "money: set confirm_real_money = true in that table to trade it live"
                )
    return connections


def run_session(
    prepared: PreparedRun,
    mode: str,
    *,
    duration_s: float | None = None,
    progress: ProgressFactory | None = None,
    operations: Operations | None = None,
    resume: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Run ``prepared`` in ``mode`` (``paper``, ``shadow``, ``live``) on its live feeds (module
    docstring); return the result once it ended. ``operations`` watch and steer the run
    (``engine.live.Operations``).

    Raises
    ------
    ConfigError
        See ``check_session``.
    VenueError
        If a venue refuses the credentials or cannot be reached at startup.
    """
    connections = check_session(prepared, mode)
    config = prepared.config
    wall_ns = time.time_ns()
    clock = LiveClock()
    inbox = Inbox(clock)
    # --resume continues an existing run (engine.resume); a new session gets a new directory
    run_dir = (
        _RunDir(prepared, mode, suffix=f"-{mode}-{wall_ns}")
        if resume is None
        else ResumedRunDir(resume, prepared.config_hash, mode)
    )
    executions: list[LiveExecutionClient] = []
    feeds: list[DataClient] = []
    shadow: ShadowObserver | None = None

    by_feed: dict[tuple[str, ...], DataClient] = {}

    def connect_venues(kernel: Kernel) -> None:
        # Everything that can refuse us (a key, an endpoint) before a strategy starts: a
        # failure here leaves no run directory.
        for feed in config.feeds:
            key = (feed.connection, *feed.backups)
            if key not in by_feed:
                client = _data_client(feed, connections, inbox, prepared)
                client.connect()
                by_feed[key] = client
                feeds.append(client)
        if mode != "live":
            return
        for venue, connection in sorted(
            venue_connections(config, connections, prepared.instruments).items()
        ):
            execution = connection.execution_client(venue, inbox, prepared.instruments)
            execution.connect()
            executions.append(execution)
            kernel.use_execution_client(execution)

    def start_node(kernel: Kernel) -> None:
        connect_venues(kernel)
        # a resumed run is rebuilt and reconciled, a new live one reconciled (engine.resume)
        prepare_node(kernel, run_dir, executions, config.reconciliation)

    try:
        journal, kernel = _start(
            prepared,
            run_dir,
            clock,
            prepared.manifest(mode, wall_ns),
            before_start=start_node,
            order_id_scope=session_scope(wall_ns),
            durable_commands=True,
            resume=resume is not None,
        )
    except BaseException:
        _close_all(executions, feeds)
        raise
    callback = None if progress is None else progress(0)
    start = time.perf_counter()
    with _ending(prepared, run_dir, journal, kernel):
        try:
            if mode == "shadow":
                shadow = ShadowObserver(kernel, [feed.instrument_id for feed in config.feeds])
            for feed in config.feeds:
                client = by_feed[(feed.connection, *feed.backups)]
                for kind in feed.kinds:
                    client.subscribe(kind, feed.instrument_id)
            stats = run_live(
                kernel,
                inbox,
                duration_s=duration_s,
                journal_market_data=True,
                cancel_open_orders=config.live.on_stop == "cancel_all",
                progress=callback,
                operations=operations,
                data_clients=feeds,
            )
            if shadow is not None:
                shadow.finish()
        finally:
            _close_all(executions, feeds)
    result = RunResult(
        prepared.run_id,
        mode,
        run_dir.path,
        run_dir.path / "journal.sqlite",
        kernel,
        time.perf_counter() - start,
        kernel.records_processed,
    )
    extra: dict[str, Any] = {
        "max_lag_behind_clock_s": round(stats.max_lag_s, 6),
        "order_events_received": stats.order_events,
        "market_records_after_stop": stats.unprocessed_on_stop,
        "inbox_high_water": inbox.high_water,
        "feeds": [client.status().name + ":" + client.status().state for client in feeds],
    }
    if shadow is not None:
        extra["shadow"] = shadow.summary()
    _finish(
        prepared,
        run_dir,
        journal,
        result,
        stats.end_reason,
        extra,
        status="stopped" if stats.stopped else "completed",
    )
    return result


def _data_client(
    feed: FeedSection, connections: dict[str, Connection], inbox: Inbox, prepared: PreparedRun
) -> DataClient:
    # One connection's feed, or a group of it and its backups (failover).
    names = [feed.connection, *feed.backups]
    if len(names) == 1:
        return connections[feed.connection].data_client(inbox, prepared.instruments)
    instruments = prepared.instruments

    def member(name: str) -> Callable[[InboxPort], DataClient]:
        return lambda group_inbox: connections[name].data_client(group_inbox, instruments)

    return FeedGroup(
        "+".join(names),
        inbox,
        [member(name) for name in names],
        fail_after_s=feed.fail_after_s,
    )


def _close_all(executions: list[LiveExecutionClient], feeds: list[DataClient]) -> None:
    for feed in feeds:
        with contextlib.suppress(Exception):  # closing must not hide the run's own error
            feed.close()
    for client in executions:
        with contextlib.suppress(Exception):
            client.disconnect()

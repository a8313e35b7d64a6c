"""``NodeMonitor``: metrics, health and the control surface of one live-clock run.

It implements the engine's ``Operations`` hook (``engine.live``): the loop attaches it on the
kernel thread before its first item and detaches it when the loop is over. Meanwhile:

1. ``MetricsSubscriber`` counts the kernel's events as they are published (kernel thread);
2. a probe thread puts a ``KernelCall`` in the inbox every ``probe_interval_s``: the kernel
   runs it between two items, it measures how long it waited there (the event-loop lag),
   copies the node into a ``NodeSnapshot`` and, every ``journal_sync_interval_s``, times a
   journal sync (journal write latency; a failing sync makes the node not ready);
   It also copies the models' live windows for drift every ``[drift] interval_s``
   (``drift.DriftMonitor``; the probe thread then computes PSI and KS against the training
   windows, off the loop, and the next snapshot carries them) and copies
   what the pipeline decided (``decisions.DecisionWatcher``: regime, agent scores, realized
   vs modelled slippage, shadow fills against the quotes) into the snapshot;
3. any thread reads the latest snapshot (``snapshot``), the health checks (``liveness``,
   ``readiness``) and the metrics (``metrics.exposition()``) without touching the kernel;
4. ``call`` runs a function on the kernel thread and waits for its result (the control API's
   actions, a fresh snapshot), with a timeout: a busy or stopped kernel makes the caller wait
   at most that long, and never the other way round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Protocol, TypeVar

from tradeloop.bus.bus import MessageBus
from tradeloop.bus.inbox import KernelCall
from tradeloop.config.operations import AlertRuleSection, ApprovalsSection, DriftSection
from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.data.ports import DataClient
from tradeloop.model.enums import TradingState
from tradeloop.model.events import AlertRaised, ControlActionTaken
from tradeloop.monitoring.alerts import AlertEvaluator
from tradeloop.monitoring.approvals import ApprovalGate
from tradeloop.monitoring.control import Actor, ControllableKernel, ControlSurface
from tradeloop.monitoring.decisions import DecisionWatcher
from tradeloop.monitoring.drift import DriftMonitor
from tradeloop.monitoring.metrics import NodeMetrics
from tradeloop.monitoring.notify import Notifier
from tradeloop.monitoring.performance import DailyCurve
from tradeloop.monitoring.requests import AdminRequests, RequestQueue, StageDesk
from tradeloop.monitoring.snapshot import FeedHealth, NodeSnapshot, feed_health, take_snapshot
from tradeloop.monitoring.subscriber import MetricsSubscriber

T = TypeVar("T")


class NodeNotRunningError(TradeloopError):
    """The node's kernel loop is not running (not started yet, or over)."""


class KernelBusyError(TradeloopError):
    """The kernel did not run a call within its timeout."""


class _Kernel(ControllableKernel, Protocol):
    bus: MessageBus


class _Inbox(Protocol):
    def put_control(self, item: object) -> None: ...

    def publish(self, build: Callable[[int], Any]) -> Any: ...

    def qsize(self) -> int: ...


class _Node(Protocol):
    kernel: Any
    inbox: Any
    data_clients: list[DataClient]


class NodeMonitor(AdminRequests):
    """Watch and steer one run (module docstring)."""

    def __init__(
        self,
        *,
        mode: str,
        probe_interval_s: float = 1.0,
        journal_sync_interval_s: float = 5.0,
        stale_after_s: float = 10.0,
        alert_rules: Sequence[AlertRuleSection] = (),
        notifier: Notifier | None = None,
        approvals: ApprovalsSection | None = None,
        drift: DriftSection | None = None,
    ) -> None:
        self.mode = mode
        self.drift = DriftMonitor(drift)
        self.decisions = DecisionWatcher(self.drift.config.slippage_window)
        self.approvals_config = approvals
        self.approvals: ApprovalGate | None = None
        # Restarts after a kill and stage promotions wait for an admin (``requests``).
        self.requests = RequestQueue(300.0 if approvals is None else approvals.timeout_s)
        self.stage_desk: StageDesk | None = None
        self.probe_interval_s = probe_interval_s
        self.journal_sync_interval_s = journal_sync_interval_s
        self.stale_after_s = stale_after_s
        self.metrics = NodeMetrics(lambda: self._snapshot)
        self._snapshot: NodeSnapshot | None = None
        self._kernel: _Kernel | None = None
        self._inbox: _Inbox | None = None
        self._data_clients: list[DataClient] = []
        self.subscriber: MetricsSubscriber | None = None
        self.control = ControlSurface(self._on_action)
        self.notifier = notifier
        self.alerts = (
            AlertEvaluator(alert_rules, self.control, notifier) if alert_rules or notifier else None
        )
        self._running = False
        self._ended = False
        self._stop = threading.Event()
        self._probe: threading.Thread | None = None
        self._peak_equity = 0.0
        self._last_sync = 0.0
        self.journal_error: str | None = None
        self._curve = DailyCurve()
        self._records_seen = -1
        self._progress_at = time.monotonic()
        self._lock = threading.Lock()

    # -- Operations (kernel thread) ---------------------------------------------------------------

    def attach(self, node: _Node) -> None:
        """Subscribe to the kernel's events and start probing it (kernel thread). A node
        without an inbox (a backtest) is only counted from its bus."""
        kernel: _Kernel = node.kernel
        self._kernel = kernel
        self._inbox = node.inbox
        self._data_clients = list(node.data_clients)
        self.subscriber = MetricsSubscriber(self.metrics, kernel)
        self.subscriber.attach(kernel.bus)
        self.decisions.attach(kernel.bus)
        self.drift.attach(kernel)
        section = self.approvals_config
        if section is not None and section.order_notional is not None:
            # Every order passes the risk engine first, then this gate (no order bypasses risk).
            self.approvals = ApprovalGate(
                kernel, kernel.risk, self.control, section.order_notional, section.timeout_s
            )
            kernel.order_manager.set_risk(self.approvals)
        self._last_sync = time.monotonic()
        self._refresh(kernel, 0.0)
        if node.inbox is None:
            return  # a backtest (bench sma): counted from the bus, no probes, no calls
        with self._lock:
            self._running = True
        self._probe = threading.Thread(target=self._probe_loop, name="monitor-probe", daemon=True)
        self._probe.start()

    def detach(self) -> None:
        """Take the last snapshot and stop probing (kernel thread, the loop is over)."""
        with self._lock:
            self._running = False
            self._ended = True
        self._stop.set()
        kernel = self._kernel
        if kernel is not None:
            self._refresh(kernel, self._last_lag(), is_running=False)
            if self.subscriber is not None:
                self.subscriber.detach(kernel.bus)
            self.decisions.detach(kernel.bus)

    # -- any thread -------------------------------------------------------------------------------

    @property
    def snapshot(self) -> NodeSnapshot | None:
        """Return the latest snapshot (None before the node started)."""
        return self._snapshot

    @property
    def is_running(self) -> bool:
        """Return whether the kernel loop runs (calls can be made)."""
        return self._running

    @property
    def has_ended(self) -> bool:
        """Return whether the kernel loop is over."""
        return self._ended

    def call(self, function: Callable[[Any], T], timeout_s: float = 5.0) -> T:
        """Run ``function(kernel)`` on the kernel thread; return its result.

        Raises
        ------
        NodeNotRunningError
            If the kernel loop is not running.
        KernelBusyError
            If the kernel did not run it within ``timeout_s`` (it may still run it later).
        """
        with self._lock:
            if not self._running or self._inbox is None:
                state = "is over" if self._ended else "has not started yet"
                raise NodeNotRunningError(f"the node's kernel loop {state}")
            call = KernelCall(function)
            self._inbox.put_control(call)
        try:
            result: T = call.future.result(timeout=timeout_s)
        except FutureTimeout:
            if not call.future.cancel() and call.future.done():
                done: T = call.future.result()  # it ran just now
                return done
            if self._ended:
                raise NodeNotRunningError("the node's kernel loop is over") from None
            raise KernelBusyError(
                f"the kernel did not answer within {timeout_s:g} s (busy or stopping)"
            ) from None
        return result

    def act(self, action: str, actor: Actor, reason: str, target: str = "") -> dict[str, object]:
        """Take a control action on the kernel thread (``control.ControlSurface``); return
        what it did and refresh the snapshot. ``resume`` of a HALTED (killed) node opens a
        restart request for an admin instead (``requests``)."""

        def run(kernel: _Kernel) -> dict[str, object]:
            if action == "resume" and kernel.risk.trading_state is TradingState.HALTED:
                result = self._request(kernel, "restart", actor, reason, "")
            else:
                result = self.control.run(kernel, action, actor, reason, target)
            self._refresh(kernel, self._last_lag())
            return result

        return self.call(run)

    def refresh(self, kernel: Any) -> None:
        """Take a fresh snapshot, keeping the latest lag (kernel thread)."""
        self._refresh(kernel, self._last_lag())

    def fresh_snapshot(self, timeout_s: float = 2.0) -> NodeSnapshot | None:
        """Return a snapshot taken now by the kernel, or the latest one if it cannot answer."""
        try:
            return self.call(lambda kernel: self._refresh(kernel, self._last_lag()), timeout_s)
        except (NodeNotRunningError, KernelBusyError):
            return self._snapshot

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        """Return whether the node is alive: its kernel answered a probe recently (or it is
        not running, which a probe cannot check), with the reason."""
        snap = self._snapshot
        if not self._running or snap is None:
            return True, {"kernel": "not running" if self._ended else "starting"}
        age = snap.age_s()
        limit = max(10.0, 10 * self.probe_interval_s)
        ok = age <= limit
        return ok, {"kernel": f"answered {age:.1f} s ago (limit {limit:g} s)"}

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Return whether the node is ready to trade, with each check (running, kernel
        responsive, feeds connected and fresh, journal writable)."""
        checks: dict[str, Any] = {}
        snap = self._snapshot
        checks["running"] = self._running
        checks["kernel_responsive"] = snap is not None and snap.age_s() <= max(
            5.0, 5 * self.probe_interval_s
        )
        feeds = {} if snap is None else {f.name: f.is_up for f in snap.feeds}
        checks["feeds"] = feeds
        checks["journal_writable"] = self.journal_error is None
        if self.journal_error is not None:
            checks["journal_error"] = self.journal_error
        ok = (
            bool(checks["running"])
            and bool(checks["kernel_responsive"])
            and all(feeds.values())
            and self.journal_error is None
        )
        return ok, checks

    # -- internals --------------------------------------------------------------------------------

    def _last_lag(self) -> float:
        # An on-demand snapshot keeps the lag the latest probe measured.
        snap = self._snapshot
        return 0.0 if snap is None else snap.loop_lag_s

    def _on_action(self, event: ControlActionTaken) -> None:
        if self.subscriber is not None:
            self.subscriber.on_control_action(event)

    def _feeds(self, kernel: _Kernel, is_running: bool) -> tuple[FeedHealth, ...]:
        now = time.monotonic()
        if self._data_clients:
            feeds: Sequence[FeedHealth] = feed_health(
                self._data_clients, kernel.clock.timestamp_ns()
            )
            return tuple(
                FeedHealth(f.name, f.state, f.staleness_s, f.messages, f.is_up and is_running)
                for f in feeds
            )
        # A replay: the feed is the file; stale when no record came for stale_after_s.
        records = kernel.records_processed
        if records != self._records_seen:
            self._records_seen = records
            self._progress_at = now
        staleness = now - self._progress_at
        state = "replaying" if is_running else "ended"
        return (FeedHealth("replay", state, staleness, records, is_running),)

    def _refresh(self, kernel: _Kernel, lag_s: float, *, is_running: bool = True) -> NodeSnapshot:
        # Kernel thread: a journal sync when one is due, then the snapshot.
        now = time.monotonic()
        if now - self._last_sync >= self.journal_sync_interval_s:
            self._last_sync = now
            start = time.perf_counter()
            try:
                kernel.journal.sync()
            except Exception as error:  # the node is then not ready; the loop goes on
                self.journal_error = f"{type(error).__name__}: {error}"
            else:
                self.journal_error = None
                self.metrics.journal_sync.observe(time.perf_counter() - start)
        if self.subscriber is not None:
            self.subscriber.drain(wait=False)  # a scrape draining now does it for us
        self.drift.collect(now)  # the statistics are computed by the probe thread
        inbox = self._inbox
        portfolio = kernel.portfolio
        self._curve.update(portfolio.equity_ts, portfolio.equity_values)
        snap = take_snapshot(
            kernel,
            peak_equity=self._peak_equity,
            feeds=self._feeds(kernel, is_running),
            is_running=is_running,
            loop_lag_s=lag_s,
            inbox_depth=0 if inbox is None else inbox.qsize(),
            extra={
                "mode": self.mode,
                "journal_writable": self.journal_error is None,
                "approvals_pending": 0 if self.approvals is None else len(self.approvals.pending),
                "sharpe": self._curve.sharpe(),
                "days": len(self._curve.closes),
                "limits": _limits_status(kernel),
                "drift": [measure.as_json() for measure in self.drift.measures],
                "drift_max": self.drift.maxima(),
                **self.decisions.summary(),
            },
        )
        self._peak_equity = snap.peak_equity
        self._snapshot = snap
        if self.approvals is not None and is_running:
            self.approvals.expire()
        if self.requests.pending and is_running:
            self.expire_requests(kernel)
        if self.alerts is not None and is_running and self.subscriber is not None:
            self.alerts.evaluate(
                kernel,
                kernel.bus,
                snap,
                alerts_raised=self.subscriber.alert_count,
                journal_error=self.journal_error is not None,
            )
        return snap

    def report_failure(self, text: str) -> None:
        """Journal ``text`` as a warning ``AlertRaised`` through the inbox (any thread: the
        notifier's failures); dropped, with a log line, when the loop is not running."""
        inbox = self._inbox
        if inbox is None or not self._running:
            return
        inbox.publish(
            lambda ts: AlertRaised(
                severity="warning", source="notifier", message=text, ts_event=ts, ts_init=ts
            )
        )

    def decide(self, rule: str, decision: str, actor: Actor, reason: str) -> dict[str, object]:
        """Close the manual review of alert ``rule`` with ``decision`` (kernel thread).

        Raises
        ------
        ConfigError
            If the node has no alert rules, no review of ``rule`` is open or the decision is
            unknown.
        """
        alerts = self.alerts
        if alerts is None:
            raise ConfigError("the run config has no [[alerts]]: there is nothing to review")

        def run(kernel: _Kernel) -> dict[str, object]:
            result = alerts.decide(kernel, rule, decision, actor, reason)
            self._refresh(kernel, self._last_lag())
            return result

        return self.call(run)

    def decide_approval(
        self, approval_id: str, approve: bool, actor: Actor, reason: str
    ) -> dict[str, object]:
        """Approve or reject a held order (kernel thread), or a restart or promotion request
        (``R-<n>``: an admin's decision).

        Raises
        ------
        ConfigError
            If nothing waits under ``approval_id`` (or a promotion's gates do not hold: it is
            refused, with the failing gates, and closed).
        ControlDeniedError
            If a request is decided by someone who is not an admin (nothing changes).
        """
        if approval_id.startswith("R-"):
            return self._decide_request(approval_id, approve, actor, reason)
        gate = self.approvals
        if gate is None:
            raise ConfigError(
                f"no order waits for approval {approval_id!r}: the run config sets no "
                "[approvals] order_notional"
            )

        def run(kernel: _Kernel) -> dict[str, object]:
            if approve:
                result = gate.approve(approval_id, actor, reason)
            else:
                result = gate.reject(approval_id, actor, reason)
            self._refresh(kernel, self._last_lag())
            return result

        return self.call(run)

    def waiting_approvals(self) -> list[dict[str, Any]]:
        """Return what waits for approval: held orders, then restart and promotion requests,
        oldest first."""
        orders = [] if self.approvals is None else self.approvals.waiting()
        return [*orders, *self.requests.waiting()]

    def reviews(self) -> list[dict[str, Any]]:
        """Return the open manual reviews (oldest first)."""
        if self.alerts is None:
            return []
        items = sorted(self.alerts.reviews.values(), key=lambda r: r.opened_ts_ns)
        return [review.as_json() for review in items]

    def _probe_loop(self) -> None:
        while not self._stop.wait(self.probe_interval_s):
            sent = time.monotonic()

            def probe(kernel: _Kernel, sent: float = sent) -> NodeSnapshot:
                return self._refresh(kernel, time.monotonic() - sent)

            try:
                self.call(probe, timeout_s=max(5.0, 5 * self.probe_interval_s))
            except (NodeNotRunningError, KernelBusyError):
                continue
            self.drift.compute_pending()  # off the kernel thread; in the next snapshot


def _limits_status(kernel: object) -> dict[str, object] | None:
    # The kernel's portfolio limits (``engine.limits``), None when the run sets none.
    guard = getattr(kernel, "limits", None)
    return None if guard is None else dict(guard.status())


def monitor_for(config: Any, mode: str, env: Mapping[str, str]) -> NodeMonitor:
    """Return the monitor of a run of ``config`` (a ``RunConfig``) in ``mode``: its
    ``[[alerts]]`` and its ``[notifications]`` (URLs resolved from ``env``), failures of
    which are journaled as warnings.

    Raises
    ------
    ConfigError
        If a notification URL is not usable (see ``notify.resolve_urls``).
    """
    from tradeloop.monitoring.notify import resolve_urls

    section = config.notifications
    urls = resolve_urls(section, env)
    notifier = Notifier(urls, min_interval_s=section.min_interval_s) if urls else None
    monitor = NodeMonitor(
        mode=mode,
        alert_rules=config.alerts,
        notifier=notifier,
        approvals=config.approvals,
        drift=config.drift,
    )
    if notifier is not None:
        notifier.on_failure = monitor.report_failure
    return monitor

"""Alert rules of the run config (``[[alerts]]``) evaluated on the node, with their actions.

``AlertEvaluator.evaluate`` runs on the kernel thread after each snapshot (the monitor's
probe, about once a second). For each rule:

1. read its metric: a gauge from the snapshot, or a count's increase over ``window_s``;
2. while the condition holds, wait ``for_s`` (wall seconds); then it **fires**: an
   ``AlertRuleFired`` and an ``AlertRaised`` are journaled (the latter published on
   ``events.alert``), the action is taken and a notification is queued;
3. when the condition stops holding, it **resolves**: ``AlertRuleResolved`` is journaled and
   notified. An action is never undone by a resolution: a person resumes a paused node.

Actions go through the control surface (``monitoring.control``) as the actor
``alert:<rule>`` with role ``automation``, so they are journaled as ``ControlActionTaken``:

- ``pause``: trading state REDUCING;
- ``emergency_stop``: kill (cancel all, HALTED, flatten);
- ``notify``: the notification only;
- ``manual_review``: pause, then wait for a person's decision (``decide``: resume, pause or
  emergency_stop, from the API or ``tradeloop ctl review``) until ``review_timeout_s``, when
  the rule's ``review_default`` is applied (emergency_stop unless configured otherwise).
"""

from __future__ import annotations

import math
import operator
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tradeloop.bus.bus import MessageBus
from tradeloop.bus.topics import ALERTS
from tradeloop.config.operations import COUNTER_METRICS, AlertRuleSection
from tradeloop.core.errors import ConfigError
from tradeloop.core.time import ns_to_iso
from tradeloop.model.events import AlertRaised, AlertRuleFired, AlertRuleResolved
from tradeloop.monitoring.control import Actor, ControllableKernel, ControlSurface
from tradeloop.monitoring.notify import Message, Notifier
from tradeloop.monitoring.snapshot import NodeSnapshot

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_ACTION_OF = {"pause": "pause", "emergency_stop": "kill", "resume": "resume"}
DECISIONS = ("resume", "pause", "emergency_stop")


@dataclass
class _State:
    pending_since: float | None = None
    is_firing: bool = False
    fired_at_ns: int = 0
    value: float = 0.0


@dataclass
class Review:
    """A firing ``manual_review`` rule waiting for a person's decision."""

    rule: str
    message: str
    value: float
    deadline_monotonic: float
    default: str
    opened_ts_ns: int
    decided: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return it for the API."""
        return {
            "rule": self.rule,
            "message": self.message,
            "value": self.value,
            "opened": ns_to_iso(self.opened_ts_ns),
            "seconds_left": max(0.0, round(self.deadline_monotonic - time.monotonic(), 1)),
            "default": self.default,
        }


def gauge_values(snap: NodeSnapshot, journal_error: bool) -> dict[str, float]:
    """Return the gauges rules can test, from ``snap``."""
    stalest = max((f.staleness_s for f in snap.feeds), default=0.0)
    return {
        "equity": snap.equity,
        "pnl": snap.pnl,
        "drawdown_ratio": snap.drawdown,
        "gross_exposure_ratio": snap.gross_exposure / snap.equity if snap.equity else 0.0,
        "event_loop_lag_seconds": snap.loop_lag_s,
        "feed_staleness_seconds": stalest if math.isfinite(stalest) else 1e12,
        "feeds_down": float(sum(1 for f in snap.feeds if not f.is_up)),
        "positions_open": float(len(snap.positions)),
        "orders_open": float(len(snap.open_orders)),
        "journal_errors": 1.0 if journal_error else 0.0,
        **_decision_gauges(snap),
    }


def _decision_gauges(snap: NodeSnapshot) -> dict[str, float]:
    # Drift maxima and slippage means from the snapshot (0 before any is measured).
    maxima = snap.extra.get("drift_max") or {}
    slippage = snap.extra.get("slippage") or {}
    shadow = snap.extra.get("shadow") or {}
    return {
        "drift_psi": float(maxima.get("drift_psi", 0.0)),
        "drift_ks": float(maxima.get("drift_ks", 0.0)),
        "signal_drift_psi": float(maxima.get("signal_drift_psi", 0.0)),
        "slippage_model_gap_ratio": float(slippage.get("model_gap_ratio") or 0.0),
        "shadow_tracking_error_ratio": float(shadow.get("tracking_error_ratio") or 0.0),
    }


class AlertEvaluator:
    """Evaluate the rules and take their actions (module docstring)."""

    def __init__(
        self,
        rules: Sequence[AlertRuleSection],
        control: ControlSurface,
        notifier: Notifier | None = None,
    ) -> None:
        self.rules = list(rules)
        self.control = control
        self.notifier = notifier
        self._states = {rule.name: _State() for rule in self.rules}
        self._counts: deque[tuple[float, dict[str, float]]] = deque()
        self._max_window = max((r.window_s for r in self.rules), default=0.0)
        self.reviews: dict[str, Review] = {}

    def firing(self) -> list[str]:
        """Return the names of the rules firing now."""
        return [name for name, state in sorted(self._states.items()) if state.is_firing]

    def _counter_increase(
        self, now: float, counts: dict[str, float], window_s: float
    ) -> dict[str, float]:
        base = counts
        for at, sample in self._counts:
            if at >= now - window_s:
                base = sample
                break
        return {name: counts[name] - base.get(name, 0.0) for name in counts}

    def evaluate(
        self,
        kernel: ControllableKernel,
        bus: MessageBus,
        snap: NodeSnapshot,
        *,
        alerts_raised: int,
        journal_error: bool,
        now: float | None = None,
    ) -> None:
        """Evaluate every rule on ``snap`` (kernel thread); fire, resolve, act, notify."""
        now = time.monotonic() if now is None else now
        counts = {
            "orders_submitted": float(snap.order_counts.get("submitted", 0)),
            "orders_denied": float(snap.order_counts.get("denied", 0)),
            "orders_rejected": float(snap.order_counts.get("rejected", 0)),
            "orders_canceled": float(snap.order_counts.get("canceled", 0)),
            "fills": float(snap.order_counts.get("fills", 0)),
            "alerts_raised": float(alerts_raised),
        }
        self._counts.append((now, counts))
        while self._counts and self._counts[0][0] < now - self._max_window - 5.0:
            self._counts.popleft()
        gauges = gauge_values(snap, journal_error)
        for rule in self.rules:
            if rule.metric in COUNTER_METRICS:
                value = self._counter_increase(now, counts, rule.window_s)[rule.metric]
            else:
                value = gauges[rule.metric]
            state = self._states[rule.name]
            state.value = value
            holds = _OPS[rule.op](value, rule.threshold)
            if holds and not state.is_firing:
                if state.pending_since is None:
                    state.pending_since = now
                if now - state.pending_since >= rule.for_s:
                    self._fire(kernel, bus, rule, state, value, now)
            elif not holds:
                state.pending_since = None
                if state.is_firing:
                    self._resolve(kernel, rule, state, value)
        for review in list(self.reviews.values()):
            if now >= review.deadline_monotonic:
                self.decide(
                    kernel,
                    review.rule,
                    review.default,
                    Actor(f"alert:{review.rule}", "automation"),
                    f"no decision within the review timeout: default {review.default}",
                )

    def _fire(
        self,
        kernel: ControllableKernel,
        bus: MessageBus,
        rule: AlertRuleSection,
        state: _State,
        value: float,
        now: float,
    ) -> None:
        state.is_firing = True
        ts = kernel.clock.timestamp_ns()
        state.fired_at_ns = ts
        text = rule.message or (
            f"{rule.metric} {value:.6g} {rule.op} {rule.threshold:g}"
            + (f" for {rule.for_s:g} s" if rule.for_s else "")
        )
        kernel.journal.append(
            AlertRuleFired(
                rule=rule.name,
                severity=rule.severity,
                metric=rule.metric,
                value=value,
                threshold=rule.threshold,
                op=rule.op,
                action=rule.action,
                message=text,
                ts_event=ts,
                ts_init=ts,
            )
        )
        alert = AlertRaised(
            severity=rule.severity,
            source=f"alert:{rule.name}",
            message=f"{rule.name}: {text} (action: {rule.action})",
            ts_event=ts,
            ts_init=ts,
        )
        kernel.journal.append(alert)
        bus.publish(ALERTS, alert)
        actor = Actor(f"alert:{rule.name}", "automation")
        if rule.action in ("pause", "emergency_stop"):
            self.control.run(kernel, _ACTION_OF[rule.action], actor, text)
        elif rule.action == "manual_review":
            self.control.run(kernel, "pause", actor, f"{text}: waiting for a manual review")
            self.reviews[rule.name] = Review(
                rule=rule.name,
                message=text,
                value=value,
                deadline_monotonic=now + rule.review_timeout_s,
                default=rule.review_default,
                opened_ts_ns=ts,
            )
        if self.notifier is not None:
            review = (
                f"\nReview it within {rule.review_timeout_s:g} s (tradeloop ctl review "
                f"{rule.name} resume|pause|emergency_stop); default: {rule.review_default}"
                if rule.action == "manual_review"
                else ""
            )
            self.notifier.send(
                Message(
                    key=f"{rule.name}:fired",
                    title=f"[{rule.severity}] tradeloop alert {rule.name} fired",
                    body=f"{text}\naction: {rule.action}{review}",
                    severity=rule.severity,
                )
            )

    def _resolve(
        self, kernel: ControllableKernel, rule: AlertRuleSection, state: _State, value: float
    ) -> None:
        state.is_firing = False
        ts = kernel.clock.timestamp_ns()
        kernel.journal.append(
            AlertRuleResolved(
                rule=rule.name, metric=rule.metric, value=value, ts_event=ts, ts_init=ts
            )
        )
        if self.notifier is not None:
            self.notifier.send(
                Message(
                    key=f"{rule.name}:resolved",
                    title=f"[resolved] tradeloop alert {rule.name}",
                    body=(
                        f"{rule.metric} is {value:.6g} again "
                        f"(threshold {rule.op} {rule.threshold:g})"
                    ),
                    severity="info",
                )
            )

    def decide(
        self, kernel: ControllableKernel, rule: str, decision: str, actor: Actor, reason: str
    ) -> dict[str, object]:
        """Close the review of ``rule`` with ``decision`` (kernel thread); return what it did.

        Raises
        ------
        ConfigError
            If no review of ``rule`` is open or ``decision`` is not one of ``DECISIONS``.
        """
        if decision not in DECISIONS:
            raise ConfigError(f"review decision {decision!r} is not one of {', '.join(DECISIONS)}")
        review = self.reviews.get(rule)
        if review is None:
            open_ = ", ".join(sorted(self.reviews)) or "none"
            raise ConfigError(f"no review of alert {rule!r} is open (open: {open_})")
        del self.reviews[rule]
        review.decided = decision
        return self.control.run(
            kernel, _ACTION_OF[decision], actor, f"review of alert {rule}: {reason}"
        )

"""Config of a node's operations: alert rules with actions (``[[alerts]]``), orders that wait
for a person's approval (``[approvals]``) and where notifications go (``[notifications]``).
``tradeloop.monitoring`` runs them.

::

    [[alerts]]
    name = "drawdown"
    metric = "drawdown_ratio"        # see ALERT_METRICS
    op = ">"                         # >, >=, <, <=
    threshold = 0.05
    for_s = 30                       # true this long (wall seconds) before it fires
    severity = "critical"            # info, warning, critical
    action = "pause"                 # pause, emergency_stop, notify, manual_review

    [[alerts]]
    name = "rejects"
    metric = "orders_rejected"       # a count: its increase over window_s
    op = ">="
    threshold = 3
    window_s = 300
    action = "manual_review"
    review_timeout_s = 600           # no decision by then: review_default is applied
    review_default = "emergency_stop"

    [approvals]
    order_notional = "50000"         # orders above this (base currency) wait for a person
    timeout_s = 300                  # not approved by then: rejected

    [notifications]
    urls = ["json://127.0.0.1:9000/hook"]   # apprise URLs without secrets
    url_envs = ["TRADELOOP_SLACK_URL"]     # names of variables holding URLs with secrets
    min_interval_s = 60                    # per rule: at most one message this often

    [drift]
    interval_s = 10                  # compute PSI and KS this often (wall seconds), not per bar
    window = 500                     # live values kept per model feature and prediction
    min_samples = 30                 # fewer finite live values: no statistic yet
    slippage_window = 50             # executions (and shadow fills) the slippage means cover
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

import msgspec

from tradeloop.core.errors import ConfigError

GAUGE_METRICS = (
    "equity",
    "pnl",
    "drawdown_ratio",
    "gross_exposure_ratio",
    "event_loop_lag_seconds",
    "feed_staleness_seconds",
    "feeds_down",
    "positions_open",
    "orders_open",
    "journal_errors",
    "drift_psi",
    "drift_ks",
    "signal_drift_psi",
    "slippage_model_gap_ratio",
    "shadow_tracking_error_ratio",
)
"""Metrics read from the node's latest snapshot (``feed_staleness_seconds`` is the largest
over the feeds, ``feeds_down`` the number of feeds not up, ``journal_errors`` 1 when the
journal's last sync failed; ``drift_psi`` and ``drift_ks`` the largest over every model's
features and predictions, ``signal_drift_psi`` over the predictions only, 0 before any is
computed; ``slippage_model_gap_ratio`` the mean realized minus modelled slippage and
``shadow_tracking_error_ratio`` the RMS of the shadow fills' gap to the quotes, 0 before any)."""

COUNTER_METRICS = (
    "orders_submitted",
    "orders_denied",
    "orders_rejected",
    "orders_canceled",
    "fills",
    "alerts_raised",
)
"""Counts: a rule compares their increase over its ``window_s``."""

ALERT_METRICS = GAUGE_METRICS + COUNTER_METRICS
ALERT_OPS = (">", ">=", "<", "<=")
ALERT_SEVERITIES = ("info", "warning", "critical")
ALERT_ACTIONS = ("pause", "emergency_stop", "notify", "manual_review")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


class AlertRuleSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One alert rule (module docstring)."""

    name: str
    metric: str
    op: str = ">"
    threshold: float
    for_s: float = 0.0
    window_s: float = 300.0
    severity: str = "warning"
    action: str = "notify"
    review_timeout_s: float = 600.0
    review_default: str = "emergency_stop"
    message: str = ""

    def __post_init__(self) -> None:
        where = f"alert {self.name!r}"
        if not _NAME.match(self.name):
            raise ConfigError(
                f"{where}: name must start with a letter and hold only letters, digits, _ and - "
                "(at most 64)"
            )
        if self.metric not in ALERT_METRICS:
            raise ConfigError(
                f"{where}: metric {self.metric!r} is not one of {', '.join(ALERT_METRICS)}"
            )
        if self.op not in ALERT_OPS:
            raise ConfigError(f"{where}: op {self.op!r} is not one of {', '.join(ALERT_OPS)}")
        if not math.isfinite(self.threshold):
            raise ConfigError(f"{where}: threshold {self.threshold} must be a finite number")
        for key, value in (("for_s", self.for_s), ("review_timeout_s", self.review_timeout_s)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{where}: {key} {value} must be zero or more seconds")
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            raise ConfigError(f"{where}: window_s {self.window_s} must be positive seconds")
        if self.severity not in ALERT_SEVERITIES:
            raise ConfigError(
                f"{where}: severity {self.severity!r} is not one of {', '.join(ALERT_SEVERITIES)}"
            )
        if self.action not in ALERT_ACTIONS:
            raise ConfigError(
                f"{where}: action {self.action!r} is not one of {', '.join(ALERT_ACTIONS)}"
            )
        if self.review_default not in ("pause", "emergency_stop", "resume"):
            raise ConfigError(
                f"{where}: review_default {self.review_default!r} is not pause, "
                "emergency_stop or resume"
            )


class NotificationsSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where alert notifications go (module docstring): apprise URLs, or the names of
    environment variables holding them (URLs with tokens are secrets)."""

    urls: list[str] = []
    url_envs: list[str] = []
    min_interval_s: float = 60.0
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for url in self.urls:
            if "://" not in url:
                raise ConfigError(f"notifications url {url!r} is not an apprise URL (scheme://...)")
        for name in self.url_envs:
            if not re.match(r"^[A-Z_][A-Z0-9_]*$", name):
                raise ConfigError(
                    f"notifications url_envs {name!r} is not an environment variable name"
                )
        for key, value in (("min_interval_s", self.min_interval_s), ("timeout_s", self.timeout_s)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"notifications {key} {value} must be zero or more seconds")


class ApprovalsSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Human approval boundaries: a new order whose notional (base currency) is above
    ``order_notional`` waits for a person's approval (reduce-only orders never wait); one
    not approved within ``timeout_s`` is rejected."""

    order_notional: str | None = None
    timeout_s: float = 300.0

    def __post_init__(self) -> None:
        if self.order_notional is not None:
            try:
                value = Decimal(self.order_notional)
            except (InvalidOperation, TypeError):
                raise ConfigError(
                    f"approvals order_notional {self.order_notional!r} is not a decimal number"
                ) from None
            if not value.is_finite() or value <= 0:
                raise ConfigError(
                    f"approvals order_notional {self.order_notional} must be a positive number"
                )
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ConfigError(f"approvals timeout_s {self.timeout_s} must be positive seconds")


def check_alert_names(rules: list[AlertRuleSection]) -> None:
    """Raise ``ConfigError`` when two rules share a name."""
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ConfigError(f"alert name {rule.name!r} is used by two [[alerts]] entries")
        seen.add(rule.name)


class DriftSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Drift detection (module docstring): how often PSI and KS of the live values against the
    models' training windows are computed, over how many live values, from how many on; how
    many executions the realized vs modelled slippage means cover."""

    interval_s: float = 10.0
    window: int = 500
    min_samples: int = 30
    slippage_window: int = 50

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ConfigError(f"drift interval_s {self.interval_s} must be positive seconds")
        if self.window < 2:
            raise ConfigError(f"drift window {self.window} must be at least 2 values")
        if not 2 <= self.min_samples <= self.window:
            raise ConfigError(
                f"drift min_samples {self.min_samples} must be between 2 and the window "
                f"({self.window})"
            )
        if self.slippage_window < 1:
            raise ConfigError(f"drift slippage_window {self.slippage_window} must be at least 1")

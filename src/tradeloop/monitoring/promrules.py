"""The run config's alert rules (``[[alerts]]``) as Prometheus alerting rules.

The same conditions the node evaluates on itself, written in PromQL over the metrics it
exports, so that a Prometheus scraping the node alerts on them too (for instance when the
node itself is gone). The output is YAML that ``promtool check rules`` accepts; the
``action`` label says what the node does when the rule fires (Prometheus only notifies).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tradeloop.config.operations import COUNTER_METRICS, AlertRuleSection

_GAUGES = {
    "equity": "tradeloop_equity",
    "pnl": "tradeloop_pnl",
    "drawdown_ratio": "tradeloop_drawdown_ratio",
    "gross_exposure_ratio": "tradeloop_gross_exposure_ratio",
    "event_loop_lag_seconds": "tradeloop_event_loop_lag_seconds",
    "feed_staleness_seconds": "max by (instance) (tradeloop_feed_staleness_seconds)",
    "feeds_down": "count by (instance) (tradeloop_feed_up == 0)",
    "positions_open": "tradeloop_positions_open",
    "orders_open": "tradeloop_orders_open",
    "journal_errors": "(1 - tradeloop_journal_writable)",
    "drift_psi": "max by (instance) (tradeloop_drift_psi)",
    "drift_ks": "max by (instance) (tradeloop_drift_ks)",
    "signal_drift_psi": 'max by (instance) (tradeloop_drift_psi{kind="signal"})',
    "slippage_model_gap_ratio": "tradeloop_slippage_model_gap_ratio",
    "shadow_tracking_error_ratio": "tradeloop_shadow_tracking_error_ratio",
}
_COUNTERS = {
    "orders_submitted": "tradeloop_orders_submitted_total",
    "orders_denied": "tradeloop_orders_denied_total",
    "orders_rejected": "tradeloop_orders_rejected_total",
    "orders_canceled": "tradeloop_orders_canceled_total",
    "fills": "tradeloop_fills_total",
    "alerts_raised": "tradeloop_alerts_total",
}


def promql(rule: AlertRuleSection) -> str:
    """Return the PromQL condition of ``rule``."""
    if rule.metric in COUNTER_METRICS:
        window = f"{round(rule.window_s)}s"
        expr = f"sum by (instance) (increase({_COUNTERS[rule.metric]}[{window}]))"
    else:
        expr = _GAUGES[rule.metric]
    return f"{expr} {rule.op} {rule.threshold:g}"


def _camel(name: str) -> str:
    return "Tradeloop" + "".join(
        part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_")
    )


def prometheus_rules(rules: Sequence[AlertRuleSection], group: str = "tradeloop-run-alerts") -> str:
    """Return ``rules`` as a Prometheus rule file (YAML)."""
    lines = [
        "# tradeloop alerts export: the run config's [[alerts]] as Prometheus rules",
        "groups:",
    ]
    lines.append(f"  - name: {json.dumps(group)}")
    lines.append("    rules:" if rules else "    rules: []")
    for rule in rules:
        summary = rule.message or f"{rule.metric} {rule.op} {rule.threshold:g}"
        description = (
            f"tradeloop alert {rule.name}: the node takes the action {rule.action}. "
            "Value: {{ $value }}"
        )
        lines += [
            f"      - alert: {_camel(rule.name)}",
            f"        expr: {json.dumps(promql(rule))}",
            f"        for: {round(rule.for_s)}s",
            "        labels:",
            f"          severity: {json.dumps(rule.severity)}",
            f"          action: {json.dumps(rule.action)}",
            f"          rule: {json.dumps(rule.name)}",
            "        annotations:",
            f"          summary: {json.dumps(summary + ' on {{ $labels.instance }}')}",
            f"          description: {json.dumps(description)}",
        ]
    return "\n".join(lines) + "\n"

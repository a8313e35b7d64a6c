"""Build deploy/grafana/dashboards/tradeloop-node.json with the Grafana Foundation SDK.

The dashboard is written with the SDK's typed builders (the SDK generated from Grafana's own
schemas), so its structure is Grafana's; ``tests/unit/deploy/test_grafana.py`` checks that
the committed JSON is what this script builds, that the SDK reads it back, and (with a real
Prometheus scraping a node) that every panel's PromQL returns data.

    uv run python deploy/grafana/build_dashboard.py        # rewrite the JSON
    uv run python deploy/grafana/build_dashboard.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

OUTPUT = Path(__file__).resolve().parent / "dashboards" / "tradeloop-node.json"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="tradeloop-prometheus")
NODE = '{job="tradeloop", instance=~"$instance"}'
FEATURE = '{job="tradeloop", instance=~"$instance", kind="feature"}'
SIGNAL = '{job="tradeloop", instance=~"$instance", kind="signal"}'

# (title, description, unit, [(PromQL, legend)], width, kind)
Panel = tuple[str, str, str, list[tuple[str, str]], int, str]

ROWS: list[tuple[str, list[Panel]]] = [
    (
        "Trading",
        [
            (
                "Trading state",
                "The risk engine's state: ACTIVE, REDUCING (paused) or HALTED (killed).",
                "none",
                [(f"tradeloop_trading_state{NODE} == 1", "{{state}}")],
                4,
                "stat",
            ),
            (
                "Equity",
                "Cash plus marked positions, base currency.",
                "none",
                [
                    (f"tradeloop_equity{NODE}", "equity"),
                    (f"tradeloop_equity_peak{NODE}", "peak"),
                ],
                10,
                "timeseries",
            ),
            (
                "P&L",
                "Total (equity - starting cash), realized and unrealized, base currency.",
                "none",
                [
                    (f"tradeloop_pnl{NODE}", "total"),
                    (f"tradeloop_pnl_realized{NODE}", "realized"),
                    (f"tradeloop_pnl_unrealized{NODE}", "unrealized"),
                ],
                10,
                "timeseries",
            ),
            (
                "Drawdown",
                "1 - equity / peak equity.",
                "percentunit",
                [(f"tradeloop_drawdown_ratio{NODE}", "drawdown")],
                8,
                "timeseries",
            ),
            (
                "Gross exposure / equity",
                "Leverage: the sum of absolute position values over equity.",
                "percentunit",
                [(f"tradeloop_gross_exposure_ratio{NODE}", "gross exposure")],
                8,
                "timeseries",
            ),
            (
                "Net position by instrument",
                "Signed quantity over every strategy.",
                "none",
                [(f"tradeloop_position_quantity{NODE}", "{{instrument}}")],
                8,
                "timeseries",
            ),
        ],
    ),
    (
        "Execution",
        [
            (
                "Orders per minute",
                "Orders sent, denied by risk, rejected by venues, canceled; fills.",
                "none",
                [
                    (f"60 * rate(tradeloop_orders_submitted_total{NODE}[5m])", "submitted"),
                    (f"60 * rate(tradeloop_orders_denied_total{NODE}[5m])", "denied"),
                    (f"60 * rate(tradeloop_orders_rejected_total{NODE}[5m])", "rejected"),
                    (f"60 * rate(tradeloop_orders_canceled_total{NODE}[5m])", "canceled"),
                    (f"60 * rate(tradeloop_fills_total{NODE}[5m])", "fills"),
                ],
                8,
                "timeseries",
            ),
            (
                "Slippage vs arrival (bps)",
                "Fill price vs the order's arrival price, basis points; positive is a cost.",
                "none",
                [
                    (
                        "1e4 * histogram_quantile(0.5, sum by (le) "
                        f"(rate(tradeloop_fill_slippage_ratio_bucket{NODE}[15m])))",
                        "p50",
                    ),
                    (
                        "1e4 * histogram_quantile(0.95, sum by (le) "
                        f"(rate(tradeloop_fill_slippage_ratio_bucket{NODE}[15m])))",
                        "p95",
                    ),
                ],
                8,
                "timeseries",
            ),
            (
                "Tick to order",
                "Wall time from the kernel taking a market record to the order it sent.",
                "s",
                [
                    (
                        "histogram_quantile(0.5, sum by (le) "
                        f"(rate(tradeloop_tick_to_order_seconds_bucket{NODE}[15m])))",
                        "p50",
                    ),
                    (
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(tradeloop_tick_to_order_seconds_bucket{NODE}[15m])))",
                        "p99",
                    ),
                ],
                8,
                "timeseries",
            ),
            (
                "Open orders",
                "Orders working at venues.",
                "none",
                [(f"tradeloop_orders_open{NODE}", "open orders")],
                8,
                "timeseries",
            ),
            (
                "Traded notional per minute",
                "Quote currency.",
                "none",
                [(f"60 * rate(tradeloop_traded_notional_total{NODE}[5m])", "notional")],
                8,
                "timeseries",
            ),
            (
                "Control actions (1 h)",
                "Pause, resume, kill, flatten, cancel-all taken through the API or alert rules.",
                "none",
                [
                    (
                        "sum by (action) (increase(tradeloop_control_actions_total"
                        f"{NODE}[1h])) or vector(0)",
                        "{{action}}",
                    )
                ],
                8,
                "timeseries",
            ),
        ],
    ),
    (
        "System health",
        [
            (
                "Node up",
                "1 while Prometheus scrapes the node and its kernel loop runs.",
                "none",
                [
                    (f"up{NODE}", "scraped"),
                    (f"tradeloop_node_up{NODE}", "kernel running"),
                ],
                6,
                "timeseries",
            ),
            (
                "Feed staleness",
                "Wall time since each feed's last message.",
                "s",
                [(f"tradeloop_feed_staleness_seconds{NODE}", "{{feed}}")],
                6,
                "timeseries",
            ),
            (
                "Feeds up",
                "1 when the feed is connected and fresh.",
                "none",
                [(f"tradeloop_feed_up{NODE}", "{{feed}}")],
                6,
                "timeseries",
            ),
            (
                "Event-loop lag",
                "How long the latest probe waited in the kernel's inbox.",
                "s",
                [(f"tradeloop_event_loop_lag_seconds{NODE}", "lag")],
                6,
                "timeseries",
            ),
            (
                "Journal sync p99",
                "Wall time to make the journal's pending records durable.",
                "s",
                [
                    (
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(tradeloop_journal_sync_seconds_bucket{NODE}[15m])))",
                        "p99",
                    )
                ],
                6,
                "timeseries",
            ),
            (
                "Market records per second",
                "Records the kernel processed.",
                "none",
                [(f"rate(tradeloop_market_records_total{NODE}[1m])", "records/s")],
                6,
                "timeseries",
            ),
            (
                "Inbox depth",
                "Items waiting for the kernel.",
                "none",
                [(f"tradeloop_inbox_depth{NODE}", "depth")],
                6,
                "timeseries",
            ),
            (
                "Alerts (1 h)",
                "Alerts the node raised, by severity.",
                "none",
                [
                    (
                        f"sum by (severity) (increase(tradeloop_alerts_total{NODE}[1h])) "
                        "or vector(0)",
                        "{{severity}}",
                    )
                ],
                6,
                "timeseries",
            ),
        ],
    ),
    (
        "Models and drift",
        [
            (
                "Feature drift (PSI)",
                "Population stability index of each model feature's live values vs the "
                "model's training window (decile bins). Above 0.25: a significant shift.",
                "none",
                [(f"tradeloop_drift_psi{FEATURE}", "{{model}} {{name}}")],
                8,
                "timeseries",
            ),
            (
                "Prediction drift (PSI)",
                "PSI of each model's live predictions vs its in-sample predictions.",
                "none",
                [(f"tradeloop_drift_psi{SIGNAL}", "{{model}}")],
                4,
                "timeseries",
            ),
            (
                "Drift (KS statistic)",
                "Two-sample Kolmogorov-Smirnov statistic, live vs training window.",
                "none",
                [(f"tradeloop_drift_ks{NODE}", "{{model}} {{kind}} {{name}}")],
                6,
                "timeseries",
            ),
            (
                "Realized vs modelled slippage (bps)",
                "Mean over the last executions: realized slippage vs arrival, what the cost "
                "model expected (cost without commission), and the gap.",
                "none",
                [
                    (f"1e4 * tradeloop_slippage_realized_ratio{NODE}", "realized"),
                    (f"1e4 * tradeloop_slippage_modelled_ratio{NODE}", "modelled"),
                    (f"1e4 * tradeloop_slippage_model_gap_ratio{NODE}", "gap"),
                ],
                6,
                "timeseries",
            ),
            (
                "Regime",
                "Each detector's current regime and its confidence.",
                "percentunit",
                [
                    (
                        f"tradeloop_regime_confidence{NODE} * on (instance, detector) "
                        f"group_left (regime) tradeloop_regime{NODE}",
                        "{{detector}}: {{regime}}",
                    )
                ],
                6,
                "stat",
            ),
            (
                "Agent scores",
                "Each signal agent's latest score by instrument (-1 to 1).",
                "none",
                [(f"tradeloop_agent_score{NODE}", "{{agent}} {{instrument}}")],
                12,
                "timeseries",
            ),
        ],
    ),
]


def _target(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)


def build() -> dict[str, Any]:
    """Return the dashboard as Grafana's JSON model."""
    board = (
        dashboard.Dashboard("tradeloop node")
        .uid("tradeloop-node")
        .description("P&L, risk, execution and health of tradeloop nodes (tradeloop --api).")
        .tags(["tradeloop", "trading"])
        .refresh("10s")
        .time("now-1h", "now")
        .timezone("utc")
        .editable()
        .with_variable(
            dashboard.QueryVariable("instance")
            .label("Node")
            .datasource(DATASOURCE)
            .query('label_values(up{job="tradeloop"}, instance)')
            .include_all(True)
            .multi(True)
        )
    )
    next_id = 1
    for row_title, panels in ROWS:
        board = board.with_row(dashboard.Row(row_title).id(next_id))
        next_id += 1
        for title, description, unit, queries, width, kind in panels:
            builder: Any = stat.Panel() if kind == "stat" else timeseries.Panel()
            builder = (
                builder.id(next_id)
                .title(title)
                .description(description)
                .datasource(DATASOURCE)
                .unit(unit)
                .span(width)
                .height(8)
            )
            for index, (expr, legend) in enumerate(queries):
                builder = builder.with_target(_target(expr, legend, chr(ord("A") + index)))
            board = board.with_panel(builder)
            next_id += 1
    encoded = json.dumps(board.build(), cls=JSONEncoder, sort_keys=True)
    result: dict[str, Any] = _without_nulls(json.loads(encoded))
    return result


def _without_nulls(value: Any) -> Any:
    # Fields the builders left unset are null in the SDK's JSON; Grafana wants them absent
    # (it applies its defaults), as in the dashboards it exports.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def render() -> str:
    """Return the dashboard JSON text as committed."""
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the dashboard, or with ``--check`` say whether the committed one is current."""
    text = render()
    if "--check" in argv:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

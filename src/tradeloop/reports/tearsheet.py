"""The HTML tearsheet: one self-contained file (plotly's JavaScript inlined, no network).

``build_report`` writes ``runs/<run_id>/report.html`` with:

- the run's identity (run id, mode, config hash, code version, seed, data hashes);
- the metrics of ``reports.analysis`` (net of costs, gross of costs, the benchmark) and the
  round-trip statistics, exactly as ``analytics.metrics.summarize`` returned them;
- interactive figures (``FIGURES``): equity vs benchmark (net and gross), drawdown, monthly
  returns, rolling Sharpe and beta, exposure, trades on price, costs, P&L attribution by
  agent, instrument and factor, and the regime timeline. A figure or panel with nothing to
  show is left out (``figures``): no benchmark means no benchmark line, legend or rolling
  beta; no ``RegimeChanged`` means no regime timeline; no fills, no costs or no positions
  mean no trades, costs or exposure figure;
- the transaction cost analysis (``reports.tca``): aggregate slippage vs arrival,
  implementation shortfall, fill rate and participation, and a per-order table whose rows
  link to their trade's explain section;
- the trades table, each trade linking to its explain section (``#trade-<key>``), which holds
  the causal chain and the P&L decomposition of ``tradeloop explain``. Clicking a trade's
  marker on the price chart goes there too.
"""

from __future__ import annotations

import html
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import msgspec

from tradeloop.analytics.metrics import PerformanceSummary
from tradeloop.core.time import ns_to_iso
from tradeloop.journal.explain import PART_NAMES
from tradeloop.reports.analysis import Analysis, analyze
from tradeloop.reports.explain import (
    ATTRIBUTION_NOTE,
    PART_LABELS,
    explain_trade,
    format_money,
    money_raw,
)
from tradeloop.reports.figures import FIGURES, anchor, figures
from tradeloop.reports.options_attribution import (
    options_attribution,
    options_attribution_html,
    options_attribution_json,
)
from tradeloop.reports.run import RunInputs
from tradeloop.reports.shadow import shadow_html, shadow_section

__all__ = [
    "FIGURES",
    "METRIC_ROWS",
    "ReportFiles",
    "anchor",
    "build_report",
    "figures",
    "format_metric",
]

# -- HTML ---------------------------------------------------------------------------------------


METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total return", "total_return", "pct"),
    ("annual return", "annual_return", "pct"),
    ("annual volatility", "annual_volatility", "share"),
    ("Sharpe", "sharpe_ratio", "num"),
    ("Sortino", "sortino_ratio", "num"),
    ("Calmar", "calmar_ratio", "num"),
    ("max drawdown", "max_drawdown", "pct"),
    ("alpha (annual)", "alpha", "pct"),
    ("beta", "beta", "num"),
    ("VaR (5%, daily)", "value_at_risk", "pct"),
    ("CVaR (5%, daily)", "conditional_value_at_risk", "pct"),
    ("win rate (days)", "win_rate", "share"),
    ("profit factor (days)", "profit_factor", "num"),
    ("annual turnover", "annual_turnover", "num"),
    ("time in market", "time_in_market", "share"),
    ("average gross leverage", "average_gross_leverage", "num"),
)
"""Rows of the metrics table: (label, ``PerformanceSummary`` field, format)."""


def format_metric(value: Any, kind: str) -> str:
    """Return a metric as the report prints it: ``pct`` signed percent, ``share`` percent,
    else a number (``-`` when undefined)."""
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value:+.2%}"
    if kind == "share":
        return f"{value:.2%}"
    return f"{value:,.3f}"


def _metrics_html(analysis: Analysis, digits: int = 2) -> str:
    columns = [("net of costs", analysis.net), ("gross of costs", analysis.gross)]
    if analysis.benchmark is not None:
        columns.append((f"benchmark {analysis.curves.benchmark_id}", analysis.benchmark))
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in columns)
    rows = []
    for label, key, kind in METRIC_ROWS:
        cells = "".join(
            f'<td data-metric="{key}" data-column="{i}">'
            f"{format_metric(getattr(s, key, None) if s else None, kind)}</td>"
            for i, (_, s) in enumerate(columns)
        )
        rows.append(f"<tr><th>{label}</th>{cells}</tr>")
    net = analysis.net
    for label, spell in (
        ("worst drawdown", None if net is None else net.worst_drawdown),
        ("longest drawdown", None if net is None else net.longest_drawdown),
    ):
        if spell is None:
            continue
        duration = "-" if spell.duration_days is None else f"{spell.duration_days:.0f} days"
        recovered = "recovered" if spell.ts_recovery is not None else "not recovered by the end"
        peak = "-" if spell.ts_peak is None else ns_to_iso(spell.ts_peak)[:10]
        rows.append(
            f"<tr><th>{label}</th><td colspan={len(columns)}>{spell.depth:+.2%} from {peak}, "
            f"{duration} ({spell.duration_periods} periods), {recovered}</td></tr>"
        )
    trades = None if net is None else net.trades
    if trades is not None:
        held = trades.average_holding_period_days
        counts = f"{trades.trade_count} ({trades.win_count} won, {trades.loss_count} lost)"
        pairs = [
            ("round trips", counts),
            ("win rate (trades)", format_metric(trades.win_rate, "pct")),
            ("profit factor (trades)", format_metric(trades.profit_factor, "num")),
            ("average holding period", "-" if held is None else f"{held:.1f} days"),
            ("expectancy per trade", format_metric(trades.expectancy, "num")),
        ]
        for label, value in pairs:
            rows.append(f"<tr><th>{label}</th><td colspan={len(columns)}>{value}</td></tr>")
    costs = analysis.curves.costs_by_kind_raw
    cost_text = ", ".join(f"{k} {money_raw(v, digits)}" for k, v in costs.items())
    rows.append(f"<tr><th>costs</th><td colspan={len(columns)}>{cost_text}</td></tr>")
    return f'<table class="metrics"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


def _trades_table(inputs: RunInputs) -> str:
    digits = inputs.money_digits
    rows = []
    for key, trade in inputs.pnl.items():
        parts = "".join(
            f"<td>{format_money(value, digits)}</td>" for value in trade.parts().values()
        )
        trip = format_money(trade.round_trip()[2], digits) if trade.closed_lots else ""
        rows.append(
            f'<tr><td><a href="#{anchor(key)}">{html.escape(key)}</a></td>'
            f"<td>{html.escape(trade.instrument_id)}</td>"
            f"<td>{ns_to_iso(trade.decision_ts)[:10]}</td><td>{float(trade.quantity):+g}</td>"
            f'<td data-pnl="{key}"><b>{format_money(trade.pnl, digits)}</b></td>{parts}'
            f'<td data-round-trip="{key}">{trip}</td></tr>'
        )
    head = "".join(f"<th>{html.escape(n)}</th>" for n in PART_NAMES)
    return (
        '<table class="trades"><tr><th>trade</th><th>instrument</th><th>decided</th>'
        f"<th>quantity</th><th>P&amp;L (decision attribution)</th>{head}"
        f"<th>round-trip P&amp;L (lots it closed)</th></tr>{''.join(rows)}</table>"
    )


def _bps(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _tca_html(analysis: Analysis, digits: int) -> str:
    tca = analysis.tca
    if tca is None:
        return "<p>No order to analyse (or see the notes).</p>"

    def money(value: float) -> str:
        return format_money(Fraction(value), digits)

    s = tca.summary
    aggregate = (
        ("orders (with a fill)", f"{s.order_count} ({s.filled_order_count})"),
        ("ordered notional", money(s.ordered_notional)),
        ("filled notional", money(s.filled_notional)),
        ("fill rate (filled / ordered notional at arrival)", _pct(s.fill_rate)),
        ("slippage vs arrival (bps, filled-notional weighted)", _bps(s.slippage_bps)),
        ("implementation shortfall (bps of ordered notional)", _bps(s.shortfall_bps)),
        ("implementation shortfall", money(s.shortfall_amount)),
        ("  execution cost", money(s.execution_cost_amount)),
        ("  opportunity cost (unfilled rest)", money(s.opportunity_cost_amount)),
        ("  fees", money(s.fees_amount)),
        ("slippage vs interval VWAP (bps)", _bps(s.vwap_slippage_bps)),
        ("slippage vs interval TWAP (bps)", _bps(s.twap_slippage_bps)),
        (
            "participation (our share of the volume over each order's life, ours included)",
            _pct(s.participation, 3),
        ),
    )
    rows = "".join(
        f'<tr><th>{html.escape(k)}</th><td data-tca="{i}">{v}</td></tr>'
        for i, (k, v) in enumerate(aggregate)
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "order",
            "trade",
            "instrument",
            "side",
            "ordered",
            "fill rate",
            "arrival",
            "avg fill",
            "slippage bps",
            "IS bps",
            "IS",
            "participation",
        )
    )
    lines = []
    for row in tca.orders:
        o = row.tca
        average = "-" if o.average_fill_price is None else f"{o.average_fill_price:.6g}"
        arrival = f"{o.arrival_price:.6g}" + ("" if row.arrival_from_journal else "*")
        lines.append(
            f"<tr><td>{html.escape(o.order_id)}</td>"
            f'<td><a href="#{anchor(row.trade_key)}">{html.escape(row.trade_key)}</a></td>'
            f"<td>{html.escape(o.instrument_id)}</td><td>{o.side}</td>"
            f"<td>{o.ordered_quantity:g}</td><td>{_pct(o.fill_rate, 1)}</td>"
            f"<td>{arrival}</td><td>{average}</td><td>{_bps(o.slippage_bps)}</td>"
            f"<td>{_bps(o.shortfall_bps)}</td><td>{money(o.shortfall_amount)}</td>"
            f"<td>{_pct(o.participation, 3)}</td></tr>"
        )
    return (
        f"<p>Arrival prices: {html.escape(tca.arrival_source)} (* marks one taken from the "
        "market data). Costs are positive when they hurt; implementation shortfall (Perold) = "
        "execution cost + opportunity cost of the unfilled rest + fees. Formulas: "
        "<code>analytics.tca</code>.</p>"
        f'<table class="tca-summary">{rows}</table>'
        f'<table class="tca"><tr>{head}</tr>{"".join(lines)}</table>'
    )


def _explain_html(inputs: RunInputs) -> str:
    blocks = []
    for key in inputs.pnl:
        explanation = explain_trade(inputs, key)
        body = "".join(
            f"<h4>{html.escape(section.title)}</h4><pre>"
            + html.escape("\n".join(section.lines))
            + "</pre>"
            for section in explanation.sections
        )
        trip = explanation.pnl.round_trip
        blocks.append(
            f'<details class="explain" id="{anchor(key)}"><summary>{html.escape(key)} — '
            f"{html.escape(explanation.instrument_id)} {explanation.side} "
            f"{ns_to_iso(explanation.decision_ts)[:10]}, P&amp;L (decision attribution) "
            f"{explanation.pnl.display['pnl']}"
            + ("" if trip is None else f", round-trip P&amp;L {trip.display['net']}")
            + f"</summary>{body}</details>"
        )
    return "".join(blocks)


_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child { text-align: left; }
.trades td:first-child, .trades td:nth-child(2) { text-align: left; }
.tca td:nth-child(-n+3) { text-align: left; }
pre { background: #f7f7f7; padding: 6px 10px; font-size: 12px; overflow-x: auto; }
details.explain { border: 1px solid #ddd; margin: 4px 0; padding: 4px 8px; }
details.explain[open] { background: #fcfcff; }
.figure { margin: 16px 0; }
.identity td { text-align: left; font-family: monospace; }
"""

_SCRIPT = """
function openTrade() {
  const id = decodeURIComponent(location.hash.slice(1));
  const el = id && document.getElementById(id);
  if (el && el.tagName === 'DETAILS') { el.open = true; el.scrollIntoView(); }
}
window.addEventListener('hashchange', openTrade);
window.addEventListener('load', function () {
  openTrade();
  document.querySelectorAll('.js-plotly-plot').forEach(function (plot) {
    plot.on('plotly_click', function (data) {
      const point = data.points && data.points[0];
      if (point && point.customdata) { location.hash = point.customdata; }
    });
  });
});
"""


def render_html(inputs: RunInputs, analysis: Analysis, figs: dict[str, Any]) -> str:
    """Return the whole report as one HTML document (plotly's JavaScript inlined)."""
    import plotly.offline

    manifest = inputs.manifest
    identity = [
        ("run id", manifest.run_id),
        ("mode", manifest.mode),
        ("config hash", manifest.config_hash),
        ("code version", manifest.code_version),
        ("seed", str(manifest.seed)),
        *((f"data {ref.name}", f"{ref.content_hash} ({ref.rows} rows)") for ref in manifest.data),
    ]
    identity_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in identity
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in [*inputs.notes, *analysis.notes])
    divs = []
    for index, name in enumerate(name for name, _ in FIGURES if name in figs):
        fig_html = figs[name].to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"figure-{name}",
            config={"displaylogo": False, "responsive": True},
        )
        divs.append(
            f'<div class="figure" data-figure="{name}" data-index="{index}">{fig_html}</div>'
        )
    parts = "".join(f"<li>{html.escape(PART_LABELS[n])}</li>" for n in PART_NAMES)
    note = analysis.curves.benchmark_note
    benchmark_html = "" if note is None else f'<p class="benchmark">{html.escape(note)}.</p>'

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tradeloop report {html.escape(manifest.run_id)}</title>
<style>{_STYLE}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head><body>
<h1>tradeloop report: {html.escape(manifest.run_id)}</h1>
<table class="identity">{identity_rows}</table>
{f"<ul class='notes'>{notes}</ul>" if notes else ""}
<h2>Metrics</h2>
{benchmark_html}
{_metrics_html(analysis, inputs.money_digits)}
<h2>Figures</h2>
{"".join(divs)}
<h2 id="tca">Execution: transaction cost analysis</h2>
{_tca_html(analysis, inputs.money_digits)}
{shadow_html(shadow_section(str(inputs.index.path)), inputs.money_digits)}
{options_attribution_html(inputs)}
<h2>Trades</h2>
<p>Each trade's P&amp;L is split exactly into: <ul>{parts}</ul>
(see <code>docs/reports.md</code>); click a trade for its causal chain.</p>
<p class="views"><b>Two views of P&amp;L.</b> {html.escape(ATTRIBUTION_NOTE)}. A trade that
closes a position therefore shows only its timing and costs there; its
<b>round-trip P&amp;L</b> column is what the lots it closed (FIFO) realized, from their opening
fills to its fills, less both legs' commissions. Amounts are rounded half to even from the
exact values.</p>
{_trades_table(inputs)}
<h2>Explain</h2>
{_explain_html(inputs)}
<script type="text/javascript">{_SCRIPT}</script>
</body></html>
"""


class ReportFiles(msgspec.Struct, frozen=True, kw_only=True):
    """What ``build_report`` wrote."""

    html: str
    metrics_json: str
    pngs: tuple[str, ...] = ()


def build_report(
    inputs: RunInputs, out_dir: Path | None = None, png: bool = False
) -> tuple[ReportFiles, Analysis]:
    """Write ``report.html`` and ``report-metrics.json`` (and PNGs with ``png``) for a run.

    Parameters
    ----------
    inputs
        The opened run.
    out_dir
        Where to write (default: the run directory).
    png
        Also export each figure as ``png/<name>.png`` through headless Chromium
        (``reports.png``).

    Raises
    ------
    InvalidValueError
        If the run has no equity curve.
    ConfigError
        If ``png`` is asked and no Chromium can render the figures.
    """
    target = inputs.run_dir if out_dir is None else out_dir
    target.mkdir(parents=True, exist_ok=True)
    analysis = analyze(inputs)
    figs = figures(inputs, analysis)
    page = target / "report.html"
    page.write_text(render_html(inputs, analysis, figs))
    metrics = target / "report-metrics.json"
    metrics.write_text(
        json.dumps(
            {
                "run_id": inputs.manifest.run_id,
                "net": _encodable(analysis.net),
                "gross": _encodable(analysis.gross),
                "benchmark": _encodable(analysis.benchmark),
                "attribution": {
                    "by_factor": analysis.attribution.by_factor,
                    "by_instrument": analysis.attribution.by_instrument,
                    "by_agent": analysis.attribution.by_agent,
                    "total": analysis.attribution.total,
                },
                "costs": analysis.curves.costs_by_kind,
                "tca": None if analysis.tca is None else msgspec.to_builtins(analysis.tca),
                "benchmark_series": analysis.curves.benchmark_note,
                "shadow": _shadow_metrics(inputs),
                "options_attribution": options_attribution_json(options_attribution(inputs)),
            },
            indent=1,
            sort_keys=True,
        )
    )
    pngs: tuple[str, ...] = ()
    if png:
        from tradeloop.reports.png import export_png

        pngs = tuple(str(p) for p in export_png(figs, target / "png"))
    return ReportFiles(html=str(page), metrics_json=str(metrics), pngs=pngs), analysis


def _shadow_metrics(inputs: RunInputs) -> Any:
    section = shadow_section(str(inputs.index.path))
    if section is None:
        return None
    body = msgspec.to_builtins(section)
    del body["slippages_bps"], body["slippage_ts"]
    return body


def _encodable(summary: PerformanceSummary | None) -> Any:
    return None if summary is None else msgspec.to_builtins(summary)

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
import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from tradeloop.analytics.metrics import PerformanceSummary, daily_equity
from tradeloop.core.time import ns_to_iso
from tradeloop.journal.explain import PART_NAMES
from tradeloop.model.decisions import RegimeChanged
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import OrderFilled
from tradeloop.reports.analysis import Analysis, analyze
from tradeloop.reports.explain import (
    ATTRIBUTION_NOTE,
    PART_LABELS,
    explain_trade,
    format_money,
    money_raw,
)
from tradeloop.reports.options_attribution import (
    options_attribution,
    options_attribution_html,
    options_attribution_json,
)
from tradeloop.reports.run import RunInputs
from tradeloop.reports.shadow import shadow_html, shadow_section

ROLLING_WINDOW = 126
"""Daily returns in the rolling Sharpe and beta windows (half a year)."""

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def anchor(trade_key: str) -> str:
    """Return the HTML id of a trade's explain section."""
    return "trade-" + re.sub(r"[^A-Za-z0-9_.-]", "_", trade_key)


def _dates(ts: Any) -> list[str]:
    # A date for a point at midnight UTC (daily bars), else the time to the microsecond:
    # an intraday run (order-book data) is not drawn as one column at its date.
    out = []
    for t in ts:
        text = ns_to_iso(int(t))
        out.append(text[:10] if int(t) % 86_400_000_000_000 == 0 else text[:26].replace("T", " "))
    return out


def _layout(fig: Any, title: str, height: int = 420) -> Any:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


# -- figures ------------------------------------------------------------------------------------


def equity_figure(analysis: Analysis) -> Any:
    """Return net and gross equity against the benchmark (rebased to the starting equity)."""
    import plotly.graph_objects as go

    c = analysis.curves
    x = _dates(c.ts)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=c.equity, name="equity (net of costs)"))
    fig.add_trace(go.Scatter(x=x, y=c.gross_equity, name="equity (gross of costs)"))
    if c.benchmark is None:
        return _layout(fig, "Equity")
    rebased = c.benchmark / c.benchmark[0] * c.equity[0]
    fig.add_trace(
        go.Scatter(x=x, y=rebased, name=f"benchmark {c.benchmark_id} (price only, rebased)")
    )
    return _layout(fig, "Equity vs benchmark")


def drawdown_figure(analysis: Analysis) -> Any:
    """Return the underwater curve of the strategy (and the benchmark's)."""
    import plotly.graph_objects as go

    c = analysis.curves
    x = _dates(c.ts)
    fig = go.Figure()
    for name, curve in (("strategy", c.equity), (f"benchmark {c.benchmark_id}", c.benchmark)):
        if curve is None:
            continue
        drawdown = curve / np.maximum.accumulate(curve) - 1.0
        fig.add_trace(go.Scatter(x=x, y=drawdown, name=name, fill="tozeroy"))
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, "Drawdown")


def _daily(analysis: Analysis) -> tuple[Any, Any]:
    c = analysis.curves
    daily = daily_equity(c.ts, c.equity)
    return daily.session_date_ns, daily.equity


def monthly_figure(analysis: Analysis) -> Any:
    """Return the monthly returns heatmap (years × months), compounded from daily equity."""
    import plotly.graph_objects as go

    dates, equity = _daily(analysis)
    months = np.array([ns_to_iso(int(t))[:7] for t in dates])
    last = np.flatnonzero(np.append(months[1:] != months[:-1], True))
    month_end = equity[last]
    base = np.concatenate(([equity[0]], month_end[:-1]))
    returns = month_end / base - 1.0
    years = sorted({m[:4] for m in months[last]})
    grid = np.full((len(years), 12), np.nan)
    for label, value in zip(months[last], returns, strict=True):
        grid[years.index(label[:4]), int(label[5:7]) - 1] = value
    text = [[("" if np.isnan(v) else f"{v:+.1%}") for v in row] for row in grid]
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
            y=years,
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0.0,
            colorbar={"tickformat": ".0%"},
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, "Monthly returns", height=max(300, 40 * len(years) + 120))


def rolling_figure(analysis: Analysis) -> Any | None:
    """Return the rolling Sharpe ratio and rolling beta to the benchmark (daily returns).

    The beta panel is left out when the run has no benchmark (or no window gives a beta),
    and the figure when no window gives a Sharpe ratio either (None).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    c = analysis.curves
    daily = daily_equity(c.ts, c.equity)
    returns = np.diff(daily.equity) / daily.equity[:-1]
    x = _dates(daily.session_date_ns[1:])
    window = min(ROLLING_WINDOW, max(2, len(returns) // 2))
    sharpe = np.full(len(returns), np.nan)
    beta = np.full(len(returns), np.nan)
    bench_returns = None
    if c.benchmark is not None:
        at = np.searchsorted(c.ts, daily.ts_ns)
        bench = c.benchmark[at]
        bench_returns = np.diff(bench) / bench[:-1]
    factor = np.sqrt(analysis.periods_per_year)
    for end in range(window, len(returns) + 1):
        chunk = returns[end - window : end]
        spread = np.std(chunk, ddof=1)
        if spread > 0:
            sharpe[end - 1] = np.mean(chunk) / spread * factor
        if bench_returns is not None:
            b = bench_returns[end - window : end]
            variance = np.var(b, ddof=1)
            if variance > 0:
                beta[end - 1] = np.cov(chunk, b, ddof=1)[0, 1] / variance
    has_sharpe = bool(np.isfinite(sharpe).any())
    has_beta = bool(np.isfinite(beta).any())
    if not has_beta:
        if not has_sharpe:
            return None
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=x, y=sharpe, name="Sharpe"))
        return _layout(fig, f"Rolling Sharpe ({window} days)")
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        subplot_titles=(
            f"rolling Sharpe ({window} days)",
            f"rolling beta to {c.benchmark_id} ({window} days)",
        ),
    )
    fig.add_trace(go.Scatter(x=x, y=sharpe, name="Sharpe"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=beta, name="beta"), row=2, col=1)
    return _layout(fig, "Rolling Sharpe and beta", height=520)


def exposure_figure(analysis: Analysis) -> Any:
    """Return gross and net exposure as fractions of equity."""
    import plotly.graph_objects as go

    c = analysis.curves
    x = _dates(c.ts)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=c.gross_exposure / c.equity, name="gross exposure"))
    if c.net_exposure is not None:
        fig.add_trace(go.Scatter(x=x, y=c.net_exposure / c.equity, name="net exposure"))
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, "Exposure (fraction of equity)")


def trades_figure(inputs: RunInputs, max_instruments: int = 8) -> Any:
    """Return each traded instrument's close with its buys and sells (click: explain)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fills: dict[str, list[OrderFilled]] = {}
    for fill in inputs.book.fills:
        fills.setdefault(fill.instrument_id, []).append(fill)
    instruments = sorted(fills)[:max_instruments]
    fig = make_subplots(
        rows=max(1, len(instruments)),
        cols=1,
        shared_xaxes=True,
        subplot_titles=instruments or ("no trades",),
        vertical_spacing=0.04,
    )
    for row, instrument_id in enumerate(instruments, start=1):
        series = inputs.price_series(instrument_id)
        if series is not None:
            fig.add_trace(
                go.Scatter(
                    x=_dates(series[0]),
                    y=series[1],
                    name=instrument_id,
                    line={"color": "#888", "width": 1},
                    showlegend=False,
                ),
                row=row,
                col=1,
            )
        for side, symbol, color in (
            (OrderSide.BUY, "triangle-up", "green"),
            (OrderSide.SELL, "triangle-down", "red"),
        ):
            chosen = [f for f in fills[instrument_id] if f.order_side is side]
            if not chosen:
                continue
            keys = [_trade_key(inputs, f) for f in chosen]
            fig.add_trace(
                go.Scatter(
                    x=_dates(f.ts_event for f in chosen),
                    y=[f.last_px.as_float() for f in chosen],
                    mode="markers",
                    marker={"symbol": symbol, "color": color, "size": 9},
                    name=f"{side.value.lower()}s",
                    showlegend=row == 1,
                    customdata=[anchor(k) for k in keys],
                    text=[
                        f"{k}: {f.order_side} {f.last_qty} @ {f.last_px}"
                        for k, f in zip(keys, chosen, strict=True)
                    ],
                    hovertemplate="%{text}<extra>click to explain</extra>",
                ),
                row=row,
                col=1,
            )
    return _layout(fig, "Trades on price", height=max(360, 230 * len(instruments)))


def _trade_key(inputs: RunInputs, fill: OrderFilled) -> str:
    init = inputs.book.orders[fill.client_order_id]
    return init.parent_order_id or init.client_order_id


def costs_figure(analysis: Analysis) -> Any:
    """Return costs by kind (totals and cumulative over time) and gross vs net equity."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    c = analysis.curves
    x = _dates(c.ts)
    fig = make_subplots(
        rows=1,
        cols=3,
        column_widths=[0.24, 0.38, 0.38],
        subplot_titles=("total by kind", "cumulative by kind", "gross vs net equity"),
    )
    kinds = list(c.costs_by_kind)
    colors = dict(zip(kinds, _COLORS, strict=False))
    fig.add_trace(
        go.Bar(
            x=kinds,
            y=[c.costs_by_kind[k] for k in kinds],
            marker={"color": [colors[k] for k in kinds]},
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    for kind in kinds:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=c.cumulative_costs_by_kind[kind],
                name=kind,
                stackgroup="costs",
                line={"color": colors[kind]},
            ),
            row=1,
            col=2,
        )
    fig.add_trace(go.Scatter(x=x, y=c.gross_equity, name="equity gross of costs"), row=1, col=3)
    fig.add_trace(go.Scatter(x=x, y=c.equity, name="equity net of costs"), row=1, col=3)
    return _layout(fig, "Costs: commission, spread, slippage, impact")


def attribution_figure(analysis: Analysis, digits: int = 2) -> Any:
    """Return the trades' P&L by agent, by instrument and by factor."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    a = analysis.attribution
    fig = make_subplots(rows=1, cols=3, subplot_titles=("by agent", "by instrument", "by factor"))
    for col, values in enumerate((a.by_agent, a.by_instrument, a.by_factor), start=1):
        names = list(values)
        amounts = [values[n] for n in names]
        fig.add_trace(
            go.Bar(
                x=names,
                y=amounts,
                showlegend=False,
                marker={"color": ["#2ca02c" if v >= 0 else "#d62728" for v in amounts]},
            ),
            row=1,
            col=col,
        )
    total = a.exact["total"]["total"] if a.exact else Fraction(a.total)
    return _layout(fig, f"P&L attribution (total {format_money(total, digits)})")


def regime_figure(inputs: RunInputs, analysis: Analysis) -> Any | None:
    """Return the regime timeline (bands per label from ``RegimeChanged``) over the benchmark
    (the equity without one); None when the run published no ``RegimeChanged``."""
    import plotly.graph_objects as go

    changes = [r.record for r in inputs.index.rows if isinstance(r.record, RegimeChanged)]
    if not changes:
        return None
    c = analysis.curves
    fig = go.Figure()
    line = c.benchmark if c.benchmark is not None else c.equity
    label = f"benchmark {c.benchmark_id}" if c.benchmark is not None else "equity"
    fig.add_trace(go.Scatter(x=_dates(c.ts), y=line, name=label, line={"color": "#333"}))
    labels = sorted({change.label for change in changes})
    end = int(c.ts[-1])
    for index, change in enumerate(changes):
        stop = changes[index + 1].ts_event if index + 1 < len(changes) else end
        color = _COLORS[labels.index(change.label) % len(_COLORS)]
        fig.add_vrect(
            x0=ns_to_iso(change.ts_event)[:10],
            x1=ns_to_iso(stop)[:10],
            fillcolor=color,
            opacity=0.18,
            line_width=0,
        )
    for index, name in enumerate(labels):  # legend entries for the bands
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"regime {name}",
                marker={"color": _COLORS[index % len(_COLORS)], "size": 12, "symbol": "square"},
            )
        )
    return _layout(fig, "Regime timeline")


FIGURES: tuple[tuple[str, str], ...] = (
    ("equity", "Equity vs benchmark"),
    ("drawdown", "Drawdown"),
    ("monthly_returns", "Monthly returns"),
    ("rolling", "Rolling Sharpe and beta"),
    ("exposure", "Exposure"),
    ("trades", "Trades on price"),
    ("costs", "Costs"),
    ("attribution", "P&L attribution"),
    ("regimes", "Regime timeline"),
)
"""The report's figures: (name, title), in page order; PNG files are ``<name>.png``."""


def figures(inputs: RunInputs, analysis: Analysis) -> dict[str, Any]:
    """Return the figures of ``FIGURES`` that have something to show, by name, in page order.

    Left out: ``regimes`` without a ``RegimeChanged``; ``rolling`` when no window has a
    Sharpe ratio; ``trades`` without a fill; ``costs`` when every cost is zero; ``exposure``
    when the run never held a position; ``attribution`` without a trade.
    """
    c = analysis.curves
    shown = {
        "trades": bool(inputs.book.fills),
        "costs": any(value != 0 for value in c.costs_by_kind.values()),
        "exposure": bool(np.any(c.gross_exposure != 0)),
        "attribution": bool(inputs.pnl),
    }
    builders: dict[str, Callable[[], Any | None]] = {
        "equity": lambda: equity_figure(analysis),
        "drawdown": lambda: drawdown_figure(analysis),
        "monthly_returns": lambda: monthly_figure(analysis),
        "rolling": lambda: rolling_figure(analysis),
        "exposure": lambda: exposure_figure(analysis),
        "trades": lambda: trades_figure(inputs),
        "costs": lambda: costs_figure(analysis),
        "attribution": lambda: attribution_figure(analysis, inputs.money_digits),
        "regimes": lambda: regime_figure(inputs, analysis),
    }
    built = {name: builders[name]() for name, _ in FIGURES if shown.get(name, True)}
    return {name: fig for name, fig in built.items() if fig is not None}


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

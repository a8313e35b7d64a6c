"""The tearsheet's interactive figures (plotly), one builder per figure.

``FIGURES`` names them in page order; ``figures`` builds those that have something to show
(``reports.tearsheet`` renders them into ``report.html``, ``reports.png`` into PNG files).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from tradeloop.analytics.metrics import daily_equity
from tradeloop.core.time import ns_to_iso
from tradeloop.model.decisions import RegimeChanged
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import OrderFilled
from tradeloop.reports.analysis import Analysis
from tradeloop.reports.explain import (
    format_money,
)
from tradeloop.reports.run import RunInputs

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

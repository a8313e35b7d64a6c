"""The report's shadow section: simulated fills against the venue's quotes and the trades that
followed them (``ShadowFillCompared`` and ``ShadowMarkout`` records of a shadow session).

It answers the question a shadow run is for: would the simulator's fills have been real?
Slippage of each simulated fill against the quote it would have taken (positive is worse), the
fill rate of passive orders, the markout of each fill over the following seconds (negative:
adverse selection), and how many passive fills the venue ever traded at or through.
"""

from __future__ import annotations

import html
from typing import Any

import msgspec

from tradeloop.journal.store import read_records
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.enums import LiquiditySide, OrderType
from tradeloop.model.events import OrderAccepted, ShadowFillCompared, ShadowMarkout


class ShadowSection(msgspec.Struct, frozen=True, kw_only=True):
    """What the shadow section shows (``None`` fields: nothing to measure them on)."""

    fills: int
    fills_with_quote: int
    avg_slippage_vs_quote_bps: float | None
    worst_slippage_vs_quote_bps: float | None
    maker_fills: int
    passive_orders: int
    passive_orders_filled: int
    passive_fill_rate: float | None
    markouts: int
    markout_horizon_s: float | None
    avg_markout_bps: float | None
    maker_fills_traded_through: float | None
    slippages_bps: list[float]
    slippage_ts: list[int]


def shadow_section(journal: str) -> ShadowSection | None:
    """Return the shadow section of the run whose journal is ``journal`` (None: not shadow)."""
    compared: list[ShadowFillCompared] = []
    markouts: list[ShadowMarkout] = []
    passive: set[str] = set()
    limits: set[str] = set()
    for item in read_records(journal):
        record = item.record
        if isinstance(record, ShadowFillCompared):
            compared.append(record)
        elif isinstance(record, ShadowMarkout):
            markouts.append(record)
        elif isinstance(record, OrderAccepted):
            passive.add(record.client_order_id)
        elif isinstance(record, SubmitOrder) and record.order.order_type is OrderType.LIMIT:
            limits.add(record.order.client_order_id)
    if not compared and not markouts:
        return None
    passive &= limits
    filled = {c.client_order_id for c in compared} & passive
    slips = [c for c in compared if c.slippage_vs_quote_bps is not None]
    values = [c.slippage_vs_quote_bps for c in slips if c.slippage_vs_quote_bps is not None]
    marks = [m.markout_bps for m in markouts if m.markout_bps is not None]
    through = [m.traded_through for m in markouts if m.traded_through is not None]
    return ShadowSection(
        fills=len(compared),
        fills_with_quote=len(values),
        avg_slippage_vs_quote_bps=sum(values) / len(values) if values else None,
        worst_slippage_vs_quote_bps=max(values) if values else None,
        maker_fills=sum(1 for c in compared if c.liquidity_side is LiquiditySide.MAKER),
        passive_orders=len(passive),
        passive_orders_filled=len(filled),
        passive_fill_rate=len(filled) / len(passive) if passive else None,
        markouts=len(markouts),
        markout_horizon_s=markouts[0].horizon_s if markouts else None,
        avg_markout_bps=sum(marks) / len(marks) if marks else None,
        maker_fills_traded_through=(sum(through) / len(through) if through else None),
        slippages_bps=values,
        slippage_ts=[c.ts_init for c in slips],
    )


def shadow_figure(section: ShadowSection) -> Any | None:
    """Return a plotly figure of each simulated fill's slippage against the quote over time."""
    if not section.slippages_bps:
        return None
    import plotly.graph_objects as go

    from tradeloop.core.time import ns_to_iso

    fig = go.Figure(
        go.Scatter(
            x=[ns_to_iso(ts) for ts in section.slippage_ts],
            y=section.slippages_bps,
            mode="markers",
            name="slippage vs quote (bps)",
        )
    )
    fig.update_layout(
        title="Shadow: each simulated fill's slippage against the venue's quote (bps)",
        height=320,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        yaxis_title="bps (positive: worse than the quote)",
    )
    return fig


def shadow_html(section: ShadowSection | None, digits: int = 2) -> str:
    """Return the section's HTML (an empty string when the run is not a shadow session)."""
    if section is None:
        return ""

    def bps(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.{digits}f} bps"

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f} %"

    horizon = section.markout_horizon_s
    rows = [
        ("simulated fills", f"{section.fills:,} ({section.fills_with_quote:,} with a quote)"),
        ("average slippage vs the quote", bps(section.avg_slippage_vs_quote_bps)),
        ("worst slippage vs the quote", bps(section.worst_slippage_vs_quote_bps)),
        (
            "passive (limit) orders filled",
            f"{section.passive_orders_filled:,} of {section.passive_orders:,} "
            f"({pct(section.passive_fill_rate)})",
        ),
        ("maker fills", f"{section.maker_fills:,}"),
        (
            f"average markout after {horizon:g} s" if horizon else "average markout",
            bps(section.avg_markout_bps),
        ),
        (
            "maker fills the venue traded at or through",
            pct(section.maker_fills_traded_through),
        ),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    figure = shadow_figure(section)
    plot = (
        ""
        if figure is None
        else figure.to_html(full_html=False, include_plotlyjs=False, div_id="figure-shadow")
    )
    return (
        '<h2 id="shadow">Shadow: simulated fills against the venue</h2>\n'
        "<p>Every order was decided live and filled by the simulator; each fill is compared "
        "with the venue's quote at that instant and with the trades that followed it "
        "(positive slippage is worse than the quote; a negative markout is adverse "
        "selection).</p>\n"
        f'<table class="shadow">{body}</table>\n{plot}'
    )

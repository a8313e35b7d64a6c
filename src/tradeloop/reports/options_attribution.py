"""Options P&L attribution of a run: every option position (and its hedge in the underlying)
split step by step into delta, gamma, vega, theta, rho and residual.

The steps are the instants a hedger journaled ``GreeksHedged`` (its marks: quote mid, spot,
implied vol, time to expiry, rates and Greeks of each option leg). Over the step from one
instant to the next, each position holds what the journal's positions held at the first
(``JournalIndex.state_at``) and earns ``quantity x multiplier x (price change)`` at the
marks; ``tradeloop.options.attribution`` splits it. The underlying's position is marked at
the journaled spot and is all delta. The parts of each step add up to its P&L exactly, the
residual being what the Greeks of the step's start do not explain.

What this does not hold: the P&L of trading itself (fills at the bid or ask against the mid,
commissions), which ``tradeloop explain``'s decision attribution gives per trade.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradeloop.model.hedging import GreeksHedged, OptionMark
from tradeloop.options.attribution import (
    COMPONENTS,
    GreekStep,
    attribute_linear,
    attribute_option,
    totals,
)
from tradeloop.reports.run import RunInputs

if TYPE_CHECKING:  # reports.explain imports this module inside explain_trade
    from tradeloop.reports.explain import ExplainSection

__all__ = [
    "PositionAttribution",
    "attribution_lines",
    "options_attribution",
    "options_attribution_html",
    "options_attribution_json",
]


@dataclass
class PositionAttribution:
    """The steps of one position of one hedging strategy, and their sums."""

    strategy_id: str
    instrument_id: str
    is_option: bool
    steps: list[GreekStep]
    sums: dict[str, float] = field(default_factory=dict)


def options_attribution(inputs: RunInputs) -> list[PositionAttribution]:
    """Return the attribution of every position of every hedging strategy of the run."""
    events: dict[str, list[tuple[int, GreeksHedged]]] = {}
    for row in inputs.index.rows:
        if isinstance(row.record, GreeksHedged):
            events.setdefault(row.record.strategy_id, []).append((row.ts_init, row.record))
    out: list[PositionAttribution] = []
    for strategy_id in sorted(events):
        series = events[strategy_id]
        if len(series) < 2:
            continue
        instants = [ts for ts, _ in series]
        held = [_positions(inputs, strategy_id, ts) for ts in instants[:-1]]
        legs: dict[str, list[tuple[int, OptionMark]]] = {}
        for ts, event in series:
            for mark in event.marks:
                legs.setdefault(mark.instrument_id, []).append((ts, mark))
        for instrument_id in sorted(legs):
            marks = legs[instrument_id]
            if len(marks) != len(series):
                continue  # a leg missing from some evaluation: its steps are not contiguous
            quantities = [h.get(instrument_id, 0.0) for h in held]
            steps = attribute_option(marks, quantities)
            out.append(PositionAttribution(strategy_id, instrument_id, True, steps, totals(steps)))
        underlying_id = series[0][1].underlying_id
        spots = [event.marks[0].spot if event.marks else float("nan") for _, event in series]
        quantities = [h.get(underlying_id, 0.0) for h in held]
        multiplier = float(inputs.multiplier_of(underlying_id))
        steps = attribute_linear(underlying_id, instants, spots, quantities, multiplier)
        out.append(PositionAttribution(strategy_id, underlying_id, False, steps, totals(steps)))
    return out


def _positions(inputs: RunInputs, strategy_id: str, ts: int) -> dict[str, float]:
    state = inputs.index.state_at(ts)
    return {
        p.instrument_id: p.signed_qty_raw / 10**p.size_precision
        for p in state.positions
        if p.strategy_id == strategy_id
    }


def _date(ts: int) -> str:
    from tradeloop.core.time import ns_to_iso

    return ns_to_iso(ts)[:10]


_HEAD = ("pnl", *COMPONENTS)


def _value(step: GreekStep, name: str) -> float:
    # (+ 0.0 where printed: -0.00 shows as 0.00)
    return step.pnl if name == "pnl" else step.part(name)


def attribution_lines(position: PositionAttribution, every_step: bool = True) -> tuple[str, ...]:
    """Return the text lines of one position's attribution: the totals, then each step."""
    header = f"{'step to':<10}{'qty':>7}" + "".join(f"{name:>11}" for name in _HEAD)
    total = f"{'total':<10}{'':>7}" + "".join(f"{position.sums[n] + 0.0:>11,.2f}" for n in _HEAD)
    lines = [
        f"{position.instrument_id} of {position.strategy_id}, marked at each GreeksHedged "
        f"evaluation ({len(position.steps)} steps); the parts of each step add up to its P&L",
        header,
        total,
    ]
    if every_step:
        for step in position.steps:
            lines.append(
                f"{_date(step.ts_end)}{step.quantity:>7g}"
                + "".join(f"{_value(step, n) + 0.0:>11,.2f}" for n in _HEAD)
            )
    return tuple(lines)


def options_attribution_json(positions: list[PositionAttribution]) -> list[dict[str, object]]:
    """Return the attribution as JSON-ready records (for ``report-metrics.json``)."""
    return [
        {
            "strategy_id": p.strategy_id,
            "instrument_id": p.instrument_id,
            "is_option": p.is_option,
            "totals": p.sums,
            "steps": [
                {"ts_start": s.ts_start, "ts_end": s.ts_end, "quantity": s.quantity, "pnl": s.pnl}
                | {n: s.part(n) for n in COMPONENTS}
                for s in p.steps
            ],
        }
        for p in positions
    ]


def options_attribution_html(inputs: RunInputs) -> str:
    """Return the report's options attribution section ("" for a run without options marks)."""
    positions = options_attribution(inputs)
    if not positions:
        return ""
    heads = "".join(f"<th>{html.escape(n)}</th>" for n in ("position", "step", "qty", *_HEAD))
    rows = []
    for p in positions:
        name = html.escape(f"{p.instrument_id} ({p.strategy_id})")
        cells = "".join(f"<td>{p.sums[n]:,.2f}</td>" for n in _HEAD)
        rows.append(f"<tr class='total'><td>{name}</td><td>total</td><td></td>{cells}</tr>")
        for s in p.steps:
            cells = "".join(f"<td>{(s.pnl if n == 'pnl' else s.part(n)):,.2f}</td>" for n in _HEAD)
            rows.append(
                f"<tr><td>{name}</td><td>{_date(s.ts_start)}..{_date(s.ts_end)}</td>"
                f"<td>{s.quantity:g}</td>{cells}</tr>"
            )
    return (
        '<h2 id="options-attribution">Options P&amp;L attribution</h2>'
        "<p>Each position's mark-to-mark P&amp;L between the hedger's evaluations, split "
        "with the Greeks of each step's start into delta, gamma (&frac12; &Gamma; dS&sup2;), "
        "vega, theta and rho; the residual is the rest (cross and higher-order terms), so "
        "each row adds up exactly. Trading P&amp;L (fills against the mid, commissions) is in "
        "the trades below.</p>"
        f"<table class='options-attribution'><tr>{heads}</tr>{''.join(rows)}</table>"
    )


def explain_sections(
    inputs: RunInputs, instrument_id: str, strategy_id: str
) -> tuple[ExplainSection, ...]:
    """Return the ``tradeloop explain`` section of the position a trade belongs to (if it is
    an option leg or the hedge of a hedging strategy), else nothing."""
    from tradeloop.reports.explain import ExplainSection

    found = [
        p
        for p in options_attribution(inputs)
        if p.instrument_id == instrument_id and p.strategy_id == strategy_id
    ]
    return tuple(
        ExplainSection(
            title="options P&L attribution (the position, mark to mark, by Greek)",
            lines=attribution_lines(p),
        )
        for p in found
    )

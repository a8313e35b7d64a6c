"""``tradeloop explain``: one trade's causal chain and P&L decomposition, as sections of text.

The same ``TradeExplanation`` is printed by the CLI, encoded as JSON, and rendered as the
trade's section of the HTML report (every trade in the report links to it).
"""

from __future__ import annotations

from fractions import Fraction

import msgspec

from tradeloop.core.fixed import MONEY_PRECISION, format_raw
from tradeloop.core.time import ns_to_iso
from tradeloop.journal.explain import PART_NAMES, TradeChain, TradePnl
from tradeloop.model.book import NULL_PRICE
from tradeloop.model.events import OrderCanceled
from tradeloop.reports.run import MARK_KINDS, RunInputs

PART_LABELS: dict[str, str] = {
    "market": "market (beta × benchmark move)",
    "alpha": "alpha (rest of the price move)",
    "timing": "timing (decision price → fill reference)",
    "spread": "spread",
    "slippage": "slippage",
    "impact": "market impact",
    "fees": "fees (commission)",
}


def format_money(amount: Fraction | int, digits: int = 2, *, grouping: bool = True) -> str:
    """Return an exact amount rounded half-even to ``digits`` decimals (the currency's).

    Every amount of money the reports print goes through here, from its exact value (never
    from a float), so the same amount reads the same everywhere: 3.255 is 3.26 in a fill's
    commission and in the trade's fees alike.
    """
    # round() of a Fraction is exact and rounds half to even.
    scaled = round(Fraction(amount) * 10**digits)
    whole, fraction = divmod(abs(scaled), 10**digits)
    head = f"{whole:,}" if grouping else str(whole)
    text = f"{head}.{fraction:0{digits}d}" if digits > 0 else head
    return ("-" if scaled < 0 else "") + text


def money_raw(raw: int, digits: int = 2) -> str:
    """Return a money raw (``MONEY_PRECISION`` decimals) as ``format_money`` prints it."""
    return format_money(Fraction(raw, 10**MONEY_PRECISION), digits)


class BarSeen(msgspec.Struct, frozen=True, kw_only=True):
    """A bar the decision saw (the last ones at or before the decision time)."""

    instrument_id: str
    ts: int
    open: str
    high: str
    low: str
    close: str
    volume: float


class MarkSeen(msgspec.Struct, frozen=True, kw_only=True):
    """A mark the decision saw, for an instrument without bars (``reports.run.MarkSeries``):
    the book's or a quote's touch and mid, or a trade's price."""

    instrument_id: str
    ts: int
    kind: str
    price: str
    bid: str | None = None
    ask: str | None = None


class ExplainSection(msgspec.Struct, frozen=True, kw_only=True):
    """One stage of the chain: a title and its lines."""

    title: str
    lines: tuple[str, ...]


class RoundTripView(msgspec.Struct, frozen=True, kw_only=True):
    """The round-trip view of a closing trade: the lots it closed (FIFO), from their opening
    fills to its fills, less both legs' commissions (``journal.explain.ClosedLot``)."""

    quantity: float
    opened_by: tuple[str, ...]
    average_entry_price: float
    average_exit_price: float
    gross: float
    fees: float
    net: float
    gross_exact: str
    fees_exact: str
    net_exact: str
    display: dict[str, str]


class PnlView(msgspec.Struct, frozen=True, kw_only=True):
    """A trade's P&L decomposition: floats for plots, exact fractions as strings, and the
    amounts as the report prints them (``display``: rounded half-even from the exact value).

    ``round_trip`` is the round-trip view of the lots the trade closed (None if it closed
    none).
    """

    pnl: float
    parts: dict[str, float]
    pnl_exact: str
    parts_exact: dict[str, str]
    decision_price: float | None
    decision_price_source: str
    beta: float | None
    beta_source: str
    benchmark_id: str | None
    quantity: float
    closing_quantity: float
    open_quantity: float
    exit_ts: int | None
    notes: tuple[str, ...]
    display: dict[str, str] = msgspec.field(default_factory=dict)
    round_trip: RoundTripView | None = None


class TradeExplanation(msgspec.Struct, frozen=True, kw_only=True):
    """Everything ``tradeloop explain`` shows about one trade."""

    run_id: str
    query: str
    trade_key: str
    instrument_id: str
    strategy_id: str
    side: str
    rebalance_id: str | None
    algorithm: str | None
    decision_ts: int
    bars: tuple[BarSeen, ...]
    sections: tuple[ExplainSection, ...]
    pnl: PnlView
    chain: TradeChain
    notes: tuple[str, ...]
    marks: tuple[MarkSeen, ...] = ()
    """What the decision saw of an instrument without bars (book, quotes, trades)."""


def _fraction_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def _round_trip_view(trade: TradePnl, digits: int) -> RoundTripView | None:
    lots = trade.closed_lots
    if not lots:
        return None
    gross, fees, net = trade.round_trip()
    quantity = sum((lot.quantity for lot in lots), Fraction(0))
    entry = sum((lot.quantity * lot.entry_price for lot in lots), Fraction(0)) / quantity
    exit_ = sum((lot.quantity * lot.exit_price for lot in lots), Fraction(0)) / quantity
    return RoundTripView(
        quantity=float(quantity),
        opened_by=tuple(dict.fromkeys(lot.opened_by for lot in lots)),
        average_entry_price=float(entry),
        average_exit_price=float(exit_),
        gross=float(gross),
        fees=float(fees),
        net=float(net),
        gross_exact=_fraction_text(gross),
        fees_exact=_fraction_text(fees),
        net_exact=_fraction_text(net),
        display={
            "gross": format_money(gross, digits),
            "fees": format_money(-fees, digits),
            "net": format_money(net, digits),
        },
    )


def pnl_view(trade: TradePnl, digits: int = 2) -> PnlView:
    """Return the display record of a ``TradePnl`` (money printed to ``digits`` decimals)."""
    parts = trade.parts()
    display = {name: format_money(value, digits) for name, value in parts.items()}
    display["pnl"] = format_money(trade.pnl, digits)
    return PnlView(
        pnl=float(trade.pnl),
        parts={name: float(value) for name, value in parts.items()},
        pnl_exact=_fraction_text(trade.pnl),
        parts_exact={name: _fraction_text(value) for name, value in parts.items()},
        decision_price=None if trade.decision_price is None else float(trade.decision_price),
        decision_price_source=trade.decision_price_source,
        beta=trade.beta,
        beta_source=trade.beta_source,
        benchmark_id=trade.benchmark_id,
        quantity=float(trade.quantity),
        closing_quantity=float(trade.closing_quantity),
        open_quantity=float(trade.open_quantity),
        exit_ts=trade.exit_ts,
        notes=tuple(trade.notes),
        display=display,
        round_trip=_round_trip_view(trade, digits),
    )


def _date(ts: int) -> str:
    return ns_to_iso(ts)[:19].replace("T", " ")


def bars_seen(inputs: RunInputs, chain: TradeChain, count: int = 3) -> tuple[BarSeen, ...]:
    """Return the instrument's last ``count`` bars (and the benchmark's last) at the decision."""
    out: list[BarSeen] = []
    wanted = [(chain.instrument_id, count)]
    benchmark = inputs.benchmark_id
    if benchmark is not None and benchmark != chain.instrument_id:
        wanted.append((benchmark, 1))
    for instrument_id, n in wanted:
        series = inputs.prices.get(instrument_id)
        if series is None:
            continue
        end = series.index_at(chain.decision_ts)
        for index in range(max(0, end - n + 1), end + 1):
            p = series.precision
            out.append(
                BarSeen(
                    instrument_id=instrument_id,
                    ts=int(series.ts[index]),
                    open=format_raw(int(series.open_raw[index]), p),
                    high=format_raw(int(series.high_raw[index]), p),
                    low=format_raw(int(series.low_raw[index]), p),
                    close=format_raw(int(series.close_raw[index]), p),
                    volume=float(series.volume[index]),
                )
            )
    return tuple(out)


def marks_seen(inputs: RunInputs, chain: TradeChain, count: int = 3) -> tuple[MarkSeen, ...]:
    """Return the instrument's last ``count`` marks at the decision, when it has no bars (a run
    of order-book deltas, quotes or trades: the book's or quote's touch and mid, the trade)."""
    if chain.instrument_id in inputs.prices:
        return ()
    series = inputs.marks.get(chain.instrument_id)
    if series is None:
        return ()
    end = series.index_at(chain.decision_ts)
    out: list[MarkSeen] = []
    for index in range(max(0, end - count + 1), end + 1):
        kind = MARK_KINDS[int(series.kind[index])]
        bid, ask = int(series.bid_raw[index]), int(series.ask_raw[index])
        out.append(
            MarkSeen(
                instrument_id=chain.instrument_id,
                ts=int(series.ts[index]),
                kind=kind,
                price=(
                    format_raw(int(series.mark_raw[index]) // 10, series.precision - 1)
                    if kind == "trade"  # a trade's price, at the instrument's precision
                    else format_raw(int(series.mark_raw[index]), series.precision)
                ),
                bid=None if bid == NULL_PRICE else format_raw(bid, series.precision - 1),
                ask=None if ask == NULL_PRICE else format_raw(ask, series.precision - 1),
            )
        )
    return tuple(out)


def _time(ts: int) -> str:
    return ns_to_iso(ts)[:26].replace("T", " ")


def _mark_line(mark: MarkSeen) -> str:
    if mark.bid is None or mark.ask is None:
        return f"{mark.instrument_id} {_time(mark.ts)}  {mark.kind} {mark.price}"
    return (
        f"{mark.instrument_id} {_time(mark.ts)}  {mark.kind} bid {mark.bid}  ask {mark.ask}  "
        f"mid {mark.price}"
    )


def _breach_line(chain: TradeChain) -> str:
    breach = chain.breach
    assert breach is not None
    return (
        f"risk exit {breach.decision_id}: limit {breach.rule} breached at "
        f"{_date(breach.ts_event)} — value {breach.value:g} vs limit {breach.limit:g} "
        f"→ {breach.action}" + (f" ({breach.instrument_id})" if breach.instrument_id else "")
    )


def sections(
    chain: TradeChain,
    bars: tuple[BarSeen, ...],
    pnl: PnlView,
    digits: int = 2,
    *,
    marks: tuple[MarkSeen, ...] = (),
    data_note: str | None = None,
) -> list[ExplainSection]:
    """Return the chain as titled sections of lines, in the order of the loop.

    ``marks`` is what the decision saw of an instrument without bars; ``data_note`` says why
    the decision's market data is not shown when there is none (it is also among the notes).
    """
    out: list[ExplainSection] = []

    def _missing(stage: str) -> tuple[str, ...]:
        if chain.breach is not None:
            return (
                f"no {stage}: this trade is a risk exit ({chain.breach.rule}, decision "
                f"{chain.breach.decision_id}), decided by risk outside the rebalance cycle",
            )
        return (f"no {stage} event for this trade (its strategy published none)",)

    out.append(
        ExplainSection(
            title="data seen",
            lines=tuple(
                f"{b.instrument_id} {_date(b.ts)}  O {b.open}  H {b.high}  L {b.low}  "
                f"C {b.close}  V {b.volume:,.0f}"
                for b in bars
            )
            + tuple(_mark_line(m) for m in marks)
            or (f"market data not available: {data_note or 'see notes'}",),
        )
    )
    if chain.betas is not None and chain.beta is not None:
        beta = chain.beta
        lines: tuple[str, ...] = (
            f"beta {beta.beta:.3f} to {chain.betas.benchmark_id} ({chain.betas.method}, "
            f"window {chain.betas.window}, {beta.observations} obs), alpha {beta.alpha:.5f}, "
            f"hedge ratio {beta.hedge_ratio:.3f}  [{chain.betas.rebalance_id}]",
        )
    else:
        lines = _missing("BetasEstimated")
    out.append(ExplainSection(title="beta / hedge", lines=lines))
    if chain.regime is not None:
        regime = chain.regime
        probabilities = ", ".join(f"{k} {v:.2f}" for k, v in sorted(regime.probabilities.items()))
        lines = (
            f"{regime.label} (since {_date(regime.ts_event)}, from {regime.previous_label}); "
            f"confidence {regime.confidence:.2f}; {probabilities}",
            f"detector {regime.detector_id}, model {regime.model_version}",
        )
    else:
        lines = _missing("RegimeChanged")
    out.append(ExplainSection(title="regime", lines=lines))
    if chain.signals_event is not None:
        lines = tuple(
            f"{s.agent_id}: score {s.score:+.3f} (confidence {s.confidence:.2f}) — {s.reason}"
            for s in chain.signals
        ) + tuple(f"{f.agent_id} FAILED: {f.error}" for f in chain.agent_failures)
        lines = lines or ("no agent scored this instrument",)
    else:
        lines = _missing("SignalsEmitted")
    out.append(ExplainSection(title="agents", lines=lines))
    if chain.models or chain.fallbacks or chain.policies:
        out.append(ExplainSection(title="models", lines=_model_lines(chain)))
    if chain.ensemble is not None and chain.ensemble_event is not None:
        score = chain.ensemble
        contributions = ", ".join(f"{k} {v:+.3f}" for k, v in sorted(score.contributions.items()))
        weights = ", ".join(f"{k} {v:.2f}" for k, v in sorted(chain.ensemble_event.weights.items()))
        lines = (
            f"score {score.score:+.3f} (confidence {score.confidence:.2f}); "
            f"regime {chain.ensemble_event.regime}",
            f"contributions: {contributions or '-'}",
            f"weights: {weights or '-'}",
        ) + ((f"vetoes: {', '.join(score.vetoes)}",) if score.vetoes else ())
    else:
        lines = _missing("EnsembleScored")
    out.append(ExplainSection(title="ensemble", lines=lines))
    if chain.target is not None and chain.targets_event is not None:
        target, event = chain.target, chain.targets_event
        lines = (
            f"target weight {target.weight:+.4f}, quantity {target.target_qty:g} "
            f"(current {target.current_qty:g}, change {target.delta_qty:+g}) "
            f"at {target.reference_price:g}; expected alpha {target.expected_alpha_bps:.2f} bps"
            + (" [hedge]" if target.is_hedge else ""),
            f"{event.method}; regime {event.regime} × {event.regime_multiplier:g}; "
            f"gross {event.gross_exposure:.3f}, net {event.net_exposure:.3f}, "
            f"turnover {event.turnover:.3f}",
            *event.reasons,
        )
    else:
        lines = _missing("TargetsProposed")
    out.append(ExplainSection(title="target", lines=lines))
    if chain.risk is not None and chain.risk_event is not None:
        risk = chain.risk
        lines = (
            f"{risk.decision}: requested {risk.requested_qty:+g}, approved {risk.approved_qty:+g}"
            + (f" — {'; '.join(risk.reasons)}" if risk.reasons else ""),
            f"trading state {chain.risk_event.trading_state}",
            *(
                f"limit {b.rule}: {b.value:g} vs {b.limit:g} → {b.action} ({_date(b.ts_event)}"
                + (f", decision {b.decision_id})" if b.decision_id else ")")
                for b in chain.risk_breaches
            ),
        )
    elif chain.breach is not None:
        lines = (
            _breach_line(chain),
            "no RiskReviewed: risk itself ordered this exit (it does not review its own exits)",
        )
    else:
        lines = _missing("RiskReviewed")
    out.append(ExplainSection(title="risk review", lines=lines))
    if chain.cost is not None:
        cost = chain.cost
        lines = (
            f"{cost.decision}: {cost.quantity_in:+g} → {cost.quantity_out:+g} — {cost.reason}",
            f"gross alpha {cost.gross_alpha_bps:.2f} bps − cost {cost.cost_bps:.2f} bps = "
            f"net {cost.net_alpha_bps:.2f} bps (commission {cost.commission_bps:.2f}, "
            f"spread {cost.spread_bps:.2f}, impact {cost.impact_bps:.2f}, "
            f"delay {cost.delay_bps:.2f})",
        )
        if cost.algorithm:  # journals before the cost stage recorded the algorithm have none
            lines += (
                f"costed for {cost.algorithm}: {cost.taker_fraction:.0%} expected at market "
                f"(pays the half spread and impact), expected delay "
                f"{cost.expected_delay_ns / 3.6e12:.1f} h",
            )
    else:
        lines = _missing("CostAssessed")
    out.append(ExplainSection(title="cost assessment", lines=lines))
    if chain.plan is not None:
        plan = chain.plan
        lines = (
            f"{plan.algorithm} {plan.side} {plan.quantity:g} in {plan.slices} slice(s), "
            f"{_date(plan.start_ns)} → {_date(plan.end_ns)}, arrival {plan.arrival_price:g}",
            f"parent {plan.parent_order_id} — {plan.reason}",
        )
    else:
        lines = _missing("ExecutionPlanned")
    out.append(ExplainSection(title="execution plan", lines=lines))
    order_lines = []
    for init in chain.orders:
        price = "" if init.price is None else f" @ {init.price}"
        order_lines.append(
            f"{init.client_order_id} {init.side} {init.quantity} {init.order_type}{price} "
            f"{init.time_in_force} at {_date(init.ts_init)}"
            + (f" tags {', '.join(init.tags)}" if init.tags else "")
        )
        for order_event in chain.order_events:
            if order_event.client_order_id == init.client_order_id:
                detail = getattr(order_event, "reason", "") or ""
                if isinstance(order_event, OrderCanceled):
                    detail = chain.cancel_causes.get(init.client_order_id, detail)
                order_lines.append(
                    f"  {type(order_event).__name__} {_date(order_event.ts_event)}"
                    + (f" — {detail}" if detail else "")
                )
    out.append(ExplainSection(title="child orders", lines=tuple(order_lines)))
    fill_lines = []
    for fill in chain.fills:
        costs = fill.costs
        parts = (
            "; costs not measured"
            if costs is None
            else f"; spread {money_raw(costs.spread, digits)}, "
            f"slippage {money_raw(costs.slippage, digits)}, "
            f"impact {money_raw(costs.impact, digits)}"
        )
        fill_lines.append(
            f"{fill.trade_id} {_date(fill.ts_event)} {fill.order_side} {fill.last_qty} @ "
            f"{fill.last_px} (reference {fill.reference_px}) commission "
            f"{money_raw(fill.commission.raw, digits)} {fill.commission.currency}{parts}"
        )
    for progress in chain.progress:
        fill_lines.append(
            f"progress: filled {progress.filled_qty:g}, remaining {progress.remaining_qty:g} "
            f"({progress.note})"
        )
    if chain.completed is not None:
        done = chain.completed
        average = "-" if done.average_price is None else f"{done.average_price:g}"
        fill_lines.append(
            f"completed: {done.outcome}, filled {done.filled_qty:g} at {average} "
            f"(arrival {done.arrival_price:g})"
        )
    out.append(ExplainSection(title="fills", lines=tuple(fill_lines) or ("no fill",)))
    pnl_lines = [
        f"decision price {pnl.decision_price} ({pnl.decision_price_source}); beta "
        f"{'-' if pnl.beta is None else f'{pnl.beta:.3f}'} ({pnl.beta_source})",
        f"quantity {pnl.quantity:+g}: closing {pnl.closing_quantity:g}, still open at the end "
        f"{pnl.open_quantity:g}" + (f"; valued until {_date(pnl.exit_ts)}" if pnl.exit_ts else ""),
    ]
    for name in PART_NAMES:
        pnl_lines.append(f"{PART_LABELS[name]:<44}{pnl.display.get(name, ''):>14}")
    pnl_lines.append(f"{'P&L (sum of the parts, exact)':<44}{pnl.display.get('pnl', ''):>14}")
    pnl_lines.append(ATTRIBUTION_NOTE)
    if pnl.closing_quantity:
        pnl_lines.append(
            "this trade closed earlier lots: their gain or loss is in the trades that opened "
            "them; see the round-trip view below for what was realized on them"
        )
    pnl_lines.extend(pnl.notes)
    out.append(
        ExplainSection(title="P&L decomposition (decision attribution)", lines=tuple(pnl_lines))
    )
    trip = pnl.round_trip
    if trip is not None:
        out.append(
            ExplainSection(
                title="round-trip P&L (the lots this trade closed)",
                lines=(
                    f"closed {trip.quantity:g} (FIFO) opened by {', '.join(trip.opened_by)}: "
                    f"average entry {trip.average_entry_price:.6g}, "
                    f"average exit {trip.average_exit_price:.6g}",
                    f"{'price move realized (exit - entry)':<44}{trip.display['gross']:>14}",
                    f"{'commissions of both legs (pro rata)':<44}{trip.display['fees']:>14}",
                    f"{'round-trip P&L':<44}{trip.display['net']:>14}",
                ),
            )
        )
    return out


ATTRIBUTION_NOTE = (
    "decision attribution: each trade is credited with its own decision — the lots it opened "
    "from its decision price to their exit, and its own timing and costs — so the trades' "
    "P&Ls add up to the run's exactly"
)


def explain_trade(inputs: RunInputs, query: str) -> TradeExplanation:
    """Return the explanation of the trade ``query`` names in the run ``inputs``.

    Raises
    ------
    ConfigError
        If ``query`` is not a client order id, trade id or parent order id of the run.
    """
    from tradeloop.reports.options_attribution import explain_sections as options_sections

    chain = inputs.book.chain(query)
    trade = inputs.pnl.get(chain.trade_key)
    digits = inputs.money_digits
    view = pnl_view(trade, digits) if trade is not None else _empty_pnl()
    bars = bars_seen(inputs, chain)
    marks = marks_seen(inputs, chain)
    notes = list(inputs.notes)
    data_note = None
    if not bars and not marks:
        data_note = inputs.market_data_note(chain.instrument_id) or (
            f"no price of {chain.instrument_id} at or before the decision "
            f"({_time(chain.decision_ts)}) in the run's data"
        )
        if data_note not in notes:
            notes.append(data_note)
    return TradeExplanation(
        run_id=inputs.manifest.run_id,
        query=query,
        trade_key=chain.trade_key,
        instrument_id=chain.instrument_id,
        strategy_id=chain.strategy_id,
        side=chain.side,
        rebalance_id=chain.rebalance_id,
        algorithm=chain.algorithm,
        decision_ts=chain.decision_ts,
        bars=bars,
        sections=tuple(sections(chain, bars, view, digits, marks=marks, data_note=data_note))
        + options_sections(inputs, chain.instrument_id, chain.strategy_id),
        pnl=view,
        chain=chain,
        notes=tuple(notes),
        marks=marks,
    )


def _empty_pnl() -> PnlView:
    zero = dict.fromkeys(PART_NAMES, 0.0)
    return PnlView(
        pnl=0.0,
        parts=zero,
        pnl_exact="0",
        parts_exact=dict.fromkeys(PART_NAMES, "0"),
        decision_price=None,
        decision_price_source="no fill",
        beta=None,
        beta_source="",
        benchmark_id=None,
        quantity=0.0,
        closing_quantity=0.0,
        open_quantity=0.0,
        exit_ts=None,
        notes=("the trade has no fill",),
    )


def _model_lines(chain: TradeChain) -> tuple[str, ...]:
    # Each model's prediction and the features that moved it, largest contribution first.
    lines: list[str] = []
    for m in chain.models:
        lines.append(
            f"{m.agent_id}: {m.model} v{m.model_version} predicted {m.prediction:+.5f} "
            f"(score {m.score:+.3f}) = bias {m.bias:+.5f} + contributions; artifact "
            f"{m.artifact_hash[:12]}, features {m.feature_hash[:12]}"
        )
        ranked = sorted(m.contributions, key=lambda c: -abs(c.contribution))
        lines.extend(
            f"  {c.feature:<28} {c.contribution:+.5f}  (value {c.value:+.5g})" for c in ranked
        )
    for p in chain.policies:
        chances = (
            f"probabilities {' / '.join(f'{v:.3f}' for v in p.probabilities)}"
            if p.probabilities
            else f"values {' / '.join(f'{v:+.4f}' for v in p.action_values)}"
        )
        lines.append(
            f"{p.agent_id}: policy {p.model} v{p.model_version} chose action {p.action} "
            f"(target weight {p.target_weight:+.2f}; {chances}); artifact "
            f"{p.artifact_hash[:12]}, observation {p.observation_hash[:12]}"
        )
        if p.contributions:
            lines.append(
                f"  action {p.action}'s value {p.action_values[p.action]:+.4f} = baseline "
                f"{p.baseline:+.4f} (all-zero observation) + integrated gradients:"
            )
            ranked = sorted(p.contributions, key=lambda c: -abs(c.contribution))
            lines.extend(
                f"  {c.feature:<28} {c.contribution:+.5f}  (value {c.value:+.5g})" for c in ranked
            )
        else:
            lines.extend(f"  {name:<28} {value:+.6g}" for name, value in p.observation.items())
    lines.extend(
        f"{f.agent_id}: {f.model} v{f.model_version} FELL BACK to {f.action} "
        f"({f.reason}: {f.detail}); {f.position_fraction:g} of the position kept"
        for f in chain.fallbacks
    )
    return tuple(lines)

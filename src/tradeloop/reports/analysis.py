"""What a report shows, computed once from a run: curves, metrics, round trips, attribution.

Steps (``analyze``):

1. **Curves** at the equity curve's points (``equity.csv``): net equity; cumulative costs
   (commission + spread + slippage + impact, from the file or summed from the fills) and
   gross equity = net + costs; gross and net exposure (positions from ``PositionChanged`` ×
   the last close); traded notional (each fill's ``|q p m|`` at the first point at or after
   it); the benchmark's close (the config's ``run.benchmark``, else the betas' benchmark).
2. **Round trips** from the fills, flat to flat per (strategy, instrument): a flip closes one
   and opens the next; P&L is the realized P&L the fills booked (``PositionChanged``), fees
   the commissions (split by quantity on a flip).
3. **Metrics**: ``analytics.metrics.summarize`` on the net curve (with the round trips, the
   benchmark, the exposure and the traded notional), on the gross curve, and on the
   benchmark; the report shows these numbers unchanged. **TCA** of every order
   (``reports.tca.run_report_tca``).
4. **Attribution** of the trades' exact P&L (``journal.explain.decompose``): by factor (the
   sums of each part), by instrument, and by agent (``agent_shares``): a trade's P&L ``π``
   is shared by the agents' votes in its ensemble score (``EnsembleScored.contributions``
   ``c_a``, whose sum is the score ``S``): agent ``a`` gets ``π · |c_a| / Σ|c| · v_a`` with
   ``v_a = +1`` if it voted with the score's sign and ``-1`` against it, and the rest,
   ``π · (1 - |S| / Σ|c|)``, is ``offsetting votes``: the part of the decision that opposing
   votes cancelled out. Every part is bounded by ``|π|`` (``|S| <= Σ|c|``), and the parts add
   up to ``π`` exactly (rational arithmetic on the contributions' exact binary values).
   A hedge trade (its instrument's target in the rebalance's ``TargetsProposed`` has
   ``is_hedge``: the beta hedge on the benchmark) is ``hedge`` in full, whatever scores its
   instrument had: no agent voted for it. Other trades without an ensemble score, or whose
   contributions are all zero (risk exits, vetoed scores, plain strategies), are
   ``unattributed: <strategy id>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.metrics import PerformanceSummary, RoundTrip, summarize
from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.fixed import MONEY_PRECISION
from tradeloop.data.columns import BarColumns
from tradeloop.journal.explain import PART_NAMES, TradeBook, rebalance_of
from tradeloop.model.decisions import TargetsProposed
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import OrderFilled, PositionChanged
from tradeloop.reports.run import RunInputs
from tradeloop.reports.tca import ReportTca, run_report_tca

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_SCALE = 10.0**MONEY_PRECISION


@dataclass
class Curves:
    """Series at the equity curve's points (see step 1 of the module docstring)."""

    ts: I64
    equity: F64
    costs: F64
    gross_equity: F64
    gross_exposure: F64
    net_exposure: F64 | None
    traded_notional: F64
    benchmark: F64 | None
    benchmark_id: str | None
    costs_by_kind: dict[str, float]
    cumulative_costs_by_kind: dict[str, F64]
    costs_by_kind_raw: dict[str, int] = field(default_factory=dict)
    """Exact sums (money raws at ``MONEY_PRECISION``) of ``costs_by_kind``."""
    benchmark_note: str | None = None
    """What the benchmark series is (which closes, price or total return)."""


OFFSETTING_VOTES = "offsetting votes"
"""The by-agent bucket of P&L that agents voting against each other cancelled out."""

HEDGE = "hedge"
"""The by-agent bucket of the hedge trades' P&L (targets marked ``is_hedge``)."""


@dataclass
class Attribution:
    """The run's trade P&L split by factor, instrument and agent (each sums to ``total``).

    The float fields are for plots and JSON; ``exact`` holds the same splits as exact
    fractions (``by_factor``, ``by_instrument``, ``by_agent`` and ``total``).
    """

    by_factor: dict[str, float]
    by_instrument: dict[str, float]
    by_agent: dict[str, float]
    total: float
    exact: dict[str, dict[str, Fraction]] = field(default_factory=dict)


@dataclass
class Analysis:
    """Everything the tearsheet plots and tabulates."""

    curves: Curves
    round_trips: list[RoundTrip]
    net: PerformanceSummary | None
    gross: PerformanceSummary | None
    benchmark: PerformanceSummary | None
    attribution: Attribution
    periods_per_year: float
    notes: list[str] = field(default_factory=list)
    tca: ReportTca | None = None


def _fills(inputs: RunInputs) -> list[tuple[int, OrderFilled]]:
    return [
        (row.ts_init, row.record)
        for row in inputs.index.rows
        if isinstance(row.record, OrderFilled)
    ]


def curves(inputs: RunInputs) -> Curves:
    """Return the report's series at the equity curve's points (module docstring, step 1).

    Raises
    ------
    InvalidValueError
        If the run has no equity curve (``equity.csv``).
    """
    curve = inputs.equity
    ts = curve.ts
    if len(ts) == 0:
        from tradeloop.journal.status import run_status

        status = run_status(inputs.run_dir)
        if status.state != "completed":  # killed, running, failed or stopped: say which
            raise ConfigError(
                f"{status.describe(str(inputs.run_dir))}; a report needs a run that completed "
                "(replay, explain and tca work on its journal as it is)"
            )
        raise InvalidValueError(f"run {inputs.run_dir} has no equity.csv to report on")
    fills = _fills(inputs)
    costs_by_kind = {"commission": 0.0, "spread": 0.0, "slippage": 0.0, "impact": 0.0}
    costs_raw = dict.fromkeys(costs_by_kind, 0)
    per_fill_cost = np.zeros(len(fills))
    per_fill_kind = {kind: np.zeros(len(fills)) for kind in costs_by_kind}
    traded = np.zeros(len(ts))
    fill_ts = np.array([f.ts_event for _, f in fills], dtype=np.int64)
    at = np.minimum(np.searchsorted(ts, fill_ts, side="left"), len(ts) - 1)
    for index, (_, fill) in enumerate(fills):
        commission = fill.commission.raw / _SCALE
        costs_raw["commission"] += fill.commission.raw
        per_fill_kind["commission"][index] = commission
        total = commission
        if fill.costs is not None:
            for kind in ("spread", "slippage", "impact"):
                amount = getattr(fill.costs, kind) / _SCALE
                costs_raw[kind] += getattr(fill.costs, kind)
                per_fill_kind[kind][index] = amount
                total += amount
        per_fill_cost[index] = total
        multiplier = float(inputs.multiplier_of(fill.instrument_id))
        traded[at[index]] += abs(fill.last_qty.as_float() * fill.last_px.as_float() * multiplier)
    costs_by_kind = {kind: raw / _SCALE for kind, raw in costs_raw.items()}
    at_points = np.searchsorted(fill_ts, ts, side="right")
    cumulative_by_kind = {
        kind: np.concatenate(([0.0], np.cumsum(values)))[at_points]
        for kind, values in per_fill_kind.items()
    }
    if curve.costs is not None:
        costs = curve.costs
    else:
        cumulative = np.concatenate(([0.0], np.cumsum(per_fill_cost)))
        costs = cumulative[at_points]
    gross_exposure, net_exposure = _exposures(inputs, ts)
    if curve.gross_exposure is not None:
        gross_exposure = curve.gross_exposure
    benchmark_id = inputs.benchmark_id
    benchmark = None
    series = inputs.prices.get(benchmark_id) if benchmark_id is not None else None
    if series is not None:
        last = np.searchsorted(series.ts, ts, side="right") - 1
        closes = series.close
        benchmark = np.where(last >= 0, closes[np.maximum(last, 0)], closes[0])
    return Curves(
        ts=ts,
        equity=curve.equity,
        costs=costs,
        gross_equity=curve.equity + costs,
        gross_exposure=gross_exposure,
        net_exposure=net_exposure,
        traded_notional=traded,
        benchmark=benchmark,
        benchmark_id=benchmark_id if benchmark is not None else None,
        costs_by_kind=costs_by_kind,
        cumulative_costs_by_kind=cumulative_by_kind,
        costs_by_kind_raw=costs_raw,
        benchmark_note=None if benchmark is None else benchmark_note(inputs, benchmark_id),
    )


def benchmark_note(inputs: RunInputs, benchmark_id: str | None) -> str:
    """Return what the benchmark curve is: the bar closes of its data source, as they are.

    The data layer reads closes (not a dividend-adjusted column), so a benchmark is a price
    series; the note says so, with the source's own description for a bundled dataset.
    """
    prepared = inputs.prepared
    origin = None
    if prepared is not None:
        origin = next(
            (
                source.origin
                for source in prepared.sources
                if source.columns.instrument_id == benchmark_id
                and isinstance(source.columns, BarColumns)
            ),
            None,
        )
    described = ""
    if origin is not None and origin.startswith("bundled:"):
        from tradeloop.data import bundled

        described = f" ({bundled.dataset(origin.partition(':')[2]).description})"
    return (
        f"benchmark {benchmark_id}: the bar closes of {origin or 'its data'}{described}, as "
        "they are — a price-return series: dividends are not reinvested, so the benchmark's "
        "return, and the strategy's alpha and beta to it, leave them out (the run's data has "
        "no total-return series)"
    )


def _exposures(inputs: RunInputs, ts: I64) -> tuple[F64, F64 | None]:
    if not inputs.prices and not inputs.marks:
        return np.zeros(len(ts)), None
    changes: dict[str, list[tuple[int, float]]] = {}
    for row in inputs.index.rows:
        record = row.record
        if isinstance(record, PositionChanged):
            # Net over strategies: keep each strategy's latest quantity, summed below.
            changes.setdefault(f"{record.instrument_id}|{record.strategy_id}", []).append(
                (record.ts_event, record.signed_qty_raw / 10**record.quantity.precision)
            )
    gross = np.zeros(len(ts))
    net = np.zeros(len(ts))
    for key in sorted(changes):
        instrument_id = key.partition("|")[0]
        series = inputs.price_series(instrument_id)
        if series is None:
            continue
        series_ts, series_price = series
        change_ts = np.array([c[0] for c in changes[key]], dtype=np.int64)
        quantity = np.concatenate(([0.0], np.array([c[1] for c in changes[key]])))
        held = quantity[np.searchsorted(change_ts, ts, side="right")]
        index = np.searchsorted(series_ts, ts, side="right") - 1
        price = np.where(index >= 0, series_price[np.maximum(index, 0)], 0.0)
        value = held * price * float(inputs.multiplier_of(instrument_id))
        gross += np.abs(value)
        net += value
    return gross, net


@dataclass
class _Trip:
    ts_entry: int
    peak: float = 0.0
    in_qty: float = 0.0
    in_value: float = 0.0
    out_qty: float = 0.0
    out_value: float = 0.0
    pnl: float = 0.0
    fees: float = 0.0

    def close(self, instrument_id: str, ts_exit: int) -> RoundTrip:
        return RoundTrip(
            instrument_id=instrument_id,
            ts_entry=self.ts_entry,
            ts_exit=ts_exit,
            quantity=self.peak,
            entry_price=self.in_value / self.in_qty,
            exit_price=self.out_value / self.out_qty if self.out_qty else 0.0,
            pnl=self.pnl,
            fees=self.fees,
        )


def round_trips(inputs: RunInputs) -> list[RoundTrip]:
    """Return the run's closed round trips, flat to flat (module docstring, step 2)."""
    after_fill: dict[str, tuple[int, int]] = {}
    for row in inputs.index.rows:
        record = row.record
        if isinstance(record, PositionChanged):
            after_fill[record.last_trade_id] = (record.realized_pnl.raw, record.signed_qty_raw)
    trips: dict[tuple[str, str], _Trip] = {}
    realized_before: dict[tuple[str, str], int] = {}
    position: dict[tuple[str, str], int] = {}
    out: list[RoundTrip] = []
    for _, fill in _fills(inputs):
        key = (fill.strategy_id, fill.instrument_id)
        after = after_fill.get(fill.trade_id)
        if after is None:
            continue
        realized_raw, after_raw = after
        realized = (realized_raw - realized_before.get(key, 0)) / _SCALE
        realized_before[key] = realized_raw
        before_raw = position.get(key, 0)
        position[key] = after_raw
        quantity_raw = fill.last_qty.raw
        sign = 1 if fill.order_side is OrderSide.BUY else -1
        closing_raw = min(quantity_raw, abs(before_raw)) if before_raw * sign < 0 else 0
        opening_raw = quantity_raw - closing_raw
        scale = 10**fill.last_qty.precision
        price = fill.last_px.as_float()
        fee = fill.commission.raw / _SCALE
        trip = trips.get(key)
        if closing_raw and trip is not None:
            trip.out_qty += closing_raw / scale
            trip.out_value += closing_raw / scale * price
            trip.pnl += realized
            trip.fees += fee * closing_raw / quantity_raw
            if closing_raw == abs(before_raw):
                out.append(trip.close(fill.instrument_id, fill.ts_event))
                del trips[key]
                trip = None
        if opening_raw:
            if trip is None:
                trip = trips[key] = _Trip(ts_entry=fill.ts_event)
            trip.in_qty += opening_raw / scale
            trip.in_value += opening_raw / scale * price
            trip.fees += fee * opening_raw / quantity_raw
            if abs(after_raw) / scale > abs(trip.peak):
                trip.peak = after_raw / scale
    return out


def agent_shares(pnl: Fraction, contributions: dict[str, float]) -> dict[str, Fraction] | None:
    """Return one trade's P&L shared by its agents' votes (module docstring, step 4).

    ``contributions`` are the agents' contributions ``c_a`` to the ensemble score. Returns
    each agent's part and ``OFFSETTING_VOTES``; they add up to ``pnl`` exactly and each is at
    most ``|pnl|`` in size. None when no agent contributed (all ``c_a`` zero or none given).
    """
    exact = {agent: Fraction(value) for agent, value in sorted(contributions.items())}
    mass = sum((abs(value) for value in exact.values()), Fraction(0))
    if mass == 0:
        return None
    score = sum(exact.values(), Fraction(0))
    direction = 1 if score >= 0 else -1
    parts = {agent: pnl * value * direction / mass for agent, value in exact.items()}
    parts[OFFSETTING_VOTES] = pnl - sum(parts.values(), Fraction(0))
    return parts


def is_hedge_trade(book: TradeBook, key: str) -> bool:
    """Return whether trade ``key`` carries out a hedge target: its instrument's target in its
    rebalance's ``TargetsProposed`` has ``is_hedge`` (the pipeline's beta hedge)."""
    first = book.trades[key].orders[0]
    plan = book.plans.get(key)
    rebalance_id = plan.rebalance_id if plan is not None else rebalance_of(first)
    if rebalance_id is None:
        return False
    proposed = book.by_rebalance.get(("TargetsProposed", rebalance_id), [])
    if not proposed or not isinstance(proposed[-1], TargetsProposed):
        return False
    return any(
        target.is_hedge and target.instrument_id == first.instrument_id
        for target in proposed[-1].targets
    )


def attribution(inputs: RunInputs) -> Attribution:
    """Return the trades' P&L by factor, instrument and agent (module docstring, step 4)."""
    by_factor = dict.fromkeys(PART_NAMES, Fraction(0))
    by_instrument: dict[str, Fraction] = {}
    by_agent: dict[str, Fraction] = {}
    total = Fraction(0)
    for key, trade in inputs.pnl.items():
        for name, value in trade.parts().items():
            by_factor[name] += value
        by_instrument[trade.instrument_id] = by_instrument.get(trade.instrument_id, 0) + trade.pnl
        total += trade.pnl
        score = inputs.book.ensemble_for(key)
        shares: dict[str, Fraction] | None = None
        if is_hedge_trade(inputs.book, key):
            shares = {HEDGE: trade.pnl}
        elif score is not None:
            shares = agent_shares(trade.pnl, score.contributions)
        if shares is None:
            shares = {f"unattributed: {trade.strategy_id}": trade.pnl}
        for label, value in shares.items():
            by_agent[label] = by_agent.get(label, Fraction(0)) + value
    exact = {
        "by_factor": by_factor,
        "by_instrument": {k: by_instrument[k] for k in sorted(by_instrument)},
        "by_agent": dict(sorted(by_agent.items())),
        "total": {"total": total},
    }
    return Attribution(
        by_factor={k: float(v) for k, v in by_factor.items()},
        by_instrument={k: float(v) for k, v in exact["by_instrument"].items()},
        by_agent={k: float(v) for k, v in exact["by_agent"].items()},
        total=float(total),
        exact=exact,
    )


def analyze(inputs: RunInputs) -> Analysis:
    """Return the report's curves, round trips, metrics and attribution (module docstring).

    Raises
    ------
    InvalidValueError
        If the run has no equity curve.
    """
    series = curves(inputs)
    trips = round_trips(inputs)
    periods = float(getattr(inputs.config.run, "periods_per_year", 252.0))
    notes: list[str] = []
    net = gross = bench = None
    try:
        net = summarize(
            series.ts,
            series.equity,
            trades=trips,
            benchmark_equity=series.benchmark,
            gross_exposure=series.gross_exposure,
            traded_notional=series.traded_notional,
            periods_per_year=periods,
        )
        gross = summarize(
            series.ts,
            series.gross_equity,
            benchmark_equity=series.benchmark,
            gross_exposure=series.gross_exposure,
            traded_notional=series.traded_notional,
            periods_per_year=periods,
        )
        if series.benchmark is not None:
            bench = summarize(series.ts, series.benchmark, periods_per_year=periods)
    except InvalidValueError as error:
        notes.append(f"metrics not computed: {error}")
    return Analysis(
        curves=series,
        round_trips=trips,
        net=net,
        gross=gross,
        benchmark=bench,
        attribution=attribution(inputs),
        periods_per_year=periods,
        notes=notes,
        tca=run_report_tca(inputs),
    )

"""Explain a trade: its causal chain through the pipeline and the decomposition of its P&L.

A **trade** is one execution: the child orders of a parent order (``parent_order_id``), or a
single order without a parent. ``TradeBook`` indexes a journal's orders, fills and decisions
so that any client order id, trade (fill) id or parent order id finds its trade, and
``TradeBook.chain`` gathers what led to it: the rebalance's betas, the regime in force, each
agent's signal on the instrument, the ensemble score, the target, the risk decision, the cost
assessment, the execution plan, the child orders with their events, and the fills.

``decompose`` splits every trade's P&L into parts that add up to it exactly (rational
arithmetic on the journal's exact prices and money). With ``s`` the side (+1 buy, -1 sell),
``q`` a quantity, ``m`` the contract multiplier, ``D`` the trade's **decision price** (the
instrument's last price at or before the decision: the plan's time, else the first child's
submission), ``ref`` a fill's reference price (``OrderFilled.reference_px``: the price before
spread, slippage and impact) and ``p`` its price:

- each fill's quantity first closes the oldest open lots of the opposite side (FIFO, per
  strategy and instrument), and the rest opens a new lot owned by the trade;
- a lot is valued from its trade's decision price ``D`` to its **exit price** ``X``: the
  decision price of the trade that closes it, or the last price at the end of the run;
- **market** (beta move) of a lot = ``s q m D β (B_exit / B_decision - 1)``, with ``β`` the
  instrument's beta in the latest ``BetasEstimated`` at or before the decision (1 for the
  benchmark itself) and ``B`` the benchmark's price at the lot's decision and exit times;
- **alpha** of a lot = ``s q m (X - D)`` - market: the rest of the price move;
- **timing** of a fill = ``s q m (D - ref)``: the move between the decision and the price the
  fill was referenced to (the next open, the limit, the touch);
- **spread**, **impact** = minus the fill's ``FillCosts``; **slippage** = minus the rest of
  ``s q m (p - ref)`` (``FillCosts.slippage`` when the venue's parts add up, as the simulated
  venue's do); **fees** = minus the commission.

A trade's P&L is then ``sum over its fills of s q_closing m (D - p)`` plus ``sum over its lots
of s q m (X - p)``, minus its commissions — its own closing fills valued at its decision
price and its lots at their exit prices. Summed over every trade it is the run's P&L: the
final equity (marked at the last prices) less the starting equity.

This is **decision attribution**: a trade that closes a position is credited with its timing
and costs only, because the gain or loss of the lots it closes belongs to the trades that
opened them. The **round-trip** view of a closing trade (``TradePnl.closed_lots``) is the
other one a trader expects: for each lot it closed (FIFO), ``s_lot q m (p_exit - p_entry)``
between the opening and the closing fill prices, less the commissions of both legs pro rata
to quantity (``ClosedLot``).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import MONEY_PRECISION, Price
from tradeloop.journal.replay import StoredRecord
from tradeloop.model.commands import CancelOrder, SubmitOrder
from tradeloop.model.decisions import (
    AgentFailed,
    BetaEstimate,
    BetasEstimated,
    CostAssessed,
    CostDecisionRecord,
    EnsembleScore,
    EnsembleScored,
    ExecutionCompleted,
    ExecutionPlanned,
    ExecutionProgressed,
    ModelFallback,
    ModelPredicted,
    PolicyActed,
    RegimeChanged,
    RiskDecision,
    RiskLimitBreached,
    RiskReviewed,
    Signal,
    SignalsEmitted,
    TargetPosition,
    TargetsProposed,
)
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import OrderCanceled, OrderEvent, OrderFilled, OrderInitialized

PriceAt = Callable[[str, int], Fraction | None]
"""``price_at(instrument_id, ts_ns)``: the instrument's last price at or before ``ts_ns``."""

BetaFallback = Callable[[str, int], tuple[float, str] | None]
"""``beta(instrument_id, decision_ts_ns)`` -> (beta, where it came from), when no
``BetasEstimated`` event gives one."""

_MONEY_SCALE = 10**MONEY_PRECISION
_T = TypeVar("_T")


def rebalance_of(init: OrderInitialized) -> str | None:
    """Return the rebalance id in an order's tags (``rebalance:R-<n>``), or None."""
    for tag in init.tags:
        if tag.startswith("rebalance:"):
            return tag.partition(":")[2]
    return None


def algorithm_of(init: OrderInitialized) -> str | None:
    """Return the execution algorithm in an order's tags (``algo:<name>``), or None."""
    for tag in init.tags:
        if tag.startswith("algo:"):
            return tag.partition(":")[2]
    return None


def _price(value: Price) -> Fraction:
    return Fraction(value.raw, 10**value.precision)


# -- the causal chain ---------------------------------------------------------------------------


class TradeChain(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the journal says led to one trade, stage by stage (module docstring)."""

    trade_key: str
    instrument_id: str
    strategy_id: str
    side: str
    rebalance_id: str | None
    algorithm: str | None
    decision_ts: int
    betas: BetasEstimated | None
    beta: BetaEstimate | None
    regime: RegimeChanged | None
    signals: tuple[Signal, ...]
    signals_event: SignalsEmitted | None
    agent_failures: tuple[AgentFailed, ...]
    ensemble: EnsembleScore | None
    ensemble_event: EnsembleScored | None
    target: TargetPosition | None
    targets_event: TargetsProposed | None
    risk: RiskDecision | None
    risk_event: RiskReviewed | None
    risk_breaches: tuple[RiskLimitBreached, ...]
    cost: CostDecisionRecord | None
    plan: ExecutionPlanned | None
    orders: tuple[OrderInitialized, ...]
    order_events: tuple[OrderEvent, ...]
    fills: tuple[OrderFilled, ...]
    progress: tuple[ExecutionProgressed, ...]
    completed: ExecutionCompleted | None
    breach: RiskLimitBreached | None = None
    """The ``RiskLimitBreached`` whose ``decision_id`` is this trade's decision (a risk exit)."""
    cancel_causes: dict[str, str] = msgspec.field(default_factory=dict)
    """Why each of the trade's canceled orders was canceled, by client order id."""
    models: tuple[ModelPredicted, ...] = ()
    """Model agents' predictions for the instrument at the rebalance (feature contributions)."""
    fallbacks: tuple[ModelFallback, ...] = ()
    """Model agents' fallbacks for the instrument at the rebalance."""
    policies: tuple[PolicyActed, ...] = ()
    """A served RL policy's decision that sent the trade (its observation and action)."""


@dataclass
class _Trade:
    key: str
    orders: list[OrderInitialized] = field(default_factory=list)
    first_seq: int = 0


class TradeBook:
    """The orders, fills and decisions of one journal, indexed for ``explain``.

    Parameters
    ----------
    rows
        The journal's rows in sequence order (``journal.replay.read_rows``).
    """

    def __init__(self, rows: Iterable[StoredRecord]) -> None:
        # Lookups "before a decision" compare journal sequence numbers, not timestamps: records
        # of one instant are ordered only by their sequence (a risk exit comes before the
        # rebalance of the same bar, whose betas it did not see).
        self.orders: dict[str, OrderInitialized] = {}
        self.order_events: dict[str, list[OrderEvent]] = {}
        self.fills: list[OrderFilled] = []
        self.fills_by_order: dict[str, list[OrderFilled]] = {}
        self.trade_of_fill: dict[str, str] = {}
        self.trades: dict[str, _Trade] = {}
        self.by_rebalance: dict[tuple[str, str], list[object]] = {}
        self.plans: dict[str, ExecutionPlanned] = {}
        self.progress: dict[str, list[ExecutionProgressed]] = {}
        self.completed: dict[str, ExecutionCompleted] = {}
        self.regimes: list[RegimeChanged] = []
        self.betas: list[BetasEstimated] = []
        self.breaches: list[RiskLimitBreached] = []
        self.breach_of_decision: dict[str, RiskLimitBreached] = {}
        self.cancel_requests: dict[str, tuple[int, CancelOrder]] = {}
        self.plan_seq: dict[str, int] = {}
        self._seq: dict[int, int] = {}  # id(record) -> its sequence number
        self._decision_seqs: list[int] = []
        self._decision_marks: list[tuple[int, str, str]] = []  # (ts_init, type, decision id)
        for row in rows:
            self._add(row)

    def seq_of(self, record: object) -> int:
        """Return the journal sequence number of a record this book indexed."""
        return self._seq[id(record)]

    def _add(self, row: StoredRecord) -> None:
        record = row.record
        if isinstance(record, SubmitOrder):
            init = record.order
            self.orders[init.client_order_id] = init
            key = init.parent_order_id or init.client_order_id
            trade = self.trades.get(key)
            if trade is None:
                trade = self.trades[key] = _Trade(key, first_seq=row.seq)
            trade.orders.append(init)
        elif isinstance(record, OrderEvent):
            self.order_events.setdefault(record.client_order_id, []).append(record)
            if isinstance(record, OrderFilled) and record.client_order_id in self.orders:
                self.fills.append(record)
                self.fills_by_order.setdefault(record.client_order_id, []).append(record)
                self.trade_of_fill[record.trade_id] = record.client_order_id
        elif isinstance(record, CancelOrder):
            self.cancel_requests.setdefault(record.client_order_id, (row.seq, record))
        elif isinstance(record, ExecutionPlanned):
            self.plans[record.parent_order_id] = record
            self.plan_seq[record.parent_order_id] = row.seq
        elif isinstance(record, ExecutionProgressed):
            self.progress.setdefault(record.parent_order_id, []).append(record)
        elif isinstance(record, ExecutionCompleted):
            self.completed[record.parent_order_id] = record
        elif isinstance(record, RegimeChanged):
            self.regimes.append(record)
            self._seq[id(record)] = row.seq
        elif isinstance(record, RiskLimitBreached):
            self.breaches.append(record)
            self._seq[id(record)] = row.seq
            if record.decision_id:
                self.breach_of_decision.setdefault(record.decision_id, record)
                self._mark(row, "RiskLimitBreached", record.decision_id)
        if isinstance(record, BetasEstimated):
            self.betas.append(record)
            self._seq[id(record)] = row.seq
        rebalance = getattr(record, "rebalance_id", None)
        if isinstance(rebalance, str):
            self.by_rebalance.setdefault((type(record).__name__, rebalance), []).append(record)
            self._mark(row, type(record).__name__, rebalance)

    def _mark(self, row: StoredRecord, type_name: str, decision_id: str) -> None:
        self._decision_seqs.append(row.seq)
        self._decision_marks.append((row.ts_init, type_name, decision_id))

    # -- lookups --------------------------------------------------------------------------------

    def trade_key(self, query: str) -> str:
        """Return the trade a client order id, trade id or parent order id belongs to.

        Raises
        ------
        ConfigError
            If ``query`` is none of them in this journal.
        """
        if query in self.trades:
            return query
        client_order_id = self.trade_of_fill.get(query, query)
        init = self.orders.get(client_order_id)
        if init is None:
            raise ConfigError(
                f"trade {query!r} is not a client order id, trade id or parent order id of this run"
            )
        return init.parent_order_id or init.client_order_id

    def trade_keys(self) -> list[str]:
        """Return every trade's key in the order the trades started."""
        return sorted(self.trades, key=lambda key: self.trades[key].first_seq)

    def _first(self, type_name: str, rebalance_id: str | None) -> object | None:
        if rebalance_id is None:
            return None
        found = self.by_rebalance.get((type_name, rebalance_id))
        return found[-1] if found else None

    def decision_ts(self, key: str) -> int:
        """Return when trade ``key`` was decided: its plan's time, else its first submission."""
        plan = self.plans.get(key)
        if plan is not None:
            return plan.ts_init
        return min(o.ts_init for o in self.trades[key].orders)

    def decision_seq(self, key: str) -> int:
        """Return the journal sequence number of trade ``key``'s decision: its plan's, else
        its first order's ``SubmitOrder``. What the decision saw was journaled before it."""
        plan_seq = self.plan_seq.get(key)
        return plan_seq if plan_seq is not None else self.trades[key].first_seq

    def cancel_cause(self, client_order_id: str, canceled: OrderCanceled) -> str:
        """Return who canceled an order and why, from the journal.

        A ``CancelOrder`` command journaled for the order means its strategy (or an execution
        algorithm on its behalf) asked for it: the decision being taken at that instant (the
        latest decision record of the same timestamp before the command) is named. Without a
        command the venue canceled it. The event's (and the command's) ``reason`` is added
        when present.
        """
        reasons = [canceled.reason] if canceled.reason else []
        request = self.cancel_requests.get(client_order_id)
        if request is None:
            text = "canceled by the venue"
            return f"{text}: {reasons[0]}" if reasons else text
        seq, command = request
        command_reason = getattr(command, "reason", "")
        if isinstance(command_reason, str) and command_reason and command_reason not in reasons:
            reasons.insert(0, command_reason)
        text = f"canceled at the request of strategy {command.strategy_id} (CancelOrder seq {seq}"
        index = bisect.bisect_left(self._decision_seqs, seq) - 1
        if index >= 0:
            ts_init, type_name, decision_id = self._decision_marks[index]
            if ts_init == command.ts_init:
                text += f", while decision {decision_id} was taken, after its {type_name}"
        text += ")"
        return f"{text}: {'; '.join(reasons)}" if reasons else text

    def ensemble_for(self, key: str) -> EnsembleScore | None:
        """Return the ensemble score of trade ``key``'s instrument in its rebalance, if any."""
        first = self.trades[key].orders[0]
        plan = self.plans.get(key)
        rebalance_id = plan.rebalance_id if plan is not None else rebalance_of(first)
        event = self._first("EnsembleScored", rebalance_id)
        if not isinstance(event, EnsembleScored):
            return None
        return _pick(event.scores, first.instrument_id)

    def beta_for(
        self, instrument_id: str, at_ns: int, before_seq: int | None = None
    ) -> tuple[BetasEstimated, BetaEstimate] | None:
        """Return the latest beta of ``instrument_id`` published at or before ``at_ns`` (and,
        given ``before_seq``, journaled before that sequence number)."""
        for event in reversed(self.betas):
            if event.ts_init > at_ns:
                continue
            if before_seq is not None and self._seq[id(event)] >= before_seq:
                continue
            for estimate in event.estimates:
                if estimate.instrument_id == instrument_id:
                    return event, estimate
        return None

    def benchmark_id(self) -> str | None:
        """Return the benchmark of the run's betas (None when no betas were published)."""
        return self.betas[-1].benchmark_id if self.betas else None

    def chain(self, query: str) -> TradeChain:
        """Return the causal chain of the trade ``query`` names (see ``trade_key``).

        Raises
        ------
        ConfigError
            If ``query`` names no order, fill or parent order of this run.
        """
        key = self.trade_key(query)
        trade = self.trades[key]
        first = trade.orders[0]
        instrument_id = first.instrument_id
        plan = self.plans.get(key)
        rebalance_id = plan.rebalance_id if plan is not None else rebalance_of(first)
        decided = self.decision_ts(key)
        decided_seq = self.decision_seq(key)
        order_ids = [o.client_order_id for o in trade.orders]
        ids = set(order_ids)
        signals_event = self._first("SignalsEmitted", rebalance_id)
        ensemble_event = self._first("EnsembleScored", rebalance_id)
        targets_event = self._first("TargetsProposed", rebalance_id)
        risk_event = self._first("RiskReviewed", rebalance_id)
        cost_event = self._first("CostAssessed", rebalance_id)
        betas_event = self._first("BetasEstimated", rebalance_id)
        assert signals_event is None or isinstance(signals_event, SignalsEmitted)
        assert ensemble_event is None or isinstance(ensemble_event, EnsembleScored)
        assert targets_event is None or isinstance(targets_event, TargetsProposed)
        assert risk_event is None or isinstance(risk_event, RiskReviewed)
        assert cost_event is None or isinstance(cost_event, CostAssessed)
        assert betas_event is None or isinstance(betas_event, BetasEstimated)
        if betas_event is None:
            found = self.beta_for(instrument_id, decided, decided_seq)
            betas_event = None if found is None else found[0]
        beta = None
        if betas_event is not None:
            beta = next(
                (e for e in betas_event.estimates if e.instrument_id == instrument_id), None
            )
        regime = None
        for change in self.regimes:
            if self._seq[id(change)] < decided_seq:
                regime = change
        failures = tuple(
            f
            for f in self.by_rebalance.get(("AgentFailed", rebalance_id or ""), [])
            if isinstance(f, AgentFailed)
        )
        breaches = tuple(
            b
            for b in self.breaches
            if (b.instrument_id in (None, instrument_id)) and self._seq[id(b)] < decided_seq
        )[-5:]
        breach = self.breach_of_decision.get(rebalance_id or "")
        order_events = tuple(e for oid in order_ids for e in self.order_events.get(oid, ()))
        cancel_causes = {
            e.client_order_id: self.cancel_cause(e.client_order_id, e)
            for e in order_events
            if isinstance(e, OrderCanceled)
        }
        return TradeChain(
            trade_key=key,
            instrument_id=instrument_id,
            strategy_id=first.strategy_id,
            side=str(first.side),
            rebalance_id=rebalance_id,
            algorithm=plan.algorithm if plan is not None else algorithm_of(first),
            decision_ts=decided,
            betas=betas_event,
            beta=beta,
            regime=regime,
            signals=tuple(
                s for s in getattr(signals_event, "signals", ()) if s.instrument_id == instrument_id
            ),
            signals_event=signals_event,
            agent_failures=failures,
            ensemble=_pick(getattr(ensemble_event, "scores", ()), instrument_id),
            ensemble_event=ensemble_event,
            target=_pick(getattr(targets_event, "targets", ()), instrument_id),
            targets_event=targets_event,
            risk=_pick(getattr(risk_event, "decisions", ()), instrument_id),
            risk_event=risk_event,
            risk_breaches=breaches,
            cost=_pick(getattr(cost_event, "assessments", ()), instrument_id),
            plan=plan,
            orders=tuple(trade.orders),
            order_events=order_events,
            fills=tuple(
                f
                for oid in sorted(ids, key=order_ids.index)
                for f in self.fills_by_order.get(oid, ())
            ),
            progress=tuple(self.progress.get(key, ())),
            completed=self.completed.get(key),
            breach=breach,
            cancel_causes=cancel_causes,
            models=tuple(
                m
                for m in self.by_rebalance.get(("ModelPredicted", rebalance_id or ""), [])
                if isinstance(m, ModelPredicted) and m.instrument_id == instrument_id
            ),
            fallbacks=tuple(
                m
                for m in self.by_rebalance.get(("ModelFallback", rebalance_id or ""), [])
                if isinstance(m, ModelFallback) and m.instrument_id == instrument_id
            ),
            policies=tuple(
                m
                for m in self.by_rebalance.get(("PolicyActed", rebalance_id or ""), [])
                if isinstance(m, PolicyActed) and m.instrument_id == instrument_id
            ),
        )


def _pick(items: Iterable[_T], instrument_id: str) -> _T | None:
    for item in items:
        if getattr(item, "instrument_id", None) == instrument_id:
            return item
    return None


# -- the P&L decomposition ----------------------------------------------------------------------


PART_NAMES: tuple[str, ...] = ("market", "alpha", "timing", "spread", "slippage", "impact", "fees")
"""The parts of a trade's P&L, in the order reports show them."""


@dataclass
class ClosedLot:
    """Part of an earlier trade's lot that a closing trade closed (the round-trip view).

    ``sign`` is the lot's side (+1 long, -1 short); prices are the opening and closing fill
    prices; fees are each leg's commission pro rata to ``quantity``. Exact.
    """

    opened_by: str
    opened_ts: int
    closed_ts: int
    sign: int
    quantity: Fraction
    multiplier: Fraction
    entry_price: Fraction
    exit_price: Fraction
    entry_fees: Fraction
    exit_fees: Fraction

    @property
    def gross(self) -> Fraction:
        """Return the price move realized: ``sign q m (exit - entry)``."""
        return self.sign * self.quantity * self.multiplier * (self.exit_price - self.entry_price)

    @property
    def net(self) -> Fraction:
        """Return the realized P&L after both legs' commissions."""
        return self.gross - self.entry_fees - self.exit_fees


@dataclass
class TradePnl:
    """A trade's P&L and its parts, exact (``Fraction``, account currency; see module docstring).

    ``pnl`` is computed from the fills' prices and commissions, independently of the parts;
    ``sum(parts) == pnl`` holds exactly. ``closing_quantity`` is how much of the trade closed
    earlier lots; ``open_quantity`` is what the trade still held at the end of the run (valued
    at the last price).
    """

    trade_key: str
    instrument_id: str
    strategy_id: str
    decision_ts: int
    decision_price: Fraction | None = None
    decision_price_source: str = ""
    beta: float | None = None
    beta_source: str = ""
    benchmark_id: str | None = None
    quantity: Fraction = Fraction(0)
    closing_quantity: Fraction = Fraction(0)
    open_quantity: Fraction = Fraction(0)
    exit_ts: int | None = None
    pnl: Fraction = Fraction(0)
    market: Fraction = Fraction(0)
    alpha: Fraction = Fraction(0)
    timing: Fraction = Fraction(0)
    spread: Fraction = Fraction(0)
    slippage: Fraction = Fraction(0)
    impact: Fraction = Fraction(0)
    fees: Fraction = Fraction(0)
    notes: list[str] = field(default_factory=list)
    closed_lots: list[ClosedLot] = field(default_factory=list)

    def round_trip(self) -> tuple[Fraction, Fraction, Fraction]:
        """Return the round-trip view of the lots this trade closed: (price move realized,
        commissions of both legs, net); zeros when it closed nothing."""
        gross = sum((lot.gross for lot in self.closed_lots), Fraction(0))
        fees = sum((lot.entry_fees + lot.exit_fees for lot in self.closed_lots), Fraction(0))
        return gross, fees, gross - fees

    def parts(self) -> dict[str, Fraction]:
        """Return the parts by name (``PART_NAMES`` order)."""
        return {name: getattr(self, name) for name in PART_NAMES}

    def parts_sum(self) -> Fraction:
        """Return the exact sum of the parts (equals ``pnl``)."""
        return sum(self.parts().values(), Fraction(0))


@dataclass
class _Lot:
    sign: int
    quantity: Fraction
    owner: TradePnl
    decision_price: Fraction
    decision_ts: int
    bench_price: Fraction | None
    beta: Fraction
    fill_price: Fraction
    multiplier: Fraction
    fee_per_unit: Fraction
    fill_ts: int


def _decision_price(
    book: TradeBook,
    key: str,
    trade: TradePnl,
    first: OrderFilled,
    price_at: PriceAt | None,
    price_source: Callable[[str, int], str] | None,
) -> Fraction:
    if price_at is not None:
        price = price_at(trade.instrument_id, trade.decision_ts)
        if price is not None:
            source = (
                "last price"
                if price_source is None
                else price_source(trade.instrument_id, trade.decision_ts)
            )
            trade.decision_price_source = f"{source} at the decision"
            return price
    plan = book.plans.get(key)
    if plan is not None:
        trade.decision_price_source = "execution plan arrival price"
        return Fraction(plan.arrival_price)
    trade.decision_price_source = "first fill's reference price (no data: timing is 0)"
    return _price(first.reference_px or first.last_px)


def _beta(
    book: TradeBook, trade: TradePnl, benchmark_id: str | None, fallback: BetaFallback | None
) -> Fraction:
    if benchmark_id is not None and trade.instrument_id == benchmark_id:
        trade.beta, trade.beta_source = 1.0, "the benchmark itself"
        return Fraction(1)
    found = book.beta_for(
        trade.instrument_id, trade.decision_ts, book.decision_seq(trade.trade_key)
    )
    if found is not None:
        event, estimate = found
        trade.beta = estimate.beta
        trade.beta_source = f"BetasEstimated {event.rebalance_id} ({event.method}, {event.window})"
        return Fraction(estimate.beta)
    if fallback is not None:
        estimated = fallback(trade.instrument_id, trade.decision_ts)
        if estimated is not None:
            trade.beta, trade.beta_source = estimated
            return Fraction(estimated[0])
    trade.beta, trade.beta_source = 0.0, "no beta: the whole price move counts as alpha"
    return Fraction(0)


def decompose(
    book: TradeBook,
    *,
    end_ts: int,
    price_at: PriceAt | None = None,
    multiplier_of: Callable[[str], Fraction] | None = None,
    benchmark_id: str | None = None,
    beta_fallback: BetaFallback | None = None,
    price_source: Callable[[str, int], str] | None = None,
) -> dict[str, TradePnl]:
    """Return the exact P&L decomposition of every trade of ``book`` (module docstring).

    Parameters
    ----------
    book
        The run's trades.
    end_ts
        The end of the run: lots still open are valued at ``price_at(instrument, end_ts)``.
    price_at
        The last price of an instrument at or before a time: what the run marked it at (bar
        closes; the book's or quotes' mid, or the last trade, without bars). Without it, or
        where it gives no price, decision prices come from the execution plans (else the
        fills) and open lots are valued at the last fill price seen (the trade says so in its
        ``notes``).
    multiplier_of
        The contract multiplier of an instrument (1 when not given).
    benchmark_id
        The benchmark for the market part (default: the one of the run's ``BetasEstimated``).
    beta_fallback
        Where a beta comes from when no ``BetasEstimated`` gives one.
    price_source
        What ``price_at(instrument, ts)`` is (``"last price"``, ``"book mid"`` …), named in
        each trade's ``decision_price_source``.

    Returns
    -------
    dict
        ``TradePnl`` by trade key, in the order the trades started.
    """
    bench = benchmark_id or book.benchmark_id()
    trades: dict[str, TradePnl] = {}
    lots: dict[tuple[str, str], deque[_Lot]] = {}
    last_fill_price: dict[str, Fraction] = {}
    for key in book.trade_keys():
        first = book.trades[key].orders[0]
        trades[key] = TradePnl(
            trade_key=key,
            instrument_id=first.instrument_id,
            strategy_id=first.strategy_id,
            decision_ts=book.decision_ts(key),
            benchmark_id=bench,
        )
    betas: dict[str, Fraction] = {}
    bench_at_decision: dict[str, Fraction | None] = {}
    for fill in book.fills:
        init = book.orders[fill.client_order_id]
        key = init.parent_order_id or init.client_order_id
        trade = trades[key]
        if trade.decision_price is None:
            trade.decision_price = _decision_price(book, key, trade, fill, price_at, price_source)
            betas[key] = _beta(book, trade, bench, beta_fallback)
            bench_at_decision[key] = (
                price_at(bench, trade.decision_ts)
                if price_at is not None and bench is not None
                else None
            )
        decision = trade.decision_price
        sign = 1 if fill.order_side is OrderSide.BUY else -1
        quantity = Fraction(fill.last_qty.raw, 10**fill.last_qty.precision)
        multiplier = Fraction(1) if multiplier_of is None else multiplier_of(fill.instrument_id)
        price = _price(fill.last_px)
        reference = price if fill.reference_px is None else _price(fill.reference_px)
        last_fill_price[fill.instrument_id] = price
        trade.quantity += sign * quantity
        trade.timing += sign * quantity * multiplier * (decision - reference)
        paid = sign * quantity * multiplier * (price - reference)
        costs = fill.costs
        spread = Fraction(costs.spread, _MONEY_SCALE) if costs is not None else Fraction(0)
        impact = Fraction(costs.impact, _MONEY_SCALE) if costs is not None else Fraction(0)
        trade.spread -= spread
        trade.impact -= impact
        trade.slippage -= paid - spread - impact
        fee = Fraction(fill.commission.raw, _MONEY_SCALE)
        trade.fees -= fee
        trade.pnl -= fee
        book_lots = lots.setdefault((fill.strategy_id, fill.instrument_id), deque())
        remaining = quantity
        while remaining and book_lots and book_lots[0].sign != sign:
            lot = book_lots[0]
            closing = min(remaining, lot.quantity)
            exit_bench = bench_at_decision[key]
            _close_lot(lot, closing, decision, trade.decision_ts, exit_bench)
            trade.closed_lots.append(
                ClosedLot(
                    opened_by=lot.owner.trade_key,
                    opened_ts=lot.fill_ts,
                    closed_ts=fill.ts_event,
                    sign=lot.sign,
                    quantity=closing,
                    multiplier=lot.multiplier,
                    entry_price=lot.fill_price,
                    exit_price=price,
                    entry_fees=lot.fee_per_unit * closing,
                    exit_fees=fee * closing / quantity,
                )
            )
            trade.pnl += sign * closing * multiplier * (decision - price)
            trade.closing_quantity += closing
            lot.quantity -= closing
            remaining -= closing
            if not lot.quantity:
                book_lots.popleft()
        if remaining:
            book_lots.append(
                _Lot(
                    sign=sign,
                    quantity=remaining,
                    owner=trade,
                    decision_price=decision,
                    decision_ts=trade.decision_ts,
                    bench_price=bench_at_decision[key],
                    beta=betas[key],
                    fill_price=price,
                    multiplier=multiplier,
                    fee_per_unit=fee / quantity,
                    fill_ts=fill.ts_event,
                )
            )
    for (_, instrument_id), open_lots in sorted(lots.items()):
        final = price_at(instrument_id, end_ts) if price_at is not None else None
        fallback = final is None
        if final is None:
            final = last_fill_price[instrument_id]
        final_bench = price_at(bench, end_ts) if price_at is not None and bench else None
        for lot in open_lots:
            lot.owner.open_quantity += lot.quantity
            _close_lot(lot, lot.quantity, final, end_ts, final_bench)
            note = (
                f"no market price of {instrument_id} at the end of the run: the quantity "
                f"still open is valued at the last fill price ({final})"
            )
            if fallback and note not in lot.owner.notes:
                lot.owner.notes.append(note)
    return trades


def _close_lot(
    lot: _Lot, quantity: Fraction, exit_price: Fraction, exit_ts: int, exit_bench: Fraction | None
) -> None:
    owner = lot.owner
    held = lot.sign * quantity * lot.multiplier
    move = held * (exit_price - lot.decision_price)
    market = Fraction(0)
    if lot.bench_price and exit_bench is not None and lot.beta:
        market = held * lot.decision_price * lot.beta * (exit_bench / lot.bench_price - 1)
    elif lot.beta and "no benchmark price: market part is 0" not in owner.notes:
        owner.notes.append("no benchmark price: market part is 0")
    owner.market += market
    owner.alpha += move - market
    owner.pnl += held * (exit_price - lot.fill_price)
    owner.exit_ts = exit_ts if owner.exit_ts is None else max(owner.exit_ts, exit_ts)

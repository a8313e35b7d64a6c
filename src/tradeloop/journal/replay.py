"""Replay: the state of a run at any instant, rebuilt from its journal alone.

The state at ``T`` is what applying, in sequence order, every record with ``ts_init <= T``
produces (the same records ``read_records(path, until_ts_ns=T)`` yields):

- cash, fees and realized P&L: the latest ``AccountStateChanged`` (the starting cash of the
  manifest's config before the first fill);
- positions: the latest ``PositionChanged`` of each (strategy, instrument);
- open orders: each order's ``SubmitOrder`` and events up to ``T`` applied to a fresh
  ``Order`` (events the live state machine refused are skipped, as they were live);
- decisions: the latest event of each pipeline stage (``BetasEstimated`` … ``ExecutionCompleted``),
  each agent's latest signals, each regime detector's latest ``RegimeChanged``, the latest
  breach of each risk rule, the executions planned and not completed, the trading state.

``JournalIndex`` reads and decodes the journal once and keeps, per key (a position, a
stage, an agent, an order), the timestamps and records that key changed at. A query is
then a binary search per key — no record is re-applied — so scrubbing a run costs
a fraction of a millisecond per instant however long the run (``docs/reports.md``
and ``tradeloop replay`` report the figure). Indicator and agent internals are not in the
journal: ``tradeloop.reports.rerun`` re-runs the run deterministically up to ``T`` for them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

import tradeloop.model  # noqa: F401  (registers every event class with the codec)
from tradeloop.core.errors import ConfigError, DataIntegrityError, OrderStateError
from tradeloop.core.fixed import MONEY_PRECISION, Money, format_raw
from tradeloop.journal.codec import JournalCodec
from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.store import read_manifest
from tradeloop.model.commands import Command, SubmitOrder
from tradeloop.model.decisions import (
    AgentFailed,
    BetasEstimated,
    CostAssessed,
    EnsembleScored,
    ExecutionCompleted,
    ExecutionPlanned,
    ExecutionProgressed,
    RegimeChanged,
    RegimeModelFitted,
    RiskLimitBreached,
    RiskReviewed,
    Signal,
    SignalsEmitted,
    TargetsProposed,
)
from tradeloop.model.enums import OrderStatus
from tradeloop.model.events import (
    AccountStateChanged,
    AlertRaised,
    Event,
    OrderEvent,
    OrderFilled,
    PositionChanged,
    TradingStateChanged,
)
from tradeloop.model.orders import Order

STAGE_EVENTS: tuple[type[Event], ...] = (
    BetasEstimated,
    RegimeModelFitted,
    RegimeChanged,
    SignalsEmitted,
    AgentFailed,
    EnsembleScored,
    TargetsProposed,
    RiskReviewed,
    RiskLimitBreached,
    CostAssessed,
    ExecutionPlanned,
    ExecutionProgressed,
    ExecutionCompleted,
)
"""The pipeline's decision events, in the order of the loop (data → … → execution)."""

_STAGE_NAMES = frozenset(cls.__name__ for cls in STAGE_EVENTS)
_NEVER = np.iinfo(np.int64).max


# -- reading ------------------------------------------------------------------------------------


class StoredRecord(msgspec.Struct, frozen=True, gc=False):
    """One journal row: its columns as stored, and the decoded record (None if unknown).

    ``payload`` is the exact JSON text the writer stored, for byte-for-byte comparisons.
    """

    seq: int
    ts_event: int
    ts_init: int
    kind: str
    type: str
    payload: str
    record: Event | Command | None


def read_rows(path: str | os.PathLike[str], decode: bool = True) -> list[StoredRecord]:
    """Return every row of the journal at ``path`` in sequence order.

    A record whose type this build does not know (an event of a newer version or of a package
    that is not imported) keeps ``record=None`` instead of failing the whole read.

    Raises
    ------
    ConfigError
        If ``path`` is not a tradeloop journal.
    """
    codec = JournalCodec() if decode else None
    conn = _connect(path)
    try:
        rows = conn.execute(
            "SELECT seq, ts_event, ts_init, kind, type, payload FROM records ORDER BY seq"
        ).fetchall()
    except sqlite3.DatabaseError as error:
        raise ConfigError(f"{path} is not a tradeloop journal: {error}") from None
    finally:
        conn.close()
    out: list[StoredRecord] = []
    known = codec.type_names if codec is not None else frozenset()
    for seq, ts_event, ts_init, kind, type_name, payload in rows:
        record = None
        if codec is not None and type_name in known:
            record = codec.decode(payload)
        out.append(StoredRecord(seq, ts_event, ts_init, kind, type_name, payload, record))
    return out


def _connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    resolved = Path(path)
    if not resolved.is_file():
        raise ConfigError(f"journal {resolved} does not exist")
    return sqlite3.connect(f"file:{resolved}?mode=ro", uri=True)


def journal_path(run: str | os.PathLike[str]) -> Path:
    """Return the journal of ``run``: a run directory (``runs/<run_id>``) or a journal file.

    Raises
    ------
    ConfigError
        If neither ``run/journal.sqlite`` nor the file ``run`` exists.
    """
    path = Path(run)
    if path.is_dir():
        candidate = path / "journal.sqlite"
        if not candidate.is_file():
            raise ConfigError(
                f"{path} is not a run directory: it has no journal.sqlite (a run directory is "
                "the runs/<run_id> a backtest or paper run writes)"
            )
        return candidate
    if path.is_file():
        return path
    raise ConfigError(
        f"run {path} does not exist: give a run directory (runs/<run_id>) or its journal file"
    )


# -- the state at an instant --------------------------------------------------------------------


class PositionState(msgspec.Struct, frozen=True, kw_only=True):
    """One (strategy, instrument) position as of the instant."""

    strategy_id: str
    instrument_id: str
    side: str
    quantity: str
    signed_qty_raw: int
    size_precision: int
    avg_px_open: float
    realized_pnl: str
    last_trade_id: str
    ts_last: int


class OrderState(msgspec.Struct, frozen=True, kw_only=True):
    """One order as of the instant (its events up to then applied)."""

    client_order_id: str
    strategy_id: str
    instrument_id: str
    side: str
    order_type: str
    quantity: str
    filled_qty: str
    leaves_qty: str
    price: str | None
    trigger_price: str | None
    status: str
    parent_order_id: str | None
    tags: tuple[str, ...]
    ts_submitted: int
    ts_last: int


class AgentState(msgspec.Struct, frozen=True, kw_only=True):
    """One agent's latest signals (from the latest ``SignalsEmitted`` that had them)."""

    agent_id: str
    rebalance_id: str
    ts_event: int
    signals: tuple[Signal, ...]


class ReplayState(msgspec.Struct, frozen=True, kw_only=True):
    """The state of a run after every record with ``ts_init <= at_ns`` was applied.

    Money is given exactly as decimal strings in ``currency``. ``decisions`` maps each pipeline
    stage's event type to its latest event; ``equity`` is the run's equity curve point at or
    before the instant when the run directory has one (``equity.csv``), else None.
    """

    run_id: str
    at_ns: int
    last_seq: int
    records_applied: int
    currency: str
    cash: str
    fees_total: str
    realized_pnl: str
    equity: float | None
    trading_state: str
    positions: tuple[PositionState, ...]
    open_orders: tuple[OrderState, ...]
    orders_seen: int
    fills_seen: int
    decisions: dict[str, Event]
    agents: tuple[AgentState, ...]
    regimes: tuple[RegimeChanged, ...]
    risk_breaches: tuple[RiskLimitBreached, ...]
    working_executions: tuple[ExecutionPlanned, ...]
    alerts: int


@dataclass
class _Series:
    """The timestamps at which one key changed and the record of each change."""

    ts: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    is_monotone: bool = True

    def add(self, ts: int, value: Any) -> None:
        if self.ts and ts < self.ts[-1]:
            self.is_monotone = False
        self.ts.append(ts)
        self.values.append(value)

    def latest(self, at_ns: int) -> Any | None:
        # The last change (in sequence order) among those with ts_init <= at_ns.
        if self.is_monotone:
            index = bisect_right(self.ts, at_ns)
            return self.values[index - 1] if index else None
        for index in range(len(self.ts) - 1, -1, -1):
            if self.ts[index] <= at_ns:
                return self.values[index]
        return None

    def count(self, at_ns: int) -> int:
        if self.is_monotone:
            return bisect_right(self.ts, at_ns)
        return sum(1 for ts in self.ts if ts <= at_ns)


@dataclass
class _OrderLog:
    submit: SubmitOrder
    ts_submitted: int
    events: list[tuple[int, OrderEvent]] = field(default_factory=list)


def _config_field(config_json: str, section: str, key: str, default: str) -> str:
    try:
        value = json.loads(config_json).get(section, {}).get(key, default)
    except (ValueError, AttributeError):
        return default
    return str(value)


def _money_text(raw: int) -> str:
    return format_raw(raw, MONEY_PRECISION)


class JournalIndex:
    """An index over one journal that answers "what was the state at T" (see module docstring).

    Parameters
    ----------
    path
        A journal file or a run directory holding ``journal.sqlite``.

    Raises
    ------
    ConfigError
        If the path is not a run directory or a tradeloop journal.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = journal_path(path)
        self.run_dir = self.path.parent
        self.manifest: RunManifest = read_manifest(self.path)
        self.rows = read_rows(self.path)
        config = self.manifest.config_json
        self.currency = _config_field(config, "run", "base_currency", "USD")
        self.starting_cash_raw = Money.from_str(
            _config_field(config, "run", "starting_cash", "0"), self.currency
        ).raw
        self._ts = np.fromiter((r.ts_init for r in self.rows), dtype=np.int64, count=len(self.rows))
        self._seq = np.fromiter((r.seq for r in self.rows), dtype=np.int64, count=len(self.rows))
        self._account = _Series()
        self._trading = _Series()
        self._alerts = _Series()
        self._fills = _Series()
        self._positions: dict[tuple[str, str], _Series] = {}
        self._stages: dict[str, _Series] = {}
        self._agents: dict[str, _Series] = {}
        self._regimes: dict[str, _Series] = {}
        self._breaches: dict[str, _Series] = {}
        self._plans: dict[str, tuple[int, ExecutionPlanned]] = {}
        self._plan_done: dict[str, int] = {}
        self._orders: dict[str, _OrderLog] = {}
        self._build()
        self._equity: EquityCurve | None = None

    # -- building -------------------------------------------------------------------------------

    def _build(self) -> None:
        for row in self.rows:
            record = row.record
            ts = row.ts_init
            if record is None:
                continue
            kind = type(record)
            if kind is SubmitOrder:
                assert isinstance(record, SubmitOrder)
                init = record.order
                self._orders[init.client_order_id] = _OrderLog(record, ts)
            elif isinstance(record, OrderEvent):
                log = self._orders.get(record.client_order_id)
                if log is not None:
                    log.events.append((ts, record))
                if isinstance(record, OrderFilled):
                    self._fills.add(ts, row.seq)
            elif kind is PositionChanged:
                assert isinstance(record, PositionChanged)
                key = (record.strategy_id, record.instrument_id)
                self._positions.setdefault(key, _Series()).add(ts, record)
            elif kind is AccountStateChanged:
                self._account.add(ts, record)
            elif kind is TradingStateChanged:
                self._trading.add(ts, record)
            elif kind is AlertRaised:
                self._alerts.add(ts, record)
            name = kind.__name__
            if name in _STAGE_NAMES:
                self._stages.setdefault(name, _Series()).add(ts, record)
                self._index_decision(ts, record)
        self._order_ids = sorted(self._orders, key=lambda oid: self._orders[oid].ts_submitted)
        self._order_open_ts = np.array(
            [self._orders[oid].ts_submitted for oid in self._order_ids], dtype=np.int64
        )
        self._order_close_ts = np.array(
            [self._closed_at(self._orders[oid]) for oid in self._order_ids], dtype=np.int64
        )

    def _index_decision(self, ts: int, record: Event | Command) -> None:
        if isinstance(record, SignalsEmitted):
            by_agent: dict[str, list[Signal]] = {}
            for signal in record.signals:
                by_agent.setdefault(signal.agent_id, []).append(signal)
            for agent_id in sorted(by_agent):
                state = AgentState(
                    agent_id=agent_id,
                    rebalance_id=record.rebalance_id,
                    ts_event=record.ts_event,
                    signals=tuple(by_agent[agent_id]),
                )
                self._agents.setdefault(agent_id, _Series()).add(ts, state)
        elif isinstance(record, RegimeChanged):
            self._regimes.setdefault(record.detector_id, _Series()).add(ts, record)
        elif isinstance(record, RiskLimitBreached):
            self._breaches.setdefault(record.rule, _Series()).add(ts, record)
        elif isinstance(record, ExecutionPlanned):
            self._plans[record.parent_order_id] = (ts, record)
        elif isinstance(record, ExecutionCompleted):
            self._plan_done.setdefault(record.parent_order_id, ts)

    @staticmethod
    def _closed_at(log: _OrderLog) -> int:
        order = Order(log.submit.order)
        for ts, event in log.events:
            try:
                order.apply(event)
            except OrderStateError:
                continue  # refused live too (recorded with an alert)
            if order.is_closed:
                return ts
        return int(_NEVER)

    # -- queries --------------------------------------------------------------------------------

    @property
    def first_ts(self) -> int:
        """Return the smallest ``ts_init`` in the journal (0 when empty)."""
        return int(self._ts.min()) if len(self._ts) else 0

    @property
    def last_ts(self) -> int:
        """Return the largest ``ts_init`` in the journal (0 when empty)."""
        return int(self._ts.max()) if len(self._ts) else 0

    @property
    def end_ts(self) -> int:
        """Return the end of the run: its last record or equity curve point, whichever is later."""
        if self._equity is None:
            self._equity = read_equity_csv(self.run_dir / "equity.csv")
        last_point = int(self._equity.ts[-1]) if len(self._equity.ts) else 0
        return max(self.last_ts, last_point)

    def order_at(self, client_order_id: str, at_ns: int) -> Order | None:
        """Return order ``client_order_id`` with its events up to ``at_ns`` applied."""
        log = self._orders.get(client_order_id)
        if log is None or log.ts_submitted > at_ns:
            return None
        order = Order(log.submit.order)
        for ts, event in log.events:
            if ts > at_ns:
                continue
            try:
                order.apply(event)
            except OrderStateError:
                continue
        return order

    def open_orders_at(self, at_ns: int) -> list[Order]:
        """Return the orders open at ``at_ns``, by submission time then client order id.

        An order whose ``SubmitOrder`` is journaled with no event after it is in flight (the
        command was on disk before it was sent; the venue's answer is not journaled yet, as in
        a run killed right after it sent the order): it is listed too, with status
        ``IN_FLIGHT``.
        """
        mask = (self._order_open_ts <= at_ns) & (self._order_close_ts > at_ns)
        orders = []
        for index in np.flatnonzero(mask).tolist():
            order = self.order_at(self._order_ids[index], at_ns)
            if order is not None and (order.is_open or order.status is OrderStatus.INITIALIZED):
                orders.append(order)
        return orders

    def equity_at(self, at_ns: int) -> float | None:
        """Return the equity curve point at or before ``at_ns`` (None without ``equity.csv``)."""
        if self._equity is None:
            self._equity = read_equity_csv(self.run_dir / "equity.csv")
        index = int(np.searchsorted(self._equity.ts, at_ns, side="right"))
        return float(self._equity.equity[index - 1]) if index else None

    def state_at(self, at_ns: int) -> ReplayState:
        """Return the state after every record with ``ts_init <= at_ns`` (module docstring)."""
        applied_mask = self._ts <= at_ns
        applied = int(np.count_nonzero(applied_mask))
        last_seq = int(self._seq[applied_mask].max()) if applied else 0
        account = self._account.latest(at_ns)
        if account is None:
            cash, fees, realized = self.starting_cash_raw, 0, 0
        else:
            cash, fees, realized = (
                account.cash.raw,
                account.fees_total.raw,
                account.realized_pnl.raw,
            )
        positions = []
        for key in sorted(self._positions):
            changed = self._positions[key].latest(at_ns)
            if changed is None or changed.signed_qty_raw == 0:
                continue
            positions.append(
                PositionState(
                    strategy_id=changed.strategy_id,
                    instrument_id=changed.instrument_id,
                    side=str(changed.side),
                    quantity=str(changed.quantity),
                    signed_qty_raw=changed.signed_qty_raw,
                    size_precision=changed.quantity.precision,
                    avg_px_open=changed.avg_px_open,
                    realized_pnl=str(changed.realized_pnl.as_decimal()),
                    last_trade_id=changed.last_trade_id,
                    ts_last=changed.ts_event,
                )
            )
        trading = self._trading.latest(at_ns)
        decisions: dict[str, Event] = {}
        for cls in STAGE_EVENTS:
            series = self._stages.get(cls.__name__)
            latest = None if series is None else series.latest(at_ns)
            if latest is not None:
                decisions[cls.__name__] = latest
        working = [
            plan
            for parent, (ts, plan) in sorted(self._plans.items())
            if ts <= at_ns and self._plan_done.get(parent, int(_NEVER)) > at_ns
        ]
        return ReplayState(
            run_id=self.manifest.run_id,
            at_ns=at_ns,
            last_seq=last_seq,
            records_applied=applied,
            currency=self.currency,
            cash=_money_text(cash),
            fees_total=_money_text(fees),
            realized_pnl=_money_text(realized),
            equity=self.equity_at(at_ns),
            trading_state="ACTIVE" if trading is None else str(trading.state),
            positions=tuple(positions),
            open_orders=tuple(order_state(o) for o in self.open_orders_at(at_ns)),
            orders_seen=int(np.count_nonzero(self._order_open_ts <= at_ns)),
            fills_seen=self._fills.count(at_ns),
            decisions=decisions,
            agents=tuple(
                state
                for agent_id in sorted(self._agents)
                if (state := self._agents[agent_id].latest(at_ns)) is not None
            ),
            regimes=tuple(
                regime
                for detector in sorted(self._regimes)
                if (regime := self._regimes[detector].latest(at_ns)) is not None
            ),
            risk_breaches=tuple(
                breach
                for rule in sorted(self._breaches)
                if (breach := self._breaches[rule].latest(at_ns)) is not None
            ),
            working_executions=tuple(working),
            alerts=self._alerts.count(at_ns),
        )

    def records_until(self, at_ns: int) -> Iterator[StoredRecord]:
        """Yield the rows with ``ts_init <= at_ns`` in sequence order."""
        for row in self.rows:
            if row.ts_init <= at_ns:
                yield row


def order_state(order: Order) -> OrderState:
    """Return the display record of ``order``'s current state."""
    init = order.init
    return OrderState(
        client_order_id=init.client_order_id,
        strategy_id=init.strategy_id,
        instrument_id=init.instrument_id,
        side=str(init.side),
        order_type=str(init.order_type),
        quantity=str(order.quantity),
        filled_qty=str(order.filled_qty),
        leaves_qty=str(order.leaves_qty),
        price=None if order.price is None else str(order.price),
        trigger_price=None if order.trigger_price is None else str(order.trigger_price),
        status="IN_FLIGHT" if order.status is OrderStatus.INITIALIZED else str(order.status),
        parent_order_id=init.parent_order_id,
        tags=init.tags,
        ts_submitted=init.ts_init,
        ts_last=order.ts_last,
    )


class EquityCurve(msgspec.Struct, frozen=True, kw_only=True):
    """A run's ``equity.csv``: equity and, where the run wrote them, cumulative costs and gross
    exposure at each point (empty columns when absent)."""

    ts: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    costs: npt.NDArray[np.float64] | None = None
    gross_exposure: npt.NDArray[np.float64] | None = None


def read_equity_csv(path: str | os.PathLike[str]) -> EquityCurve:
    """Return the columns of a run's ``equity.csv`` (empty arrays if the file is missing).

    Raises
    ------
    DataIntegrityError
        If the file has no ``ts`` and ``equity`` columns or a value is not a number.
    """
    file = Path(path)
    if not file.is_file():
        return EquityCurve(ts=np.empty(0, dtype=np.int64), equity=np.empty(0, dtype=np.float64))
    with open(file) as handle:
        header = next(handle, "").strip().split(",")
        if header[:2] != ["ts", "equity"]:
            raise DataIntegrityError(f"{file} does not start with the columns ts,equity")
        ts: list[int] = []
        columns: list[list[float]] = [[] for _ in header[1:]]
        for number, line in enumerate(handle, start=2):
            cells = line.rstrip("\n").split(",")
            if not cells[0]:
                continue
            try:
                ts.append(parse_iso_ns(cells[0]))
                for column, cell in zip(columns, cells[1:], strict=True):
                    column.append(float(cell))
            except ValueError as error:
                raise DataIntegrityError(f"{file} line {number}: {error}") from None
    named = {
        name: np.array(values, dtype=np.float64)
        for name, values in zip(header[1:], columns, strict=True)
    }
    return EquityCurve(
        ts=np.array(ts, dtype=np.int64),
        equity=named["equity"],
        costs=named.get("costs"),
        gross_exposure=named.get("gross_exposure"),
    )


def parse_iso_ns(text: str) -> int:
    """Parse ``core.time.ns_to_iso`` output (nanosecond ISO-8601, ``Z``) back to nanoseconds.

    Raises
    ------
    InvalidValueError
        If ``text`` is not an ISO-8601 date or datetime.
    """
    from tradeloop.core.time import NANOS_PER_SECOND, parse_time

    head, dot, tail = text.rstrip("Z").partition(".")
    if not dot:
        return parse_time(text)
    nanos = int((tail + "000000000")[:9]) if tail.isdigit() else 0
    return parse_time(head + "Z") + nanos if nanos < NANOS_PER_SECOND else parse_time(text)

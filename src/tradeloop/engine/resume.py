"""Crash recovery and startup reconciliation: one path for a new session and ``--resume``.

``tradeloop live CONFIG --resume runs/<id>`` (also ``paper`` and ``shadow`` on live feeds)
continues the run in ``runs/<id>``. Steps (``run_session`` calls them before any strategy
starts):

1. ``ResumedRunDir``: the run directory must hold a journal of this config's run, with a hash
   chain that verifies and no live process holding its lock; it is locked again, and never
   removed (a failed resume leaves it as it was).
2. The journal is opened for appending (``SqliteJournal(resume=True)``: the chain continues)
   and a ``RunResumed`` record says from which record and state.
3. ``rebuild``: the orders (each ``SubmitOrder`` and its events, through the same state
   machine), the positions and cash (each fill counted, once, as it was live), the external
   fills and the trading state are rebuilt from the journal, without journaling them again.
   The portfolio limits (``[risk]``) continue their breach decision ids (``limit-<n>``), and a
   trading state they set is theirs to lift again; their equity marks (high-water mark, the
   day's opening equity, a pause's bars) start afresh from the first instant after the
   resume.
   An order whose command was journaled but whose outcome was not is in flight: it is marked
   submitted, so that the venue is asked about it before anything else happens.
4. ``recover``: for every venue, the node asks (``LiveExecutionClient``: each open or in-flight
   order by client order id, the open orders, the fills since the oldest one that could be
   missing) and ``engine.reconcile`` journals and applies every difference. Nothing is
   re-sent: an order the venue never received is rejected and the strategy decides again.
   A simulated venue (paper, shadow) died with the process: its open orders are closed as
   canceled. A new session goes through the same ``recover`` with nothing rebuilt (orders
   only the venue knows become external orders).
   The venue's balances and positions are compared with the run's baseline plus its fills
   (``engine.balances``); a new run journals its baseline once reconciled
   (``record_baselines``).
5. A venue that cannot answer stops the start with a ``VenueError`` naming it; the run stays
   interrupted and can be resumed again.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tradeloop.bus.bus import MessageBus
from tradeloop.config.schema import ReconciliationSection
from tradeloop.core.errors import ConfigError, OrderStateError, VenueError
from tradeloop.core.fixed import Money
from tradeloop.engine.balances import VenueLedger, read_holdings, read_with_fills
from tradeloop.engine.checks import install_checks
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.reconcile import (
    Books,
    ReconciliationOutcome,
    VenueView,
    reconcile,
    reconcile_holdings,
    record_break,
)
from tradeloop.engine.runner import _RunDir
from tradeloop.execution.ports import LiveExecutionClient
from tradeloop.journal.integrity import verify_journal
from tradeloop.journal.status import RunLock, run_status
from tradeloop.journal.store import MemoryJournal, read_manifest, read_records
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.decisions import RiskLimitBreached
from tradeloop.model.enums import OrderStatus, TradingState
from tradeloop.model.events import (
    AccountStateChanged,
    ExternalFillRecorded,
    MarketDataReceived,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
    RunResumed,
    TradingStateChanged,
    VenueBaselineRecorded,
)
from tradeloop.model.orders import Order
from tradeloop.model.reports import OrderStatusReport

FILLS_LOOKBACK_NS = 60_000_000_000
"""How far before the oldest fill that could be missing the venue's fills are asked for."""


class ResumedRunDir(_RunDir):
    """An existing run directory a resumed session continues (module docstring, step 1).

    Used where ``engine.runner._RunDir`` is; ``abandon`` only releases the lock.
    """

    def __init__(self, run: str | os.PathLike[str], config_hash: str, mode: str) -> None:
        given = Path(run)
        self.path = given.parent if given.name == "journal.sqlite" else given
        journal = self.path / "journal.sqlite"
        if not journal.is_file():
            raise ConfigError(f"--resume {run}: {journal} does not exist")
        manifest = read_manifest(journal)
        if manifest.config_hash != config_hash:
            raise ConfigError(
                f"--resume {run}: run {manifest.run_id} was started with another config "
                f"(config hash {manifest.config_hash[:12]}, this one {config_hash[:12]}): "
                "resume it with the config it was started with"
            )
        if manifest.mode != mode:
            raise ConfigError(
                f"--resume {run}: that run is a {manifest.mode} session, not {mode}: "
                f"resume it with `tradeloop {manifest.mode}`"
            )
        self.previous = run_status(self.path)  # before the lock: ours would read as running
        self.lock = RunLock(self.path)
        self.lock.acquire()  # ConfigError if a live process still runs it
        try:
            report = verify_journal(journal)
            if not report.ok:
                raise ConfigError(f"--resume {run}: its journal does not verify: {report.message}")
        except BaseException:
            self.lock.release()
            raise
        self.started_wall_ns = manifest.started_wall_ns
        self.journal_path = journal
        self.last_seq = report.last_seq

    def abandon(self) -> None:
        """Release the lock; the run's files stay as they were."""
        self.lock.release()

    def keep(self) -> None:
        """Nothing to do: the directory existed."""

    def release(self) -> None:
        """Release the run's lock (the run ended)."""
        self.lock.release()


@dataclass
class Rebuilt:
    """What ``rebuild`` restored."""

    last_seq: int = 0
    orders: int = 0
    open_orders: int = 0
    fills: int = 0
    external_fills: int = 0
    in_flight: int = 0
    trading_state: TradingState = TradingState.ACTIVE
    is_state_from_limits: bool = False  # the portfolio limits set it (they may lift it)
    oldest_open_ns: int | None = None
    last_fill_ns: int | None = None
    journal_cash_raw: int | None = None  # the last AccountStateChanged's cash
    cash_after_rebuild_raw: int = 0
    baselines: dict[str, VenueBaselineRecorded] = field(default_factory=dict)


def rebuild(kernel: Kernel, journal_path: Path, last_seq: int) -> Rebuilt:
    """Rebuild orders, positions, cash and the trading state of ``kernel`` from the journal
    (module docstring, step 3); nothing is journaled or published while it does."""
    manager, portfolio = kernel.order_manager, kernel.portfolio
    orders: dict[str, Order] = {}
    denied: set[str] = set()
    result = Rebuilt(last_seq=last_seq)
    guard = kernel.limits
    breach_action: str | None = None
    quiet_journal, quiet_bus = MemoryJournal(), MessageBus()
    journal, bus = portfolio.journal, portfolio.bus
    portfolio.journal, portfolio.bus = quiet_journal, quiet_bus
    try:
        for row in read_records(journal_path):
            if row.seq > last_seq:
                break
            record = row.record
            if isinstance(record, MarketDataReceived):
                # the marks the fills were valued at (a fee in the base asset, for one)
                if record.trade is not None:
                    portfolio.on_trade(record.trade)
                elif record.quote is not None:
                    portfolio.on_quote(record.quote)
                elif record.bar is not None:
                    portfolio.on_bar(record.bar)
            elif isinstance(record, SubmitOrder):
                orders.setdefault(record.order.client_order_id, Order(record.order))
            elif isinstance(record, OrderInitialized):
                orders.setdefault(record.client_order_id, Order(record))
            elif isinstance(record, ExternalFillRecorded):
                if record.reason.startswith("duplicate"):
                    continue  # recorded, never counted
                portfolio.apply_fill(record.fill)
                manager.restore_external_fill(record.instrument_id, record.trade_id)
                result.external_fills += 1
            elif isinstance(record, TradingStateChanged):
                result.trading_state = record.state
                result.is_state_from_limits = record.reason in (breach_action, "limits cleared")
            elif isinstance(record, RiskLimitBreached) and guard is not None:
                breach_action = record.action
                number = (record.decision_id or "").removeprefix("limit-")
                if number.isdigit():  # the next breach gets the next decision id
                    guard.restore_decisions(int(number))
            elif isinstance(record, AccountStateChanged):
                result.journal_cash_raw = record.cash.raw
            elif isinstance(record, VenueBaselineRecorded):
                result.baselines.setdefault(record.venue, record)  # the first one holds
            elif isinstance(record, OrderEvent):
                order = orders.get(record.client_order_id)
                if order is None:
                    continue
                if isinstance(record, OrderDenied):
                    denied.add(record.client_order_id)
                try:
                    order.apply(record)
                except OrderStateError:
                    continue  # refused live too (it was journaled with an alert)
                if type(record) is OrderFilled:
                    portfolio.apply_fill(record)
                    result.fills += 1
                    result.last_fill_ns = max(result.last_fill_ns or 0, record.ts_event)
    finally:
        portfolio.journal, portfolio.bus = journal, bus
    result.cash_after_rebuild_raw = portfolio.cash_raw()
    for order in orders.values():
        manager.restore(order)
    result.orders = len(orders)
    in_flight = [
        o
        for o in orders.values()
        if o.status is OrderStatus.INITIALIZED and o.client_order_id not in denied
    ]
    for order in in_flight:
        # journaled (SubmitOrder is durable before the send) but its outcome was not: it may
        # have reached the venue. Submitted, so that the venue is asked about it.
        now = kernel.clock.timestamp_ns()
        venue = order.instrument_id.rpartition(".")[2]
        manager.handle_venue_event(
            OrderSubmitted(
                client_order_id=order.client_order_id,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                venue=venue,
                ts_event=now,
                ts_init=now,
            )
        )
    result.in_flight = len(in_flight)
    open_orders = manager.open_orders()
    result.open_orders = len(open_orders)
    if open_orders:
        result.oldest_open_ns = min(o.init.ts_init for o in open_orders)
    return result


def books_of(kernel: Kernel, ledger: VenueLedger | None = None) -> Books:
    """Return the node's side of a reconciliation (``engine.reconcile.Books``)."""
    instruments = kernel.instruments
    return Books(
        clock=kernel.clock,
        journal=kernel.journal,
        order_manager=kernel.order_manager,
        position_raw=kernel.portfolio.position_raw,
        cash_raw=kernel.portfolio.cash_raw,
        set_trading_state=kernel.set_trading_state,
        size_precision=lambda iid: instruments[iid].size_precision,
        quote_currency=lambda iid: instruments[iid].quote_currency,
        base_currency=kernel.portfolio.base_currency,
        drain=kernel.drain,
        ledger=ledger,
    )


def live_view(client: LiveExecutionClient, kernel: Kernel, since_ns: int | None) -> VenueView:
    """Ask a live venue what reconciliation needs (module docstring, step 4).

    Raises
    ------
    VenueError
        If the venue cannot answer (the start stops; the run can be resumed again).
    """
    venue = client.venue
    ours = [o for o in kernel.order_manager.open_orders() if _venue_of(o) == venue]
    try:
        asked: dict[str, OrderStatusReport | None] = {
            o.client_order_id: client.query_order(o.client_order_id, o.instrument_id) for o in ours
        }
        open_orders = client.open_orders()
        fills = [] if since_ns is None else client.fills_since(since_ns)
    except VenueError as error:
        raise type(error)(
            f"reconciliation with {venue} could not complete: {error}; nothing was sent, "
            "the run can be resumed again once the venue answers"
        ) from error
    return VenueView(
        venue=venue,
        orders=asked,
        open_orders=open_orders,
        fills=fills,
        has_all_fills=since_ns is not None,
    )


def simulated_view(kernel: Kernel, venue: str) -> VenueView:
    """Return what a simulated venue that died with the process says: it has no order."""
    now = kernel.clock.timestamp_ns()
    asked: dict[str, OrderStatusReport | None] = {}
    for order in kernel.order_manager.open_orders():
        if _venue_of(order) != venue:
            continue
        asked[order.client_order_id] = OrderStatusReport(
            venue=venue,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id or "",
            side=order.side,
            order_type=order.order_type,
            status=OrderStatus.CANCELED,
            quantity=order.quantity,
            filled_qty=order.filled_qty,
            price=order.price,
            ts_last=now,
            reason="the simulated venue ended with the process that ran it",
        )
    return VenueView(venue=venue, orders=asked)


def _venue_of(order: Order) -> str:
    return order.instrument_id.rpartition(".")[2]


def recover(
    kernel: Kernel,
    clients: Iterable[LiveExecutionClient],
    config: ReconciliationSection,
    *,
    trigger: str,
    rebuilt: Rebuilt | None = None,
    books: Books | None = None,
) -> list[ReconciliationOutcome]:
    """Reconcile ``kernel`` with every venue (module docstring, step 4): the live ones through
    their clients, the simulated ones as venues that kept nothing; return each outcome."""
    books = books or books_of(kernel)
    since: int | None = None
    if rebuilt is not None:
        candidates = [t for t in (rebuilt.oldest_open_ns, rebuilt.last_fill_ns) if t is not None]
        if candidates:
            since = max(0, min(candidates) - FILLS_LOOKBACK_NS)
    outcomes: list[ReconciliationOutcome] = []
    live = {client.venue: client for client in clients}
    for venue in sorted({*kernel.venues, *live}):
        view = (
            live_view(live[venue], kernel, since)
            if venue in live
            else simulated_view(kernel, venue)
        )
        outcomes.append(
            reconcile(
                books,
                view,
                trigger=trigger,
                on_break=config.on_break,
                claim_external_orders=config.claim_external_orders,
                resumed_from_seq=0 if rebuilt is None else rebuilt.last_seq,
                balance_tolerance=config.balance_tolerance,
            )
        )
        if venue in live and books.ledger is not None and books.ledger.has_baseline(venue):
            try:  # the balances and positions, once the fills are counted (engine.balances)
                reconcile_holdings(
                    books, live[venue], config, since_ns=since, trigger=f"{trigger} balances"
                )
            except VenueError as error:
                raise type(error)(
                    f"reconciliation of the balances of {venue} could not complete: {error}; "
                    "the run can be resumed again once the venue answers"
                ) from error
    return outcomes


def resume_event(kernel: Kernel, run_dir: ResumedRunDir, rebuilt: Rebuilt) -> RunResumed:
    """Journal and return the ``RunResumed`` record of a resumed session."""
    now = kernel.clock.timestamp_ns()
    event = RunResumed(
        previous_state=run_dir.previous.state,
        from_seq=rebuilt.last_seq,
        orders=rebuilt.orders,
        open_orders=rebuilt.open_orders,
        in_flight=rebuilt.in_flight,
        fills=rebuilt.fills,
        ts_event=now,
        ts_init=now,
    )
    kernel.journal.append(event, durable=True)
    return event


def restore_trading_state(kernel: Kernel, rebuilt: Rebuilt) -> None:
    """Put the risk engine back in the trading state the run had (a halt survives a crash)."""
    if rebuilt.trading_state is not TradingState.ACTIVE:
        with contextlib.suppress(Exception):
            kernel.set_trading_state(
                rebuilt.trading_state,
                "resumed: the run was in this state when it stopped",
                by_limits=rebuilt.is_state_from_limits,
            )


def prepare_node(
    kernel: Kernel,
    run_dir: _RunDir,
    clients: Iterable[LiveExecutionClient],
    config: ReconciliationSection,
) -> list[ReconciliationOutcome]:
    """Rebuild a resumed run and reconcile it, or reconcile a new live session with its venues
    (one path: module docstring); called once the venues are connected, before any strategy
    starts."""
    clients = list(clients)
    ledger = None
    if clients:  # the live venues' balances: a baseline plus the run's fills
        ledger = VenueLedger(
            kernel.instruments,
            frozenset(c.venue for c in clients),
            frozenset(c.venue for c in clients if getattr(c, "trades_derivatives", False)),
        )
        kernel.portfolio.fill_observers.append(ledger.on_fill)
    books = books_of(kernel, ledger)  # one for startup and the checks (externals seen once)
    install_checks(kernel, clients, config, books)  # live venues only
    if not isinstance(run_dir, ResumedRunDir):
        if not clients:
            return []  # a new paper or shadow session: its simulated venue is new too
        outcomes = recover(kernel, clients, config, trigger="startup", books=books)
        record_baselines(kernel, clients, books, "the run's first start")
        return outcomes
    rebuilt = rebuild(kernel, run_dir.journal_path, run_dir.last_seq)
    if ledger is not None:
        ledger.baselines.update(rebuilt.baselines)
    for client in clients:  # the venue clients handle the restored orders as their own
        for order in kernel.order_manager.open_orders():
            if _venue_of(order) == client.venue:
                client.restore_order(order.init, order.venue_order_id, order.filled_qty)
    resume_event(kernel, run_dir, rebuilt)
    restore_trading_state(kernel, rebuilt)
    outcomes = recover(kernel, clients, config, trigger="resume", rebuilt=rebuilt, books=books)
    record_baselines(
        kernel,
        clients,
        books,
        "derived on resume: the journal had none (the venue's values less the run's fills)",
    )
    check_rebuilt_cash(kernel, rebuilt, config)
    return outcomes


def record_baselines(
    kernel: Kernel, clients: Iterable[LiveExecutionClient], books: Books, reason: str
) -> None:
    """Journal the baseline of each live venue that has none (``engine.balances``, step 1).

    Raises
    ------
    VenueError
        If a venue cannot answer (the start stops; the run can be resumed again).
    """
    ledger = books.ledger
    if ledger is None:
        return
    for client in sorted(clients, key=lambda c: c.venue):
        venue = client.venue
        if ledger.has_baseline(venue):
            continue
        ids = ledger.position_ids(venue)
        try:
            _, holdings = read_with_fills(client, ids, None)
            if holdings is None:  # the account kept moving: one read is one snapshot
                holdings = read_holdings(client, ids)
        except VenueError as error:
            raise type(error)(
                f"reading the balances of {venue} for the run's baseline failed: {error}; "
                "the run can be resumed again once the venue answers"
            ) from error
        node_positions = {
            iid: Decimal(books.position_raw(iid)).scaleb(-books.size_precision(iid)) for iid in ids
        }
        event = ledger.baseline_of(
            venue,
            holdings,
            kernel.clock.timestamp_ns(),
            reason=reason,
            node_positions=node_positions,
        )
        kernel.journal.append(event, durable=True)


def check_rebuilt_cash(kernel: Kernel, rebuilt: Rebuilt, config: ReconciliationSection) -> None:
    """Compare the rebuilt cash with the journal's last account state: a difference means the
    rebuild did not reproduce the run (a ``ReconciliationBreak``, never a silent fix)."""
    if rebuilt.journal_cash_raw is None:
        return
    # fills the reconciliation applied after the rebuild moved cash since: compare the rebuild
    # itself, before them (the cash the portfolio had when the journal ended)
    if rebuilt.cash_after_rebuild_raw != rebuilt.journal_cash_raw:
        currency = kernel.portfolio.base_currency
        books = books_of(kernel)
        record_break(
            books,
            ReconciliationOutcome(),
            config.on_break,
            kind="cash",
            subject="journal",
            local=str(Money(rebuilt.cash_after_rebuild_raw, currency)),
            venue=str(Money(rebuilt.journal_cash_raw, currency)),
            reason="the cash rebuilt from the journal differs from its last account state",
        )

"""Reconciliation with a venue: one code path for startup, crash recovery and periodic checks.

The node's state (rebuilt from its journal on ``--resume``, or as it runs) is compared with
what the venue says (``VenueView``: the orders asked by client order id, its open orders, its
fills since the last one the node saw, and its positions and cash where the caller can state
what they should be). Steps of ``reconcile``, each difference journaled as an event before it
changes any state:

1. **Fills**: every venue fill whose trade id the node has not counted (``OrderManager.
   has_fill``) is journaled as ``FillReconciled`` and applied as a venue fill; an order whose
   venue filled quantity is still above the node's gets the rest as one inferred fill whose
   trade id is a hash of its content (a replay gives the same id).
2. **Orders**: each open order of the node gets the venue's status: a submitted order the
   venue never received is rejected (never re-sent: the strategy decides again), one it
   acknowledged is accepted, one it closed is canceled, expired or rejected; an order the
   venue does not know after it had acknowledged it is a break.
3. **External orders**: open orders only the venue knows become ``ExternalOrderRecorded``
   (claimed by the strategy ``claim_external_orders`` names, if any).
4. **Positions, balances and cash**: any difference the fills cannot explain is a
   ``ReconciliationBreak`` with both values, and sets the trading state (``on_break``):
   the node opens no new risk until an operator resolves it. A venue's balances are
   compared with its baseline plus the run's fills (``engine.balances``), within
   ``balance_tolerance``.

``ReconciliationCompleted`` closes each pass with its counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from tradeloop.config.schema import ReconciliationSection
from tradeloop.core.clock import Clock
from tradeloop.core.fixed import Money, Price, Quantity, format_raw
from tradeloop.engine.balances import (
    Holdings,
    VenueLedger,
    read_holdings,
    read_with_fills,
    within_tolerance,
)
from tradeloop.execution.order_manager import EXTERNAL_STRATEGY_ID, OrderManager
from tradeloop.execution.ports import LiveExecutionClient
from tradeloop.journal.store import Journal
from tradeloop.model.enums import LiquiditySide, OrderStatus, OrderType, TradingState
from tradeloop.model.events import (
    ExternalOrderRecorded,
    FillReconciled,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    ReconciliationBreak,
    ReconciliationCompleted,
)
from tradeloop.model.orders import Order
from tradeloop.model.reports import FillReport, OrderStatusReport

_OPEN_AT_VENUE = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_UPDATE,
        OrderStatus.PARTIALLY_FILLED,
    }
)


@dataclass(frozen=True)
class VenueView:
    """What one venue said, for one reconciliation pass.

    ``orders`` holds the answer to each client order id the node asked about (None: the venue
    does not know it); ``positions`` the signed quantity (raw, at the instrument's size
    precision) the node should hold per instrument according to the venue, and ``cash`` the
    node's cash (money raw, base currency) according to it; leave them empty (None) when the
    venue cannot say. ``balances`` are the venue's balances (currency -> total), compared with
    the baseline plus the run's fills (``Books.ledger``).
    """

    venue: str
    orders: dict[str, OrderStatusReport | None]
    open_orders: list[OrderStatusReport] = field(default_factory=list)
    fills: list[FillReport] = field(default_factory=list)
    positions: dict[str, int] | None = None
    cash: int | None = None
    has_all_fills: bool = False
    balances: dict[str, Decimal] | None = None


@dataclass
class ReconciliationOutcome:
    """What one pass did."""

    orders_checked: int = 0
    fills_inferred: int = 0
    orders_resolved: int = 0
    external_orders: int = 0
    breaks: list[ReconciliationBreak] = field(default_factory=list)


@dataclass(frozen=True)
class Books:
    """The node's side: where orders live, and its positions and cash as it counts them."""

    clock: Clock
    journal: Journal
    order_manager: OrderManager
    position_raw: Callable[[str], int]
    cash_raw: Callable[[], int]
    set_trading_state: Callable[[TradingState, str], None]
    size_precision: Callable[[str], int]
    quote_currency: Callable[[str], str]
    base_currency: str
    drain: Callable[[], None] = lambda: None
    ledger: VenueLedger | None = None  # live venues' baselines and the run's flows
    external_seen: set[str] = field(default_factory=set)  # recorded once, not every pass


def synthetic_trade_id(client_order_id: str, quantity: Quantity, price: Price, ts: int) -> str:
    """Return the trade id of an inferred fill: a hash of its content (stable across replays)."""
    digest = hashlib.sha256(f"{client_order_id}|{quantity}|{price}|{ts}".encode()).hexdigest()
    return f"R-{digest[:16]}"


def reconcile(
    books: Books,
    view: VenueView,
    *,
    trigger: str,
    on_break: str = "halted",
    claim_external_orders: str = "",
    resumed_from_seq: int = 0,
    balance_tolerance: float = 1e-6,
) -> ReconciliationOutcome:
    """Reconcile the node with one venue (module docstring); return what it did."""
    outcome = ReconciliationOutcome()
    manager = books.order_manager
    # 1. fills the venue reports that the node has not counted, oldest first
    for venue_fill in sorted(view.fills, key=lambda f: (f.ts_event, f.trade_id)):
        if manager.has_fill(venue_fill.instrument_id, venue_fill.trade_id):
            continue
        order = manager.orders.get(venue_fill.client_order_id)
        fill = _fill_from_report(books, venue_fill, order)
        _infer(books, fill, "a fill the venue reports that the node had not seen")
        outcome.fills_inferred += 1
    # 2. the node's open orders, against the venue's answer for each
    for order in list(manager.open_orders()):
        coid = order.client_order_id
        if coid not in view.orders:
            continue
        outcome.orders_checked += 1
        report = view.orders[coid]
        if report is None:
            outcome.orders_resolved += _venue_does_not_know(books, order, outcome, on_break)
            continue
        missing = report.filled_qty.raw - order.filled_raw
        if missing > 0 and view.has_all_fills:
            outcome.fills_inferred += _infer_rest(books, order, report, missing)
        elif missing > 0:
            continue  # its fills are on their way (or in the next fill check): not closed yet
        elif missing < 0:
            record_break(
                books,
                outcome,
                on_break,
                kind="fill",
                subject=coid,
                local=f"filled {order.filled_qty}",
                venue=f"filled {report.filled_qty}",
                reason="the node counted more fills of this order than the venue reports",
            )
        outcome.orders_resolved += _align_status(books, order, report)
    # 3. open orders only the venue knows
    for external in sorted(view.open_orders, key=lambda r: r.client_order_id):
        if external.client_order_id in manager.orders or manager.was_issued(
            external.client_order_id
        ):
            continue
        now = books.clock.timestamp_ns()
        books.journal.append(
            ExternalOrderRecorded(
                client_order_id=external.client_order_id,
                venue_order_id=external.venue_order_id,
                instrument_id=external.instrument_id,
                side=external.side,
                quantity=external.quantity,
                filled_qty=external.filled_qty,
                price=external.price,
                claimed_by=claim_external_orders,
                ts_event=external.ts_last,
                ts_init=now,
            )
        )
        if claim_external_orders:
            manager.adopt(external, claim_external_orders)
        outcome.external_orders += 1
    books.drain()
    # 4. positions and cash
    if view.positions is not None:
        for instrument_id, venue_raw in sorted(view.positions.items()):
            local_raw = books.position_raw(instrument_id)
            if local_raw != venue_raw:
                precision = books.size_precision(instrument_id)
                record_break(
                    books,
                    outcome,
                    on_break,
                    kind="position",
                    subject=instrument_id,
                    local=format_raw(local_raw, precision),
                    venue=format_raw(venue_raw, precision),
                    reason="the position differs from the venue's and no fill explains it",
                )
    if view.cash is not None:
        local_cash = books.cash_raw()
        if local_cash != view.cash:
            record_break(
                books,
                outcome,
                on_break,
                kind="cash",
                subject=view.venue,
                local=str(Money(local_cash, books.base_currency)),
                venue=str(Money(view.cash, books.base_currency)),
                reason="cash differs from the venue's and no fill explains it",
            )
    if view.balances is not None and books.ledger is not None:
        expected = books.ledger.expected_balances(view.venue)
        _compare_balances(
            books, view.venue, expected, view.balances, outcome, on_break, balance_tolerance
        )
    now = books.clock.timestamp_ns()
    books.journal.append(
        ReconciliationCompleted(
            trigger=trigger,
            orders_checked=outcome.orders_checked,
            fills_inferred=outcome.fills_inferred,
            orders_resolved=outcome.orders_resolved,
            external_orders=outcome.external_orders,
            breaks=len(outcome.breaks),
            resumed_from_seq=resumed_from_seq,
            ts_event=now,
            ts_init=now,
        )
    )
    return outcome


def reconcile_holdings(
    books: Books,
    client: LiveExecutionClient,
    config: ReconciliationSection,
    *,
    since_ns: int | None,
    trigger: str,
) -> ReconciliationOutcome | None:
    """Compare ``client``'s venue's balances and positions with its baseline plus the run's
    fills (``engine.balances``); return the pass that compared them (None: they agree, every
    read raced a fill, or the venue has no baseline).

    One read of the holdings that agrees with the node ends it (the usual case: one request
    per venue, two with positions). A difference makes it count the venue's fills since
    ``since_ns`` between two reads that agree; one that is left makes it fetch every fill
    since the baseline, and only what those cannot explain is a break.

    Raises
    ------
    VenueError
        If the venue cannot answer.
    """
    ledger, venue = books.ledger, client.venue
    if ledger is None or not ledger.has_baseline(venue):
        return None
    ids = ledger.position_ids(venue)

    def run(view: VenueView) -> ReconciliationOutcome:
        return reconcile(
            books,
            view,
            trigger=trigger,
            on_break=config.on_break,
            claim_external_orders=config.claim_external_orders,
            balance_tolerance=config.balance_tolerance,
        )

    if not _differs(books, ledger, venue, read_holdings(client, ids), config):
        return None
    fills, holdings = read_with_fills(client, ids, since_ns)
    if fills:
        run(VenueView(venue=venue, orders={}, fills=fills))
    if holdings is None:
        return None  # every read raced a fill: the next check compares them
    if not _differs(books, ledger, venue, holdings, config):
        return None
    since = ledger.baselines[venue].ts_event - FILLS_LOOKBACK_NS
    fills, holdings = read_with_fills(client, ids, max(0, since))
    if holdings is None:
        return None  # the account kept moving: the next check compares it
    view = VenueView(
        venue=venue,
        orders={},
        fills=fills,
        balances=holdings.balances,
        positions=ledger.run_positions(venue, holdings),
    )
    return run(view)


FILLS_LOOKBACK_NS = 60_000_000_000
"""How far before a baseline the venue's fills are asked for when its balances differ."""


def _differs(
    books: Books,
    ledger: VenueLedger,
    venue: str,
    holdings: Holdings,
    config: ReconciliationSection,
) -> bool:
    run_positions = ledger.run_positions(venue, holdings)
    if any(books.position_raw(iid) != raw for iid, raw in run_positions.items()):
        return True
    expected = ledger.expected_balances(venue)
    return any(
        not within_tolerance(
            value, holdings.balances.get(currency, Decimal(0)), config.balance_tolerance
        )
        for currency, value in expected.items()
    )


def _compare_balances(
    books: Books,
    venue_name: str,
    expected: dict[str, Decimal],
    balances: dict[str, Decimal],
    outcome: ReconciliationOutcome,
    on_break: str,
    tolerance: float,
) -> None:
    for currency, local in sorted(expected.items()):
        venue = balances.get(currency, Decimal(0))
        if within_tolerance(local, venue, tolerance):
            continue
        record_break(
            books,
            outcome,
            on_break,
            kind="balance",
            subject=f"{venue_name} {currency}",
            local=f"{local.normalize():f} {currency}",
            venue=f"{venue.normalize():f} {currency}",
            reason=(
                f"the venue's {currency} balance differs from the run's baseline plus its "
                f"fills by {(venue - local).normalize():f} (tolerance {tolerance:g} of the "
                "balance) and no fill explains it"
            ),
        )


def _fill_from_report(books: Books, report: FillReport, order: Order | None) -> OrderFilled:
    return OrderFilled(
        client_order_id=report.client_order_id,
        strategy_id=EXTERNAL_STRATEGY_ID if order is None else order.strategy_id,
        instrument_id=report.instrument_id,
        venue_order_id=report.venue_order_id,
        trade_id=report.trade_id,
        order_side=report.side,
        order_type=OrderType.MARKET if order is None else order.order_type,
        last_qty=report.last_qty,
        last_px=report.last_px,
        commission=report.commission,
        liquidity_side=report.liquidity_side,
        ts_event=report.ts_event,
        ts_init=books.clock.timestamp_ns(),
    )


def _infer(books: Books, fill: OrderFilled, reason: str) -> None:
    books.journal.append(
        FillReconciled(fill=fill, reason=reason, ts_event=fill.ts_event, ts_init=fill.ts_init)
    )
    books.order_manager.handle_venue_event(fill)
    books.drain()


def _infer_rest(books: Books, order: Order, report: OrderStatusReport, missing_raw: int) -> int:
    # The venue's filled quantity is above the node's and its fills did not say why: one fill
    # for the rest, at the venue's average price (else the order's), with a content-hash id.
    price = report.avg_px or report.price or order.price
    if price is None:
        return 0  # no price to book it at: the position check reports the difference
    quantity = Quantity(missing_raw, order.quantity.precision)
    fill = OrderFilled(
        client_order_id=order.client_order_id,
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        venue_order_id=report.venue_order_id,
        trade_id=synthetic_trade_id(order.client_order_id, quantity, price, report.ts_last),
        order_side=order.side,
        order_type=order.order_type,
        last_qty=quantity,
        last_px=price,
        commission=Money(0, books.quote_currency(order.instrument_id)),
        liquidity_side=LiquiditySide.NONE,
        ts_event=report.ts_last,
        ts_init=books.clock.timestamp_ns(),
    )
    _infer(books, fill, "the venue's filled quantity of the order is above the node's")
    return 1


def _apply(books: Books, event: OrderEvent) -> None:
    books.order_manager.handle_venue_event(event)
    books.drain()


def _ids(order: Order) -> dict[str, str]:
    return {
        "client_order_id": order.client_order_id,
        "strategy_id": order.strategy_id,
        "instrument_id": order.instrument_id,
    }


def _venue_does_not_know(
    books: Books, order: Order, outcome: ReconciliationOutcome, on_break: str
) -> int:
    now = books.clock.timestamp_ns()
    never_acknowledged = order.venue_order_id is None and order.filled_raw == 0
    if order.status is OrderStatus.SUBMITTED or never_acknowledged:
        # journaled and maybe sent, never acknowledged (a cancel of it may be pending), and
        # the venue has no such order: it never arrived. It is not re-sent (the strategy
        # decides again on fresh data).
        reason = (
            "reconciliation: the venue has no order with this client order id "
            "(sent before a crash, never received); not re-sent"
        )
        _apply(books, OrderRejected(reason=reason, ts_event=now, ts_init=now, **_ids(order)))
        return 1
    record_break(
        books,
        outcome,
        on_break,
        kind="order",
        subject=order.client_order_id,
        local=str(order.status),
        venue="unknown",
        reason="the venue does not know an order it had acknowledged",
    )
    reason = "reconciliation: unknown to the venue"
    _apply(books, OrderCanceled(reason=reason, ts_event=now, ts_init=now, **_ids(order)))
    return 1


def _align_status(books: Books, order: Order, report: OrderStatusReport) -> int:
    if not order.is_open:
        return 0  # the inferred fills closed it
    now = books.clock.timestamp_ns()
    status = report.status
    if status in _OPEN_AT_VENUE:
        if order.status is OrderStatus.SUBMITTED:
            _apply(
                books,
                OrderAccepted(
                    venue_order_id=report.venue_order_id,
                    ts_event=report.ts_last,
                    ts_init=now,
                    **_ids(order),
                ),
            )
            return 1
        return 0
    reason = "reconciliation: " + (report.reason or f"the venue reports it {status.lower()}")
    if status is OrderStatus.EXPIRED:
        _apply(books, OrderExpired(ts_event=report.ts_last, ts_init=now, **_ids(order)))
    elif status is OrderStatus.REJECTED and order.status is OrderStatus.SUBMITTED:
        _apply(
            books, OrderRejected(reason=reason, ts_event=report.ts_last, ts_init=now, **_ids(order))
        )
    else:
        _apply(
            books, OrderCanceled(reason=reason, ts_event=report.ts_last, ts_init=now, **_ids(order))
        )
    return 1


def record_break(
    books: Books,
    outcome: ReconciliationOutcome,
    on_break: str,
    *,
    kind: str,
    subject: str,
    local: str,
    venue: str,
    reason: str,
) -> None:
    now = books.clock.timestamp_ns()
    event = ReconciliationBreak(
        kind=kind,
        subject=subject,
        local=local,
        venue=venue,
        action=on_break,
        reason=reason,
        ts_event=now,
        ts_init=now,
    )
    books.journal.append(event)
    outcome.breaks.append(event)
    state = TradingState.HALTED if on_break == "halted" else TradingState.REDUCING
    books.set_trading_state(state, f"reconciliation break ({kind} {subject}): {reason}")


__all__ = [
    "Books",
    "ReconciliationOutcome",
    "VenueView",
    "reconcile",
    "reconcile_holdings",
    "record_break",
    "synthetic_trade_id",
]

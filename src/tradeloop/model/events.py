"""Past-tense events: frozen facts of what happened, each journaled.

Every event is a tagged msgspec struct (its ``type`` in the journal is the class name) with
``ts_event`` (when it happened) and ``ts_init`` (when tradeloop created the record).
Events hold only immutable values (strings, numbers, fixed-point values, tuples and other
events), so they cannot form reference cycles: they are not tracked by the cyclic garbage
collector (``gc=False``), which keeps a long run's collections cheap.
Other packages add their own events (pipeline decisions, alerts) by subclassing ``Event``;
``model.codec`` finds every subclass when it builds the journal decoder.
"""

from __future__ import annotations

import msgspec

from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import (
    LiquiditySide,
    OrderSide,
    OrderType,
    PositionSide,
    TimeInForce,
    TradingState,
)


class Event(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="type", gc=False):
    """Base of every event. Subclasses are tagged with their class name."""

    ts_event: int
    ts_init: int


class OrderEvent(Event, frozen=True, kw_only=True):
    """Base of every event about one order."""

    client_order_id: str
    strategy_id: str
    instrument_id: str


class OrderInitialized(OrderEvent, frozen=True, kw_only=True):
    """An order was created by a strategy or an execution algorithm (not yet sent).

    ``arrival_price`` is the instrument's mark when the order was created (the benchmark of
    its slippage and implementation shortfall); None when there was no mark yet or the order
    was built without one.
    """

    side: OrderSide
    order_type: OrderType
    quantity: Quantity
    price: Price | None = None
    trigger_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time_ns: int | None = None
    is_reduce_only: bool = False
    is_post_only: bool = False
    parent_order_id: str | None = None
    tags: tuple[str, ...] = ()
    arrival_price: Price | None = None


class OrderDenied(OrderEvent, frozen=True, kw_only=True):
    """The risk engine refused the order before it reached a venue; ``reason`` says why."""

    reason: str


class OrderSubmitted(OrderEvent, frozen=True, kw_only=True):
    """The order passed risk and was sent to the venue."""

    venue: str


class OrderAccepted(OrderEvent, frozen=True, kw_only=True):
    """The venue accepted the order and it is working."""

    venue_order_id: str


class OrderRejected(OrderEvent, frozen=True, kw_only=True):
    """The venue refused the order; ``reason`` says why."""

    reason: str


class OrderTriggered(OrderEvent, frozen=True, kw_only=True):
    """A stop or stop-limit order's trigger price was reached."""

    venue_order_id: str


class OrderPendingCancel(OrderEvent, frozen=True, kw_only=True):
    """A cancel request for the order was sent to the venue."""

    venue_order_id: str | None = None


class OrderCancelRejected(OrderEvent, frozen=True, kw_only=True):
    """The venue refused to cancel the order (for example it had already filled)."""

    reason: str


class OrderPendingUpdate(OrderEvent, frozen=True, kw_only=True):
    """A modify request for the order was sent to the venue."""

    venue_order_id: str | None = None


class OrderUpdated(OrderEvent, frozen=True, kw_only=True):
    """The venue applied a modification: new quantity, price or trigger price."""

    venue_order_id: str
    quantity: Quantity
    price: Price | None = None
    trigger_price: Price | None = None


class OrderModifyRejected(OrderEvent, frozen=True, kw_only=True):
    """The venue refused a modification."""

    reason: str


class OrderCanceled(OrderEvent, frozen=True, kw_only=True):
    """The order stopped working without filling its remaining quantity."""

    venue_order_id: str | None = None
    reason: str = ""


class OrderExpired(OrderEvent, frozen=True, kw_only=True):
    """The order's time in force ran out (DAY at the session close, GTD at its expiry)."""

    venue_order_id: str | None = None


class FillCosts(msgspec.Struct, frozen=True, gc=False):
    """What a fill's price paid over its reference price, by kind, in money raw (9 decimals)
    of the quote currency; positive is a cost. Commission is apart (``OrderFilled.commission``)."""

    spread: int = 0
    slippage: int = 0
    impact: int = 0

    @property
    def total(self) -> int:
        """Return the sum of the three."""
        return self.spread + self.slippage + self.impact


class OrderFilled(OrderEvent, frozen=True, kw_only=True):
    """Part or all of the order traded.

    ``trade_id`` identifies the fill at the venue; a second fill with the same trade id is a
    duplicate and is dropped (recorded, never applied twice). ``reference_px`` is the price the
    fill would have had without spread, slippage and impact (the bar's open, the limit or
    trigger, the touch), and ``costs`` says how much each of them added.
    """

    venue_order_id: str
    trade_id: str
    order_side: OrderSide
    order_type: OrderType
    last_qty: Quantity
    last_px: Price
    commission: Money
    liquidity_side: LiquiditySide
    reference_px: Price | None = None
    costs: FillCosts | None = None


class PositionChanged(Event, frozen=True, kw_only=True):
    """A fill changed the net position in an instrument.

    ``avg_px_open`` is the average entry price (a float, for display; the cost basis is
    kept exactly by the portfolio). ``realized_pnl`` is the position's cumulative realized
    P&L before fees.
    """

    instrument_id: str
    strategy_id: str
    side: PositionSide
    quantity: Quantity
    signed_qty_raw: int
    avg_px_open: float
    realized_pnl: Money
    last_trade_id: str


class AccountStateChanged(Event, frozen=True, kw_only=True):
    """The account's cash or fees changed (after a fill or a funding/cash adjustment)."""

    account_id: str
    cash: Money
    fees_total: Money
    realized_pnl: Money


class TradingStateChanged(Event, frozen=True, kw_only=True):
    """The risk engine's trading state changed (active, reducing only, halted)."""

    state: TradingState
    reason: str


class ExternalFillRecorded(Event, frozen=True, kw_only=True):
    """A fill arrived that matches no known order (or repeats a trade id): kept, never dropped."""

    instrument_id: str
    client_order_id: str
    trade_id: str
    reason: str
    fill: OrderFilled


class DataValidated(Event, frozen=True, kw_only=True):
    """A market data source was read and validated before the run.

    ``quarantined`` counts the records set aside per rule (each one is listed in the run's
    quality report); ``content_hash`` identifies the data the run saw.
    """

    source: str
    instrument_id: str
    kind: str
    rows_in: int
    rows_clean: int
    quarantined: dict[str, int]
    gaps: int
    content_hash: str


class BookStatusChanged(Event, frozen=True, kw_only=True):
    """A simulated venue stopped or resumed matching against an instrument's book (level 4).

    ``status`` is ``"crossed"`` (the replayed book ended a venue event with its best bid at or
    above its best ask), ``"unsynced"`` (the feed flagged the event ``UNSYNCED``: the book is
    rebuilt from diffs after a gap and may be wrong) or ``"ok"`` (matching resumed). While
    it is not ``"ok"`` no order takes liquidity, crosses or joins a queue at that venue;
    ``suspended_events`` (on ``"ok"``) counts the event ends matching was suspended for.
    """

    venue: str
    instrument_id: str
    status: str
    reason: str
    best_bid: Price | None = None
    best_ask: Price | None = None
    suspended_events: int = 0


class AlertRaised(Event, frozen=True, kw_only=True):
    """Something needs attention: a duplicate fill, quarantined data, a broken component."""

    severity: str
    source: str
    message: str


class RunEnded(Event, frozen=True, kw_only=True):
    """The run ended: the last record of every run that did not die.

    ``status`` is ``"completed"`` (the data or the requested duration ran out),
    ``"stopped"`` (the operator stopped it: Ctrl-C, a signal) or ``"failed"`` (an error
    ended it: ``reason`` says which, ``location`` where, for a strategy's error the file and
    line of the user's code). A journal whose last record is not a ``RunEnded`` belongs to a
    run that was killed or is still running (``journal.status`` tells which).
    ``records`` counts the market data records the kernel processed.
    """

    status: str
    reason: str
    records: int
    location: str = ""


class MarketDataReceived(Event, frozen=True, kw_only=True):
    """A market data record a live feed delivered, as the kernel's inbox stamped it.

    Exactly one of ``bar``, ``quote``, ``trade`` and ``delta`` (an order-book delta; the
    one that ends a venue event is flagged ``LAST``) is set; its ``ts_init`` is the inbox's.
    Live-clock runs journal every one, so ``tradeloop backtest --from-journal`` replays a
    session on the test clock and makes the same decisions. The event's ``ts_event`` is the
    record's, capped at its ``ts_init`` (a venue clock ahead of ours cannot stamp the future).
    """

    bar: Bar | None = None
    quote: QuoteTick | None = None
    trade: TradeTick | None = None
    delta: OrderBookDelta | None = None

    @property
    def record(self) -> Bar | QuoteTick | TradeTick | OrderBookDelta:
        """Return the record it carries."""
        record = self.bar or self.quote or self.trade or self.delta
        assert record is not None
        return record


class ShadowFillCompared(Event, frozen=True, kw_only=True):
    """Shadow mode: a simulated fill beside the venue's quote at that instant.

    ``bid``/``ask`` are the venue's best quote when the fill happened (None when the feed had
    no quote yet); ``slippage_vs_quote_bps`` is what the simulated price paid over the side it
    would have taken (the ask for a buy, the bid for a sell; positive is worse). A passive
    (maker) fill below the touch shows a negative figure: the simulator assumed queue priority
    the venue may not have given.
    """

    client_order_id: str
    instrument_id: str
    side: OrderSide
    last_px: Price
    last_qty: Quantity
    liquidity_side: LiquiditySide
    bid: Price | None = None
    ask: Price | None = None
    slippage_vs_quote_bps: float | None = None


class ShadowMarkout(Event, frozen=True, kw_only=True):
    """Shadow mode: the venue's trades in the ``horizon_s`` seconds after a simulated fill.

    ``trades``, ``volume`` and ``vwap`` describe the prints that followed (none: ``trades`` is
    0 and the prices are None); ``markout_bps`` is how the last of them moved against the
    fill price, signed for the fill's side (positive: the market moved in the fill's favour;
    negative: adverse selection). For a passive (maker) fill ``traded_through`` says whether
    the venue printed at or through its price afterwards (None for a taker fill): a maker fill
    the market never traded at is one a real queue might not have given. ``complete`` is False
    when the session ended before the horizon was over.
    """

    client_order_id: str
    instrument_id: str
    side: OrderSide
    fill_px: Price
    horizon_s: float
    trades: int
    volume: Quantity | None = None
    vwap: Price | None = None
    last_px: Price | None = None
    markout_bps: float | None = None
    traded_through: bool | None = None
    complete: bool = True


class FeedSwitched(Event, frozen=True, kw_only=True):
    """A feed group failed over from one feed to the next (``data.feed_group``).

    ``reason`` says what was wrong with ``from_feed``; ``suppressed`` counts the records it
    sent after it had stopped being the active feed, which were not passed on.
    """

    group: str
    from_feed: str
    to_feed: str
    reason: str
    suppressed: int = 0


class ControlActionTaken(Event, frozen=True, kw_only=True):
    """Someone acted on a running node through its control surface (``tradeloop.api``).

    ``actor`` is who (the API token's name, or ``alert:<rule>`` for an alert rule's action),
    ``role`` the role that allowed it, ``action`` what (``pause``, ``resume``, ``kill``,
    ``flatten``, ``cancel_all``), ``reason`` why, as given; ``target`` the instrument of a
    ``flatten`` (empty otherwise) and ``outcome`` what the node did.
    """

    action: str
    actor: str
    role: str
    reason: str
    target: str = ""
    outcome: str = ""


class AlertRuleFired(Event, frozen=True, kw_only=True):
    """An alert rule of the run config (``[[alerts]]``) started firing: its condition held for
    its duration. ``value`` is the metric's value then; ``action`` what the node does."""

    rule: str
    severity: str
    metric: str
    value: float
    threshold: float
    op: str
    action: str
    message: str = ""


class AlertRuleResolved(Event, frozen=True, kw_only=True):
    """A firing alert rule's condition stopped holding (``value``: the metric's value then)."""

    rule: str
    metric: str
    value: float


class FillReconciled(Event, frozen=True, kw_only=True):
    """A fill the venue reports that the node had not counted (reconciliation inferred it).

    ``fill`` is applied right after this record, as any venue fill; ``reason`` says where it
    came from (the venue's fills since the last one seen, or an order's filled quantity,
    whose missing part gets a trade id that is a hash of its content).
    """

    fill: OrderFilled
    reason: str


class ExternalOrderRecorded(Event, frozen=True, kw_only=True):
    """An open order only the venue knows (not sent by this run): kept, never touched unless
    a strategy claims it (``claimed_by``, from ``[reconciliation] claim_external_orders``)."""

    client_order_id: str
    venue_order_id: str
    instrument_id: str
    side: OrderSide
    quantity: Quantity
    filled_qty: Quantity
    price: Price | None = None
    claimed_by: str = ""


class VenueBaselineRecorded(Event, frozen=True, kw_only=True):
    """A venue's balances and positions as a run found them (``engine.balances``).

    An account holds more than a run trades: the venue's balances are compared with this
    baseline plus the cash flows and fees of the run's fills. ``balances`` are (currency,
    total) and ``positions`` (instrument id, signed quantity), both decimal text; ``reason``
    says when it was taken (the run's first start, or derived on a resume of a run that had
    none: the venue's values then less the run's fills).
    """

    venue: str
    balances: tuple[tuple[str, str], ...]
    positions: tuple[tuple[str, str], ...] = ()
    reason: str = ""


class ReconciliationBreak(Event, frozen=True, kw_only=True):
    """The node and the venue disagree in a way fills cannot explain.

    ``kind`` is ``position``, ``balance``, ``cash``, ``order`` or ``fill``; ``subject`` the
    instrument, ``<venue> <currency>`` (a balance), currency or client order id; ``local`` and
    ``venue`` the two values as text; ``action`` the trading state it set (``reducing`` or
    ``halted``). Never fixed silently: the node opens no new risk until an operator resolves
    it.
    """

    kind: str
    subject: str
    local: str
    venue: str
    action: str
    reason: str


class ReconciliationCompleted(Event, frozen=True, kw_only=True):
    """Reconciliation with the venues finished (at startup, on resume, or a periodic check).

    ``resumed_from_seq`` is the journal record the run was rebuilt up to (0: a new run).
    """

    trigger: str
    orders_checked: int
    fills_inferred: int
    orders_resolved: int
    external_orders: int
    breaks: int
    resumed_from_seq: int = 0


class RunResumed(Event, frozen=True, kw_only=True):
    """A run was continued with ``--resume`` (``engine.resume``): the journal up to
    ``from_seq`` was rebuilt (``orders``, of which ``open_orders`` still open and ``in_flight``
    journaled without an outcome; ``fills`` counted); ``previous_state`` is how the run had
    stood (``interrupted``, ``stopped`` …). Reconciliation with the venues follows."""

    previous_state: str
    from_seq: int
    orders: int
    open_orders: int
    in_flight: int
    fills: int

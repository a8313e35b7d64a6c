"""The venue's balances and positions against the run's baseline plus its fills
(``engine.balances``, ``engine.reconcile.reconcile_holdings``), with a fake venue that keeps
its own books: what fills move per currency, a balance changed behind the node's back is a
break with both values, a fill the node missed is counted before anything is compared, a
read that races a fill waits, and (Hypothesis) random fill sequences never give a false
break."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.bus.bus import MessageBus
from tradeloop.config.schema import ReconciliationSection
from tradeloop.core.clock import TestClock
from tradeloop.core.errors import ConfigError, TransientVenueError
from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.engine.balances import VenueLedger, read_holdings
from tradeloop.engine.checks import LiveChecks
from tradeloop.engine.reconcile import Books, reconcile_holdings
from tradeloop.execution.order_manager import OrderManager
from tradeloop.journal.store import MemoryJournal
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderType, TradingState
from tradeloop.model.events import (
    FillReconciled,
    OrderFilled,
    ReconciliationBreak,
    VenueBaselineRecorded,
)
from tradeloop.model.instruments import Instrument, crypto_perpetual, crypto_spot, equity
from tradeloop.model.reports import BalanceReport, FillReport, PositionReport
from tradeloop.portfolio.accounting import Portfolio

SPOT = crypto_spot(
    "BTCUSDT", "BINANCE", base="BTC", quote="USDT", price_precision=4, size_precision=6
)
PERP = crypto_perpetual(
    "BTCUSDT-PERP", "BINANCE", base="BTC", quote="USDT", price_precision=2, size_precision=3
)
SPY = equity("SPY", "ALPACA", calendar=None)
START_NS = 1_000_000_000_000


def _fill(
    instrument: Instrument,
    side: OrderSide,
    qty: str,
    px: str,
    fee: str,
    fee_currency: str,
    trade_id: str,
) -> OrderFilled:
    return OrderFilled(
        client_order_id=f"O-{trade_id}",
        strategy_id="s",
        instrument_id=instrument.id,
        venue_order_id=f"V-{trade_id}",
        trade_id=trade_id,
        order_side=side,
        order_type=OrderType.MARKET,
        last_qty=Quantity.from_str(qty),
        last_px=Price.from_str(px),
        commission=Money.from_str(fee, fee_currency),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=START_NS,
        ts_init=START_NS,
    )


def test_a_spot_fill_moves_the_base_and_quote_and_its_fee_in_its_own_currency() -> None:
    ledger = VenueLedger({SPOT.id: SPOT}, frozenset({"BINANCE"}))
    ledger.on_fill(_fill(SPOT, OrderSide.BUY, "0.5", "20000", "0.0005", "BTC", "t1"))
    ledger.on_fill(_fill(SPOT, OrderSide.SELL, "0.2", "21000", "4.2", "USDT", "t2"))
    assert ledger.flows["BINANCE"] == {
        "BTC": Decimal("0.5") - Decimal("0.0005") - Decimal("0.2"),
        "USDT": Decimal(-10000) + Decimal(4200) - Decimal("4.2"),
    }
    assert ledger.currencies("BINANCE") == ["BTC", "USDT"]
    assert ledger.position_ids("BINANCE") == []  # spot holdings are balances


def test_an_equity_fill_moves_cash_only_and_a_perpetual_fill_moves_no_balance() -> None:
    ledger = VenueLedger({SPY.id: SPY, PERP.id: PERP}, frozenset({"ALPACA", "BINANCE"}))
    ledger.on_fill(_fill(SPY, OrderSide.BUY, "3", "400.5", "0.01", "USD", "t1"))
    ledger.on_fill(_fill(PERP, OrderSide.SELL, "0.01", "30000", "0.12", "USDT", "t2"))
    assert ledger.flows == {"ALPACA": {"USD": Decimal("-1201.51")}}
    assert ledger.position_ids("ALPACA") == [SPY.id]
    assert ledger.position_ids("BINANCE") == [PERP.id]
    assert ledger.currencies("BINANCE") == []  # the margin wallet is not compared


def test_a_venue_that_trades_derivatives_holds_positions_whatever_the_instrument_says() -> None:
    # the perpetual example trades BTCUSDT.BINANCE, a spot definition, on market_type "swap"
    ledger = VenueLedger({SPOT.id: SPOT}, frozenset({"BINANCE"}), frozenset({"BINANCE"}))
    ledger.on_fill(_fill(SPOT, OrderSide.BUY, "0.5", "20000", "4", "USDT", "t1"))
    assert ledger.flows == {}
    assert ledger.position_ids("BINANCE") == [SPOT.id]
    assert ledger.currencies("BINANCE") == []


def test_a_balance_tolerance_outside_its_range_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"balance_tolerance 0\.5 must be between 0 and 0\.01"):
        ReconciliationSection(balance_tolerance=0.5)


@dataclass
class FakeVenue:
    """A venue that keeps its own account: balances rounded to 8 decimals at every change,
    positions, and every fill it made (``fills_since``)."""

    instruments: dict[str, Instrument]
    venue: str = "BINANCE"
    balances_held: dict[str, Decimal] = field(default_factory=dict)
    positions_held: dict[str, Decimal] = field(default_factory=dict)
    fills: list[FillReport] = field(default_factory=list)
    moving: bool = False  # every balance read sees another deposit (a read racing fills)
    failing: bool = False  # every balance read is a 429
    reads: int = 0

    def trade(self, fill: OrderFilled) -> FillReport:
        instrument = self.instruments[fill.instrument_id]
        sign = 1 if fill.order_side is OrderSide.BUY else -1
        qty, px = fill.last_qty.as_decimal(), fill.last_px.as_decimal()
        if instrument.base_currency and instrument.kind.value == "crypto_spot":
            self._move(instrument.base_currency, sign * qty)
        else:
            self.positions_held[instrument.id] = (
                self.positions_held.get(instrument.id, Decimal(0)) + sign * qty
            )
        self._move(instrument.quote_currency, -sign * qty * px)
        self._move(fill.commission.currency, -fill.commission.as_decimal())
        report = FillReport(
            venue=self.venue,
            instrument_id=fill.instrument_id,
            client_order_id=fill.client_order_id,
            venue_order_id=fill.venue_order_id,
            trade_id=fill.trade_id,
            side=fill.order_side,
            last_qty=fill.last_qty,
            last_px=fill.last_px,
            commission=fill.commission,
            liquidity_side=fill.liquidity_side,
            ts_event=fill.ts_event,
        )
        self.fills.append(report)
        return report

    def _move(self, currency: str, amount: Decimal) -> None:
        held = self.balances_held.get(currency, Decimal(0)) + amount
        self.balances_held[currency] = held.quantize(Decimal("1e-8"), ROUND_HALF_EVEN)

    def balances(self) -> list[BalanceReport]:
        self.reads += 1
        if self.failing:
            raise TransientVenueError("balances: 429 Too Many Requests (retry later)")
        if self.moving:
            self._move("USDT", Decimal(1))
        return [
            BalanceReport(
                venue=self.venue,
                currency=currency,
                total=Money.from_decimal(amount, currency),
                free=Money.from_decimal(amount, currency),
                locked=Money(0, currency),
                ts_last=START_NS,
            )
            for currency, amount in sorted(self.balances_held.items())
            if amount
        ]

    def positions(self) -> list[PositionReport]:
        return [
            PositionReport(
                venue=self.venue,
                instrument_id=iid,
                signed_qty=Quantity.from_str(f"{abs(size):f}"),
                is_short=size < 0,
                ts_last=START_NS,
            )
            for iid, size in sorted(self.positions_held.items())
            if size
        ]

    def fills_since(self, ts_ns: int, instrument_id: str | None = None) -> list[FillReport]:
        return [f for f in self.fills if f.ts_event >= ts_ns]


@dataclass
class Node:
    """The node's side: the real order manager, portfolio and ledger behind ``Books``."""

    books: Books
    portfolio: Portfolio
    journal: MemoryJournal
    states: list[TradingState]

    def hear(self, fill: OrderFilled) -> None:
        """The venue's message of ``fill`` reaches the node (counted once, by trade id)."""
        self.books.order_manager.handle_venue_event(fill)


def _node(venue: FakeVenue, base_currency: str = "USDT") -> Node:
    clock = TestClock(START_NS)
    bus, journal = MessageBus(), MemoryJournal()
    instruments = venue.instruments
    portfolio = Portfolio(
        clock, bus, journal, instruments, Money.from_str("100000", base_currency), fx=_Marks()
    )
    bus.subscribe("events.order.*", portfolio.on_order_event, priority=100)
    manager = OrderManager(clock, bus, journal, instruments, lambda _: None)
    ledger = VenueLedger(instruments, frozenset({venue.venue}))
    portfolio.fill_observers.append(ledger.on_fill)
    states: list[TradingState] = []
    books = Books(
        clock=clock,
        journal=journal,
        order_manager=manager,
        position_raw=portfolio.position_raw,
        cash_raw=portfolio.cash_raw,
        set_trading_state=lambda state, _reason: states.append(state),
        size_precision=lambda iid: instruments[iid].size_precision,
        quote_currency=lambda iid: instruments[iid].quote_currency,
        base_currency=base_currency,
        ledger=ledger,
    )
    holdings = read_holdings(venue, ledger.position_ids(venue.venue))  # type: ignore[arg-type]
    ledger.baseline_of(venue.venue, holdings, START_NS, reason="the run's first start")
    return Node(books, portfolio, journal, states)


class _Marks:
    """A fee in BTC valued at a fixed rate (the node's cash is not what these tests check)."""

    def rate(self, from_currency: str, to_currency: str, ts_ns: int) -> Decimal:
        return Decimal(30000)


def _check(node: Node, venue: FakeVenue, since_ns: int | None = START_NS) -> None:
    reconcile_holdings(
        node.books,
        venue,  # type: ignore[arg-type]
        ReconciliationSection(),
        since_ns=since_ns,
        trigger="test",
    )


def _breaks(node: Node) -> list[ReconciliationBreak]:
    return [r for r in node.journal.records if isinstance(r, ReconciliationBreak)]


def test_a_balance_changed_behind_the_nodes_back_is_a_break_with_both_values() -> None:
    venue = FakeVenue(
        {SPOT.id: SPOT},
        balances_held={"BTC": Decimal(1), "USDT": Decimal(50000), "BNB": Decimal(3)},
    )
    node = _node(venue)
    fill = _fill(SPOT, OrderSide.BUY, "0.5", "20000", "0.0005", "BTC", "t1")
    venue.trade(fill)
    node.hear(fill)
    _check(node, venue)
    assert _breaks(node) == []
    venue.balances_held["USDT"] -= 5  # a withdrawal the node knows nothing of
    _check(node, venue)
    (found,) = _breaks(node)
    assert (found.kind, found.subject) == ("balance", "BINANCE USDT")
    assert (found.local, found.venue) == ("40000 USDT", "39995 USDT")
    assert "-5" in found.reason
    assert node.states == [TradingState.HALTED]


def test_a_position_changed_behind_the_nodes_back_is_a_break_with_both_values() -> None:
    venue = FakeVenue(
        {PERP.id: PERP},
        balances_held={"USDT": Decimal(5000)},
        positions_held={PERP.id: Decimal("0.004")},  # held before the run
    )
    node = _node(venue)
    fill = _fill(PERP, OrderSide.SELL, "0.01", "30000", "0.12", "USDT", "t1")
    venue.trade(fill)
    node.hear(fill)
    venue.balances_held["USDT"] += 77  # funding, realized P&L: a margin wallet is not compared
    _check(node, venue)
    assert _breaks(node) == []
    venue.positions_held[PERP.id] += Decimal("0.002")
    _check(node, venue)
    (found,) = _breaks(node)
    assert (found.kind, found.subject, found.local, found.venue) == (
        "position",
        PERP.id,
        "-0.010",
        "-0.008",
    )


def test_a_fill_the_node_missed_is_counted_before_the_balances_are_compared() -> None:
    venue = FakeVenue({SPOT.id: SPOT}, balances_held={"USDT": Decimal(50000)})
    node = _node(venue)
    missed = _fill(SPOT, OrderSide.BUY, "0.1", "20000", "2", "USDT", "t1")
    venue.trade(missed)  # its message never reached the node
    _check(node, venue, since_ns=START_NS + 3_600_000_000_000)  # a window after it
    assert _breaks(node) == []
    inferred = [r for r in node.journal.records if isinstance(r, FillReconciled)]
    assert [r.fill.trade_id for r in inferred] == ["t1"]
    assert node.books.ledger is not None
    assert node.books.ledger.flows["BINANCE"]["BTC"] == Decimal("0.1")


def test_balances_that_move_between_two_reads_are_left_for_the_next_check() -> None:
    venue = FakeVenue({SPOT.id: SPOT}, balances_held={"USDT": Decimal(50000)})
    node = _node(venue)
    venue.moving = True
    reads = venue.reads
    _check(node, venue)
    assert _breaks(node) == []
    assert venue.reads - reads == 5  # one read that differs, then a pair three times


def test_a_balance_check_the_venue_cannot_answer_alerts_and_asks_again_from_the_same_time() -> None:
    venue = FakeVenue({SPOT.id: SPOT}, balances_held={"USDT": Decimal(50000)})
    node = _node(venue)
    alerts: list[str] = []
    clock = node.books.clock
    assert isinstance(clock, TestClock)
    checks = LiveChecks(
        clock,
        node.books,
        {"BINANCE": venue},  # type: ignore[dict-item]
        ReconciliationSection(),
        alert=alerts.append,
        last_fill_check_ns=START_NS,
    )
    venue.failing = True
    clock.advance_time(START_NS + 300_000_000_000)
    checks.check_fills()
    assert len(alerts) == 1
    assert "fill check of BINANCE failed: balances: 429" in alerts[0]
    assert checks.last_fill_check_ns == START_NS  # the next check covers this one's window
    assert _breaks(node) == []
    venue.failing = False
    clock.advance_time(START_NS + 600_000_000_000)
    checks.check_fills()
    assert checks.last_fill_check_ns == START_NS + 600_000_000_000


def test_the_baseline_is_the_venue_less_what_the_run_already_moved() -> None:
    venue = FakeVenue({SPOT.id: SPOT}, balances_held={"USDT": Decimal(50000)})
    ledger = VenueLedger({SPOT.id: SPOT}, frozenset({"BINANCE"}))
    fill = _fill(SPOT, OrderSide.BUY, "0.1", "20000", "2", "USDT", "t1")
    venue.trade(fill)
    ledger.on_fill(fill)
    holdings = read_holdings(venue, [])  # type: ignore[arg-type]
    event = ledger.baseline_of("BINANCE", holdings, START_NS, reason="derived on resume")
    assert isinstance(event, VenueBaselineRecorded)
    assert {c: Decimal(v) for c, v in event.balances} == {"BTC": 0, "USDT": Decimal(50000)}
    assert ledger.expected_balances("BINANCE") == {
        "BTC": Decimal("0.1"),
        "USDT": Decimal("47998"),
    }


_FILLS = st.lists(
    st.tuples(
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(1, 2_000_000),  # quantity, 6 decimals: up to 2 BTC
        st.integers(100_000_000, 900_000_000),  # price, 4 decimals: 10,000 to 90,000
        st.sampled_from(["base", "quote", "none"]),  # where the venue charges the fee
        st.booleans(),  # the node heard of it (else the check finds it at the venue)
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(fills=_FILLS, other=st.integers(0, 10**12))
def test_random_fill_sequences_never_give_a_false_break(
    fills: list[tuple[OrderSide, int, int, str, bool]], other: int
) -> None:
    venue = FakeVenue(
        {SPOT.id: SPOT},
        balances_held={
            "BTC": Decimal(100),
            "USDT": Decimal(10_000_000),
            "ETH": Decimal(other).scaleb(-8),  # the account holds what the run never trades
        },
    )
    node = _node(venue)
    for index, (side, qty_raw, px_raw, fee_at, heard) in enumerate(fills):
        qty, px = Decimal(qty_raw).scaleb(-6), Decimal(px_raw).scaleb(-4)
        if fee_at == "base":
            fee, currency = (qty * Decimal("0.001")).quantize(Decimal("1e-8")), "BTC"
        elif fee_at == "quote":
            fee, currency = (qty * px * Decimal("0.001")).quantize(Decimal("1e-8")), "USDT"
        else:
            fee, currency = Decimal(0), "USDT"
        fill = _fill(SPOT, side, f"{qty:f}", f"{px:f}", f"{fee:f}", currency, f"t{index}")
        venue.trade(fill)
        if heard:
            node.hear(fill)
    _check(node, venue, since_ns=START_NS)
    assert _breaks(node) == []
    venue.balances_held["BTC"] += Decimal("0.001")  # then a deposit: a break, naming BTC
    _check(node, venue, since_ns=START_NS)
    assert [(b.kind, b.subject) for b in _breaks(node)] == [("balance", "BINANCE BTC")]

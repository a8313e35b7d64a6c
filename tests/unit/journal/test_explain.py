"""Explain: the causal chain of a trade and the exact decomposition of its P&L."""

import importlib.util
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import msgspec
import pytest

from tradeloop.core import ConfigError, Money, Price, Quantity
from tradeloop.journal.explain import TradeBook, decompose
from tradeloop.journal.replay import StoredRecord, read_rows
from tradeloop.model import (
    BetaEstimate,
    BetasEstimated,
    CancelOrder,
    ExecutionPlanned,
    FillCosts,
    LiquiditySide,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderType,
    RiskLimitBreached,
    SubmitOrder,
)
from tradeloop.reports.explain import explain_trade
from tradeloop.reports.run import RunInputs

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _helpers().run_pipeline(tmp_path_factory.mktemp("explain"))


# -- a hand-checked round trip --------------------------------------------------------------------


def _order(
    oid: str, side: OrderSide, ts: int, parent: str | None, tags: tuple[str, ...]
) -> SubmitOrder:
    init = OrderInitialized(
        client_order_id=oid,
        strategy_id="s",
        instrument_id="X.SIM",
        side=side,
        order_type=OrderType.MARKET,
        quantity=Quantity(10, 0),
        parent_order_id=parent,
        tags=tags,
        ts_event=ts,
        ts_init=ts,
    )
    return SubmitOrder(strategy_id="s", ts_init=ts, order=init)


def _fill(
    oid: str, side: OrderSide, ts: int, px: int, ref: int, spread: int, impact: int
) -> OrderFilled:
    return OrderFilled(
        client_order_id=oid,
        strategy_id="s",
        instrument_id="X.SIM",
        venue_order_id="V-" + oid,
        trade_id="T-" + oid,
        order_side=side,
        order_type=OrderType.MARKET,
        last_qty=Quantity(10, 0),
        last_px=Price(px, 2),
        commission=Money.from_str("1", "USD"),
        liquidity_side=LiquiditySide.TAKER,
        reference_px=Price(ref, 2),
        costs=FillCosts(spread=spread, slippage=0, impact=impact),
        ts_event=ts,
        ts_init=ts,
    )


def _rows(records: list[object]) -> list[StoredRecord]:
    return [
        StoredRecord(i + 1, r.ts_init, r.ts_init, "event", type(r).__name__, "", r)  # type: ignore[attr-defined]
        for i, r in enumerate(records)
    ]


def _round_trip_book() -> TradeBook:
    betas = BetasEstimated(
        rebalance_id="R-1",
        benchmark_id="B.SIM",
        method="ols",
        window=60,
        estimates=(BetaEstimate("X.SIM", 1.5, 0.0, 1.5, 60),),
        ts_event=1,
        ts_init=1,
    )
    plan = ExecutionPlanned(
        rebalance_id="R-1",
        instrument_id="X.SIM",
        algorithm="immediate",
        side="BUY",
        quantity=10.0,
        parent_order_id="P-1",
        start_ns=1,
        end_ns=1,
        slices=1,
        arrival_price=100.0,
        reason="test",
        ts_event=1,
        ts_init=1,
    )
    return TradeBook(
        _rows(
            [
                betas,
                plan,
                _order("O-1", OrderSide.BUY, 1, "P-1", ("rebalance:R-1", "algo:immediate")),
                # Buy 10 at 101.05 over a reference of 101.00: 0.03 spread + 0.02 impact a share.
                _fill("O-1", OrderSide.BUY, 2, 10105, 10100, 300_000_000, 200_000_000),
                _order("O-2", OrderSide.SELL, 3, None, ()),
                # Sell 10 at 108.97 under a reference of 109.00: 0.03 spread a share.
                _fill("O-2", OrderSide.SELL, 4, 10897, 10900, 300_000_000, 0),
            ]
        )
    )


PRICES = {
    ("X.SIM", 1): Fraction(100),
    ("X.SIM", 3): Fraction(110),
    ("X.SIM", 4): Fraction(109),
    ("B.SIM", 1): Fraction(200),
    ("B.SIM", 3): Fraction(204),
    ("B.SIM", 4): Fraction(204),
}


def _price_at(instrument_id: str, ts: int) -> Fraction | None:
    return PRICES.get((instrument_id, ts))


def test_round_trip_decomposes_into_the_hand_computed_parts() -> None:
    pnl = decompose(_round_trip_book(), end_ts=4, price_at=_price_at)
    entry, exit_ = pnl["P-1"], pnl["O-2"]
    # Entry: decided at 100, filled at a 101 reference; held until the exit's decision at 110,
    # while the benchmark rose 2 % and the beta is 1.5.
    assert entry.timing == 10 * (100 - 101)
    assert entry.market == 10 * 100 * Fraction(3, 2) * Fraction(2, 100)
    assert entry.alpha == 10 * (110 - 100) - 30
    assert (entry.spread, entry.impact, entry.slippage, entry.fees) == (
        Fraction(-3, 10),
        Fraction(-2, 10),
        0,
        -1,
    )
    assert entry.pnl == 10 * (110 - Fraction("101.05")) - 1
    # Exit: decided at 110, referenced at 109: its own timing, spread and fee only.
    assert exit_.timing == -10 * (110 - 109)
    assert (exit_.market, exit_.alpha, exit_.spread, exit_.fees) == (0, 0, Fraction(-3, 10), -1)
    assert exit_.pnl == -10 * (110 - Fraction("108.97")) - 1
    for trade in (entry, exit_):
        assert trade.parts_sum() == trade.pnl
    # Together: the round trip's realized P&L less both fees.
    assert entry.pnl + exit_.pnl == 10 * (Fraction("108.97") - Fraction("101.05")) - 2


def test_decomposition_without_market_data_still_sums_exactly() -> None:
    pnl = decompose(_round_trip_book(), end_ts=4)
    assert pnl["P-1"].decision_price == 100  # the plan's arrival price
    assert pnl["O-2"].decision_price == Fraction("109")  # its fill's reference price
    for trade in pnl.values():
        assert trade.parts_sum() == trade.pnl
    assert sum(t.pnl for t in pnl.values()) == 10 * (Fraction("108.97") - Fraction("101.05")) - 2


# -- a run through the engine ---------------------------------------------------------------------


def test_every_trades_parts_sum_exactly_to_its_pnl_and_all_trades_to_the_runs_pnl(run) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(run.run_dir, base_dir=DATA)
    trades = inputs.pnl
    assert len(trades) > 20
    for trade in trades.values():
        assert trade.parts_sum() == trade.pnl
    final = Fraction(run.kernel.portfolio.equity_raw(), 10**9)
    assert sum(t.pnl for t in trades.values()) == final - 100_000
    assert any(t.market != 0 for t in trades.values())
    assert any(t.spread != 0 for t in trades.values())
    assert any(t.timing != 0 for t in trades.values())


def test_explain_finds_a_trade_by_client_order_id_trade_id_or_parent_order_id(run) -> None:  # type: ignore[no-untyped-def]
    book = TradeBook(read_rows(run.journal_path))
    key = next(k for k in book.trade_keys() if k.startswith("P-"))
    child = book.trades[key].orders[0]
    fill = book.fills_by_order[child.client_order_id][0]
    assert book.trade_key(key) == key
    assert book.trade_key(child.client_order_id) == key
    assert book.trade_key(fill.trade_id) == key


def test_explain_chain_of_a_pipeline_trade_holds_every_stage(run) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(run.run_dir, base_dir=DATA)
    key = next(k for k in inputs.book.trade_keys() if k.startswith("P-"))
    explanation = explain_trade(inputs, key)
    chain = explanation.chain
    assert chain.rebalance_id is not None
    assert key == f"P-{chain.rebalance_id}-{chain.instrument_id}"
    assert {s.agent_id for s in chain.signals} == {"momentum", "meanrev"}
    for stage in (
        chain.beta,
        chain.regime,
        chain.ensemble,
        chain.target,
        chain.risk,
        chain.cost,
        chain.plan,
    ):
        assert stage is not None
    assert all(o.parent_order_id == key for o in chain.orders)
    assert all(f"rebalance:{chain.rebalance_id}" in o.tags for o in chain.orders)
    assert chain.fills
    assert chain.completed is not None
    assert explanation.sections[0].title == "data seen"
    assert explanation.bars
    assert explanation.bars[-1].ts <= chain.decision_ts
    assert sum(explanation.pnl.parts.values()) == pytest.approx(explanation.pnl.pnl)
    assert explanation.notes == ()


def test_explain_of_an_unknown_trade_is_a_config_error(run) -> None:  # type: ignore[no-untyped-def]
    book = TradeBook(read_rows(run.journal_path))
    with pytest.raises(ConfigError, match="is not a client order id, trade id or parent"):
        book.chain("O-nobody-1")


# -- a risk exit ----------------------------------------------------------------------------------


def _plan(rid: str, parent: str, side: str, ts: int, arrival: float) -> ExecutionPlanned:
    return ExecutionPlanned(
        rebalance_id=rid,
        instrument_id="X.SIM",
        algorithm="immediate",
        side=side,
        quantity=10.0,
        parent_order_id=parent,
        start_ns=ts,
        end_ns=ts,
        slices=1,
        arrival_price=arrival,
        reason="test",
        ts_event=ts,
        ts_init=ts,
    )


def _betas(rid: str, ts: int, beta: float) -> BetasEstimated:
    return BetasEstimated(
        rebalance_id=rid,
        benchmark_id="B.SIM",
        method="ols",
        window=60,
        estimates=(BetaEstimate("X.SIM", beta, 0.0, beta, 60),),
        ts_event=ts,
        ts_init=ts,
    )


def risk_exit_book() -> TradeBook:
    """A buy (R-1), then at ts 3 a trailing-stop exit (risk-1) journaled before the same
    instant's rebalance R-2, whose betas and whose cancel of its own order come after it."""
    breach = RiskLimitBreached(
        rule="trailing_stop",
        instrument_id="X.SIM",
        value=0.27,
        limit=0.25,
        action="exit -10 at market",
        decision_id="risk-1",
        ts_event=3,
        ts_init=3,
    )
    canceled = OrderCanceled(
        client_order_id="O-3",
        strategy_id="s",
        instrument_id="X.SIM",
        venue_order_id="V-O-3",
        ts_event=3,
        ts_init=3,
    )
    cancel = CancelOrder(strategy_id="s", instrument_id="X.SIM", client_order_id="O-3", ts_init=3)
    exit_fill = msgspec.structs.replace(
        _fill("O-2", OrderSide.SELL, 4, 10897, 10900, 300_000_000, 0),
        commission=Money.from_str("3.255", "USD"),
    )
    return TradeBook(
        _rows(
            [
                _betas("R-1", 1, 1.5),
                _plan("R-1", "P-1", "BUY", 1, 100.0),
                _order("O-1", OrderSide.BUY, 1, "P-1", ("rebalance:R-1", "algo:immediate")),
                _fill("O-1", OrderSide.BUY, 2, 10105, 10100, 300_000_000, 200_000_000),
                breach,
                _plan("risk-1", "P-2", "SELL", 3, 110.0),
                _order("O-2", OrderSide.SELL, 3, "P-2", ("rebalance:risk-1", "algo:immediate")),
                _betas("R-2", 3, 9.0),
                _plan("R-2", "P-3", "BUY", 3, 110.0),
                _order("O-3", OrderSide.BUY, 3, "P-3", ("rebalance:R-2", "algo:immediate")),
                cancel,
                canceled,
                exit_fill,
            ]
        )
    )


def test_a_risk_exit_links_its_breach_and_sees_only_what_was_journaled_before_it() -> None:
    book = risk_exit_book()
    chain = book.chain("P-2")
    assert chain.breach is not None
    assert (chain.breach.rule, chain.breach.decision_id) == ("trailing_stop", "risk-1")
    # R-2's betas have the exit's timestamp but come after it in the journal.
    assert chain.betas is not None
    assert chain.betas.rebalance_id == "R-1"
    assert chain.beta is not None
    assert chain.beta.beta == 1.5
    pnl = decompose(book, end_ts=4)
    assert pnl["P-2"].beta == 1.5
    assert "R-1" in pnl["P-2"].beta_source


def test_a_canceled_order_says_who_canceled_it_and_during_which_decision() -> None:
    chain = risk_exit_book().chain("P-3")
    cause = chain.cancel_causes["O-3"]
    assert "strategy s" in cause
    assert "decision R-2" in cause
    venue = risk_exit_book().cancel_cause(
        "O-9",
        OrderCanceled(
            client_order_id="O-9",
            strategy_id="s",
            instrument_id="X.SIM",
            reason="IOC/FOK order not filled on arrival",
            ts_event=5,
            ts_init=5,
        ),
    )
    assert venue == "canceled by the venue: IOC/FOK order not filled on arrival"


def test_a_closing_trade_has_the_round_trip_of_the_lots_it_closed() -> None:
    pnl = decompose(risk_exit_book(), end_ts=4)
    exit_ = pnl["P-2"]
    (lot,) = exit_.closed_lots
    assert (lot.opened_by, lot.quantity, lot.sign) == ("P-1", 10, 1)
    gross, fees, net = exit_.round_trip()
    assert gross == 10 * (Fraction("108.97") - Fraction("101.05"))
    assert fees == 1 + Fraction("3.255")
    assert net == gross - fees
    assert pnl["P-1"].closed_lots == []
    assert pnl["P-1"].round_trip() == (0, 0, 0)


def _text(book: TradeBook, key: str) -> dict[str, str]:
    from tradeloop.reports.explain import pnl_view, sections

    trade = decompose(book, end_ts=4)[key]
    return {s.title: "\n".join(s.lines) for s in sections(book.chain(key), (), pnl_view(trade))}


def test_explain_of_a_risk_exit_shows_its_breach_not_a_missing_review() -> None:
    text = _text(risk_exit_book(), "P-2")
    review = text["risk review"]
    assert "risk exit risk-1" in review
    assert "trailing_stop" in review
    assert "value 0.27 vs limit 0.25" in review
    assert "published none" not in review
    assert "risk exit" in text["agents"]


def test_money_reads_the_same_everywhere_rounded_half_even_from_the_exact_value() -> None:
    # The exit's commission is exactly 3.255: half-even gives 3.26 (a float would say 3.25).
    text = _text(risk_exit_book(), "P-2")
    assert "commission 3.26 USD" in text["fills"]
    fees = next(
        line
        for line in text["P&L decomposition (decision attribution)"].splitlines()
        if line.startswith("fees")
    )
    assert fees.split()[-1] == "-3.26"
    assert "spread 0.30, slippage 0.00, impact 0.00" in text["fills"]


def test_a_closing_trade_shows_both_views_labelled() -> None:
    text = _text(risk_exit_book(), "P-2")
    assert "decision attribution" in text["P&L decomposition (decision attribution)"]
    trip = text["round-trip P&L (the lots this trade closed)"]
    assert "opened by P-1" in trip
    assert trip.splitlines()[-1].split()[-1] == "74.94"  # 79.20 - 1 - 3.255, half-even
    assert "round-trip P&L (the lots this trade closed)" not in _text(risk_exit_book(), "P-1")


def test_the_explain_of_a_canceled_order_names_who_canceled_it() -> None:
    text = _text(risk_exit_book(), "P-3")
    assert "OrderCanceled" in text["child orders"]
    assert "at the request of strategy s" in text["child orders"]

"""Explain: the causal chain of a trade and the exact decomposition of its P&L."""

import importlib.util
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest

from tradeloop.core import ConfigError, Money, Price, Quantity
from tradeloop.journal.explain import TradeBook, decompose
from tradeloop.journal.replay import StoredRecord, read_rows
from tradeloop.model import (
    BetaEstimate,
    BetasEstimated,
    ExecutionPlanned,
    FillCosts,
    LiquiditySide,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderType,
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

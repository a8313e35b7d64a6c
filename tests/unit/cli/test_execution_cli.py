"""TCA of a hand-built run (journal + bundled trades), and the execution commands of the CLI.

The run trades BTCUSDT on the bundled Binance trades of 2021-01-08 (prices in USDT):

    row  ts (ns after 1610064000000000000)  price     size
    0    278,000,000                         39432.48  0.000263
    1    310,000,000                         39439.44  0.004376
    2    368,000,000                         39439.22  0.000311
    3    385,000,000                         39439.06  0.004376
    8-13 673,000,000 (six trades; the last)  39437.61
"""

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tradeloop.cli.execution import register, run_tca
from tradeloop.config.schema import (
    DataSection,
    RunConfig,
    RunSection,
    StrategySection,
    canonical_json,
)
from tradeloop.core import Money, Price, Quantity
from tradeloop.core.ids import file_hash
from tradeloop.data import bundled
from tradeloop.execution.tca import tca_orders
from tradeloop.journal import DataRef, JournalRecord, RunManifest, SqliteJournal, read_records
from tradeloop.model import (
    OrderCanceled,
    OrderDenied,
    OrderFactory,
    OrderFilled,
    OrderSide,
    SubmitOrder,
)
from tradeloop.model.enums import LiquiditySide

cli_main = importlib.import_module("tradeloop.cli.main")  # the package exports main()
T0 = 1_610_064_000_000_000_000
IID = "BTCUSDT.BINANCE"


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def timestamp_ns(self) -> int:
        return self.now


def _fill(order: Any, trade_id: str, ts: int, qty: int, px: int, fee_cents: int) -> OrderFilled:
    return OrderFilled(
        client_order_id=order.client_order_id,
        strategy_id="s",
        instrument_id=IID,
        venue_order_id="V",
        trade_id=trade_id,
        order_side=order.side,
        order_type=order.order_type,
        last_qty=Quantity(qty, 6),
        last_px=Price(px, 2),
        commission=Money.from_str(f"{fee_cents / 100:.2f}", "USDT"),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=ts,
        ts_init=ts,
    )


def _write_run(run_dir: Path) -> None:
    config = RunConfig(
        run=RunSection(base_currency="USDT"),  # the instrument's quote currency
        data=[DataSection(dataset="btcusdt_trades")],
        strategies=[StrategySection(class_path="SmaCross", params={"instrument_ids": [IID]})],
    )
    columns = bundled.load_trades("btcusdt_trades")
    manifest = RunManifest(
        run_id="hand-built",
        mode="backtest",
        config_hash="h",
        config_json=canonical_json(config).decode(),
        seed=0,
        code_version="test",
        data=(
            DataRef(
                name="btcusdt_trades",
                kind="trades",
                instrument_id=IID,
                rows=len(columns),
                first_ts=int(columns.ts_init[0]),
                last_ts=int(columns.ts_init[-1]),
                content_hash=file_hash(str(bundled.path("btcusdt_trades"))),
                source="bundled:btcusdt_trades",
            ),
        ),
    )
    run_dir.mkdir()
    journal = SqliteJournal(run_dir / "journal.sqlite", manifest)
    clock = _Clock()
    factory = OrderFactory("s", clock)  # type: ignore[arg-type]
    buy = factory.limit(IID, OrderSide.BUY, Quantity(10_000, 6), Price(3944000, 2))
    sell = factory.market(IID, OrderSide.SELL, Quantity(20_000, 6))
    denied = factory.market(IID, OrderSide.BUY, Quantity(1_000, 6))
    for record in (
        SubmitOrder(strategy_id="s", ts_init=T0 + 300_000_000, order=buy),
        _fill(buy, "T1", T0 + 310_000_000, 4_000, 3943944, 1),
        _fill(buy, "T1", T0 + 310_000_000, 4_000, 3943944, 1),  # a duplicate: dropped
        _fill(buy, "T2", T0 + 368_000_000, 6_000, 3943922, 2),
        SubmitOrder(strategy_id="s", ts_init=T0 + 400_000_000, order=sell),
        _fill(sell, "T3", T0 + 471_000_000, 5_000, 3943248, 1),
        OrderCanceled(
            client_order_id=sell.client_order_id,
            strategy_id="s",
            instrument_id=IID,
            venue_order_id="V",
            ts_event=T0 + 673_000_000,
            ts_init=T0 + 673_000_000,
        ),
        SubmitOrder(strategy_id="s", ts_init=T0 + 700_000_000, order=denied),
        OrderDenied(
            client_order_id=denied.client_order_id,
            strategy_id="s",
            instrument_id=IID,
            reason="test",
            ts_event=T0 + 700_000_000,
            ts_init=T0 + 700_000_000,
        ),
    ):
        journal.append(record)
    journal.close()


def test_tca_orders_from_the_journal(tmp_path: Path) -> None:
    _write_run(tmp_path / "run")
    records: list[JournalRecord] = list(read_records(tmp_path / "run" / "journal.sqlite"))
    orders = tca_orders(records)
    assert [(o.order_id, o.side, o.quantity, len(o.fills), o.end_ts_ns) for o in orders] == [
        ("O-s-1", OrderSide.BUY, 0.01, 2, None),
        ("O-s-2", OrderSide.SELL, 0.02, 1, T0 + 673_000_000),
    ]
    assert orders[0].arrival_ts_ns == T0 + 300_000_000
    assert [(f.quantity, f.price, f.fee) for f in orders[0].fills] == [
        (0.004, 39439.44, 0.01),
        (0.006, 39439.22, 0.02),
    ]


def test_tca_of_a_hand_built_run(tmp_path: Path) -> None:
    _write_run(tmp_path / "run")
    report, run_id, source = run_tca(tmp_path / "run")
    assert (run_id, source) == ("hand-built", "last")  # trades only: arrival = last print
    buy, sell = report.orders
    # Buy 0.01: arrival = the last trade before 300 ms: 39432.48.
    average = (0.004 * 39439.44 + 0.006 * 39439.22) / 0.01
    assert buy.arrival_price == 39432.48
    assert buy.average_fill_price == pytest.approx(average)
    assert buy.slippage_bps == pytest.approx((average - 39432.48) / 39432.48 * 1e4)
    shortfall = 0.01 * (average - 39432.48) + 0.03
    assert buy.shortfall_amount == pytest.approx(shortfall)
    assert buy.shortfall_bps == pytest.approx(shortfall / (0.01 * 39432.48) * 1e4)
    # Interval 300..368 ms: prints at 310 and 368.
    vwap = (0.004376 * 39439.44 + 0.000311 * 39439.22) / (0.004376 + 0.000311)
    assert buy.vwap == pytest.approx(vwap)
    assert buy.twap == pytest.approx((10 * 39432.48 + 58 * 39439.44) / 68)
    assert buy.market_volume == pytest.approx(0.004687)
    assert (buy.fill_rate, buy.end_ts_ns) == (1.0, T0 + 368_000_000)
    # Sell 0.02 at 400 ms (arrival 39439.06), 0.005 filled at 39432.48, canceled at 673 ms,
    # when the last price was 39437.61: the 0.015 left fell 1.45 while we waited.
    assert sell.arrival_price == 39439.06
    assert sell.fill_rate == pytest.approx(0.25)
    assert sell.execution_cost_amount == pytest.approx(0.005 * (39439.06 - 39432.48))
    assert sell.opportunity_cost_amount == pytest.approx(-0.015 * (39437.61 - 39439.06))
    assert sell.slippage_bps == pytest.approx((39439.06 - 39432.48) / 39439.06 * 1e4)
    summary = report.summary
    assert (summary.order_count, summary.filled_order_count) == (2, 2)
    ordered = 0.01 * 39432.48 + 0.02 * 39439.06
    assert summary.ordered_notional == pytest.approx(ordered)
    assert summary.shortfall_amount == pytest.approx(buy.shortfall_amount + sell.shortfall_amount)
    assert summary.fill_rate == pytest.approx((0.01 * 39432.48 + 0.005 * 39439.06) / ordered)


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> tuple[int, str, str]:
    if "tca" not in {c.name for c in cli_main.app.registered_commands}:
        register(cli_main.app, cli_main.bench_app)
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    monkeypatch.setenv("COLUMNS", "240")  # room for the whole table
    code = 0
    try:
        cli_main.main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_tca_command_prints_json_and_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _write_run(tmp_path / "run")
    code, out, _ = _cli(["tca", str(tmp_path / "run"), "--json"], monkeypatch, capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["run_id"] == "hand-built"
    assert [o["order_id"] for o in payload["orders"]] == ["O-s-1", "O-s-2"]
    assert payload["summary"]["order_count"] == 2
    code, out, _ = _cli(["tca", str(tmp_path / "run")], monkeypatch, capsys)
    assert code == 0
    assert "O-s-2" in out
    assert "shortfall bps" in out


def test_tca_of_a_directory_without_a_journal_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, _, err = _cli(["tca", str(tmp_path)], monkeypatch, capsys)
    assert code == 2
    assert err.strip() == (
        f"error: {tmp_path} is not a run directory: it has no journal.sqlite (a run directory "
        "is the runs/<run_id> a backtest or paper run writes)"
    )


def test_bench_book_command_on_a_missing_file_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    missing = tmp_path / "nope.gz"
    code, _, err = _cli(["bench", "book", "--file", str(missing)], monkeypatch, capsys)
    assert code == 2
    assert err.strip() == f"error: book recording {missing} does not exist"


def test_bench_book_command_reports_deltas_per_second(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, out, _ = _cli(["bench", "book", "--repeat", "1", "--json"], monkeypatch, capsys)
    assert code == 0
    result = json.loads(out)
    assert result["file"] == "binance-usdm-btcusdt-20240808-head.gz"
    assert result["deltas"] == 49_069
    assert result["deltas_per_s"] > 0


BOOKS = Path(__file__).parents[2] / "data" / "books"
LOBSTER_RUN = f"""
[run]
name = "lobster-tca"
starting_cash = "1000000"

[[instruments]]
id = "AAPL.XNAS"
kind = "equity"
quote_currency = "USD"
price_precision = 2
size_precision = 0

[[data]]
path = "{BOOKS / "AAPL_2012-06-21_34200000_57600000_message_10.csv"}"
format = "lobster"
instrument_id = "AAPL.XNAS"

[venue]
fidelity = "book"
book = {{ book_type = "l3" }}

[[strategies]]
class = "ExecutionSchedule"
id = "exec"

[[strategies.params.orders]]
instrument_id = "AAPL.XNAS"
side = "buy"
quantity = "300"
at = "2012-06-21T13:30:10Z"

[[strategies.params.orders]]
instrument_id = "AAPL.XNAS"
side = "buy"
quantity = "200"
algorithm = "iceberg"
display_quantity = "200"
limit_price = "585.33"
at = "2012-06-21T13:30:05Z"
"""


def test_tca_of_a_book_only_run_uses_the_book_mid_and_groups_children_by_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import msgspec

    from tradeloop.config import load_config
    from tradeloop.engine.runner import prepare_run, run_backtest

    path = tmp_path / "lobster.toml"
    path.write_text(LOBSTER_RUN)
    config = load_config(path)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp_path))
    )
    result = run_backtest(prepare_run(config, tmp_path))
    report, _, source = run_tca(result.run_dir)
    # LOBSTER gives only the book: the arrival is its mid. At 09:30:05 (after message 332)
    # bid 585.50 / ask 585.68 -> 585.59; at 09:30:10 (after message 405) 585.44 / 585.66 ->
    # 585.55.
    assert source == "mid"
    parents = {p.tca.order_id: p for p in report.parents}
    resting, market = parents["P-exec-2"], parents["P-exec-1"]
    assert (resting.algorithm, resting.child_order_ids) == ("iceberg", ("O-exec-1",))
    assert resting.tca.arrival_price == pytest.approx(585.59)
    assert resting.tca.average_fill_price == pytest.approx(585.33)
    assert resting.tca.slippage_bps == pytest.approx((585.33 - 585.59) / 585.59 * 1e4)
    # The book's own executions are the tape: 5,526 shares from 09:30:05 to the last fill.
    # The resting bid was filled by those executions (maker): 200 of the 5,526.
    assert resting.tca.market_volume == 5526.0
    assert resting.tca.participation == pytest.approx(200 / 5526)
    # The market buy took 300 from the book (taker), which the recorded executions never
    # saw: 300 of the market's volume plus ours.
    volume = market.tca.market_volume
    assert market.tca.participation_volume == volume + 300
    assert market.tca.participation == pytest.approx(300 / (volume + 300))
    average = (2 * 585.66 + 18 * 585.67 + 280 * 585.68) / 300
    assert market.tca.arrival_price == pytest.approx(585.55)
    assert market.tca.slippage_bps == pytest.approx((average - 585.55) / 585.55 * 1e4)
    # Per order too, tagged with the parent.
    assert [(o.order_id, o.parent_order_id) for o in report.orders] == [
        ("O-exec-1", "P-exec-2"),
        ("O-exec-2", "P-exec-1"),
    ]
    assert report.parent_summary is not None
    assert report.parent_summary.order_count == 2
    # --limit applies to the parent table as to the order table.
    code, out, _ = _cli(["tca", str(result.run_dir), "--limit", "1"], monkeypatch, capsys)
    assert code == 0
    assert out.count("P-exec-") == 1
    assert "… 1 more parent orders (--limit 0 lists all)" in out
    assert "… 1 more orders (--limit 0 lists all)" in out
    code, out, _ = _cli(["tca", str(result.run_dir), "--limit", "0"], monkeypatch, capsys)
    assert (code, out.count("P-exec-"), "more parent orders" in out) == (0, 2, False)

"""Runs without bars (level 4, order-book data): trades are valued at the marks the kernel
used, so their P&L adds up to the run's exactly."""

import json
import shutil
from fractions import Fraction
from pathlib import Path

import msgspec
import numpy as np
import pytest

from tradeloop.config import load_config
from tradeloop.data.books import BookDeltaColumns, top_of_book
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.reports.explain import explain_trade
from tradeloop.reports.run import RunInputs

BOOKS = Path(__file__).resolve().parents[2] / "data" / "books"

# A Binance USD-M depth recording: book deltas, with the recording's best bid/ask and trades
# (no bars). Three execution algorithms, one position left open at the end.
BINANCE = """
[run]
name = "exec-l4"
base_currency = "USDT"
starting_cash = "10000000"
seed = 5

[[instruments]]
id = "BTCUSDT-PERP.BINANCE_USDM"
kind = "crypto_perpetual"
quote_currency = "USDT"
base_currency = "BTC"
price_precision = 1
size_precision = 3

[[data]]
path = "binance-usdm-btcusdt-20240808-head.gz"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"

[venue]
fidelity = "book"
book = { book_type = "l2", queue_cancels = "behind" }
latency = { entry_latency_ns = { kind = "lognormal", median_ns = 1500000, sigma = 0.5, offset_ns = 500000 }, response_latency_ns = 800000 }
commission = { kind = "bps", bps = 5 }

[risk]
max_leverage = 5.0

[[strategies]]
class = "ExecutionSchedule"
id = "exec"

[[strategies.params.orders]]
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"
side = "buy"
quantity = "3"
algorithm = "twap"
slices = 5
interval_ns = 2000000000
at = "2024-08-08T23:54:20Z"

[[strategies.params.orders]]
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"
side = "sell"
quantity = "2"
algorithm = "iceberg"
display_quantity = "0.2"
offset_ticks = 0
at = "2024-08-08T23:54:25Z"
"""

# Databento MBO of ES (a future: multiplier 50), the book alone, cut in the pre-open of
# 2023-12-25 so that the run ends with the book crossed (bid 4805.00 over ask 4799.50).
DATABENTO = """
[run]
name = "es-mbo"
starting_cash = "1000000"

[[instruments]]
id = "ESH4.GLBX"
kind = "future"
quote_currency = "USD"
price_precision = 2
size_precision = 0
tick_size = "0.25"
multiplier = "50"

[[data]]
path = "esh4-glbx-mdp3-20231225-head.mbo.csv.gz"
format = "databento-mbo"
instrument_id = "ESH4.GLBX"
end = "2023-12-25T22:50:00Z"

[venue]
fidelity = "book"
book = { book_type = "l3" }
commission = { kind = "per_share", per_share = "0.85" }

[[strategies]]
class = "ExecutionSchedule"
id = "exec"

[[strategies.params.orders]]
instrument_id = "ESH4.GLBX"
side = "buy"
quantity = "3"
at = "2023-12-25T22:00:00Z"

[[strategies.params.orders]]
instrument_id = "ESH4.GLBX"
side = "sell"
quantity = "2"
at = "2023-12-25T22:30:00Z"
"""


def _run(tmp_path: Path, text: str, data_file: str) -> RunResult:
    shutil.copy(BOOKS / data_file, tmp_path / data_file)
    path = tmp_path / "run.toml"
    path.write_text(text)
    config = load_config(path)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp_path / "runs"))
    )
    return run_backtest(prepare_run(config, tmp_path))


@pytest.fixture(scope="module")
def binance_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return _run(
        tmp_path_factory.mktemp("binance"), BINANCE, "binance-usdm-btcusdt-20240808-head.gz"
    )


@pytest.fixture(scope="module")
def databento_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return _run(
        tmp_path_factory.mktemp("databento"), DATABENTO, "esh4-glbx-mdp3-20231225-head.mbo.csv.gz"
    )


def _check_adds_up(result: RunResult, starting_cash: int) -> RunInputs:
    inputs = RunInputs(result.run_dir)  # location.json: where the run found its data
    assert inputs.notes == []
    assert not inputs.prices  # no bars: valued at the marks
    trades = inputs.pnl
    assert trades
    for trade in trades.values():
        assert trade.parts_sum() == trade.pnl
    # Exact: the kernel's final equity is a money raw (9 decimals) and every part of the
    # decomposition is a rational of the journal's exact prices, quantities and money and of
    # the book's raw prices (mids have one decimal more).
    final = Fraction(result.kernel.portfolio.equity_raw(), 10**9)
    assert sum(t.pnl for t in trades.values()) == final - starting_cash
    # summary.json (and equity.csv) keep it as a float printed to 6 decimals: equal to that.
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert abs(float(final) - summary["final_equity"]) <= 5e-7
    # Open lots are valued at the run's end: its last market data, not its last journal record.
    assert inputs.prepared is not None
    last_data = max(int(s.columns.ts_init[-1]) for s in inputs.prepared.sources)
    assert inputs.end_ts == last_data
    assert any(t.open_quantity and t.exit_ts == last_data for t in trades.values())
    return inputs


def test_trades_of_a_binance_book_run_add_up_to_its_equity_change_exactly(binance_run) -> None:  # type: ignore[no-untyped-def]
    inputs = _check_adds_up(binance_run, 10_000_000)
    marks = inputs.marks["BTCUSDT-PERP.BINANCE_USDM"]
    # The book's mids, the recording's quotes and its trades, in the feed's order.
    assert set(np.unique(marks.kind).tolist()) == {0, 1, 2}
    assert bool(np.all(np.diff(marks.ts) >= 0))
    sources = {t.decision_price_source for t in inputs.pnl.values()}
    assert sources <= {"book mid at the decision", "quote mid at the decision"}
    assert all(not t.notes for t in inputs.pnl.values())


def test_trades_of_a_book_only_run_ending_crossed_add_up_exactly(databento_run) -> None:  # type: ignore[no-untyped-def]
    inputs = _check_adds_up(databento_run, 1_000_000)
    prepared = inputs.prepared
    assert prepared is not None
    assert [s.name.rsplit(":", 1)[1] for s in prepared.sources] == ["book"]
    columns = prepared.sources[0].columns
    assert isinstance(columns, BookDeltaColumns)
    # The kernel marks a crossed book at its mid: so do the reports (top_of_book would skip
    # it, and the open contract would be valued 150 USD off).
    ts, bid, ask = top_of_book(columns, allow_crossed=True)
    assert bid[-1] > ask[-1]
    usable_ts, _, _ = top_of_book(columns)
    assert usable_ts[-1] < ts[-1]
    marks = inputs.marks["ESH4.GLBX"]
    assert set(np.unique(marks.kind).tolist()) == {0}
    assert marks.mark_raw[-1] == (bid[-1] + ask[-1]) * 5
    opened = next(t for t in inputs.pnl.values() if t.open_quantity)
    assert opened.decision_price_source == "book mid at the decision"
    assert any("crossed or locked" in note for note in opened.notes)


def test_explain_of_a_book_run_shows_the_book_the_decision_saw(databento_run) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(databento_run.run_dir)
    key = inputs.book.trade_keys()[0]
    explanation = explain_trade(inputs, key)
    assert explanation.bars == ()
    assert explanation.marks
    assert all(m.kind == "book" and m.bid and m.ask for m in explanation.marks)
    assert explanation.marks[-1].ts <= explanation.decision_ts
    seen = explanation.sections[0]
    assert seen.title == "data seen"
    assert len(seen.lines) == len(explanation.marks)
    assert explanation.notes == ()


def test_explain_without_the_run_data_says_why_in_its_notes(databento_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(databento_run.run_dir, base_dir=tmp_path)  # the data file is not there
    key = inputs.book.trade_keys()[0]
    explanation = explain_trade(inputs, key)
    assert explanation.bars == ()
    assert explanation.marks == ()
    assert explanation.notes  # never "see notes" with no notes
    assert any("market data not loaded" in note for note in explanation.notes)
    assert any("ESH4.GLBX" in note for note in explanation.pnl.notes)
    # Valued from the journal alone: the open lot at the last fill price, and it says so.
    opened = next(t for t in inputs.pnl.values() if t.open_quantity)
    assert any("last fill price" in note for note in opened.notes)
    for trade in inputs.pnl.values():
        assert trade.parts_sum() == trade.pnl

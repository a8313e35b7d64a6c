"""A run config with order-book data drives the level-4 venue end to end."""

from pathlib import Path

import msgspec

from tradeloop.config import load_config
from tradeloop.engine.runner import PreparedRun, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import LiquiditySide, OrderFilled

ROOT = Path(__file__).parents[2] / "data"

CONFIG = f"""
[run]
name = "book"
base_currency = "USDT"
starting_cash = "100000"

[[instruments]]
id = "BTCUSDT-PERP.BINANCE"
kind = "crypto_perpetual"
quote_currency = "USDT"
base_currency = "BTC"
price_precision = 1
size_precision = 3

[[data]]
path = "{ROOT / "books" / "binance-usdm-btcusdt-20240808-head.gz"}"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP.BINANCE"

[venue]
fidelity = "book"

[risk]
max_leverage = 5.0

[[strategies]]
class = "{ROOT / "strategies" / "book_probe.py"}:BookProbe"
params = {{ instrument_id = "BTCUSDT-PERP.BINANCE" }}
"""


def _prepared(tmp_path: Path, text: str) -> PreparedRun:
    path = tmp_path / "run.toml"
    path.write_text(text)
    config = load_config(path)
    run = msgspec.structs.replace(config.run, output_dir=str(tmp_path))
    return prepare_run(msgspec.structs.replace(config, run=run), tmp_path)


def test_book_data_in_a_config_fills_at_the_book_and_queues_passive_orders(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, CONFIG)
    kinds = sorted(s.name.rsplit(":", 1)[1] for s in prepared.sources)
    assert kinds == ["book", "quotes", "trades"]
    result = run_backtest(prepared)
    fills = [
        r.record for r in read_records(result.journal_path) if isinstance(r.record, OrderFilled)
    ]
    taker = [f for f in fills if f.liquidity_side is LiquiditySide.TAKER]
    maker = [f for f in fills if f.liquidity_side is LiquiditySide.MAKER]
    assert taker, "the market order walked the book"
    probe = prepared.strategies[0]
    assert all(f.last_px >= probe.first_ask for f in taker)  # type: ignore[attr-defined]
    assert sum(f.last_qty.raw for f in taker) == 10
    # The passive bid joined behind the queue at the best bid: whatever filled, filled as maker.
    assert all(f.order_type == "LIMIT" for f in maker)


LOBSTER_CONFIG = f"""
[run]
name = "lobster"
starting_cash = "1000000"

[[instruments]]
id = "AAPL.XNAS"
kind = "equity"
quote_currency = "USD"
price_precision = 2
size_precision = 0

[[data]]
path = "{ROOT / "books" / "AAPL_2012-06-21_34200000_57600000_message_10.csv"}"
format = "lobster"
instrument_id = "AAPL.XNAS"

[venue]
fidelity = "book"
book = {{ book_type = "l3" }}

[[strategies]]
class = "ExecutionSchedule"
id = "exec"

[[strategies.params.orders]]     # a market buy at 09:30:10 New York time
instrument_id = "AAPL.XNAS"
side = "buy"
quantity = "300"
at = "2012-06-21T13:30:10Z"

[[strategies.params.orders]]     # a resting bid of 200 at 585.33 from 09:30:05
instrument_id = "AAPL.XNAS"
side = "buy"
quantity = "200"
algorithm = "iceberg"
display_quantity = "200"
limit_price = "585.33"
at = "2012-06-21T13:30:05Z"
"""


def test_lobster_messages_drive_a_level_four_l3_run_hand_checked(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, LOBSTER_CONFIG)
    assert [s.name.rsplit(":", 1)[1] for s in prepared.sources] == ["book"]
    result = run_backtest(prepared)
    fills = [
        (f.client_order_id, f.ts_event - 1340285400000000000, f.last_qty.raw, f.last_px.raw)
        for f in (r.record for r in read_records(result.journal_path))
        if isinstance(f, OrderFilled)
    ]
    # The book after message 405 (09:30:09.834919765), the last before 09:30:10: asks
    # 585.66 x 2, 585.67 x 18, 585.68 x 803. The market buy walks them.
    market = [f for f in fills if f[0] == "O-exec-2"]
    assert market == [
        ("O-exec-2", 10_000_000_000, 2, 58566),
        ("O-exec-2", 10_000_000_000, 18, 58567),
        ("O-exec-2", 10_000_000_000, 280, 58568),
    ]
    # At 09:30:05 the bids are 585.50 ... 585.36, then 585.30: nothing rests at 585.33, so the
    # bid is alone there. Sellers later execute bids below it — messages 869, 875, 878 (49,
    # 50, 100 of order 11599111 at 585.30) and 903 (100 at 585.32): our level was passed, the
    # shares are ours. Message 872 (a hidden execution of 49 at 585.31) moves no L3 queue.
    resting = [f for f in fills if f[0] == "O-exec-1"]
    assert resting == [
        ("O-exec-1", 42_935_112_958, 49, 58533),
        ("O-exec-1", 43_452_960_619, 50, 58533),
        ("O-exec-1", 43_467_275_681, 100, 58533),
        ("O-exec-1", 46_689_354_442, 1, 58533),
    ]


def test_progress_of_a_book_run_counts_venue_events_and_reaches_its_total(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, CONFIG)
    seen: list[tuple[int, int]] = []

    def progress(total: int):  # type: ignore[no-untyped-def]
        return lambda done: seen.append((total, done))

    result = run_backtest(prepared, progress=progress)
    total, done = seen[-1]
    assert done == total == result.summary["records"]
    assert total < sum(len(s.columns) for s in prepared.sources)  # events, not delta rows


def test_equity_curve_of_a_book_run_values_positions_at_the_venues_book(tmp_path: Path) -> None:
    # The venue marks at its replayed book's mid; the curve must value positions the same way
    # as a record-by-record snapshot does (not at the recording's own quotes and trades).
    import numpy as np

    from tradeloop.core.clock import TestClock
    from tradeloop.engine.feed import merge
    from tradeloop.engine.runner import build_kernel
    from tradeloop.journal import MemoryJournal

    prepared = _prepared(tmp_path, CONFIG)
    curve = np.frombuffer(run_backtest(prepared).kernel.portfolio.equity_values, dtype=np.float64)
    reference = build_kernel(_prepared(tmp_path, CONFIG), TestClock(), MemoryJournal())
    reference.run_backtest(list(merge([s.columns for s in prepared.sources])))  # snapshots
    expected = np.frombuffer(reference.portfolio.equity_values, dtype=np.float64)
    assert len(curve) > 100
    assert np.array_equal(curve, expected)

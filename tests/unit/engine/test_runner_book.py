"""A run config with order-book data drives the level-4 venue end to end."""

from pathlib import Path

import msgspec

from tradeloop.config import load_config
from tradeloop.engine.runner import prepare_run, run_backtest
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


def test_book_data_in_a_config_fills_at_the_book_and_queues_passive_orders(tmp_path: Path) -> None:
    path = tmp_path / "book.toml"
    path.write_text(CONFIG)
    config = load_config(path)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp_path))
    )
    prepared = prepare_run(config, tmp_path)
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

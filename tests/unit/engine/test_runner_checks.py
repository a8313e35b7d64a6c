"""Startup checks of a run's venue and book settings against its data."""

import gzip
from pathlib import Path

import msgspec
import numpy as np
import pytest

from tradeloop.config import load_config
from tradeloop.core import ConfigError, DataIntegrityError
from tradeloop.data.books import BookDeltaColumns
from tradeloop.engine.runner import PreparedRun, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import BookFlag, BookStatusChanged

BOOKS = Path(__file__).parents[2] / "data" / "books"
USDM = BOOKS / "binance-usdm-btcusdt-20240808-head.gz"

PERP = """
[[instruments]]
id = "BTCUSDT-PERP.BINANCE"
kind = "crypto_perpetual"
quote_currency = "USDT"
base_currency = "BTC"
price_precision = 1
size_precision = 3
"""


def _prepare(tmp: Path, text: str) -> PreparedRun:
    path = tmp / "run.toml"
    path.write_text(text)
    config = load_config(path)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp))
    )
    return prepare_run(config, tmp)


def test_impact_without_bars_is_a_config_error_at_startup(tmp_path: Path) -> None:
    quotes_only = """
[run]
base_currency = "USDT"
[[data]]
dataset = "btcusdt_quotes"
[[data]]
dataset = "btcusdt_trades"
[venue]
fidelity = "quotes"
impact = { model = "linear", temporary_bps = 10.0 }
[[strategies]]
class = "SmaCross"
params = { instrument_ids = ["BTCUSDT.BINANCE"] }
"""
    with pytest.raises(ConfigError, match=r"\[venue\] impact needs bars of BTCUSDT.BINANCE"):
        _prepare(tmp_path, quotes_only)
    with_bars = """
[[data]]
dataset = "orcl_daily"
end = "1995-03-01"
[venue]
impact = { model = "linear", temporary_bps = 10.0 }
[[strategies]]
class = "SmaCross"
params = { instrument_ids = ["ORCL.XNAS"] }
"""
    assert _prepare(tmp_path, with_bars).sources


def test_impact_at_level_four_is_a_config_error(tmp_path: Path) -> None:
    text = f"""
[run]
base_currency = "USDT"
{PERP}
[[data]]
path = "{USDM}"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP.BINANCE"
[venue]
fidelity = "book"
impact = {{ model = "square_root" }}
[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["BTCUSDT-PERP.BINANCE"] }}
"""
    with pytest.raises(ConfigError, match="impact is set at fidelity 'book', where it is not"):
        _prepare(tmp_path, text)


def _gapped_copy(tmp: Path) -> Path:
    # The USD-M recording with one diff-depth message (after the REST snapshot) left out.
    lines = gzip.decompress(USDM.read_bytes()).decode().splitlines()
    depth = [i for i, line in enumerate(lines) if "@depth" in line and i > 60]
    del lines[depth[100]]
    path = tmp / "gapped.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def _book_run(path: Path, options: str) -> str:
    return f"""
[run]
name = "gap"
base_currency = "USDT"
starting_cash = "100000"
{PERP}
[[data]]
path = "{path}"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP.BINANCE"
{options}
[venue]
fidelity = "book"
[risk]
max_leverage = 5.0
[[strategies]]
class = "{BOOKS.parent / "strategies" / "book_probe.py"}:BookProbe"
params = {{ instrument_id = "BTCUSDT-PERP.BINANCE" }}
"""


def test_the_binance_gap_policy_is_set_from_the_run_config(tmp_path: Path) -> None:
    gapped = _gapped_copy(tmp_path)
    with pytest.raises(DataIntegrityError, match="binance-usdm depth stream"):
        _prepare(tmp_path, _book_run(gapped, ""))
    prepared = _prepare(tmp_path, _book_run(gapped, 'options = { on_gap = "resync" }'))
    (book,) = [s.columns for s in prepared.sources if isinstance(s.columns, BookDeltaColumns)]
    unsynced = (book.flags & int(BookFlag.UNSYNCED)) != 0
    assert np.any(unsynced)
    # The venue does not match against the rebuilt book until it is synced again, and says so.
    result = run_backtest(prepared)
    statuses = [
        r.record.status
        for r in read_records(result.journal_path)
        if isinstance(r.record, BookStatusChanged)
    ]
    assert statuses[0] == "unsynced"


def test_unknown_book_options_are_config_errors(tmp_path: Path) -> None:
    text = _book_run(USDM, 'options = { on_gaps = "resync" }')
    with pytest.raises(ConfigError, match="format binance-depth has no option on_gaps"):
        _prepare(tmp_path, text)
    text = _book_run(USDM, 'options = { on_gap = "skip" }')
    with pytest.raises(ConfigError, match="on_gap 'skip' is not raise or resync"):
        _prepare(tmp_path, text)

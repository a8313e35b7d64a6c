from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core import ConfigError, DataIntegrityError, file_hash
from tradeloop.data import (
    BarColumns,
    Catalog,
    Columns,
    DataKind,
    QuoteColumns,
    TradeColumns,
    parquet_bytes,
    read_binance_quotes,
    read_binance_trades,
    read_ohlcv,
    read_yahoo_csv,
    validate,
)
from tradeloop.model import crypto_spot, equity

_SLOTS = {
    BarColumns: ("ts_event", "ts_init", "open", "high", "low", "close", "volume"),
    QuoteColumns: ("ts_event", "ts_init", "bid_price", "ask_price", "bid_size", "ask_size"),
    TradeColumns: ("ts_event", "ts_init", "price", "size", "aggressor", "trade_id"),
}


def assert_same(left: Columns, right: Columns) -> None:
    assert type(left) is type(right)
    assert left.instrument_id == right.instrument_id
    assert left.price_precision == right.price_precision
    for name in _SLOTS[type(left)]:
        a, b = getattr(left, name), getattr(right, name)
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), name


@pytest.fixture
def orcl(market: Path) -> BarColumns:
    return validate(read_yahoo_csv(market / "orcl-1995-01.txt", "ORCL.XNAS")).clean


@pytest.fixture
def trades(market: Path) -> TradeColumns:
    return validate(read_binance_trades(market / "btcusdt-trades.parquet", "BTCUSDT.BINANCE")).clean


@pytest.fixture
def quotes(market: Path) -> QuoteColumns:
    return validate(read_binance_quotes(market / "btcusdt-quotes.parquet", "BTCUSDT.BINANCE")).clean


def test_bars_trades_and_quotes_round_trip_exactly(
    tmp_path: Path, orcl: BarColumns, trades: TradeColumns, quotes: QuoteColumns
) -> None:
    catalog = Catalog(tmp_path / "catalog")
    for columns in (orcl, trades, quotes):
        catalog.write(columns)
    assert_same(catalog.bars("ORCL.XNAS"), orcl)
    assert_same(catalog.trades("BTCUSDT.BINANCE"), trades)
    assert_same(catalog.quotes("BTCUSDT.BINANCE"), quotes)


def test_same_data_written_twice_gives_byte_identical_files(
    tmp_path: Path, trades: TradeColumns
) -> None:
    first = Catalog(tmp_path / "a").write(trades)
    second = Catalog(tmp_path / "b").write(trades)
    assert (tmp_path / "a" / first.path).read_bytes() == (tmp_path / "b" / second.path).read_bytes()
    assert first == second
    assert parquet_bytes(trades) == parquet_bytes(trades)


def test_content_hash_is_the_sha256_of_the_file(tmp_path: Path, orcl: BarColumns) -> None:
    catalog = Catalog(tmp_path)
    entry = catalog.write(orcl)
    path = tmp_path / entry.path
    assert (
        entry.content_hash == hashlib.sha256(path.read_bytes()).hexdigest() == file_hash(str(path))
    )
    assert entry.size_bytes == path.stat().st_size


def test_listing_describes_each_file(
    tmp_path: Path, orcl: BarColumns, trades: TradeColumns
) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(trades)
    catalog.write(orcl)
    entries = catalog.list()
    assert [(e.kind, e.instrument_id, e.rows) for e in entries] == [
        ("bars", "ORCL.XNAS", 25),
        ("trades", "BTCUSDT.BINANCE", 2001),
    ]
    bars = entries[0]
    assert (bars.first_ts, bars.last_ts) == (int(orcl.ts_init[0]), int(orcl.ts_init[-1]))
    assert (bars.price_precision, bars.size_precision) == (6, 0)
    assert bars.path == f"bars/ORCL.XNAS/{bars.first_ts}-{bars.last_ts}.parquet"
    assert catalog.list(kind=DataKind.TRADES) == entries[1:]
    assert catalog.list("ORCL.XNAS") == entries[:1]


def test_writing_identical_data_again_is_a_no_op(tmp_path: Path, orcl: BarColumns) -> None:
    catalog = Catalog(tmp_path)
    entry = catalog.write(orcl)
    assert catalog.write(orcl) == entry
    assert len(catalog.list()) == 1


def test_query_bounds_are_inclusive_on_ts_init(tmp_path: Path, orcl: BarColumns) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(orcl)
    window = catalog.bars("ORCL.XNAS", int(orcl.ts_init[3]), int(orcl.ts_init[7]))
    assert_same(window, orcl.take(slice(3, 8)))
    assert len(catalog.bars("ORCL.XNAS", 0, int(orcl.ts_init[0]) - 1)) == 0


def test_data_split_over_files_comes_back_in_order(tmp_path: Path, trades: TradeColumns) -> None:
    catalog = Catalog(tmp_path)
    # Split where the millisecond changes so the two files do not touch.
    cut = int(np.flatnonzero(np.diff(trades.ts_init) > 0)[1000]) + 1
    catalog.write(trades.take(slice(cut, None)))
    catalog.write(trades.take(slice(0, cut)))
    assert len(catalog.list()) == 2
    assert_same(catalog.trades("BTCUSDT.BINANCE"), trades)
    lower, upper = int(trades.ts_init[cut - 5]), int(trades.ts_init[cut + 5])
    inner = catalog.trades("BTCUSDT.BINANCE", lower, upper)
    expected = trades.take((trades.ts_init >= lower) & (trades.ts_init <= upper))
    assert_same(inner, expected)
    assert len(inner) >= 11


def test_overlapping_write_is_refused_unless_replacing(tmp_path: Path, orcl: BarColumns) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(orcl.take(slice(0, 20)))
    with pytest.raises(DataIntegrityError, match="overlap stored data"):
        catalog.write(orcl.take(slice(10, 25)))
    catalog.write(orcl, replace=True)
    assert [e.rows for e in catalog.list()] == [25]
    assert_same(catalog.bars("ORCL.XNAS"), orcl)


def test_unsorted_or_empty_columns_are_refused(tmp_path: Path, orcl: BarColumns) -> None:
    catalog = Catalog(tmp_path)
    with pytest.raises(DataIntegrityError, match="not sorted"):
        catalog.write(orcl.take(np.array([3, 1, 2])))
    with pytest.raises(DataIntegrityError, match="no rows"):
        catalog.write(orcl.take(slice(0, 0)))


def test_instrument_definition_round_trips_and_conflicts_are_refused(
    tmp_path: Path, orcl: BarColumns
) -> None:
    catalog = Catalog(tmp_path)
    instrument = equity("ORCL", "XNAS", price_precision=6, tick_size="0.000001")
    catalog.write(orcl, instrument=instrument)
    assert catalog.instrument("ORCL.XNAS") == instrument
    assert catalog.instruments() == [instrument]
    assert (
        (tmp_path / "instruments" / "ORCL.XNAS.json").read_bytes().startswith(b'{"id":"ORCL.XNAS"')
    )
    with pytest.raises(DataIntegrityError, match="different definition"):
        catalog.write_instrument(equity("ORCL", "XNAS", price_precision=6, tick_size="0.000002"))


def test_data_whose_precision_differs_from_the_instrument_is_refused(
    tmp_path: Path, orcl: BarColumns
) -> None:
    catalog = Catalog(tmp_path)
    with pytest.raises(DataIntegrityError, match="precisions 6/0"):
        catalog.write(orcl, instrument=equity("ORCL", "XNAS"))
    spot = crypto_spot(
        "BTCUSDT", "BINANCE", base="BTC", quote="USDT", price_precision=2, size_precision=8
    )
    catalog.write_instrument(spot)
    trades = validate(
        read_binance_trades(
            Path(__file__).resolve().parents[2] / "data" / "market" / "btcusdt-trades.parquet",
            "BTCUSDT.BINANCE",
        )
    ).clean
    with pytest.raises(DataIntegrityError, match="instrument uses 2/8"):
        catalog.write(trades)


def test_query_of_absent_data_and_unsafe_ids_raise_config_error(
    tmp_path: Path, market: Path
) -> None:
    catalog = Catalog(tmp_path)
    with pytest.raises(ConfigError, match=r"holds no bars of ORCL\.XNAS"):
        catalog.bars("ORCL.XNAS")
    with pytest.raises(ConfigError, match="cannot name a catalog directory"):
        catalog.bars("../etc.X")
    with pytest.raises(ConfigError, match="no definition"):
        catalog.instrument("ORCL.XNAS")
    bars = validate(read_ohlcv(market / "btc-perp-20211231-head.csv", "BTC/USD.X")).clean
    with pytest.raises(ConfigError):
        catalog.write(bars)


def test_replacing_data_may_change_its_precision(tmp_path: Path, orcl: BarColumns) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(orcl)
    coarse = BarColumns(
        "ORCL.XNAS",
        5,
        0,
        orcl.ts_event,
        orcl.ts_init,
        orcl.open // 10,
        orcl.high // 10,
        orcl.low // 10,
        orcl.close // 10,
        orcl.volume,
    )
    with pytest.raises(DataIntegrityError, match="use precisions 6/0, new data uses 5/0"):
        catalog.write(coarse)
    catalog.write(coarse, replace=True)
    assert catalog.bars("ORCL.XNAS").price_precision == 5

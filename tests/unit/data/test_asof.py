from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core import ConfigError, DataIntegrityError, TestClock
from tradeloop.data import (
    AsOfReader,
    BarColumns,
    Catalog,
    TradeColumns,
    read_binance_trades,
    read_yahoo_csv,
    validate,
)

MARKET = Path(__file__).resolve().parents[2] / "data" / "market"
ORCL = validate(read_yahoo_csv(MARKET / "orcl-1995-01.txt", "ORCL.XNAS")).clean
TRADES = validate(
    read_binance_trades(MARKET / "binance-btcusdt-trades-head.csv", "BTCUSDT.BINANCE")
).clean


def _bars(ts_init: list[int]) -> BarColumns:
    n = len(ts_init)
    ones = np.ones(n, dtype=np.int64)
    stamps = np.asarray(ts_init, dtype=np.int64)
    return BarColumns("X.SIM", 2, 0, stamps, stamps, ones, ones, ones, ones, np.arange(n))


@settings(max_examples=200, deadline=None)
@given(
    stamps=st.lists(st.integers(min_value=0, max_value=1_000), min_size=0, max_size=40).map(sorted),
    moves=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=15),
    lookback=st.none() | st.integers(min_value=0, max_value=50),
    start_ns=st.none() | st.integers(min_value=-10, max_value=1_100),
)
def test_as_of_reader_never_returns_a_record_from_the_future(
    stamps: list[int], moves: list[int], lookback: int | None, start_ns: int | None
) -> None:
    clock = TestClock(0)
    reader = AsOfReader(clock, [_bars(stamps)])
    for move in moves:
        clock.advance_time(clock.timestamp_ns() + move)
        now = clock.timestamp_ns()
        got = reader.bars("X.SIM", lookback=lookback, start_ns=start_ns)
        assert (got.ts_init <= now).all()
        known = [
            i for i, t in enumerate(stamps) if t <= now and (start_ns is None or t >= start_ns)
        ]
        if lookback is not None:
            known = known[max(0, len(known) - lookback) :]
        # Exactly the known rows, in order: the volume column holds each row's index.
        assert got.volume.tolist() == known


def test_returned_columns_do_not_share_memory_with_later_rows() -> None:
    clock = TestClock(int(ORCL.ts_init[5]))
    reader = AsOfReader(clock, [ORCL])
    bars = reader.bars("ORCL.XNAS")
    assert len(bars) == 6
    for name in ("ts_init", "close"):
        assert not np.shares_memory(getattr(bars, name), getattr(ORCL, name))


def test_a_record_becomes_visible_exactly_at_its_ts_init() -> None:
    stamp = int(ORCL.ts_init[3])
    clock = TestClock(stamp - 1)
    reader = AsOfReader(clock, [ORCL])
    assert len(reader.bars("ORCL.XNAS")) == 3
    clock.set_time(stamp)
    assert len(reader.bars("ORCL.XNAS")) == 4
    last = reader.last_bar("ORCL.XNAS")
    assert last is not None
    assert last.ts_init == stamp


def test_nothing_is_known_before_the_first_record() -> None:
    reader = AsOfReader(TestClock(0), [ORCL, TRADES])
    assert reader.last_bar("ORCL.XNAS") is None
    assert reader.last_trade("BTCUSDT.BINANCE") is None
    assert len(reader.trades("BTCUSDT.BINANCE", lookback=10)) == 0


def test_trades_sharing_the_clock_millisecond_are_all_returned() -> None:
    repeated = int(TRADES.ts_init[np.flatnonzero(np.diff(TRADES.ts_init) == 0)[0]])
    reader = AsOfReader(TestClock(repeated), [TRADES])
    got: TradeColumns = reader.trades("BTCUSDT.BINANCE")
    assert int(got.ts_init[-1]) == repeated
    assert len(got) == int((TRADES.ts_init <= repeated).sum())


def test_reader_backed_by_a_catalog_cuts_at_the_clock(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(ORCL)
    clock = TestClock(int(ORCL.ts_init[9]))
    reader = AsOfReader.from_catalog(catalog, clock)
    assert reader.bars("ORCL.XNAS", lookback=3).ts_init.tolist() == ORCL.ts_init[7:10].tolist()
    clock.set_time(int(ORCL.ts_init[-1]))
    assert len(reader.bars("ORCL.XNAS")) == len(ORCL)


def test_unsorted_columns_and_unknown_series_are_refused() -> None:
    clock = TestClock(0)
    with pytest.raises(DataIntegrityError, match="not sorted"):
        AsOfReader(clock, [ORCL.take(np.array([2, 1]))])
    reader = AsOfReader(clock, [ORCL])
    with pytest.raises(ConfigError, match="holds no quotes"):
        reader.quotes("ORCL.XNAS")
    with pytest.raises(ConfigError, match="already holds"):
        reader.add(ORCL)
    with pytest.raises(ConfigError, match="lookback"):
        reader.bars("ORCL.XNAS", lookback=-1)

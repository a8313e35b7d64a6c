from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tradeloop.core import NANOS_PER_MINUTE, ConfigError, Price, Quantity, parse_time
from tradeloop.data import BarStamp, OhlcvFormat, Rule, read_ohlcv
from tradeloop.data.readers import interval_to_ns

Fields = Callable[[str], list[list[str]]]
Craft = Callable[[str, Callable[[list[str]], list[str]]], Path]
BTC = "btc-perp-20211231-head.csv"
PERP = "BTCUSDT-PERP.BINANCE"


def test_btc_perp_close_stamped_rows_equal_the_source_text(market: Path, fields: Fields) -> None:
    result = read_ohlcv(market / BTC, PERP)
    bars = result.columns
    assert len(bars) == 120
    assert result.rejected == ()
    # Whole-dollar prices written as "46319.0"; volumes with 4 decimals.
    assert (bars.price_precision, bars.volume_precision) == (0, 4)
    rows = fields(BTC)
    for row in (0, 59, 119):
        stamp, open_, high, low, close, volume = rows[row]
        bar = bars.bar(row)
        assert int(bars.ts_event[row]) == parse_time(stamp.replace(" ", "T") + "Z")
        assert (bar.open, bar.high, bar.low, bar.close) == tuple(
            Price.from_str(v, 1).to_precision(0) for v in (open_, high, low, close)
        )
        assert bar.volume == Quantity.from_str(volume)
    assert result.interval_ns is None
    assert result.calendar is None


def test_open_stamped_bars_are_moved_to_their_close(market: Path, fields: Fields) -> None:
    fmt = OhlcvFormat(volume=None, stamp=BarStamp.OPEN, interval="1min")
    result = read_ohlcv(market / "gbpusd-m1-bid-2012-02-01-head.csv", "GBPUSD.FXCM", fmt)
    bars = result.columns
    stamp, open_, _high, _low, close = fields("gbpusd-m1-bid-2012-02-01-head.csv")[0]
    assert stamp == "2012-02-01 00:00:00+00:00"
    assert int(bars.ts_event[0]) == parse_time("2012-02-01T00:01:00Z")
    assert bars.bar(0).open == Price.from_str(open_)
    assert bars.bar(0).close == Price.from_str(close)
    assert bars.price_precision == 5
    assert not result.has_volume
    assert (bars.volume == 0).all()
    assert result.interval_ns == NANOS_PER_MINUTE


def test_column_mapping_and_calendar_are_applied(market: Path, fields: Fields) -> None:
    fmt = OhlcvFormat(timestamp="timestamp_utc", calendar="CMES")
    result = read_ohlcv(market / "6EH4.XCME_1min_head.csv", "6EH4.XCME", fmt, price_precision=5)
    stamp, open_, high, low, close, volume = fields("6EH4.XCME_1min_head.csv")[0]
    bar = result.columns.bar(0)
    assert int(result.columns.ts_event[0]) == parse_time(stamp.replace(" ", "T") + "Z")
    assert (bar.open, bar.high, bar.low, bar.close) == tuple(
        Price.from_str(v, 5) for v in (open_, high, low, close)
    )
    assert bar.volume == Quantity.from_str(volume)
    assert result.calendar == "CMES"


def test_parquet_with_arrow_timestamps_reads_the_same_as_the_csv(
    market: Path, tmp_path: Path
) -> None:
    table = pacsv.read_csv(market / BTC)
    stamps = pa.compute.assume_timezone(table.column("timestamp"), timezone="UTC")
    parquet = tmp_path / "btc.parquet"
    pq.write_table(table.set_column(0, "timestamp", stamps), parquet)
    from_csv = read_ohlcv(market / BTC, PERP).columns
    from_parquet = read_ohlcv(parquet, PERP).columns
    for name in ("ts_event", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(from_csv, name), getattr(from_parquet, name))
    assert from_parquet.volume_precision == 4


def test_parquet_with_epoch_millisecond_open_times_reads_the_same(
    market: Path, tmp_path: Path
) -> None:
    table = pacsv.read_csv(market / BTC)
    close_ms = table.column("timestamp").cast(pa.timestamp("ms")).cast(pa.int64()).to_numpy()
    open_ms = pa.array(close_ms - 60_000, type=pa.int64())
    parquet = tmp_path / "btc-ms.parquet"
    pq.write_table(table.set_column(0, "open_time", open_ms), parquet)
    fmt = OhlcvFormat(
        timestamp="open_time", timestamp_unit="ms", stamp=BarStamp.OPEN, interval="1min"
    )
    from_parquet = read_ohlcv(parquet, PERP, fmt).columns
    assert np.array_equal(from_parquet.ts_event, read_ohlcv(market / BTC, PERP).columns.ts_event)


def test_naive_times_in_a_zone_are_converted_to_utc_and_dst_gaps_quarantined(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ny.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2021-03-12 16:00:00,10,11,9,10,5\n"
        # 02:30 does not exist in New York on 2021-03-14 (clocks jump from 02:00 to 03:00).
        "2021-03-14 02:30:00,10,11,9,10,5\n"
        "2021-03-15 16:00:00,10,11,9,10,5\n"
    )
    result = read_ohlcv(path, "X.XNYS", OhlcvFormat(timezone="America/New_York"))
    assert result.columns.ts_event.tolist() == [
        parse_time("2021-03-12T21:00:00Z"),
        parse_time("2021-03-15T20:00:00Z"),
    ]
    (record,) = result.rejected
    assert (record.row, record.rule, record.field) == (1, Rule.UNPARSEABLE, "timestamp")


def test_malformed_unparseable_and_missing_values_are_rejected_with_their_rule(
    market: Path, craft: Craft
) -> None:
    def edit(lines: list[str]) -> list[str]:
        lines[1] = lines[1] + ",extra"  # row 0: seven fields
        lines[2] = lines[2].replace("46377.0", "abc", 1)  # row 1: open is text
        lines[3] = lines[3].rsplit(",", 1)[0] + ",nan"  # row 2: volume NaN
        lines[4] = lines[4].rsplit(",", 1)[0] + ","  # row 3: volume empty
        return lines

    result = read_ohlcv(craft(BTC, edit), PERP)
    assert result.rows_in == 120
    assert len(result.columns) == 116
    rules = [(r.row, r.rule, r.field) for r in result.rejected]
    assert rules == [
        (0, Rule.UNPARSEABLE, "row"),
        (1, Rule.UNPARSEABLE, "open"),
        (2, Rule.NON_FINITE, "volume"),
        (3, Rule.NON_FINITE, "volume"),
    ]
    assert result.rejected[0].line == 2
    assert "7 fields, expected 6" in result.rejected[0].message
    assert result.source_rows[0] == 4


def test_missing_mapped_column_raises_config_error_naming_file_and_column(market: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"btc-perp-20211231-head\.csv has no column 'Last' for close"
    ):
        read_ohlcv(market / BTC, PERP, OhlcvFormat(close="Last"))


def test_open_stamp_without_interval_raises_config_error(market: Path) -> None:
    with pytest.raises(ConfigError, match="interval"):
        read_ohlcv(market / BTC, PERP, OhlcvFormat(stamp=BarStamp.OPEN))


def test_epoch_numbers_without_a_unit_raise_config_error(tmp_path: Path) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text("timestamp,open,high,low,close,volume\n1640991660000,1,1,1,1,1\n")
    with pytest.raises(ConfigError, match="timestamp unit"):
        read_ohlcv(path, PERP)


def test_epoch_number_beyond_the_nanosecond_range_is_unparseable(tmp_path: Path) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n1640991660000,1,1,1,1,1\n99999999999999999,1,1,1,1,1\n"
    )
    result = read_ohlcv(path, PERP, OhlcvFormat(timestamp_unit="ms"))
    assert result.columns.ts_event.tolist() == [1640991660000 * 1_000_000]
    assert [(r.row, r.rule) for r in result.rejected] == [(1, Rule.UNPARSEABLE)]


def test_interval_text_is_parsed_to_nanoseconds() -> None:
    assert interval_to_ns("1min") == NANOS_PER_MINUTE
    assert interval_to_ns("1D") == 24 * 60 * NANOS_PER_MINUTE
    with pytest.raises(ConfigError):
        interval_to_ns("soon")

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from tradeloop.core import ConfigError, Price, Quantity, parse_time
from tradeloop.data import Rule, read_yahoo_csv

Fields = Callable[[str], list[list[str]]]
Craft = Callable[[str, Callable[[list[str]], list[str]]], Path]


def test_orcl_rows_equal_the_source_text_exactly(market: Path, fields: Fields) -> None:
    result = read_yahoo_csv(market / "orcl-1995-01.txt", "ORCL.XNAS")
    bars = result.columns
    assert result.rows_in == 25
    assert len(bars) == 25
    assert result.rejected == ()
    assert (bars.price_precision, bars.volume_precision) == (6, 0)
    rows = fields("orcl-1995-01.txt")
    for row in (0, 12, 24):
        _date, open_, high, low, close, _adj, volume = rows[row]
        bar = bars.bar(row)
        assert bar.open == Price.from_str(open_)
        assert bar.high == Price.from_str(high)
        assert bar.low == Price.from_str(low)
        assert bar.close == Price.from_str(close)
        assert bar.volume == Quantity.from_str(volume)
    # 1995-01-03 closed at 16:00 New York time (EST, UTC-5).
    assert int(bars.ts_event[0]) == parse_time("1995-01-03T21:00:00Z")
    assert (bars.ts_init == bars.ts_event).all()
    assert result.source_rows.tolist() == list(range(25))
    assert result.source_lines is not None
    assert result.source_lines[0] == 2


def test_goog_file_with_unnamed_date_index_is_read(market: Path, fields: Fields) -> None:
    result = read_yahoo_csv(market / "GOOG-2004-08.csv", "GOOG.XNAS")
    bars = result.columns
    assert len(bars) == 25
    assert bars.price_precision == 2
    first = fields("GOOG-2004-08.csv")[0]
    assert first[0] == "2004-08-19"
    assert bars.bar(0).open == Price.from_str("100", 2)
    assert bars.bar(0).high == Price.from_str(first[2])
    # Summer: 16:00 EDT is 20:00 UTC.
    assert int(bars.ts_event[0]) == parse_time("2004-08-19T20:00:00Z")


def test_spy_file_with_row_number_index_and_float_volume_is_read(
    market: Path, fields: Fields
) -> None:
    result = read_yahoo_csv(market / "SPY_D-1999-11.csv", "SPY.ARCX")
    bars = result.columns
    assert len(bars) == 25
    assert bars.price_precision == 4
    assert bars.volume_precision == 0
    _index, date, open_, high, low, close, volume = fields("SPY_D-1999-11.csv")[2]
    assert date == "1999-11-03"
    bar = bars.bar(2)
    assert (bar.open, bar.high, bar.low, bar.close) == tuple(
        Price.from_str(v, 4) for v in (open_, high, low, close)
    )
    assert bar.volume == Quantity.from_str(volume, 0) == Quantity.from_int(7222300)


def test_day_after_thanksgiving_is_stamped_at_the_early_close(market: Path) -> None:
    bars = read_yahoo_csv(market / "orcl-2013-11-thanksgiving.txt", "ORCL.XNAS").columns
    stamps = dict(zip((int(t) for t in bars.ts_event), range(len(bars)), strict=True))
    assert parse_time("2013-11-27T21:00:00Z") in stamps
    # NYSE closed at 13:00 New York time on Friday 2013-11-29.
    assert parse_time("2013-11-29T18:00:00Z") in stamps
    assert parse_time("2013-11-29T21:00:00Z") not in stamps


def test_adjusted_close_option_scales_ohlc_by_the_adjustment_ratio(
    market: Path, fields: Fields
) -> None:
    bars = read_yahoo_csv(market / "orcl-1995-01.txt", "ORCL.XNAS", use_adjusted_close=True).columns
    _date, open_, high, _low, close, adjusted, volume = fields("orcl-1995-01.txt")[0]
    ratio = float(adjusted) / float(close)
    expected_open = Decimal(repr(float(open_) * ratio)).quantize(
        Decimal("0.000001"), ROUND_HALF_EVEN
    )
    assert bars.bar(0).open == Price.from_decimal(expected_open, 6)
    assert bars.bar(0).close == Price.from_str(adjusted)
    assert bars.bar(0).high < Price.from_str(high)
    assert bars.bar(0).volume == Quantity.from_str(volume)


def test_raw_ohlc_is_the_default(market: Path, fields: Fields) -> None:
    bars = read_yahoo_csv(market / "orcl-1995-01.txt", "ORCL.XNAS").columns
    assert bars.bar(0).close == Price.from_str(fields("orcl-1995-01.txt")[0][4])


def test_date_that_is_not_a_session_is_quarantined_outside_session(
    market: Path, craft: Craft
) -> None:
    # Saturday 1995-01-07 is no NYSE session.
    path = craft(
        "orcl-1995-01.txt",
        lambda lines: [lines[0], *lines[1:5], "1995-01-07" + lines[5][10:], *lines[6:]],
    )
    result = read_yahoo_csv(path, "ORCL.XNAS")
    assert result.rows_in == 25
    assert len(result.columns) == 24
    (record,) = result.rejected
    assert (record.row, record.line, record.rule, record.value) == (
        4,
        6,
        Rule.OUTSIDE_SESSION,
        "1995-01-07",
    )
    assert "ORCL.XNAS" in record.message
    assert "1995-01-07" in record.message
    assert "outside_session" in record.message


def test_given_precision_below_the_data_reports_excess_precision_instead_of_rounding(
    market: Path,
) -> None:
    result = read_yahoo_csv(market / "GOOG-2004-08.csv", "GOOG.XNAS", price_precision=1)
    assert len(result.columns) + len(result.rejected) == 25
    assert {r.rule for r in result.rejected} == {Rule.EXCESS_PRECISION}
    first = result.rejected[0]
    assert first.row == 0
    assert first.value == "104.06"
    assert "precision 1" in first.message
    # Rows whose prices all fit one decimal are kept exactly.
    for bar in result.columns.iter_bars():
        assert bar.close.precision == 1


def test_missing_adjusted_close_column_when_asked_raises_config_error(market: Path) -> None:
    with pytest.raises(ConfigError, match="Adj Close"):
        read_yahoo_csv(market / "GOOG-2004-08.csv", "GOOG.XNAS", use_adjusted_close=True)


def test_missing_file_raises_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(ConfigError, match=r"nope\.csv does not exist"):
        read_yahoo_csv(missing, "ORCL.XNAS")


def test_instrument_id_without_venue_raises_config_error(market: Path) -> None:
    with pytest.raises(ConfigError, match=r"SYMBOL\.VENUE"):
        read_yahoo_csv(market / "orcl-1995-01.txt", "ORCL")


def test_unknown_calendar_raises_config_error(market: Path) -> None:
    with pytest.raises(ConfigError, match="XXXX"):
        read_yahoo_csv(market / "orcl-1995-01.txt", "ORCL.XNAS", calendar="XXXX")

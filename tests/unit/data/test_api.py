from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tradeloop.core import ConfigError, DataIntegrityError, file_hash
from tradeloop.data import (
    Catalog,
    DataFormat,
    OhlcvFormat,
    Rule,
    TradesFormat,
    ValidationConfig,
    YahooOptions,
    import_file,
    read_and_validate,
    read_file,
    validate_file,
)
from tradeloop.data.api import format_options
from tradeloop.model import equity, future

Craft = Callable[[str, Callable[[list[str]], list[str]]], Path]
ORCL_INSTRUMENT = equity("ORCL", "XNAS", price_precision=6, tick_size="0.000001")


def test_import_writes_clean_rows_and_the_instrument_to_the_catalog(
    market: Path, tmp_path: Path
) -> None:
    result = import_file(
        market / "orcl-1995-01.txt",
        format="yahoo",
        instrument=ORCL_INSTRUMENT,
        catalog=tmp_path / "cat",
    )
    assert (result.instrument_id, result.kind, result.rows_in, result.rows_written) == (
        "ORCL.XNAS",
        "bars",
        25,
        25,
    )
    catalog = Catalog(tmp_path / "cat")
    (entry,) = catalog.list()
    assert entry == result.entry
    assert entry.content_hash == file_hash(str(tmp_path / "cat" / entry.path))
    assert catalog.instrument("ORCL.XNAS") == ORCL_INSTRUMENT
    assert result.report.is_clean


def test_import_of_a_damaged_file_writes_only_clean_rows_and_reports_the_rest(
    craft: Craft, tmp_path: Path
) -> None:
    def edit(lines: list[str]) -> list[str]:
        lines[4] = lines[4].replace("2.154321", "1.000000", 1)  # row 3: high below the rest
        return lines

    result = import_file(
        craft("orcl-1995-01.txt", edit),
        format=DataFormat.YAHOO,
        instrument="ORCL.XNAS",
        catalog=tmp_path,
    )
    assert result.rows_written == 24
    assert result.report.quarantine_counts() == {"ohlc_inconsistent": 1}
    assert len(Catalog(tmp_path).bars("ORCL.XNAS")) == 24


def test_validate_file_returns_the_report_and_writes_nothing(market: Path, tmp_path: Path) -> None:
    report = validate_file(
        market / "6EH4.XCME_1min_head.csv",
        format="ohlcv",
        instrument=future(
            "6EH4",
            "XCME",
            currency_code="USD",
            price_precision=5,
            tick_size="0.00005",
            multiplier="125000",
            calendar="CMES",
        ),
        options=OhlcvFormat(timestamp="timestamp_utc"),
    )
    # The instrument's calendar is used for sessions and gaps.
    assert report.calendar == "CMES"
    assert report.rows_in == 120
    assert all(f.rule is Rule.GAP for f in report.findings)
    assert list(tmp_path.iterdir()) == []


def test_validation_config_calendar_wins_over_the_instrument(market: Path) -> None:
    report = validate_file(
        market / "btc-perp-20211231-head.csv",
        format="ohlcv",
        instrument="BTCUSDT-PERP.BINANCE",
        validation=ValidationConfig(calendar="24/7"),
    )
    assert report.calendar is None
    assert report.rows_clean == 120


def test_read_file_uses_the_instrument_precision_for_prices(market: Path) -> None:
    read = read_file(
        market / "GOOG-2004-08.csv",
        format="yahoo",
        instrument=equity("GOOG", "XNAS", price_precision=1, tick_size="0.1"),
    )
    assert read.columns.price_precision == 1
    assert {r.rule for r in read.rejected} == {Rule.EXCESS_PRECISION}


def test_unknown_format_raises_config_error_listing_the_formats(market: Path) -> None:
    with pytest.raises(
        ConfigError, match="data format 'excel' is unknown; use one of yahoo, ohlcv"
    ):
        validate_file(market / "orcl-1995-01.txt", format="excel", instrument="ORCL.XNAS")


def test_missing_file_raises_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.csv does not exist"):
        import_file(
            tmp_path / "missing.csv", format="yahoo", instrument="ORCL.XNAS", catalog=tmp_path
        )


def test_column_missing_from_the_mapping_raises_config_error_naming_file_and_column(
    market: Path,
) -> None:
    with pytest.raises(
        ConfigError, match=r"GOOG-2004-08\.csv has no column 'Datum' for the timestamp"
    ):
        validate_file(
            market / "GOOG-2004-08.csv",
            format="ohlcv",
            instrument="GOOG.XNAS",
            options={"timestamp": "Datum"},
        )
    with pytest.raises(
        ConfigError, match=r"GOOG-2004-08\.csv has no column 'timestamp' for the timestamp"
    ):  # an explicit format is used as it is: nothing is detected
        validate_file(
            market / "GOOG-2004-08.csv", format="ohlcv", instrument="G.X", options=OhlcvFormat()
        )


def test_options_of_another_format_raise_config_error(market: Path) -> None:
    with pytest.raises(ConfigError, match="format yahoo takes YahooOptions, not TradesFormat"):
        read_file(
            market / "orcl-1995-01.txt",
            format="yahoo",
            instrument="ORCL.XNAS",
            options=TradesFormat(),
        )
    with pytest.raises(ConfigError, match="takes BinanceKlinesOptions, not YahooOptions"):
        read_file(
            market / "ADABTC-1m-2021-11-27.csv",
            format="binance-klines",
            instrument="ADABTC.BINANCE",
            options=YahooOptions(),
        )


def test_file_without_a_single_clean_row_raises_data_integrity_error(
    market: Path, tmp_path: Path
) -> None:
    with pytest.raises(
        DataIntegrityError, match=r"no clean rows of GOOG.XNAS to import \(excess_precision 25\)"
    ):
        import_file(
            market / "GOOG-2004-08.csv",
            format="yahoo",
            instrument="GOOG.XNAS",
            catalog=tmp_path,
            price_precision=0,
        )


def test_every_format_reads_its_real_slice(market: Path) -> None:
    cases = [
        ("yahoo", "SPY_D-1999-11.csv", None),
        ("ohlcv", "btc-perp-20211231-head.csv", None),
        ("binance-klines", "ADABTC-1m-2021-11-28.csv", None),
        ("trades", "btcusdt-trades.parquet", None),
        ("quotes", "btcusdt-quotes.parquet", None),
    ]
    for name, file, options in cases:
        report = validate_file(market / file, format=name, instrument="X.SIM", options=options)
        assert report.rows_in == report.rows_clean > 0, name


def _shuffled(source: Path, target: Path, has_header: bool = True) -> Path:
    # The data lines of a real slice in a fixed shuffled order (header kept first).
    lines = source.read_text().splitlines()
    header, body = (lines[:1], lines[1:]) if has_header else ([], lines)
    order = sorted(range(len(body)), key=lambda i: (i * 7919) % len(body))
    target.write_text("\n".join([*header, *(body[i] for i in order)]) + "\n")
    return target


SHUFFLED = [
    ("yahoo", "orcl-1995-01.txt", True),
    ("ohlcv", "btc-perp-20211231-head.csv", True),
    ("binance-klines", "ADABTC-1m-2021-11-28.csv", False),
    ("trades", "binance-btcusdt-trades-head.csv", True),
    ("quotes", "binance-btcusdt-quotes-head.csv", True),
]


@pytest.mark.parametrize(("fmt", "name", "has_header"), SHUFFLED)
def test_shuffled_file_suggests_sort_and_loads_whole_with_the_sort_option(
    market: Path, tmp_path: Path, fmt: str, name: str, has_header: bool
) -> None:
    shuffled = _shuffled(market / name, tmp_path / name, has_header)
    report = validate_file(shuffled, format=fmt, instrument="X.SIM")
    late = [r for r in report.quarantined if r.rule is Rule.OUT_OF_ORDER]
    assert len(late) > report.rows_in // 2
    assert all("reader option sort = true" in r.message and "--sort" in r.message for r in late)
    options = format_options(shuffled, fmt, {"sort": True})  # as a [[data]] section's options
    assert options is not None
    assert options.sort is True
    result = read_and_validate(shuffled, format=fmt, instrument="X.SIM", options=options)
    original = read_and_validate(market / name, format=fmt, instrument="X.SIM")
    assert result.report.rows_in == result.report.rows_clean == original.report.rows_clean
    assert result.clean.ts_init.tolist() == original.clean.ts_init.tolist()
    assert sorted(result.clean_rows.tolist()) == list(range(result.report.rows_in))


def test_one_late_row_does_not_suggest_sorting(market: Path, tmp_path: Path) -> None:
    lines = (market / "orcl-1995-01.txt").read_text().splitlines()
    lines.insert(10, lines.pop(3))
    data = tmp_path / "orcl.txt"
    data.write_text("\n".join(lines) + "\n")
    (record,) = validate_file(data, format="yahoo", instrument="X.SIM").quarantined
    assert record.rule is Rule.OUT_OF_ORDER
    assert "sort" not in record.message

"""Reading source text: bytes that are not UTF-8 cost their own records, not the file."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tradeloop.core import DataIntegrityError
from tradeloop.data import Rule, validate_file

MARKET = Path(__file__).resolve().parents[3] / "data" / "market"

# (format, real slice, data line numbers (1-based) spoiled with Latin-1 bytes)
CSV_SLICES = [
    ("yahoo", "orcl-1995-01.txt", (4, 9)),
    ("ohlcv", "btc-perp-20211231-head.csv", (3, 50)),
    ("binance-klines", "ADABTC-1m-2021-11-28.csv", (2, 7)),
    ("trades", "binance-btcusdt-trades-head.csv", (5, 100)),
    ("quotes", "binance-btcusdt-quotes-head.csv", (6, 40)),
]


def spoil(source: Path, target: Path, lines: tuple[int, ...]) -> Path:
    # Append "caf\xe9" (Latin-1, not UTF-8) to the last field of the given lines.
    rows = source.read_bytes().split(b"\n")
    for line in lines:
        rows[line - 1] = rows[line - 1] + b"\xe9"
    target.write_bytes(b"\n".join(rows))
    return target


@pytest.mark.parametrize(("fmt", "name", "lines"), CSV_SLICES)
def test_rows_that_are_not_utf8_are_quarantined_as_undecodable_and_the_rest_loads(
    tmp_path: Path, fmt: str, name: str, lines: tuple[int, ...]
) -> None:
    clean = validate_file(MARKET / name, format=fmt, instrument="X.SIM")
    spoiled = spoil(MARKET / name, tmp_path / name, lines)
    report = validate_file(spoiled, format=fmt, instrument="X.SIM")
    undecodable = [r for r in report.quarantined if r.rule is Rule.UNDECODABLE]
    assert [r.line for r in undecodable] == list(lines)
    assert all("is not UTF-8 text" in r.message and "\\xe9" in r.message for r in undecodable)
    assert report.rows_in == clean.rows_in
    assert report.rows_clean == clean.rows_clean - len(lines)


def test_a_header_that_is_not_utf8_refuses_the_file_naming_the_line(tmp_path: Path) -> None:
    spoiled = spoil(MARKET / "orcl-1995-01.txt", tmp_path / "orcl.txt", (1,))
    with pytest.raises(DataIntegrityError, match="header line 1 is not UTF-8"):
        validate_file(spoiled, format="yahoo", instrument="X.SIM")


def set_fields(source: Path, target: Path, line: int, changes: dict[int, str]) -> Path:
    # Replace fields (0-based) of one line (1-based) of a real slice.
    rows = source.read_text().split("\n")
    fields = rows[line - 1].split(",")
    for index, value in changes.items():
        fields[index] = value
    rows[line - 1] = ",".join(fields)
    target.write_text("\n".join(rows))
    return target


# (format, real slice, line, {field index: value}, the field the rule names)
HUGE_VALUES = [
    ("yahoo", "orcl-1995-01.txt", 5, {1: "1e300", 2: "1e300"}, "Open"),
    ("yahoo", "orcl-1995-01.txt", 6, {6: "1e300"}, "Volume"),
    ("ohlcv", "btc-perp-20211231-head.csv", 7, {2: "1e300"}, "high"),
    ("ohlcv", "btc-perp-20211231-head.csv", 8, {4: "9e17", 2: "9e17"}, "high"),
    ("binance-klines", "ADABTC-1m-2021-11-28.csv", 3, {4: "1e300", 2: "1e300"}, "high"),
    ("trades", "binance-btcusdt-trades-head.csv", 9, {3: "1e300"}, "price"),
    ("trades", "binance-btcusdt-trades-head.csv", 10, {4: "1e300"}, "size"),
    ("quotes", "binance-btcusdt-quotes-head.csv", 11, {4: "1e300"}, "ask_price"),
]


@pytest.mark.parametrize(("fmt", "name", "line", "changes", "field"), HUGE_VALUES)
def test_a_value_too_large_to_hold_exactly_is_out_of_range_without_numpy_warnings(
    tmp_path: Path, fmt: str, name: str, line: int, changes: dict[int, str], field: str
) -> None:
    spoiled = set_fields(MARKET / name, tmp_path / name, line, changes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = validate_file(spoiled, format=fmt, instrument="X.SIM")
    (record,) = report.quarantined
    assert (record.line, record.rule, record.field.lower()) == (
        line,
        Rule.OUT_OF_RANGE,
        field.lower(),
    )
    assert "is too large to hold exactly" in record.message

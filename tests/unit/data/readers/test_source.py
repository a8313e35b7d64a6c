"""Reading source text: bytes that are not UTF-8 cost their own records, not the file."""

from __future__ import annotations

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

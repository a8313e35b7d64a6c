"""Maintainer script: rebuild the bundled files from the upstream data files.

Run as ``python -m tradeloop.data.bundled._make_bundle SOURCE_DIR`` where ``SOURCE_DIR`` holds
the upstream files under the relative paths below (see ``ORIGINS.md``). Each bundled file is
the upstream text, byte for byte, or a contiguous range of its lines plus the header line,
gzip-compressed without a name or timestamp so the output is reproducible. Tests never run
this script (they must not read outside the repository).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
from pathlib import Path
from typing import Final

# (bundled file, upstream path relative to SOURCE_DIR, first and last line kept (1-based,
# the header line 1 is always kept), or None for the whole file)
SLICES: Final[tuple[tuple[str, str, tuple[int, int] | None], ...]] = (
    ("orcl-1995-2014.txt.gz", "backtrader/orcl-1995-2014.txt", None),
    ("nvda-1999-2014.txt.gz", "backtrader/nvda-1999-2014.txt", None),
    ("yhoo-1996-2015.txt.gz", "backtrader/yhoo-1996-2015.txt", None),
    ("GOOG.csv.gz", "backtesting_py/GOOG.csv", None),
    ("SPY_D.csv.gz", "pandas_ta/SPY_D.csv", None),
    (
        "btc-perp-20211231-20220201_1m.csv.gz",
        "nautilus_trader/btc-perp-20211231-20220201_1m.csv",
        None,
    ),
    (
        "binance-btcusdt-trades-20210108.csv.gz",
        "converted/binance-btcusdt-trades-20210108.csv",
        None,
    ),
    (
        "binance-btcusdt-quotes-20210108.csv.gz",
        "converted/binance-btcusdt-quotes-20210108.csv",
        None,
    ),
    (
        "gbpusd-m1-bid-20120206-20120208.csv.gz",
        "nautilus_trader/fxcm/gbpusd-m1-bid-2012.csv",
        (4303, 8591),
    ),
    (
        "6EH4.XCME_1min_bars_20240102_20240104.csv.gz",
        "nautilus_trader/xcme/6EH4.XCME_1min_bars_20240101_20240131.csv.gz",
        (2, 4097),
    ),
)


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _cut(data: bytes, span: tuple[int, int] | None) -> bytes:
    if span is None:
        return data
    lines = data.splitlines(keepends=True)
    first, last = span
    return b"".join([lines[0], *lines[first - 1 : last]])


def _gzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(data)
    return buffer.getvalue()


def main(source: str) -> None:
    """Write every bundled file next to this script and print its provenance line."""
    target = Path(__file__).parent
    for name, relative, span in SLICES:
        original = _read(Path(source) / relative)
        text = _cut(original, span)
        (target / name).write_bytes(_gzip(text))
        rows = text.count(b"\n") + (0 if text.endswith(b"\n") else 1) - 1
        print(
            f"{name}: {relative} lines {span or 'all'}; {rows} rows; "
            f"upstream sha256 {hashlib.sha256(original).hexdigest()}; "
            f"bundled text sha256 {hashlib.sha256(text).hexdigest()}"
        )


if __name__ == "__main__":
    main(sys.argv[1])

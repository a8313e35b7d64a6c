"""Binance market data files.

Klines (``data.binance.vision`` dumps, e.g. ``ADABTC-1m-2021-11-27.csv``) have no header and
12 fields: ``open_time, open, high, low, close, volume, close_time, quote_volume, trades,
taker_buy_base, taker_buy_quote, ignore``. Times are epoch milliseconds (Binance moved spot
dumps to microseconds in 2025: a value above 10**14 is read as microseconds). The bar
interval is ``close_time - open_time + 1`` time unit (the most common value), and bars are
stamped at their close: ``ts_event = open_time + interval``. Files that do carry a header line
are recognised by a non-numeric first field. The volume kept is the base-asset volume.

Trades and quotes: see ``readers.ticks`` (its defaults are Binance's columns).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import numpy as np

from tradeloop.core.errors import ConfigError
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.data.readers._common import ReadResult, reject_bad_timestamps, sort_by_time
from tradeloop.data.readers._source import (
    RowRejects,
    check_file,
    check_instrument_id,
    check_precision,
    is_parquet,
    load_table,
    open_text,
    parse_integers,
    unit_ns,
)
from tradeloop.data.readers.ohlcv import build_bars
from tradeloop.data.readers.ticks import QuotesFormat, TradesFormat, read_quotes, read_trades

KLINE_COLUMNS: Final = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base",
    "taker_buy_quote",
    "ignore",
)
_MICROSECOND_THRESHOLD: Final = 10**14


def read_binance_klines(
    path: str | os.PathLike[str],
    instrument_id: str,
    *,
    price_precision: int | None = None,
    volume_precision: int | None = None,
    sort: bool = False,
) -> ReadResult[BarColumns]:
    """Read a Binance klines CSV into bars stamped at their close (``sort``: put the rows in
    time order, as ``OhlcvFormat.sort``).

    Raises
    ------
    ConfigError
        If the file is missing or not a CSV with 12 kline fields.
    """
    check_instrument_id(instrument_id)
    check_precision(price_precision, "price precision")
    check_precision(volume_precision, "volume precision")
    file = check_file(path)
    if is_parquet(file):
        raise ConfigError(
            f"file {file}: Binance klines are read from CSV; use the ohlcv format for Parquet"
        )
    table = load_table(file, instrument_id, has_header=_has_header(file), names=KLINE_COLUMNS)
    rejects = RowRejects(table, instrument_id)
    open_column = table.column("open_time", "the open time")
    open_time, ok_open = parse_integers(open_column)
    close_time, ok_close = parse_integers(table.column("close_time", "the close time"))
    ok = ok_open & ok_close
    span = (close_time - open_time + 1)[ok]
    if len(span) == 0:
        interval = 0
    else:
        values, counts = np.unique(span, return_counts=True)
        interval = int(values[np.argmax(counts)])
    is_micro = bool(
        len(open_time) and ok.any() and int(np.median(open_time[ok])) > _MICROSECOND_THRESHOLD
    )
    per_unit = unit_ns("us" if is_micro else "ms")
    ts_event = (open_time + interval) * per_unit
    reject_bad_timestamps(rejects, ok, "open_time", open_column, ts_event)
    result = build_bars(
        table,
        rejects,
        ts_event,
        {name: table.column(name, name) for name in ("open", "high", "low", "close")},
        table.column("volume", "volume"),
        price_precision=price_precision,
        volume_precision=volume_precision,
        interval_ns=interval * per_unit if interval > 0 else None,
        calendar=None,
    )
    return sort_by_time(result) if sort else result


def _has_header(file: Path) -> bool:
    with open_text(file) as handle:
        for line in handle:
            if line.strip():
                first = line.split(",", 1)[0].strip()
                return not first.isdigit()
    return False


def read_binance_trades(
    path: str | os.PathLike[str],
    instrument_id: str,
    *,
    price_precision: int | None = None,
    size_precision: int | None = None,
    sort: bool = False,
) -> ReadResult[TradeColumns]:
    """Read Binance trades (``timestamp, trade_id, price, quantity, buyer_maker``; CSV or Parquet).

    ``buyer_maker`` True means the seller was the aggressor. See ``read_trades``.
    """
    return read_trades(
        path,
        instrument_id,
        TradesFormat(sort=sort),
        price_precision=price_precision,
        size_precision=size_precision,
    )


def read_binance_quotes(
    path: str | os.PathLike[str],
    instrument_id: str,
    *,
    price_precision: int | None = None,
    size_precision: int | None = None,
    sort: bool = False,
) -> ReadResult[QuoteColumns]:
    """Read Binance best bid/ask (``timestamp, ask_size, ask, bid_size, bid``; CSV or Parquet)."""
    return read_quotes(
        path,
        instrument_id,
        QuotesFormat(sort=sort),
        price_precision=price_precision,
        size_precision=size_precision,
    )

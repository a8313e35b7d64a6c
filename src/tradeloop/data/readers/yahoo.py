"""Yahoo-style daily bars: ``Date,Open,High,Low,Close,Adj Close,Volume`` and its cousins.

Three shapes are recognised by their header (names compared case-insensitively):

- ``Date,Open,High,Low,Close,Adj Close,Volume`` (Yahoo Finance downloads, backtrader's files);
- ``,Open,High,Low,Close,Volume``: a pandas frame written with its date index unnamed;
- ``,date,open,high,low,close,volume``: a pandas frame with a row-number index and a date column.

Each row is one session: ``ts_event`` is that session's close in the exchange calendar
(``XNYS`` by default; early closes such as the day after Thanksgiving close at 13:00 New York
time), and ``ts_init = ts_event``. A date that is not a session is quarantined
(``outside_session``).

By default the raw Open/High/Low/Close are used. In Yahoo files these are split-adjusted but
not dividend-adjusted; ``Adj Close`` is both. With ``use_adjusted_close=True`` open, high and
low are multiplied by ``Adj Close / Close`` and rounded half-even to the price precision, and
close becomes ``Adj Close``; volume is left as it is.
"""

from __future__ import annotations

import os

from tradeloop.core.errors import ConfigError
from tradeloop.core.time import NANOS_PER_DAY
from tradeloop.data.calendars import check_calendar, is_always_open
from tradeloop.data.columns import BarColumns
from tradeloop.data.readers._common import ReadResult, sort_by_time
from tradeloop.data.readers._source import (
    RowRejects,
    Table,
    check_instrument_id,
    check_precision,
    load_table,
    parse_timestamps,
)
from tradeloop.data.readers.ohlcv import build_bars, stamp_sessions


def read_yahoo_csv(
    path: str | os.PathLike[str],
    instrument_id: str,
    *,
    use_adjusted_close: bool = False,
    calendar: str = "XNYS",
    price_precision: int | None = None,
    volume_precision: int | None = None,
    sort: bool = False,
) -> ReadResult[BarColumns]:
    """Read a Yahoo-style daily CSV into bars stamped at each session's close.

    Parameters
    ----------
    path : the CSV (``.gz`` allowed).
    instrument_id : ``SYMBOL.VENUE`` of the bars.
    use_adjusted_close : adjust OHLC by ``Adj Close / Close`` (default: raw OHLC).
    calendar : exchange-calendars code giving sessions and their closes.
    price_precision, volume_precision : decimals to store (``None``: inferred, capped at 9);
        more decimals than given are quarantined as ``excess_precision``.
    sort : put the rows in date order (``readers.sort_by_time``) for files not written in
        date order; otherwise rows out of order are quarantined as ``out_of_order``.

    Raises
    ------
    ConfigError
        If the file is missing, lacks a date/OHLC column, lacks ``Adj Close`` when asked to
        use it, or the calendar is unknown.
    """
    check_instrument_id(instrument_id)
    check_precision(price_precision, "price precision")
    check_precision(volume_precision, "volume precision")
    if is_always_open(calendar):
        raise ConfigError("daily bars dated by session need an exchange calendar (e.g. XNYS)")
    check_calendar(calendar)
    table = load_table(path, instrument_id)
    date_name = _date_column(table)
    date_column = table.column(date_name, "the date")
    rejects = RowRejects(table, instrument_id)
    ts, ok = parse_timestamps(
        date_column, path=table.path, name=date_name or "date", fmt="%Y-%m-%d"
    )
    ts_event = stamp_sessions(rejects, ts, ok, date_name or "date", date_column, calendar)
    prices = {name: table.column(name, name) for name in ("open", "high", "low", "close")}
    volume = table.column("volume", "volume") if table.has_column("volume") else None
    adjusted = None
    if use_adjusted_close:
        adj_name = next(
            (n for n in table.names if n.lower().replace("_", " ") == "adj close"), None
        )
        if adj_name is None:
            raise ConfigError(f"file {table.path} has no 'Adj Close' column to adjust prices with")
        adjusted = table.column(adj_name, "the adjusted close")
    result = build_bars(
        table,
        rejects,
        ts_event,
        prices,
        volume,
        price_precision=price_precision,
        volume_precision=volume_precision,
        interval_ns=NANOS_PER_DAY,
        calendar=calendar,
        adjusted_close=adjusted,
    )
    return sort_by_time(result) if sort else result


def _date_column(table: Table) -> str:
    for name in table.names:
        if name.lower() in ("date", "datetime"):
            return name
    if table.names and table.names[0] == "":
        return ""
    raise ConfigError(
        f"file {table.path} has no date column (expected 'Date' or an unnamed first column); "
        f"its columns are {table.names}"
    )

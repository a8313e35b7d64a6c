"""Generic OHLCV bars from CSV or Parquet, with a column mapping and a timestamp convention.

Bars are stamped at their close (``model.data``): a file that gives open times needs
``stamp=BarStamp.OPEN`` and an ``interval``, and ``ts_event = open time + interval``. A file of
daily rows dated by session uses ``stamp=BarStamp.SESSION`` with a calendar: ``ts_event`` is
that session's close from exchange-calendars (early closes included). ``ts_init = ts_event``.
"""

from __future__ import annotations

import os
from enum import StrEnum

import msgspec
import numpy as np
import numpy.typing as npt
import pandas as pd

from tradeloop.core.errors import ConfigError
from tradeloop.core.time import NANOS_PER_DAY
from tradeloop.data.calendars import check_calendar, is_always_open, session_closes
from tradeloop.data.columns import BarColumns, floats_to_raw
from tradeloop.data.kinds import DataKind
from tradeloop.data.readers._common import (
    NumericField,
    ReadResult,
    convert_numeric,
    reject_bad_timestamps,
    sort_by_time,
    source_positions,
)
from tradeloop.data.readers._source import (
    ColumnData,
    RowRejects,
    Table,
    check_instrument_id,
    check_precision,
    load_table,
    parse_timestamps,
)
from tradeloop.data.report import Rule

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class BarStamp(StrEnum):
    """What a bar file's timestamp means."""

    OPEN = "open"
    """The bar's open time: ``ts_event = timestamp + interval``."""
    CLOSE = "close"
    """The bar's close time: ``ts_event = timestamp``."""
    SESSION = "session"
    """A session date: ``ts_event`` is that session's close in the calendar."""


class OhlcvFormat(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to read a bar file.

    Attributes
    ----------
    timestamp, open, high, low, close : source column names.
    time : a separate time-of-day column joined to the date in ``timestamp`` (files with
        ``Date,Time,...`` columns), or ``None``.
    volume : source column name, or ``None`` when the file has no volume (zeros are used).
    has_header : whether a CSV starts with a header line.
    column_names : names for the fields of a headerless CSV (or to replace its header).
    delimiter : CSV field separator.
    timestamp_unit : ``s``/``ms``/``us``/``ns`` when timestamps are epoch numbers.
    timestamp_format : a ``strptime`` format for text timestamps (ISO-8601 when ``None``).
    timezone : zone of timestamps without an offset (``"America/New_York"``); UTC by default.
    stamp : whether timestamps are bar opens, bar closes or session dates.
    interval : bar length as a pandas offset string (``"1min"``, ``"1h"``, ``"1D"``);
        required with ``stamp=OPEN``; inferred later for gaps when ``None``.
    calendar : exchange-calendars code for sessions (required with ``stamp=SESSION``).
    sort : put the rows in time order before validation (for files not written in time
        order); otherwise rows out of time order are quarantined as ``out_of_order``.
    """

    timestamp: str = "timestamp"
    time: str | None = None
    open: str = "open"
    high: str = "high"
    low: str = "low"
    close: str = "close"
    volume: str | None = "volume"
    has_header: bool = True
    column_names: tuple[str, ...] | None = None
    delimiter: str = ","
    timestamp_unit: str | None = None
    timestamp_format: str | None = None
    timezone: str = "UTC"
    stamp: BarStamp = BarStamp.CLOSE
    interval: str | None = None
    calendar: str | None = None
    sort: bool = False


def interval_to_ns(interval: str) -> int:
    """Return a pandas offset string (``"1min"``, ``"1h"``, ``"1D"``) in nanoseconds.

    Raises
    ------
    ConfigError
        If the text is not a positive duration.
    """
    try:
        value = int(pd.Timedelta(interval).value)
    except (ValueError, TypeError):
        raise ConfigError(
            f"bar interval {interval!r} is not a duration such as 1min, 1h or 1D"
        ) from None
    if value <= 0:
        raise ConfigError(f"bar interval {interval!r} must be positive")
    return value


def read_ohlcv(
    path: str | os.PathLike[str],
    instrument_id: str,
    fmt: OhlcvFormat | None = None,
    *,
    price_precision: int | None = None,
    volume_precision: int | None = None,
) -> ReadResult[BarColumns]:
    """Read OHLCV bars from a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``) file.

    Parameters
    ----------
    path : the file.
    instrument_id : ``SYMBOL.VENUE`` of the bars.
    fmt : column mapping and timestamp convention (defaults: lower-case names, close stamps).
    price_precision, volume_precision : decimals to store; ``None`` infers the most decimals
        seen (capped at 9). A value with more decimals than the precision is quarantined as
        ``excess_precision``, never rounded.

    Raises
    ------
    ConfigError
        If the file is missing, a mapped column is absent, or the format is inconsistent.
    DataIntegrityError
        If the file cannot be decoded.
    """
    fmt = fmt or OhlcvFormat()
    check_instrument_id(instrument_id)
    check_precision(price_precision, "price precision")
    check_precision(volume_precision, "volume precision")
    interval_ns = _check_format(fmt)
    table = load_table(
        path,
        instrument_id,
        has_header=fmt.has_header,
        names=fmt.column_names,
        delimiter=fmt.delimiter,
    )
    ts_column = table.column(fmt.timestamp, "the timestamp")
    if fmt.time is not None:
        ts_column = _join_date_time(ts_column, table.column(fmt.time, "the time of day"))
    rejects = RowRejects(table, instrument_id)
    if fmt.stamp is BarStamp.SESSION:
        assert fmt.calendar is not None
        ts, ok = parse_timestamps(
            ts_column, path=table.path, name=fmt.timestamp, fmt=fmt.timestamp_format
        )
        ts_event = stamp_sessions(rejects, ts, ok, fmt.timestamp, ts_column, fmt.calendar)
    else:
        ts, ok = parse_timestamps(
            ts_column,
            path=table.path,
            name=fmt.timestamp,
            unit=fmt.timestamp_unit,
            fmt=fmt.timestamp_format,
            timezone=fmt.timezone,
        )
        ts_event = (
            ts + interval_ns if fmt.stamp is BarStamp.OPEN and interval_ns is not None else ts
        )
        reject_bad_timestamps(rejects, ok, fmt.timestamp, ts_column, ts_event)
    prices = {name: table.column(column, name) for name, column in _price_columns(fmt).items()}
    volume = None if fmt.volume is None else table.column(fmt.volume, "volume")
    result = build_bars(
        table,
        rejects,
        ts_event,
        prices,
        volume,
        price_precision=price_precision,
        volume_precision=volume_precision,
        interval_ns=interval_ns,
        calendar=None if fmt.calendar is None or is_always_open(fmt.calendar) else fmt.calendar,
    )
    return sort_by_time(result) if fmt.sort else result


def _join_date_time(dates: ColumnData, times: ColumnData) -> list[str]:
    # "2006-01-02" + "09:05:00" -> "2006-01-02 09:05:00"; a missing part leaves the text
    # unparseable, so the row is quarantined with its date (or time) in the message.
    return [
        f"{date.strip()} {time.strip()}" if date.strip() and time.strip() else ""
        for date, time in zip(_column_texts(dates), _column_texts(times), strict=True)
    ]


def _column_texts(column: ColumnData) -> list[str]:
    if isinstance(column, list):
        return column
    return ["" if value is None else str(value) for value in column.to_pylist()]


def _price_columns(fmt: OhlcvFormat) -> dict[str, str]:
    return {"open": fmt.open, "high": fmt.high, "low": fmt.low, "close": fmt.close}


def _check_format(fmt: OhlcvFormat) -> int | None:
    if fmt.calendar is not None:
        check_calendar(fmt.calendar)
    interval_ns = None if fmt.interval is None else interval_to_ns(fmt.interval)
    if fmt.stamp is BarStamp.OPEN and interval_ns is None:
        raise ConfigError(
            "bars stamped at their open need an interval (e.g. 1min) to be stamped at their close"
        )
    if fmt.stamp is BarStamp.SESSION:
        if fmt.calendar is None or is_always_open(fmt.calendar):
            raise ConfigError("bars dated by session need an exchange calendar (e.g. XNYS)")
        if interval_ns not in (None, NANOS_PER_DAY):
            raise ConfigError(f"bars dated by session are daily, not {fmt.interval}")
        interval_ns = NANOS_PER_DAY
    if fmt.time is not None and (fmt.timestamp_unit is not None or fmt.stamp is BarStamp.SESSION):
        raise ConfigError(
            "a separate time-of-day column goes with text dates, not epoch numbers or sessions"
        )
    if fmt.timestamp_unit is not None and fmt.timestamp_format is not None:
        raise ConfigError(
            "give either a timestamp unit (epoch numbers) or a timestamp format (text), not both"
        )
    return interval_ns


def stamp_sessions(
    rejects: RowRejects,
    ts: I64,
    ok: npt.NDArray[np.bool_],
    field: str,
    column: ColumnData,
    calendar: str,
) -> I64:
    """Return each session date's close; quarantine rows that are not dates or not sessions."""
    is_date = ok & (ts % NANOS_PER_DAY == 0)
    rejects.reject(~ok, Rule.UNPARSEABLE, field, column, "is not a valid date")
    rejects.reject(
        ~is_date, Rule.UNPARSEABLE, field, column, "is a time of day, expected a session date"
    )
    closes, is_session = session_closes(calendar, ts[is_date])
    ts_event = np.zeros(len(ts), dtype=np.int64)
    ts_event[is_date] = closes
    session_mask = np.zeros(len(ts), dtype=np.bool_)
    session_mask[is_date] = is_session
    rejects.reject(
        ~session_mask, Rule.OUTSIDE_SESSION, field, column, f"is not a {calendar} session"
    )
    rejects.ts = np.where(session_mask, ts_event, ts)
    return ts_event


def build_bars(
    table: Table,
    rejects: RowRejects,
    ts_event: I64,
    prices: dict[str, ColumnData],
    volume: ColumnData | None,
    *,
    price_precision: int | None,
    volume_precision: int | None,
    interval_ns: int | None,
    calendar: str | None,
    adjusted_close: ColumnData | None = None,
) -> ReadResult[BarColumns]:
    """Convert the price and volume columns of the alive rows into ``BarColumns``.

    With ``adjusted_close``, open/high/low are multiplied by ``adjusted_close / close`` and
    rounded half-even to the price precision; close becomes the adjusted close exactly.
    """
    fields = [NumericField(name, column, "price") for name, column in prices.items()]
    if adjusted_close is not None:
        fields.append(NumericField("adj_close", adjusted_close, "price"))
    if volume is not None:
        fields.append(NumericField("volume", volume, "size"))
    floats: dict[str, F64] = {}
    converted = convert_numeric(
        fields, rejects, price_precision, volume_precision, float_values=floats
    )
    raws = converted.raws
    alive = rejects.alive
    if adjusted_close is not None:
        raws = _adjust(rejects, raws, floats, converted.price_precision)
        alive = rejects.alive
    count = int(alive.sum())
    stamps = ts_event[alive]
    columns = BarColumns(
        rejects.instrument_id,
        converted.price_precision,
        converted.size_precision if volume is not None else (volume_precision or 0),
        stamps,
        stamps,
        raws["open"],
        raws["high"],
        raws["low"],
        raws["close"],
        raws["volume"] if volume is not None else np.zeros(count, dtype=np.int64),
    )
    rows, lines = source_positions(rejects)
    return ReadResult(
        columns=columns,
        source_rows=rows,
        source_lines=lines,
        rejected=rejects.sorted_records(),
        source=table.path,
        rows_in=table.rows_in,
        kind=DataKind.BARS,
        interval_ns=interval_ns,
        calendar=calendar,
        has_volume=volume is not None,
    )


def _adjust(
    rejects: RowRejects, raws: dict[str, I64], floats: dict[str, F64], precision: int
) -> dict[str, I64]:
    # ``raws``/``floats`` hold the rows alive before adjusting; rows whose ratio is undefined are
    # quarantined now, so every array is cut down to the rows still alive.
    before = np.flatnonzero(rejects.alive)
    close, adjusted = floats["close"], floats["adj_close"]
    undefined = (close <= 0) | (adjusted <= 0)
    if undefined.any():
        mask = np.zeros(len(rejects.alive), dtype=np.bool_)
        mask[before[undefined]] = True
        column = rejects.table.column(_adj_name(rejects.table), "the adjusted close")
        rejects.reject(
            mask, Rule.NON_POSITIVE_PRICE, "adj_close", column, "cannot adjust a non-positive close"
        )
    keep = ~undefined
    ratio = adjusted[keep] / close[keep]
    result = {name: values[keep] for name, values in raws.items()}
    for name in ("open", "high", "low"):
        result[name] = floats_to_raw(floats[name][keep] * ratio, precision, f"adjusted {name}")
    result["close"] = result["adj_close"]
    return result


def _adj_name(table: Table) -> str:
    for name in table.names:
        if name.lower().replace("_", " ") == "adj close":
            return name
    return "Adj Close"

"""Detecting how a generic OHLCV file is laid out from its header and first rows.

``detect_ohlcv_format`` fills in every ``OhlcvFormat`` field the caller did not give:

1. Header: a CSV's first line (or ``column_names``), a Parquet file's schema.
2. Timestamp: the first column named ``timestamp``, ``timestamp_utc``, ``datetime``,
   ``date_time``, ``time_utc``, ``ts``, ``open_time``, ``date`` or ``time`` (any case); a
   ``date`` column with a separate ``time`` column is read as date plus time of day; with none
   of these, an unnamed first column (a pandas index written to CSV) holding times.
3. Prices and volume: ``open``/``high``/``low``/``close`` and ``volume`` (or ``vol``) in any
   case; without a volume column the bars have none (zeros, ``has_volume`` false).
4. Stamps: rows holding dates without a time of day are daily bars. With a calendar they are
   dated by session (``ts_event`` is the session's close); without one they are known at the
   end of their UTC day (``stamp=open``, ``interval=1D``), never before. Other rows are taken as
   bar closes (the ``OhlcvFormat`` default): give ``stamp``/``interval`` for bar opens.

A file whose rows all have another number of fields than its header names gets a
``ConfigError`` that says so (name the columns with ``column_names``): nothing is guessed.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.data.calendars import is_always_open
from tradeloop.data.readers._source import check_file, is_parquet, open_text
from tradeloop.data.readers.ohlcv import BarStamp, OhlcvFormat

TIMESTAMP_NAMES: Final = (
    "timestamp",
    "timestamp_utc",
    "datetime",
    "date_time",
    "time_utc",
    "ts",
    "open_time",
)
"""Column names read as the bar timestamp, in order of preference (any case)."""

_PRICE_NAMES: Final = {
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
}
_VOLUME_NAMES: Final = ("volume", "vol")
_UNNAMED: Final = ("", "unnamed: 0", "index")
_SAMPLE_ROWS: Final = 50
_DATE_ONLY: Final = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{8})\s*$")
_FIELDS: Final = frozenset(OhlcvFormat.__struct_fields__)


def detect_ohlcv_format(
    path: str | os.PathLike[str],
    given: Mapping[str, Any] | None = None,
    *,
    session_calendar: str | None = None,
) -> OhlcvFormat:
    """Return the ``OhlcvFormat`` of ``path``: ``given`` fields as they are, the rest detected.

    ``given`` holds ``OhlcvFormat`` fields by name (from ``--options``, ``--column`` or a
    config's ``options``); a ``volume`` of ``""`` or ``None`` means the file has no volume.
    ``session_calendar`` (the instrument's exchange calendar) dates daily rows by session
    when ``given`` names no calendar.

    Raises
    ------
    ConfigError
        If the file is missing, ``given`` has an unknown field or a bad value, or the rows do
        not match the header.
    DataIntegrityError
        If the file cannot be read.
    """
    fields = dict(given or {})
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        raise ConfigError(
            f"ohlcv options {unknown} are unknown; the fields are {', '.join(sorted(_FIELDS))}"
        )
    if fields.get("volume") == "":
        fields["volume"] = None
    file = check_file(path)
    base = _convert(fields)  # checks the given values before the file is opened
    names, samples, date_types = _peek(file, base)
    lookup = {name.lower(): name for name in names}

    def find(candidates: tuple[str, ...]) -> str | None:
        for candidate in candidates:
            if candidate in lookup:
                return lookup[candidate]
        return None

    if "timestamp" not in fields:
        timestamp = find(TIMESTAMP_NAMES)
        if timestamp is None and "date" in lookup:
            timestamp = lookup["date"]
            if "time" not in fields and "time" in lookup:
                fields["time"] = lookup["time"]
        if timestamp is None and "time" in lookup:
            timestamp = lookup["time"]
        if timestamp is None and names and names[0].strip().lower() in _UNNAMED:
            timestamp = names[0]
        if timestamp is not None:
            fields["timestamp"] = timestamp
    for field, candidates in _PRICE_NAMES.items():
        if field not in fields:
            found = find(candidates)
            if found is not None:
                fields[field] = found
    if "volume" not in fields:
        fields["volume"] = find(_VOLUME_NAMES)
    if "stamp" not in fields and fields.get("time") is None:
        column = fields.get("timestamp", "timestamp")
        if _is_daily(column, names, samples, date_types):
            if (
                fields.get("calendar") is None
                and session_calendar is not None
                and not is_always_open(session_calendar)
            ):
                fields["calendar"] = session_calendar
            if fields.get("calendar") is not None:
                fields["stamp"] = BarStamp.SESSION.value
            else:
                fields["stamp"] = BarStamp.OPEN.value
                fields.setdefault("interval", "1D")
    return _convert(fields)


def _convert(fields: Mapping[str, Any]) -> OhlcvFormat:
    try:
        return msgspec.convert(dict(fields), type=OhlcvFormat)
    except msgspec.ValidationError as error:
        raise ConfigError(f"ohlcv options: {error}") from None


def _is_daily(
    column: str, names: list[str], samples: list[list[str]], date_types: dict[str, bool]
) -> bool:
    if column in date_types:
        return date_types[column]
    lowered = [name.lower() for name in names]
    if column.lower() not in lowered:
        return False
    index = lowered.index(column.lower())
    values = [row[index] for row in samples if len(row) == len(names) and row[index].strip()]
    return bool(values) and all(_DATE_ONLY.match(value) for value in values)


def _peek(file: Path, fmt: OhlcvFormat) -> tuple[list[str], list[list[str]], dict[str, bool]]:
    # The header, the first rows (CSV) and, for Parquet, whether each column is a date type.
    if is_parquet(file):
        try:
            schema = pq.read_schema(file)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataIntegrityError(f"file {file} is not a readable Parquet file: {exc}") from None
        dates = {field.name: pa.types.is_date(field.type) for field in schema}
        return list(schema.names), [], dates
    rows: list[list[str]] = []
    try:
        with open_text(file) as handle:
            reader = csv.reader(handle, delimiter=fmt.delimiter)
            for values in reader:
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                rows.append(values)
                if len(rows) > _SAMPLE_ROWS:
                    break
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise DataIntegrityError(f"file {file} cannot be read as CSV text: {exc}") from None
    if fmt.has_header and rows:
        header, body = [value.strip() for value in rows[0]], rows[1:]
    else:
        header, body = [str(i) for i in range(len(rows[0]))] if rows else [], rows
    names = list(fmt.column_names) if fmt.column_names is not None else header
    widths = {len(row) for row in body}
    if body and len(names) not in widths:
        raise ConfigError(
            f"file {file} names {len(names)} columns ({','.join(names)}) but its rows have "
            f"{'/'.join(str(w) for w in sorted(widths))} fields; name the columns with "
            "--names (options column_names)"
        )
    return names, body, {}

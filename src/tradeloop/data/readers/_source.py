"""Loading a source file into text or Arrow columns, and turning columns into exact values.

Readers follow the same steps:

1. ``load_table``: CSV (optionally gzip) through the ``csv`` module, so that every record
   keeps its line number and a record with the wrong number of fields is quarantined rather
   than padded, and a record holding bytes that are not UTF-8 is quarantined as
   ``undecodable`` (the rest of the file loads); Parquet through pyarrow, typed.
2. ``RowRejects`` keeps one alive-mask over the records and the quarantined records: each
   rule marks rows dead once, with a message naming instrument, value and rule.
3. ``parse_numbers`` / ``parse_timestamps`` / ``parse_booleans`` convert a column and say per
   row whether it was fine, missing/non-finite, or unparseable.
4. ``resolve_precision`` + ``RowRejects.reject_out_of_range`` (a value such as 1e300 that no
   int64 raw holds exactly) + ``RowRejects.reject_excess_precision`` check decimals before
   ``floats_to_raw`` turns the floats into int64 raws.

Floats are the carrier from text to raw: a decimal with up to 15 significant digits survives
``float -> rint(x * 10**p)`` exactly. Digits past the 15th significant one are treated as
binary noise from an upstream float round trip (``0.031035000000000004`` is 0.031035), the
same tolerance as ``columns.excess_precision_mask``.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradeloop.core.errors import ConfigError, DataIntegrityError, InvalidValueError
from tradeloop.core.fixed import pow10
from tradeloop.core.paths import require_file
from tradeloop.core.time import ns_to_iso
from tradeloop.data.columns import excess_precision_mask
from tradeloop.data.report import QuarantinedRecord, Rule
from tradeloop.model.instruments import split_instrument_id

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
ColumnData: TypeAlias = "list[str] | pa.ChunkedArray"

PRECISION_CAP: Final = 9
"""Most decimals an inferred precision may have; a value needing more is quarantined."""

_EXACT_LIMIT: Final = float(2**53)
_MISSING_TOKENS: Final = frozenset({"", "nan", "-nan", "null", "none", "na", "n/a", "#n/a"})
_TRUE: Final = frozenset({"true", "t", "1", "yes", "y"})
_FALSE: Final = frozenset({"false", "f", "0", "no", "n"})
_UNITS: Final = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

OK: Final = 0
MISSING: Final = 1
BAD: Final = 2


def check_instrument_id(instrument_id: str) -> None:
    """Raise ``ConfigError`` if ``instrument_id`` is not ``SYMBOL.VENUE``."""
    try:
        split_instrument_id(instrument_id)
    except InvalidValueError as exc:
        raise ConfigError(str(exc)) from None


def check_precision(precision: int | None, what: str) -> None:
    """Raise ``ConfigError`` if a given precision is outside 0..16."""
    if precision is not None and not 0 <= precision <= 16:
        raise ConfigError(f"{what} {precision} is outside 0..16")


def unit_ns(unit: str) -> int:
    """Return nanoseconds per ``unit`` (``s``, ``ms``, ``us``, ``ns``).

    Raises
    ------
    ConfigError
        If the unit is not one of those.
    """
    try:
        return _UNITS[unit]
    except KeyError:
        raise ConfigError(f"timestamp unit {unit!r} is unknown; use s, ms, us or ns") from None


class Table:
    """Columns of one source, with the record index and line number of each loaded row."""

    __slots__ = ("columns", "lines", "names", "path", "rejected", "rows", "rows_in")

    def __init__(
        self,
        path: str,
        names: list[str],
        columns: dict[str, ColumnData],
        rows: I64,
        lines: I64 | None,
        rejected: list[QuarantinedRecord],
        rows_in: int,
    ) -> None:
        self.path = path
        self.names = names
        self.columns = columns
        self.rows = rows
        self.lines = lines
        self.rejected = rejected
        self.rows_in = rows_in

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str, role: str) -> ColumnData:
        """Return column ``name`` (case-insensitive fallback).

        Raises
        ------
        ConfigError
            If the source has no such column.
        """
        if name in self.columns:
            return self.columns[name]
        lowered = {key.lower(): key for key in self.columns}
        if name.lower() in lowered:
            return self.columns[lowered[name.lower()]]
        raise ConfigError(
            f"file {self.path} has no column {name!r} for {role}; its columns are {self.names}"
        )

    def has_column(self, name: str) -> bool:
        """Return whether the source has column ``name`` (case-insensitive)."""
        return name.lower() in {key.lower() for key in self.columns}


def check_file(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a ``Path``.

    Raises
    ------
    ConfigError
        If the file does not exist or is a directory.
    """
    return require_file(path, "data file")


def is_parquet(path: Path) -> bool:
    """Return whether ``path`` names a Parquet file (by suffix)."""
    return path.suffix.lower() in (".parquet", ".pq")


def load_table(
    path: str | os.PathLike[str],
    instrument_id: str,
    *,
    has_header: bool = True,
    names: Sequence[str] | None = None,
    delimiter: str = ",",
) -> Table:
    """Load a CSV (``.gz`` allowed) or Parquet file into a ``Table``.

    For CSV, ``names`` replaces the header (or names the fields of a headerless file); a record
    whose number of fields differs from the header is quarantined as ``unparseable``. Blank
    lines hold no record and are skipped. A record with bytes that are not UTF-8 is quarantined
    as ``undecodable``, naming its line.

    Raises
    ------
    ConfigError
        If the file is missing, or has no header where one is expected.
    DataIntegrityError
        If the file cannot be decoded (a header that is not UTF-8 text, not Parquet).
    """
    file = check_file(path)
    if is_parquet(file):
        return _load_parquet(file)
    return _load_csv(file, instrument_id, has_header=has_header, names=names, delimiter=delimiter)


def _load_parquet(file: Path) -> Table:
    try:
        table = pq.read_table(file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataIntegrityError(f"file {file} is not a readable Parquet file: {exc}") from None
    names = list(table.column_names)
    columns: dict[str, ColumnData] = {name: table.column(name) for name in names}
    rows = np.arange(table.num_rows, dtype=np.int64)
    return Table(str(file), names, columns, rows, None, [], table.num_rows)


def open_text(file: Path) -> io.TextIOBase:
    """Open a CSV (``.gz`` allowed) as UTF-8 text; bytes that are not UTF-8 become lone
    surrogates (``surrogateescape``), so one bad record is quarantined (``undecodable``)
    instead of the whole file being refused."""
    if file.suffix.lower() == ".gz":
        return gzip.open(file, "rt", encoding="utf-8-sig", errors="surrogateescape", newline="")
    return open(file, encoding="utf-8-sig", errors="surrogateescape", newline="")


def has_undecodable(text: str) -> bool:
    """Return whether text read by ``open_text`` holds bytes that were not UTF-8."""
    return any("\udc80" <= char <= "\udcff" for char in text)


def shown_bytes(text: str) -> str:
    """Return text read by ``open_text`` with its non-UTF-8 bytes written as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _load_csv(
    file: Path, instrument_id: str, *, has_header: bool, names: Sequence[str] | None, delimiter: str
) -> Table:
    header: list[str] | None = None
    fields: list[list[str]] = []
    lines: list[int] = []
    rows: list[int] = []
    rejected: list[QuarantinedRecord] = []
    record = 0
    try:
        with open_text(file) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            for values in reader:
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                if has_header and header is None:
                    header = [value.strip() for value in values]
                    if any(has_undecodable(name) for name in header):
                        raise DataIntegrityError(
                            f"file {file} header line {reader.line_num} is not UTF-8 text: "
                            f"{shown_bytes(delimiter.join(header))[:80]}"
                        )
                    continue
                if header is None:
                    header = (
                        list(names) if names is not None else [str(i) for i in range(len(values))]
                    )
                expected = len(names) if names is not None else len(header)
                bad = [i for i, value in enumerate(values) if has_undecodable(value)]
                if bad:
                    names_now = names if names is not None else header
                    field = names_now[bad[0]] if bad[0] < len(names_now) else f"field {bad[0]}"
                    text = shown_bytes(values[bad[0]])[:80]
                    rejected.append(
                        QuarantinedRecord(
                            row=record,
                            line=reader.line_num,
                            ts_event=None,
                            rule=Rule.UNDECODABLE,
                            field=field,
                            value=text,
                            message=(
                                f"{instrument_id} row {record} (line {reader.line_num}): "
                                f"{field} '{text}' is not UTF-8 text (rule undecodable)"
                            ),
                        )
                    )
                elif len(values) != expected:
                    text = delimiter.join(values)
                    rejected.append(
                        QuarantinedRecord(
                            row=record,
                            line=reader.line_num,
                            ts_event=None,
                            rule=Rule.UNPARSEABLE,
                            field="row",
                            value=text[:80],
                            message=(
                                f"{instrument_id} row {record} (line {reader.line_num}) has "
                                f"{len(values)} fields, expected {expected} (rule unparseable)"
                            ),
                        )
                    )
                else:
                    fields.append(values)
                    rows.append(record)
                    lines.append(reader.line_num)
                record += 1
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise DataIntegrityError(f"file {file} cannot be read as CSV text: {exc}") from None
    if header is None:
        if has_header:
            raise ConfigError(f"file {file} is empty: expected a header line")
        header = list(names) if names is not None else []
    if names is not None:
        header = list(names)
    width = len(header)
    if len(set(header)) != width:
        raise ConfigError(f"file {file} has duplicate column names in {header}")
    transposed: list[list[str]] = [[] for _ in range(width)]
    for values in fields:
        for i in range(width):
            transposed[i].append(values[i])
    columns: dict[str, ColumnData] = {name: transposed[i] for i, name in enumerate(header)}
    return Table(
        str(file),
        header,
        columns,
        np.asarray(rows, dtype=np.int64),
        np.asarray(lines, dtype=np.int64),
        rejected,
        record,
    )


# -- column conversion ---------------------------------------------------------------------------


def value_text(column: ColumnData, index: int) -> str:
    """Return the value at ``index`` as text, for messages."""
    if isinstance(column, list):
        return column[index]
    value = column[index].as_py()
    return "" if value is None else str(value)


def parse_numbers(column: ColumnData) -> tuple[F64, npt.NDArray[np.int8]]:
    """Return a column as float64 and a per-row status (``OK``, ``MISSING`` for empty, NaN,
    infinite or null, ``BAD`` for text that is not a number)."""
    if isinstance(column, pa.ChunkedArray) and (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_decimal(column.type)
    ):
        values = np.asarray(
            column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        status = np.where(np.isfinite(values), OK, MISSING).astype(np.int8)
        return values, status
    texts = _texts(column)
    parsed = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce")
    values = np.asarray(parsed, dtype=np.float64)
    status = np.zeros(len(values), dtype=np.int8)
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        token = str(texts[i]).strip().lower()
        if np.isinf(values[i]) or token in _MISSING_TOKENS or token in ("inf", "-inf", "+inf"):
            status[i] = MISSING
        else:
            status[i] = BAD
    return values, status


def parse_integers(column: ColumnData) -> tuple[I64, Mask]:
    """Return a column of whole numbers as int64 (exactly, no float round trip) and an ok-mask."""
    if isinstance(column, pa.ChunkedArray) and pa.types.is_integer(column.type):
        ok = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
        values = np.asarray(column.fill_null(0).cast(pa.int64()).to_numpy(zero_copy_only=False))
        return values.astype(np.int64), ok
    texts = _texts(column)
    try:
        return np.asarray(texts, dtype=np.int64), np.ones(len(texts), dtype=np.bool_)
    except (ValueError, OverflowError, TypeError):
        pass
    out = np.zeros(len(texts), dtype=np.int64)
    ok = np.zeros(len(texts), dtype=np.bool_)
    for i, text in enumerate(texts):
        try:
            out[i] = int(str(text).strip())
            ok[i] = True
        except (ValueError, OverflowError):
            continue
    return out, ok


def parse_booleans(column: ColumnData) -> tuple[npt.NDArray[np.bool_], Mask]:
    """Return a boolean column (``true``/``false``, ``1``/``0``, ``yes``/``no``) and an ok-mask."""
    if isinstance(column, pa.ChunkedArray) and pa.types.is_boolean(column.type):
        ok = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
        values = np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)
        return values, ok
    texts = _texts(column)
    values = np.zeros(len(texts), dtype=np.bool_)
    ok = np.zeros(len(texts), dtype=np.bool_)
    for i, text in enumerate(texts):
        token = str(text).strip().lower()
        if token in _TRUE:
            values[i] = ok[i] = True
        elif token in _FALSE:
            ok[i] = True
    return values, ok


def parse_timestamps(
    column: ColumnData,
    *,
    path: str,
    name: str,
    unit: str | None = None,
    fmt: str | None = None,
    timezone: str = "UTC",
) -> tuple[I64, Mask]:
    """Return timestamps as int64 ns UTC and an ok-mask.

    Arrow timestamps are taken as they are (naive ones are in ``timezone``); integers are epoch
    numbers in ``unit``; text is epoch numbers when ``unit`` is given, else parsed with ``fmt``
    (a ``strptime`` format; ISO-8601 by default). Text without an offset is in ``timezone``;
    times that do not exist or are ambiguous there (DST changes) are not ok.

    Raises
    ------
    ConfigError
        If the column holds epoch numbers and no ``unit`` is given, or the zone is unknown.
    """
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_timestamp(column.type):
            series = pd.Series(column.to_pandas())
            return _localised(series, timezone, path, name)
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            if unit is None:
                raise ConfigError(
                    f"file {path} column {name!r} holds epoch numbers: "
                    "give timestamp unit (s, ms, us, ns)"
                )
            if pa.types.is_integer(column.type):
                return _epoch(*parse_integers(column), unit)
            floats, status = parse_numbers(column)
            ok = status == OK
            return np.where(ok, np.rint(floats * unit_ns(unit)), 0).astype(np.int64), ok
    texts = _texts(column)
    if unit is not None:
        return _epoch(*parse_integers(texts), unit)
    series = pd.Series(texts, dtype=object)
    try:
        parsed = pd.to_datetime(series, format=fmt or "ISO8601", errors="coerce")
    except ValueError:
        # Mixed offsets: convert each to UTC (text without an offset is then read as UTC).
        if timezone != "UTC":
            raise ConfigError(
                f"file {path} column {name!r} mixes times with and without UTC offsets; "
                "give every time an offset or use timezone UTC"
            ) from None
        parsed = pd.to_datetime(series, format=fmt or "ISO8601", errors="coerce", utc=True)
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype) and len(parsed) and parsed.isna().all():
        digits = sum(str(t).strip().isdigit() for t in texts[:20])
        if digits:
            raise ConfigError(
                f"file {path} column {name!r} holds epoch numbers: "
                "give timestamp unit (s, ms, us, ns)"
            )
    return _localised(parsed, timezone, path, name)


def _epoch(ints: I64, ok: Mask, unit: str) -> tuple[I64, Mask]:
    # Epoch numbers beyond the int64 nanosecond range (year 2262) are not valid timestamps.
    per_unit = unit_ns(unit)
    limit = np.iinfo(np.int64).max // per_unit
    ok = ok & (np.abs(ints) <= limit)
    return np.where(ok, ints, 0) * per_unit, ok


def _localised(series: pd.Series[Any], timezone: str, path: str, name: str) -> tuple[I64, Mask]:
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        try:
            series = series.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        except (KeyError, ValueError) as exc:
            raise ConfigError(
                f"file {path} column {name!r}: time zone {timezone!r} is unknown ({exc})"
            ) from None
    utc = series.dt.tz_convert("UTC").dt.as_unit("ns")
    ok = ~np.asarray(utc.isna(), dtype=np.bool_)
    ints = np.array(utc.dt.tz_localize(None).astype("int64"), dtype=np.int64)
    ints[~ok] = 0
    return ints, ok


def _texts(column: ColumnData) -> list[str]:
    if isinstance(column, list):
        return column
    return ["" if value is None else str(value) for value in column.to_pylist()]


# -- precision ------------------------------------------------------------------------------------


def decimals_needed(values: F64, cap: int = PRECISION_CAP) -> npt.NDArray[np.int8]:
    """Return the fewest decimals each finite value needs (``cap + 1`` where more than ``cap``,
    or where ``value * 10**decimals`` passes 2**53 and so cannot be held exactly)."""
    needed = np.full(len(values), cap + 1, dtype=np.int8)
    pending = np.isfinite(values)
    for digits in range(cap + 1):
        if not pending.any():
            break
        fits = pending & ~excess_precision_mask(values, digits)
        with np.errstate(over="ignore"):
            fits &= np.abs(values) * float(pow10(digits)) < _EXACT_LIMIT
        needed[fits] = digits
        pending &= ~fits
    return needed


def resolve_precision(
    needed: Sequence[npt.NDArray[np.int8]], alive: Mask, given: int | None, cap: int = PRECISION_CAP
) -> int:
    """Return ``given``, or the most decimals any alive value needs (at most ``cap``)."""
    if given is not None:
        return given
    most = 0
    for column in needed:
        live = column[alive & (column <= cap)]
        if len(live):
            most = max(most, int(live.max()))
    return most


class RowRejects:
    """An alive-mask over a ``Table``'s rows plus the records of the rows set aside."""

    __slots__ = ("alive", "instrument_id", "records", "table", "ts")

    def __init__(self, table: Table, instrument_id: str) -> None:
        self.table = table
        self.instrument_id = instrument_id
        self.alive: Mask = np.ones(len(table), dtype=np.bool_)
        self.records: list[QuarantinedRecord] = list(table.rejected)
        self.ts: I64 | None = None

    def reject(
        self,
        mask: Mask,
        rule: Rule,
        field: str,
        column: ColumnData | None,
        reason: str | Callable[[int], str],
    ) -> None:
        """Quarantine the alive rows in ``mask`` under ``rule``.

        ``reason`` completes "``{field} {value!r} ...``" (or is a function of the position).
        """
        hits = np.flatnonzero(mask & self.alive)
        if len(hits) == 0:
            return
        self.alive[hits] = False
        table = self.table
        for position in hits.tolist():
            row = int(table.rows[position])
            line = None if table.lines is None else int(table.lines[position])
            ts = None if self.ts is None else int(self.ts[position])
            value = value_text(column, position) if column is not None else ""
            text = reason(position) if callable(reason) else reason
            where = f"row {row}" + (f" (line {line})" if line is not None else "")
            when = f" at {ns_to_iso(ts)}" if ts is not None else ""
            self.records.append(
                QuarantinedRecord(
                    row=row,
                    line=line,
                    ts_event=ts,
                    rule=rule,
                    field=field,
                    value=value,
                    message=(
                        f"{self.instrument_id} {where}{when}: {field} {value!r} {text} "
                        f"(rule {rule.value})"
                    ),
                )
            )

    def reject_numbers(self, status: npt.NDArray[np.int8], field: str, column: ColumnData) -> None:
        """Quarantine rows whose ``field`` is unparseable or missing/non-finite."""
        self.reject(status == BAD, Rule.UNPARSEABLE, field, column, "is not a number")
        self.reject(
            status == MISSING, Rule.NON_FINITE, field, column, "is missing or not a finite number"
        )

    def reject_out_of_range(
        self, values: F64, precision: int, field: str, column: ColumnData
    ) -> None:
        """Quarantine rows whose ``field`` is too large to hold exactly at ``precision``
        (``|value| * 10**precision`` at or above 2**53), such as a price of 1e300."""
        with np.errstate(over="ignore", invalid="ignore"):
            large = np.isfinite(values) & (np.abs(values) * float(pow10(precision)) >= _EXACT_LIMIT)
        limit = _EXACT_LIMIT / float(pow10(precision))
        self.reject(
            large,
            Rule.OUT_OF_RANGE,
            field,
            column,
            f"is too large to hold exactly: at {precision} decimals a value must stay below "
            f"{limit:.6g}",
        )

    def reject_excess_precision(
        self,
        needed: npt.NDArray[np.int8],
        precision: int,
        field: str,
        column: ColumnData,
        given: bool,
    ) -> None:
        """Quarantine rows whose ``field`` needs more decimals than ``precision``."""
        source = "the given precision" if given else "the inference cap"
        self.reject(
            needed > precision,
            Rule.EXCESS_PRECISION,
            field,
            column,
            f"has more decimals than {source} {precision}",
        )

    def sorted_records(self) -> tuple[QuarantinedRecord, ...]:
        """Return the records ordered by source row."""
        return tuple(sorted(self.records, key=lambda record: record.row))

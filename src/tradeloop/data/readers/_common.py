"""What every reader returns, and the shared numeric conversion step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns, floats_to_raw
from tradeloop.data.kinds import DataKind
from tradeloop.data.readers._source import (
    ColumnData,
    RowRejects,
    decimals_needed,
    parse_numbers,
    resolve_precision,
)
from tradeloop.data.report import QuarantinedRecord, Rule

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

C = TypeVar("C", BarColumns, QuoteColumns, TradeColumns)


@dataclass(frozen=True, slots=True)
class ReadResult(Generic[C]):
    """The rows a reader could turn into exact columns, and the rows it could not.

    Attributes
    ----------
    columns : the parsed rows, in file order (not yet sorted or validated).
    source_rows : 0-based source record index of each row of ``columns``.
    source_lines : 1-based line of each row in a text source (``None`` for Parquet).
    rejected : the records the reader set aside (unparseable, non-finite, excess precision,
        outside a session), ordered by row.
    source : the file read.
    rows_in : records in the source; ``rows_in == len(columns) + len(rejected)``.
    kind : bars, quotes or trades.
    interval_ns : bar interval when the format says it (``None``: unknown, or ticks).
    calendar : exchange calendar the bars were stamped with (``None``: 24/7 or unknown).
    has_volume : whether the source had a volume column (bars without one get zeros).
    """

    columns: C
    source_rows: I64
    source_lines: I64 | None
    rejected: tuple[QuarantinedRecord, ...]
    source: str
    rows_in: int
    kind: DataKind
    interval_ns: int | None = None
    calendar: str | None = None
    has_volume: bool = True

    @property
    def instrument_id(self) -> str:
        """Return the instrument the rows belong to."""
        return self.columns.instrument_id


@dataclass(frozen=True, slots=True)
class NumericField:
    """A numeric source column bound to a role (``group`` is ``"price"`` or ``"size"``)."""

    name: str
    column: ColumnData
    group: str


@dataclass(frozen=True, slots=True)
class Converted:
    """Raw int64 columns of the alive rows, keyed by field name, and the precisions used."""

    raws: dict[str, I64]
    price_precision: int
    size_precision: int


def convert_numeric(
    fields: Sequence[NumericField],
    rejects: RowRejects,
    price_precision: int | None,
    size_precision: int | None,
    *,
    float_values: dict[str, F64] | None = None,
) -> Converted:
    """Parse, check and convert numeric fields to raws at one price and one size precision.

    Rows with an unparseable or non-finite value, a value too large to hold exactly at the
    precision (``out_of_range``), or a value with more decimals than the precision, are
    quarantined in ``rejects``. ``float_values`` receives the parsed floats of
    the alive rows (for computed columns such as adjusted prices).
    """
    parsed: dict[str, tuple[F64, npt.NDArray[np.int8]]] = {}
    for field in fields:
        values, status = parse_numbers(field.column)
        rejects.reject_numbers(status, field.name, field.column)
        parsed[field.name] = (values, decimals_needed(values))
    precisions = {"price": price_precision, "size": size_precision}
    resolved: dict[str, int] = {}
    for group in ("price", "size"):
        needed = [parsed[f.name][1] for f in fields if f.group == group]
        resolved[group] = resolve_precision(needed, rejects.alive, precisions[group])
    for field in fields:
        rejects.reject_out_of_range(
            parsed[field.name][0], resolved[field.group], field.name, field.column
        )
    for field in fields:
        rejects.reject_excess_precision(
            parsed[field.name][1],
            resolved[field.group],
            field.name,
            field.column,
            given=precisions[field.group] is not None,
        )
    alive = rejects.alive
    raws = {
        field.name: floats_to_raw(parsed[field.name][0][alive], resolved[field.group], field.name)
        for field in fields
    }
    if float_values is not None:
        for field in fields:
            float_values[field.name] = parsed[field.name][0][alive]
    return Converted(raws, resolved["price"], resolved["size"])


def sort_by_time(read: ReadResult[C]) -> ReadResult[C]:
    """Return ``read`` with its rows in time order (a stable sort on ``ts_init``).

    For files whose rows are not written in time order (the reader option ``sort = true``):
    each row keeps its source row and line, so the report still points into the file, and
    validation's ``out_of_order`` rule then has nothing to set aside. Rows sharing a
    timestamp keep their file order (``duplicate_timestamp`` keeps the first).
    """
    order = np.argsort(read.columns.ts_init, kind="stable")
    if bool((order == np.arange(len(order))).all()):
        return read
    return replace(
        read,
        columns=read.columns.take(order),
        source_rows=read.source_rows[order],
        source_lines=None if read.source_lines is None else read.source_lines[order],
    )


def reject_bad_timestamps(
    rejects: RowRejects, ok: npt.NDArray[np.bool_], field: str, column: ColumnData, ts: I64
) -> None:
    """Quarantine rows whose timestamp did not parse, then attach timestamps to later records."""
    rejects.reject(~ok, Rule.UNPARSEABLE, field, column, "is not a valid timestamp")
    rejects.ts = ts


def source_positions(rejects: RowRejects) -> tuple[I64, I64 | None]:
    """Return the source rows and lines of the alive rows."""
    table = rejects.table
    alive = rejects.alive
    lines = None if table.lines is None else table.lines[alive]
    return table.rows[alive], lines

"""External timestamped series (funding rates, index levels, alternative data) joined to
bars as of each bar's ``ts_init``, never later.

A series is any table with a time column and numeric value columns (CSV or Parquet), or a
bundled bar dataset. Each value gets a ``ts_init``: when it became known — the source's own
column if it has one, else its timestamp plus a publication delay. A bar stamped ``ts_init``
sees the last value whose ``ts_init`` is at or before it (``asof``, ``asof_many``: the same
binary search online and in bulk), and NaN before the first.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.core.time import parse_time
from tradeloop.features.definitions import ExternalSeriesSpec

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class ExternalSeries:
    """Values of one external series by column, sorted by ``ts_init`` (the order of the
    source kept among equal ``ts_init``: the later row wins an as-of lookup)."""

    def __init__(self, name: str, ts_init: I64, columns: dict[str, F64]) -> None:
        order = np.argsort(ts_init, kind="stable")
        self.name = name
        self.ts_init = np.ascontiguousarray(ts_init[order])
        self.columns = {k: np.ascontiguousarray(v[order]) for k, v in columns.items()}
        self._ts_list: list[int] = self.ts_init.tolist()

    def column(self, column: str) -> F64:
        """Return one value column.

        Raises
        ------
        ConfigError
            If the series has no such column.
        """
        values = self.columns.get(column)
        if values is None:
            raise ConfigError(
                f"external series {self.name} has no column {column!r}; columns: "
                f"{', '.join(sorted(self.columns))}"
            )
        return values

    def asof(self, column: str, ts_ns: int) -> float:
        """Return the last value of ``column`` known at ``ts_ns`` (NaN if none yet)."""
        index = bisect.bisect_right(self._ts_list, ts_ns) - 1
        return float(self.column(column)[index]) if index >= 0 else float("nan")

    def asof_many(self, column: str, ts_ns: I64) -> F64:
        """Return ``asof(column, t)`` for every ``t`` of ``ts_ns``."""
        values = self.column(column)
        index = np.searchsorted(self.ts_init, ts_ns, "right") - 1
        out = np.full(len(ts_ns), np.nan)
        known = index >= 0
        out[known] = values[index[known]]
        return out


def _times(values: list[object], what: str) -> I64:
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            out[i] = int(value)
        elif isinstance(value, str):
            out[i] = parse_time(value)
        elif hasattr(value, "isoformat"):
            out[i] = parse_time(value.isoformat())
        else:
            raise DataIntegrityError(f"{what} row {i}: time {value!r} is not ISO-8601 or int ns")
    return out


def load_external(spec: ExternalSeriesSpec, base_dir: Path) -> ExternalSeries:
    """Read the series ``spec`` names.

    Raises
    ------
    ConfigError
        If the file or dataset is missing, or a named column is not in it.
    DataIntegrityError
        If a time or a value cannot be read.
    """
    delay_ns = round(spec.publication_delay_s * 1e9)
    if spec.dataset is not None:
        from tradeloop.data import bundled

        if spec.dataset not in bundled.names():
            raise ConfigError(
                f"external series {spec.name}: bundled dataset {spec.dataset!r} is unknown; "
                f"bundled datasets: {', '.join(bundled.names())}"
            )
        bars = bundled.load_bars(spec.dataset)
        scale = float(10**bars.price_precision)
        columns = {name: getattr(bars, name) / scale for name in ("open", "high", "low", "close")}
        columns["volume"] = bars.volume / float(10**bars.volume_precision)
        return ExternalSeries(spec.name, bars.ts_init + delay_ns, columns)
    assert spec.path is not None
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    path = Path(spec.path)
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise ConfigError(f"external series {spec.name}: file {path} does not exist")
    table = (
        pq.read_table(path)
        if path.suffix == ".parquet"
        else pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
    )
    names = table.column_names
    for needed in [spec.time_column, *([spec.ts_init_column] if spec.ts_init_column else [])]:
        if needed not in names:
            raise ConfigError(
                f"external series {spec.name}: {path.name} has no column {needed!r}; "
                f"columns: {', '.join(names)}"
            )
    what = f"external series {spec.name} ({path.name})"
    ts_event = _times(table.column(spec.time_column).to_pylist(), what)
    if spec.ts_init_column:
        ts_init = _times(table.column(spec.ts_init_column).to_pylist(), what)
        early = np.flatnonzero(ts_init < ts_event)
        if early.size:
            raise DataIntegrityError(
                f"{what} row {int(early[0])}: ts_init before the value's own time (known before "
                "it happened)"
            )
    else:
        ts_init = ts_event + delay_ns
    values: dict[str, F64] = {}
    for name in names:
        if name in (spec.time_column, spec.ts_init_column):
            continue
        column = table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            continue
        values[name] = np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False))
    if not values:
        raise ConfigError(f"{what} has no numeric value column")
    return ExternalSeries(spec.name, ts_init, values)

"""A directory catalog of market data as Parquet, queried with DuckDB.

Layout under the root::

    instruments/<instrument_id>.json                 instrument definition (msgspec JSON)
    <kind>/<instrument_id>/<first_ts>-<last_ts>.parquet

``kind`` is ``bars``, ``quotes`` or ``trades``; each file holds one column set, sorted by
``ts_init``, with int64 raws at the precisions recorded in its metadata. Files of one
instrument and kind never overlap in time. A file's name carries its ``ts_init`` range and
its SHA-256 (``content_hash``) lets a run manifest reference the data instead of copying it.

Writing is deterministic: the same columns give byte-identical files (fixed writer options,
no timestamps in the metadata; pyarrow records only its version in ``created_by``). Files are
written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Final

import duckdb
import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.core.ids import file_hash
from tradeloop.core.time import ns_to_iso
from tradeloop.data.columns import BarColumns, Columns, QuoteColumns, TradeColumns
from tradeloop.data.kinds import DataKind, kind_of, size_precision_of
from tradeloop.model.instruments import Instrument

FORMAT_VERSION: Final = "1"
_SAFE_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-^=+]*$")
_META_PREFIX: Final = "tradeloop."
_WRITE_OPTIONS: Final[dict[str, Any]] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": False,
    "write_statistics": True,
    "data_page_version": "1.0",
    "row_group_size": 1 << 20,
}
_FIELDS: Final[dict[DataKind, tuple[tuple[str, pa.DataType], ...]]] = {
    DataKind.BARS: (
        ("ts_event", pa.int64()),
        ("ts_init", pa.int64()),
        ("open", pa.int64()),
        ("high", pa.int64()),
        ("low", pa.int64()),
        ("close", pa.int64()),
        ("volume", pa.int64()),
    ),
    DataKind.QUOTES: (
        ("ts_event", pa.int64()),
        ("ts_init", pa.int64()),
        ("bid_price", pa.int64()),
        ("ask_price", pa.int64()),
        ("bid_size", pa.int64()),
        ("ask_size", pa.int64()),
    ),
    DataKind.TRADES: (
        ("ts_event", pa.int64()),
        ("ts_init", pa.int64()),
        ("price", pa.int64()),
        ("size", pa.int64()),
        ("aggressor", pa.int8()),
        ("trade_id", pa.string()),
    ),
}


class CatalogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One Parquet file of the catalog.

    Attributes
    ----------
    instrument_id, kind : what the file holds.
    path : location relative to the catalog root (POSIX separators).
    rows : number of records.
    first_ts, last_ts : ``ts_init`` of the first and last record (ns).
    price_precision, size_precision : precisions of the raw columns.
    content_hash : SHA-256 hex digest of the file's bytes.
    size_bytes : file size.
    """

    instrument_id: str
    kind: str
    path: str
    rows: int
    first_ts: int
    last_ts: int
    price_precision: int
    size_precision: int
    content_hash: str
    size_bytes: int


def _check_id(instrument_id: str) -> None:
    if not _SAFE_ID.match(instrument_id) or ".." in instrument_id:
        raise ConfigError(
            f"instrument id {instrument_id!r} cannot name a catalog directory: "
            "use letters, digits and . _ - ^ = +"
        )


def _kind(kind: DataKind | str) -> DataKind:
    try:
        return DataKind(kind)
    except ValueError:
        raise ConfigError(f"data kind {kind!r} is unknown; use bars, quotes or trades") from None


def _table(columns: Columns) -> pa.Table:
    kind = kind_of(columns)
    arrays = [
        pa.array(np.asarray(getattr(columns, name)), type=dtype) for name, dtype in _FIELDS[kind]
    ]
    metadata = {
        f"{_META_PREFIX}format": FORMAT_VERSION,
        f"{_META_PREFIX}kind": kind.value,
        f"{_META_PREFIX}instrument_id": columns.instrument_id,
        f"{_META_PREFIX}price_precision": str(columns.price_precision),
        f"{_META_PREFIX}size_precision": str(size_precision_of(columns)),
        f"{_META_PREFIX}rows": str(len(columns)),
        f"{_META_PREFIX}first_ts": str(int(columns.ts_init[0])),
        f"{_META_PREFIX}last_ts": str(int(columns.ts_init[-1])),
    }
    schema = pa.schema(
        [pa.field(name, dtype, nullable=False) for name, dtype in _FIELDS[kind]], metadata=metadata
    )
    return pa.Table.from_arrays(arrays, schema=schema)


def parquet_bytes(columns: Columns) -> bytes:
    """Return ``columns`` serialised as the catalog's Parquet (deterministic bytes).

    Raises
    ------
    DataIntegrityError
        If the columns are empty or not sorted by ``ts_init``.
    """
    if len(columns) == 0:
        raise DataIntegrityError(f"no rows of {columns.instrument_id} to write")
    if len(columns) > 1 and bool((np.diff(columns.ts_init) < 0).any()):
        raise DataIntegrityError(
            f"{kind_of(columns).value} of {columns.instrument_id} are not sorted by ts_init; "
            "validate them first"
        )
    sink = pa.BufferOutputStream()
    pq.write_table(_table(columns), sink, **_WRITE_OPTIONS)
    return bytes(sink.getvalue().to_pybytes())


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class Catalog:
    """Market data as Parquet files under ``root``, listed by file metadata, queried with DuckDB.

    Parameters
    ----------
    root : the catalog directory (created on first write).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"catalog {self.root} is a file, not a directory")
        # SHA-256 per (path, size, mtime_ns): listing does not re-read unchanged files.
        self._hashes: dict[tuple[str, int, int], str] = {}

    def __repr__(self) -> str:
        return f"Catalog({str(self.root)!r})"

    # -- instruments -------------------------------------------------------------------------------

    def _instrument_path(self, instrument_id: str) -> Path:
        _check_id(instrument_id)
        return self.root / "instruments" / f"{instrument_id}.json"

    def write_instrument(self, instrument: Instrument, *, replace: bool = False) -> Path:
        """Store ``instrument``'s definition as JSON; return its path.

        Raises
        ------
        DataIntegrityError
            If a different definition is stored and ``replace`` is false, or stored data of the
            instrument has other precisions.
        """
        path = self._instrument_path(instrument.id)
        data = msgspec.json.encode(instrument) + b"\n"
        if path.exists():
            if path.read_bytes() == data:
                return path
            if not replace:
                raise DataIntegrityError(
                    f"catalog {self.root} already holds a different definition of "
                    f"{instrument.id}; pass replace=True to overwrite it"
                )
        for entry in self.list(instrument.id):
            self._check_precisions(
                entry.kind, instrument.id, entry.price_precision, entry.size_precision, instrument
            )
        _atomic_write(path, data)
        return path

    def instrument(self, instrument_id: str) -> Instrument:
        """Return the stored definition of ``instrument_id``.

        Raises
        ------
        ConfigError
            If the catalog has no definition of it.
        DataIntegrityError
            If the stored JSON is not a valid instrument.
        """
        path = self._instrument_path(instrument_id)
        if not path.exists():
            raise ConfigError(
                f"catalog {self.root} has no definition of instrument {instrument_id}"
            )
        try:
            return msgspec.json.decode(path.read_bytes(), type=Instrument)
        except msgspec.ValidationError as exc:
            raise DataIntegrityError(f"instrument file {path} is invalid: {exc}") from None

    def has_instrument(self, instrument_id: str) -> bool:
        """Return whether a definition of ``instrument_id`` is stored."""
        return self._instrument_path(instrument_id).exists()

    def instruments(self) -> list[Instrument]:
        """Return every stored instrument definition, sorted by id."""
        folder = self.root / "instruments"
        if not folder.is_dir():
            return []
        return [self.instrument(path.stem) for path in sorted(folder.glob("*.json"))]

    # -- writing -----------------------------------------------------------------------------------

    def write(
        self, columns: Columns, *, instrument: Instrument | None = None, replace: bool = False
    ) -> CatalogEntry:
        """Write one column set (sorted by ``ts_init``) as a Parquet file; return its entry.

        Writing data that is already stored byte for byte returns the existing entry.

        Parameters
        ----------
        columns : validated bars, quotes or trades.
        instrument : definition to store alongside (checked against the columns' precisions).
        replace : remove stored files of the same instrument and kind that overlap in time.

        Raises
        ------
        DataIntegrityError
            If the columns are empty or unsorted, their precisions differ from the instrument's
            or from the stored files', or they overlap stored data and ``replace`` is false.
        """
        kind = kind_of(columns)
        instrument_id = columns.instrument_id
        _check_id(instrument_id)
        definition = instrument
        if definition is None and self.has_instrument(instrument_id):
            definition = self.instrument(instrument_id)
        if definition is not None and definition.id != instrument_id:
            raise DataIntegrityError(
                f"instrument {definition.id} does not match data of {instrument_id}"
            )
        self._check_precisions(
            kind.value,
            instrument_id,
            columns.price_precision,
            size_precision_of(columns),
            definition,
        )
        data = parquet_bytes(columns)
        first, last = int(columns.ts_init[0]), int(columns.ts_init[-1])
        target = self.root / kind.value / instrument_id / f"{first}-{last}.parquet"
        overlapping = [
            e for e in self.list(instrument_id, kind) if e.first_ts <= last and e.last_ts >= first
        ]
        for entry in overlapping:
            if self.root / entry.path == target and (self.root / entry.path).read_bytes() == data:
                if instrument is not None:
                    self.write_instrument(instrument)
                return entry
        replaced = {e.path for e in overlapping} if replace else set()
        for entry in self.list(instrument_id, kind):
            if entry.path in replaced:
                continue
            if (entry.price_precision, entry.size_precision) != (
                columns.price_precision,
                size_precision_of(columns),
            ):
                raise DataIntegrityError(
                    f"{kind.value} of {instrument_id} in catalog {self.root} use precisions "
                    f"{entry.price_precision}/{entry.size_precision}, new data uses "
                    f"{columns.price_precision}/{size_precision_of(columns)}"
                )
        if overlapping and not replace:
            spans = ", ".join(
                f"{ns_to_iso(e.first_ts)}..{ns_to_iso(e.last_ts)}" for e in overlapping
            )
            raise DataIntegrityError(
                f"{kind.value} of {instrument_id} {ns_to_iso(first)}..{ns_to_iso(last)} "
                "overlap stored data "
                f"({spans}) in catalog {self.root}; pass replace=True to replace it"
            )
        if instrument is not None:
            self.write_instrument(instrument)
        for entry in overlapping:
            (self.root / entry.path).unlink()
        _atomic_write(target, data)
        return self._entry(target)

    def _check_precisions(
        self,
        kind: str,
        instrument_id: str,
        price_precision: int,
        size_precision: int,
        definition: Instrument | None,
    ) -> None:
        if definition is None:
            return
        # Bar volume may be counted in other units than order sizes (quote currency, shares),
        # so only prices must match the instrument for bars.
        if kind == DataKind.BARS.value:
            size_precision = definition.size_precision
        if (price_precision, size_precision) != (
            definition.price_precision,
            definition.size_precision,
        ):
            raise DataIntegrityError(
                f"{kind} of {instrument_id} have precisions {price_precision}/{size_precision} "
                "(price/size) but "
                f"the instrument uses {definition.price_precision}/{definition.size_precision}"
            )

    # -- listing -----------------------------------------------------------------------------------

    def _entry(self, path: Path) -> CatalogEntry:
        try:
            meta = pq.read_metadata(path).metadata or {}
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataIntegrityError(
                f"catalog file {path} is not readable Parquet: {exc}"
            ) from None
        values = {
            key.decode(): value.decode()
            for key, value in meta.items()
            if key.startswith(_META_PREFIX.encode())
        }
        try:
            return CatalogEntry(
                instrument_id=values[f"{_META_PREFIX}instrument_id"],
                kind=values[f"{_META_PREFIX}kind"],
                path=path.relative_to(self.root).as_posix(),
                rows=int(values[f"{_META_PREFIX}rows"]),
                first_ts=int(values[f"{_META_PREFIX}first_ts"]),
                last_ts=int(values[f"{_META_PREFIX}last_ts"]),
                price_precision=int(values[f"{_META_PREFIX}price_precision"]),
                size_precision=int(values[f"{_META_PREFIX}size_precision"]),
                content_hash=self._hash(path),
                size_bytes=path.stat().st_size,
            )
        except KeyError as exc:
            raise DataIntegrityError(
                f"catalog file {path} lacks tradeloop metadata {exc}"
            ) from None

    def _hash(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        digest = self._hashes.get(key)
        if digest is None:
            digest = file_hash(str(path))
            self._hashes[key] = digest
        return digest

    def list(
        self, instrument_id: str | None = None, kind: DataKind | str | None = None
    ) -> list[CatalogEntry]:
        """Return the catalog's files, sorted by kind, instrument and time.

        Raises
        ------
        ConfigError
            If ``kind`` is not bars, quotes or trades.
        DataIntegrityError
            If a file is not readable or lacks the catalog's metadata.
        """
        kinds = list(DataKind) if kind is None else [_kind(kind)]
        if instrument_id is not None:
            _check_id(instrument_id)
        entries: list[CatalogEntry] = []
        for data_kind in kinds:
            folder = self.root / data_kind.value
            if not folder.is_dir():
                continue
            folders = (
                [folder / instrument_id]
                if instrument_id is not None
                else sorted(p for p in folder.iterdir() if p.is_dir())
            )
            for instrument_folder in folders:
                if instrument_folder.is_dir():
                    entries.extend(
                        self._entry(path) for path in instrument_folder.glob("*.parquet")
                    )
        entries.sort(key=lambda e: (e.kind, e.instrument_id, e.first_ts))
        return entries

    # -- querying ----------------------------------------------------------------------------------

    def query(
        self,
        kind: DataKind | str,
        instrument_id: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Columns:
        """Return the ``kind`` records of ``instrument_id`` with ``start_ns <= ts_init <= end_ns``.

        Either bound may be ``None``. Rows come back in stored order (``ts_init``, ties in
        file order).

        Raises
        ------
        ConfigError
            If the catalog holds no such data.
        """
        data_kind = _kind(kind)
        entries = self.list(instrument_id, data_kind)
        if not entries:
            raise ConfigError(f"catalog {self.root} holds no {data_kind.value} of {instrument_id}")
        lower = -(1 << 63) if start_ns is None else int(start_ns)
        upper = (1 << 63) - 1 if end_ns is None else int(end_ns)
        selected = [e for e in entries if e.last_ts >= lower and e.first_ts <= upper]
        names = [name for name, _ in _FIELDS[data_kind]]
        if selected:
            files = [(self.root / e.path).as_posix() for e in selected]
            sql = (
                f"SELECT {', '.join(names)} "
                "FROM read_parquet($files, filename = true, file_row_number = true) "
                "WHERE ts_init BETWEEN $lower AND $upper "
                "ORDER BY list_position($files, filename), file_row_number"
            )
            with duckdb.connect() as connection:
                table = connection.sql(
                    sql, params={"files": files, "lower": lower, "upper": upper}
                ).to_arrow_table()
            arrays = {name: table.column(name).to_numpy() for name in names}
        else:
            arrays = {
                name: np.zeros(0, dtype=np.int8 if name == "aggressor" else np.int64)
                for name in names
            }
            arrays["trade_id"] = np.zeros(0, dtype=str)
        first = entries[0]
        return _columns(
            data_kind, instrument_id, first.price_precision, first.size_precision, arrays
        )

    def bars(
        self, instrument_id: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> BarColumns:
        """Return bars of ``instrument_id`` with ``start_ns <= ts_init <= end_ns``."""
        result = self.query(DataKind.BARS, instrument_id, start_ns, end_ns)
        assert isinstance(result, BarColumns)
        return result

    def quotes(
        self, instrument_id: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> QuoteColumns:
        """Return quotes of ``instrument_id`` with ``start_ns <= ts_init <= end_ns``."""
        result = self.query(DataKind.QUOTES, instrument_id, start_ns, end_ns)
        assert isinstance(result, QuoteColumns)
        return result

    def trades(
        self, instrument_id: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> TradeColumns:
        """Return trades of ``instrument_id`` with ``start_ns <= ts_init <= end_ns``."""
        result = self.query(DataKind.TRADES, instrument_id, start_ns, end_ns)
        assert isinstance(result, TradeColumns)
        return result


def _columns(
    kind: DataKind,
    instrument_id: str,
    price_precision: int,
    size_precision: int,
    arrays: dict[str, Any],
) -> Columns:
    if kind is DataKind.BARS:
        return BarColumns(
            instrument_id,
            price_precision,
            size_precision,
            arrays["ts_event"],
            arrays["ts_init"],
            arrays["open"],
            arrays["high"],
            arrays["low"],
            arrays["close"],
            arrays["volume"],
        )
    if kind is DataKind.QUOTES:
        return QuoteColumns(
            instrument_id,
            price_precision,
            size_precision,
            arrays["ts_event"],
            arrays["ts_init"],
            arrays["bid_price"],
            arrays["ask_price"],
            arrays["bid_size"],
            arrays["ask_size"],
        )
    return TradeColumns(
        instrument_id,
        price_precision,
        size_precision,
        arrays["ts_event"],
        arrays["ts_init"],
        arrays["price"],
        arrays["size"],
        arrays["aggressor"],
        np.asarray(arrays["trade_id"], dtype=object).astype(str),
    )

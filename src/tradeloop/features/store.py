"""Materialized features in the store: one Parquet file per feature set, definition hash,
instrument and data.

Layout under the store root (the ``[features] store`` directory)::

    features/<set name>/<definition hash, 16 hex>/<instrument_id>-<data hash, 12 hex>.parquet

Each file holds ``ts_event``, ``ts_init``, one float64 column per feature (definition
order), the label and ``label_end_ns``; its schema metadata records the full definition
hash, the definitions, the label spec and the data hash, and reading checks them. Files are
written deterministically (fixed writer options) to a temporary name and renamed; a file
that exists already is kept when its bytes are the same and never replaced otherwise.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.features.compute import BarArrays
from tradeloop.features.definitions import FeatureSetConfig
from tradeloop.features.external import ExternalSeries
from tradeloop.features.frame import check_causal, compute_features
from tradeloop.features.labels import compute_label
from tradeloop.features.micro import MicroData

F64 = npt.NDArray[np.float64]
_META: Final = b"tradeloop.features"
_WRITE_OPTIONS: Final[dict[str, Any]] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": False,
    "write_statistics": True,
    "data_page_version": "1.0",
    "row_group_size": 1 << 20,
}


class MaterializedFile(msgspec.Struct, frozen=True, kw_only=True):
    """One materialized file: what it holds and whether this call wrote it."""

    instrument_id: str
    path: str
    rows: int
    definition_hash: str
    data_hash: str
    content_hash: str
    is_new: bool


class FeatureTable(msgspec.Struct, frozen=True, kw_only=True):
    """Features and label of one instrument, read back from the store."""

    instrument_id: str
    ts_init: Any  # int64 array
    features: dict[str, Any]  # name -> float64 array
    label: Any  # float64 array
    label_end_ns: Any  # int64 array


def data_hash(content_hash: str, bars: BarArrays) -> str:
    """Return the hash of one instrument's bars: the source file's hash and the span used."""
    first = int(bars.ts_init[0]) if len(bars) else 0
    last = int(bars.ts_init[-1]) if len(bars) else 0
    return hashlib.sha256(f"{content_hash}|{first}|{last}|{len(bars)}".encode()).hexdigest()


def feature_dir(root: Path, config: FeatureSetConfig) -> Path:
    """Return the directory of ``config``'s materialized files."""
    return root / "features" / config.name / config.definition_hash()[:16]


def _table(
    config: FeatureSetConfig,
    bars: BarArrays,
    features: Mapping[str, F64],
    label: F64,
    label_end: npt.NDArray[np.int64],
    digest: str,
) -> pa.Table:
    arrays = [pa.array(bars.ts_event, pa.int64()), pa.array(bars.ts_init, pa.int64())]
    names = ["ts_event", "ts_init"]
    for name in config.feature_names:
        arrays.append(pa.array(features[name], pa.float64()))
        names.append(name)
    arrays += [pa.array(label, pa.float64()), pa.array(label_end, pa.int64())]
    names += ["label", "label_end_ns"]
    meta = msgspec.json.encode(
        {
            "definition_hash": config.definition_hash(),
            "definitions": config.definitions,
            "external": config.external,
            "label": config.label,
            "data_hash": digest,
        },
        order="sorted",
    )
    return pa.Table.from_arrays(arrays, names=names).replace_schema_metadata({_META: meta})


def materialize(
    config: FeatureSetConfig,
    root: Path,
    bars: Mapping[str, tuple[BarArrays, str]],
    externals: Mapping[str, ExternalSeries],
    micro: Mapping[str, MicroData] | None = None,
) -> list[MaterializedFile]:
    """Compute the features and label of every instrument and write them to the store.

    ``bars`` maps each instrument to its bars and their source's content hash (which covers
    the instrument's quotes, trades and book too when the features read them: ``micro``, by
    instrument). Every feature is checked causal on the data first (``check_causal``).

    Raises
    ------
    ConfigError
        If a feature is not causal, or a file exists with other content.
    """
    out_dir = feature_dir(root, config)
    results = []
    for instrument_id in sorted(bars):
        arrays, source_hash = bars[instrument_id]
        events = None if micro is None else micro.get(instrument_id)
        features = compute_features(config, arrays, externals, events, instrument_id)
        check_causal(config, arrays, externals, features, micro=events)
        label, label_end = compute_label(config.label, arrays)
        digest = data_hash(source_hash, arrays)
        table = _table(config, arrays, features, label, label_end, digest)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, **_WRITE_OPTIONS)
        data = sink.getvalue().to_pybytes()
        path = out_dir / f"{instrument_id}-{digest[:12]}.parquet"
        is_new = not path.exists()
        if not is_new and path.read_bytes() != data:
            raise ConfigError(
                f"{path} exists with other content for the same definitions and data (another "
                "pyarrow or feature code?); it is not replaced: move it away to rematerialize"
            )
        if is_new:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".parquet.partial")
            temporary.write_bytes(data)
            os.replace(temporary, path)
        results.append(
            MaterializedFile(
                instrument_id=instrument_id,
                path=str(path),
                rows=len(arrays),
                definition_hash=config.definition_hash(),
                data_hash=digest,
                content_hash=hashlib.sha256(data).hexdigest(),
                is_new=is_new,
            )
        )
    return results


def read_features(
    config: FeatureSetConfig, root: Path, instrument_id: str, digest: str
) -> FeatureTable:
    """Read one instrument's materialized features, checking they are ``config``'s.

    Raises
    ------
    ConfigError
        If nothing is materialized for these definitions and data, or the file's definition
        hash differs from ``config``'s.
    """
    path = feature_dir(root, config) / f"{instrument_id}-{digest[:12]}.parquet"
    if not path.is_file():
        raise ConfigError(
            f"no features of {instrument_id} materialized for feature set {config.name} "
            f"(definitions {config.definition_hash()[:16]}, data {digest[:12]}) under {root}: "
            "run `tradeloop features materialize CONFIG` first"
        )
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(_META)
    if raw is None:
        raise DataIntegrityError(f"{path} carries no tradeloop feature metadata")
    meta = msgspec.json.decode(raw)
    if meta["definition_hash"] != config.definition_hash():
        raise ConfigError(
            f"{path} was materialized from definitions {meta['definition_hash'][:16]}, not "
            f"feature set {config.name}'s {config.definition_hash()[:16]}"
        )
    columns = {name: table.column(name).to_numpy() for name in table.column_names}
    return FeatureTable(
        instrument_id=instrument_id,
        ts_init=columns["ts_init"],
        features={name: columns[name] for name in config.feature_names},
        label=columns["label"],
        label_end_ns=columns["label_end_ns"],
    )

"""The run manifest: what a run was made of, so it can be reproduced and compared.

It holds no wall-clock time for backtests and no absolute path: the same config, data and
seed give the same manifest, which keeps the journal byte-identical between runs, wherever
they ran. Where a run resolved its relative paths is its ``RunLocation``, a small file beside
the journal (``location.json``) that reruns and reports read to find the data again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import msgspec

LOCATION_FILE: Final = "location.json"
"""Name of the ``RunLocation`` file in a run directory."""


class DataRef(msgspec.Struct, frozen=True, kw_only=True):
    """Market data a run read, referenced by content hash instead of copied."""

    name: str
    kind: str
    instrument_id: str
    rows: int
    first_ts: int
    last_ts: int
    content_hash: str
    source: str


class RunManifest(msgspec.Struct, frozen=True, kw_only=True):
    """Identity of a run: config hash, data hashes, seed, code version, mode."""

    run_id: str
    mode: str
    config_hash: str
    config_json: str
    seed: int
    code_version: str
    data: tuple[DataRef, ...] = ()
    started_wall_ns: int | None = None
    base_dir: str | None = None
    """Where relative paths resolved, in journals written before ``RunLocation`` (now None)."""


class RunLocation(msgspec.Struct, frozen=True, kw_only=True):
    """Where a run's relative config paths (data files, catalogs, strategy files) resolved.

    Kept out of the journal: the checkout's absolute path is not config, data or seed.
    """

    base_dir: str


def write_location(run_dir: str | os.PathLike[str], base_dir: str | os.PathLike[str]) -> Path:
    """Write ``run_dir/location.json`` with the absolute ``base_dir``; return its path."""
    path = Path(run_dir) / LOCATION_FILE
    location = RunLocation(base_dir=str(Path(base_dir).resolve()))
    path.write_bytes(msgspec.json.encode(location) + b"\n")
    return path


def read_base_dir(
    run_dir: str | os.PathLike[str], manifest: RunManifest | None = None
) -> Path | None:
    """Return where the run in ``run_dir`` resolved its relative paths, if recorded.

    ``location.json`` first, else the manifest's ``base_dir`` (journals of older versions);
    ``None`` when neither says.
    """
    path = Path(run_dir) / LOCATION_FILE
    if path.is_file():
        try:
            return Path(msgspec.json.decode(path.read_bytes(), type=RunLocation).base_dir)
        except msgspec.DecodeError:
            return None
    if manifest is not None and manifest.base_dir is not None:
        return Path(manifest.base_dir)
    return None

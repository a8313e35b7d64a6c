"""The run manifest: what a run was made of, so it can be reproduced and compared.

It holds no wall-clock time for backtests: the same config, data and seed give the same
manifest, which keeps the journal byte-identical between runs.
"""

from __future__ import annotations

import msgspec


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
    """The directory relative data paths resolved against (not part of the config hash)."""

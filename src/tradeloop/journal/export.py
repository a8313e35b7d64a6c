"""The live-logging form of a journal: one JSON line per record, stamped with its run.

The store is normalized: the run id, config hash and code version live once, in the
journal's manifest, and every record of the journal inherits them. A log shipper (Vector,
Fluent Bit, Filebeat, a Loki or Elasticsearch pipeline) takes lines that stand alone, so the
log form repeats them on every record. ``export_jsonl`` writes a journal in that form, one
line per record in sequence order, its keys in this order (``LOG_FIELDS``):

- ``run_id``, ``config_hash``, ``code_version``: the manifest's;
- ``seq``, ``kind`` (``event`` or ``command``), ``type`` (the record's class),
  ``ts_event``, ``ts_init`` (integer nanoseconds, UTC; a command's ``ts_event`` is its
  ``ts_init``): the stored columns;
- ``record``: the record's JSON exactly as the journal stores it (prices, quantities and
  money exact, ``{"raw": ..., "precision": ...}``).

Lines are streamed from the journal (a million-record journal is not held in memory) and the
same journal always gives the same bytes. ``reports.standard.check_journal`` checks that
every line carries the stamps (rule ``L1``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.journal.codec import JournalCodec
from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.replay import journal_path
from tradeloop.journal.store import _open_readonly, read_manifest

LOG_FIELDS: tuple[str, ...] = (
    "run_id",
    "config_hash",
    "code_version",
    "seq",
    "kind",
    "type",
    "ts_event",
    "ts_init",
    "record",
)
"""The keys of every exported line, in order."""


class LogRecord(msgspec.Struct, frozen=True, gc=False):
    """One line of the log form (module docstring): a record stamped with its run."""

    run_id: str
    config_hash: str
    code_version: str
    seq: int
    kind: str
    type: str
    ts_event: int
    ts_init: int
    record: msgspec.Raw


def _check_types(path: str | os.PathLike[str], types: Iterable[str]) -> list[str]:
    wanted = sorted({name.strip() for name in types if name.strip()})
    known = set(JournalCodec().type_names)
    conn = _open_readonly(path)
    try:
        known |= {name for (name,) in conn.execute("SELECT DISTINCT type FROM records")}
    finally:
        conn.close()
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"record type {name!r} is neither a record type of this version nor in the "
                f"journal{hint}"
            )
    return wanted


def iter_log_records(
    run: str | os.PathLike[str], types: Iterable[str] | None = None
) -> Iterator[LogRecord]:
    """Yield a run's journal as log records, in sequence order.

    Parameters
    ----------
    run
        A run directory (``runs/<run_id>``) or its journal file.
    types
        Record types to keep (class names such as ``OrderFilled``); all when None or empty.

    Raises
    ------
    ConfigError
        If ``run`` is not a run directory or a tradeloop journal, or a type is neither a
        record type of this version nor in the journal.
    """
    path = journal_path(run)
    manifest = read_manifest(path)
    wanted = _check_types(path, types or ())
    query = "SELECT seq, ts_event, ts_init, kind, type, payload FROM records"
    if wanted:
        query += f" WHERE type IN ({', '.join('?' * len(wanted))})"
    conn = _open_readonly(path)
    try:
        for seq, ts_event, ts_init, kind, type_name, payload in conn.execute(
            query + " ORDER BY seq", wanted
        ):
            yield _stamp(manifest, seq, ts_event, ts_init, kind, type_name, payload)
    finally:
        conn.close()


def _stamp(
    manifest: RunManifest,
    seq: int,
    ts_event: int,
    ts_init: int,
    kind: str,
    type_name: str,
    payload: str,
) -> LogRecord:
    return LogRecord(
        run_id=manifest.run_id,
        config_hash=manifest.config_hash,
        code_version=manifest.code_version,
        seq=seq,
        kind=kind,
        type=type_name,
        ts_event=ts_event,
        ts_init=ts_init,
        record=msgspec.Raw(payload.encode()),
    )


def export_jsonl(
    run: str | os.PathLike[str], out: BinaryIO, types: Iterable[str] | None = None
) -> int:
    """Write a run's journal to ``out`` in the log form, one JSON line per record.

    Parameters
    ----------
    run
        A run directory (``runs/<run_id>``) or its journal file.
    out
        A binary stream (a file, ``sys.stdout.buffer``).
    types
        Record types to keep (class names); all when None or empty.

    Returns
    -------
    int
        How many lines were written.

    Raises
    ------
    ConfigError
        As ``iter_log_records``.
    """
    encoder = msgspec.json.Encoder()
    buffer = bytearray()
    count = 0
    for record in iter_log_records(run, types):
        encoder.encode_into(record, buffer, len(buffer))
        buffer += b"\n"
        count += 1
        if len(buffer) >= 1 << 20:
            out.write(buffer)
            buffer.clear()
    out.write(buffer)
    return count

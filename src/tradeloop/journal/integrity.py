"""The journal's hash chain: verify it, and back a journal up while its run writes it.

Every record stores ``prev_hash`` (the hash of the record before it; for the first record the
SHA-256 of the manifest's JSON) and ``hash`` = SHA-256 of ``prev_hash`` and its own content
(ts_event, ts_init, kind, type, payload; ``record_hash``). The ``chain`` table holds the
last record's seq and hash. ``verify_journal`` walks the records in seq order and names the
first one that breaks the chain:

- **edited**: its content no longer gives its hash (it links to the record before it);
- **inserted**: it does not link to the record before it, and the record after it does;
- **deleted**: a record that follows correctly from its own ``prev_hash`` does not link to
  the record before it (or its seq skips one): the records in between are gone; records
  deleted at the end are found by the ``chain`` table.

The chain makes a journal tamper-evident, not tamper-proof: someone who rewrites every hash
after an edit makes a valid chain. ``head_hash`` (printed by ``journal verify``) pins a journal:
keep it elsewhere and a rewritten chain no longer matches it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.paths import require_file


def record_hash(
    prev_hash: bytes, ts_event: int, ts_init: int, kind: str, type_name: str, payload: bytes
) -> bytes:
    """Return the chain hash of one record (the writer process computes the same)."""
    head = f"{ts_event} {ts_init} {kind} {type_name}\n".encode()
    return hashlib.sha256(prev_hash + head + payload).digest()


class IntegrityReport(msgspec.Struct, frozen=True, kw_only=True):
    """What ``verify_journal`` found.

    ``ok`` is whether the chain holds; ``problem`` is ``""``, ``edited``, ``inserted``,
    ``deleted``, ``truncated`` (records deleted at the end) or ``unchained`` (a journal
    written before hash chains); ``first_bad_seq`` the seq of the first record it concerns;
    ``message`` one sentence for the operator; ``records`` how many records were read,
    ``last_seq`` the last one's seq and ``head_hash`` its hash (hex).
    """

    ok: bool
    records: int
    last_seq: int
    head_hash: str
    problem: str = ""
    first_bad_seq: int = 0
    message: str = ""


_Row = tuple[int, int, int, str, str, str, bytes | None, bytes | None]


def _own_ok(row: _Row) -> bool:
    _seq, ts_event, ts_init, kind, type_name, payload, prev, stored = row
    if prev is None or stored is None:
        return False
    return record_hash(prev, ts_event, ts_init, kind, type_name, payload.encode()) == stored


def _resolve(path: str | os.PathLike[str]) -> Path:
    given = Path(path)
    return given / "journal.sqlite" if given.is_dir() else given


def verify_journal(path: str | os.PathLike[str]) -> IntegrityReport:
    """Walk the hash chain of the journal at ``path`` (a run directory or its journal).

    Raises
    ------
    ConfigError
        If there is no journal at ``path`` or it is not a tradeloop journal.
    """
    journal = require_file(_resolve(path), "journal")
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, isolation_level=None)
    try:
        # one read transaction: the records and the chain head as of one commit (a writer
        # that commits meanwhile, a killed node's writer finishing its batch, is not seen
        # between the two reads as a truncated chain)
        conn.execute("BEGIN")
        return _verify(conn, journal)
    except sqlite3.DatabaseError as error:
        raise ConfigError(f"{journal} is not a tradeloop journal: {error}") from None
    finally:
        conn.close()


def _verify(conn: sqlite3.Connection, journal: Path) -> IntegrityReport:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
    manifest = conn.execute("SELECT payload FROM manifest").fetchone()
    if manifest is None:
        raise ConfigError(f"journal {journal} has no manifest")
    if "hash" not in columns:
        return IntegrityReport(
            ok=False,
            records=int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]),
            last_seq=0,
            head_hash="",
            problem="unchained",
            message=f"journal {journal} was written before journals had a hash chain: "
            "it cannot be verified",
        )
    genesis = hashlib.sha256(str(manifest[0]).encode()).digest()
    rows = conn.execute(
        "SELECT seq, ts_event, ts_init, kind, type, payload, prev_hash, hash FROM records "
        "ORDER BY seq"
    )
    previous: _Row | None = None
    before_previous_hash = b""
    prev_hash = genesis
    count = 0
    pending: _Row | None = None  # a row that broke both checks: decided by the next one

    def bad(problem: str, seq: int, message: str) -> IntegrityReport:
        return IntegrityReport(
            ok=False,
            records=count,
            last_seq=0 if previous is None else previous[0],
            head_hash=prev_hash.hex(),
            problem=problem,
            first_bad_seq=seq,
            message=message,
        )

    for raw in rows:
        row: _Row = raw
        count += 1
        seq = row[0]
        expected_seq = 1 if previous is None else previous[0] + 1
        if pending is not None:
            if row[6] == prev_hash and _own_ok(row):
                return bad(
                    "inserted",
                    pending[0],
                    f"record {pending[0]} ({pending[4]}) was inserted: it is not in the chain "
                    f"and record {row[0]} links to record {pending[0] - 1}",
                )
            return bad(
                "edited",
                pending[0],
                f"record {pending[0]} ({pending[4]}) was edited: neither its content nor its "
                "link matches the chain",
            )
        links = row[6] == prev_hash
        own = _own_ok(row)
        if links and own and seq == expected_seq:
            before_previous_hash, prev_hash, previous = prev_hash, bytes(row[7] or b""), row
            continue
        if links and not own:
            return bad(
                "edited",
                seq,
                f"record {seq} ({row[4]}) was edited: its content no longer matches its hash",
            )
        if own and previous is None:
            return bad(
                "edited",
                0,
                f"the run's manifest was edited: record {seq} ({row[4]}) does not follow from it",
            )
        if own and previous is not None and row[6] == before_previous_hash:
            return bad(
                "inserted",
                previous[0],
                f"record {previous[0]} ({previous[4]}) was inserted: record {seq} links to "
                "the record before it",
            )
        if own:
            first_missing = expected_seq
            return bad(
                "deleted",
                first_missing,
                f"record(s) from {first_missing} were deleted: record {seq} ({row[4]}) does "
                f"not follow record {first_missing - 1}",
            )
        pending = row
    if pending is not None:
        return bad(
            "inserted",
            pending[0],
            f"record {pending[0]} ({pending[4]}) was inserted at the end: it is not in the chain",
        )
    last_seq = 0 if previous is None else previous[0]
    head = conn.execute("SELECT last_seq, last_hash FROM chain WHERE id = 1").fetchone()
    if head is None and count:
        return bad(
            "truncated",
            last_seq + 1,
            "the journal's chain head was deleted: records after "
            f"{last_seq} cannot be accounted for",
        )
    if head is not None and (int(head[0]) != last_seq or bytes(head[1]) != prev_hash):
        if int(head[0]) > last_seq:
            return bad(
                "truncated",
                last_seq + 1,
                f"record(s) from {last_seq + 1} to {int(head[0])} were deleted from the end: "
                f"the journal's chain head is record {int(head[0])}",
            )
        return bad(
            "edited",
            int(head[0]),
            f"the journal's chain head (record {int(head[0])}) does not match its records",
        )
    return IntegrityReport(ok=True, records=count, last_seq=last_seq, head_hash=prev_hash.hex())


class BackupResult(msgspec.Struct, frozen=True, kw_only=True):
    """A finished backup: where it went, how many records it holds, its verified chain."""

    run_dir: str
    journal: str
    records: int
    last_seq: int
    head_hash: str
    files: list[str]


_NOT_COPIED = frozenset({"journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm", ".lock"})


def backup_run(run: str | os.PathLike[str], dest: str | os.PathLike[str]) -> BackupResult:
    """Copy the run directory ``run`` to the new directory ``dest``, consistently, while the
    run may be writing its journal.

    The journal is copied with SQLite's online backup API (``sqlite3.Connection.backup``):
    all pages in one step, inside one read transaction, so in WAL mode the node's writer keeps
    committing while it runs and the copy is the journal as of one commit. The copy
    is then switched to a single file (no WAL), its hash chain verified, and the run's other
    files (outputs, its location) copied beside it; ``tradeloop live CONFIG --resume DEST``
    continues the run from the copy.

    Raises
    ------
    ConfigError
        If ``run`` has no journal or ``dest`` already exists (a backup never overwrites).
    DataIntegrityError
        If the copy's hash chain does not verify.
    """
    import shutil

    from tradeloop.core.errors import DataIntegrityError

    source_dir = Path(run)
    journal = require_file(_resolve(source_dir), "journal")
    if not source_dir.is_dir():
        source_dir = journal.parent
    target = Path(dest)
    if target.exists():
        raise ConfigError(f"backup destination {target} already exists; a backup never overwrites")
    target.mkdir(parents=True)
    copy = target / "journal.sqlite"
    source = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        into = sqlite3.connect(copy, isolation_level=None)
        try:
            source.backup(into)  # pages=-1: one step, one snapshot
            into.execute("PRAGMA journal_mode=DELETE")
        finally:
            into.close()
    finally:
        source.close()
    files = ["journal.sqlite"]
    for item in sorted(source_dir.iterdir()):
        if item.name in _NOT_COPIED or not item.is_file():
            continue
        shutil.copy2(item, target / item.name)
        files.append(item.name)
    report = verify_journal(copy)
    if not report.ok:
        raise DataIntegrityError(f"the backup {copy} does not verify: {report.message}")
    return BackupResult(
        run_dir=str(target),
        journal=str(copy),
        records=report.records,
        last_seq=report.last_seq,
        head_hash=report.head_hash,
        files=files,
    )

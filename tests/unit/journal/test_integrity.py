"""The journal's hash chain: ``verify_journal`` names the first edited, inserted or deleted
record of a journal that was tampered with in SQLite; a resumed journal continues its chain;
``backup_run`` copies a journal that verifies."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tradeloop.core import ConfigError
from tradeloop.core.errors import DataIntegrityError
from tradeloop.journal import RunManifest, SqliteJournal, read_records
from tradeloop.journal.integrity import backup_run, verify_journal
from tradeloop.model import AlertRaised

MANIFEST = RunManifest(
    run_id="r1", mode="paper", config_hash="abc", config_json="{}", seed=3, code_version="0"
)


def _alert(i: int) -> AlertRaised:
    return AlertRaised(
        severity="info", source="test", message=f"message {i}", ts_event=i, ts_init=i
    )


def _journal(tmp_path: Path, n: int = 10, flush_every: int = 3) -> Path:
    path = tmp_path / "run" / "journal.sqlite"
    journal = SqliteJournal(path, MANIFEST, flush_every=flush_every)
    for i in range(1, n + 1):
        journal.append(_alert(i))
    journal.close()
    return path


def _sql(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for statement, params in statements:
        conn.execute(statement, params)
    conn.close()


def test_an_untouched_journal_verifies_and_names_its_head(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    report = verify_journal(path.parent)
    assert report.ok, report.message
    assert (report.records, report.last_seq, len(report.head_hash)) == (10, 10, 64)


def test_an_edited_payload_is_reported_at_its_record(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    _sql(
        path,
        (
            "UPDATE records SET payload = replace(payload, 'message 4', 'message X') WHERE seq = 4",
            (),
        ),
    )
    report = verify_journal(path)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "edited", 4)
    assert report.message.startswith("record 4 (AlertRaised) was edited")


def test_an_edited_timestamp_is_reported_too(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    _sql(path, ("UPDATE records SET ts_init = ts_init + 1 WHERE seq = 7", ()))
    report = verify_journal(path)
    assert (report.problem, report.first_bad_seq) == ("edited", 7)


def test_a_deleted_record_in_the_middle_is_reported(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    _sql(path, ("DELETE FROM records WHERE seq = 5", ()))
    report = verify_journal(path)
    assert (report.problem, report.first_bad_seq) == ("deleted", 5)
    assert "record(s) from 5 were deleted" in report.message


def test_a_deleted_record_with_the_rest_renumbered_is_still_found(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    _sql(
        path,
        ("DELETE FROM records WHERE seq = 5", ()),
        ("UPDATE records SET seq = seq - 1 WHERE seq > 5", ()),
    )
    report = verify_journal(path)
    assert (report.problem, report.first_bad_seq) == ("deleted", 5)


def test_records_deleted_at_the_end_are_found_by_the_chain_head(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    _sql(path, ("DELETE FROM records WHERE seq >= 9", ()))
    report = verify_journal(path)
    assert (report.problem, report.first_bad_seq) == ("truncated", 9)
    assert "from 9 to 10 were deleted from the end" in report.message


def test_an_inserted_record_is_reported(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    # make room at seq 4 (highest first: seq is the primary key), then insert a copy of 3
    conn = sqlite3.connect(path, isolation_level=None)
    for seq in range(10, 3, -1):
        conn.execute("UPDATE records SET seq = ? WHERE seq = ?", (seq + 1, seq))
    conn.execute(
        "INSERT INTO records SELECT 4, ts_event, ts_init, kind, type, payload, prev_hash, "
        "X'00' FROM records WHERE seq = 3"
    )
    conn.close()
    report = verify_journal(path)
    assert (report.problem, report.first_bad_seq) == ("inserted", 4)
    assert report.message.startswith("record 4 (AlertRaised) was inserted")


def test_an_inserted_record_with_a_valid_hash_is_still_found(tmp_path: Path) -> None:
    # the forger chains the new record to its predecessor; the record after it does not
    # follow the new one
    from tradeloop.journal.integrity import record_hash

    path = _journal(tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    prev = conn.execute("SELECT hash FROM records WHERE seq = 3").fetchone()[0]
    for seq in range(10, 3, -1):
        conn.execute("UPDATE records SET seq = ? WHERE seq = ?", (seq + 1, seq))
    payload = '{"type":"AlertRaised","severity":"info","source":"x","message":"forged"}'
    digest = record_hash(prev, 3, 3, "event", "AlertRaised", payload.encode())
    conn.execute(
        "INSERT INTO records VALUES (4, 3, 3, 'event', 'AlertRaised', ?, ?, ?)",
        (payload, prev, digest),
    )
    conn.close()
    report = verify_journal(path)
    assert (report.problem, report.first_bad_seq) == ("inserted", 4)


def test_a_record_appended_at_the_end_is_reported(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    _sql(
        path,
        (
            "INSERT INTO records SELECT 11, ts_event, ts_init, kind, type, payload, NULL, NULL "
            "FROM records WHERE seq = 10",
            (),
        ),
    )
    report = verify_journal(path)
    assert (report.problem, report.first_bad_seq) == ("inserted", 11)


def test_an_edited_manifest_is_reported(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    _sql(path, ("UPDATE manifest SET payload = replace(payload, '\"seed\":3', '\"seed\":4')", ()))
    report = verify_journal(path)
    assert (report.ok, report.problem) == (False, "edited")
    assert "manifest was edited" in report.message


def test_a_resumed_journal_continues_its_chain(tmp_path: Path) -> None:
    path = _journal(tmp_path, n=5)
    journal = SqliteJournal(path, MANIFEST, resume=True, durable_commands=True)
    assert journal.append(_alert(6)) == 6
    journal.close()
    report = verify_journal(path)
    assert report.ok, report.message
    assert [r.seq for r in read_records(path)] == [1, 2, 3, 4, 5, 6]


def test_a_tampered_journal_is_never_resumed(tmp_path: Path) -> None:
    path = _journal(tmp_path, n=5)
    _sql(path, ("DELETE FROM records WHERE seq = 2", ()))
    with pytest.raises(DataIntegrityError, match="cannot be resumed: record"):
        SqliteJournal(path, MANIFEST, resume=True)


def test_another_runs_journal_is_never_resumed(tmp_path: Path) -> None:
    path = _journal(tmp_path, n=2)
    other = RunManifest(
        run_id="r2", mode="paper", config_hash="def", config_json="{}", seed=3, code_version="0"
    )
    with pytest.raises(ConfigError, match="belongs to run r1, started with another config"):
        SqliteJournal(path, other, resume=True)


def test_a_backup_is_a_verified_copy_and_never_overwrites(tmp_path: Path) -> None:
    path = _journal(tmp_path, n=20)
    (path.parent / "summary.json").write_text("{}")
    result = backup_run(path.parent, tmp_path / "copy")
    assert (result.records, result.last_seq) == (20, 20)
    assert result.files == ["journal.sqlite", "summary.json"]
    assert verify_journal(tmp_path / "copy").head_hash == verify_journal(path).head_hash
    with pytest.raises(ConfigError, match="already exists; a backup never overwrites"):
        backup_run(path.parent, tmp_path / "copy")


def test_a_journal_written_before_hash_chains_is_reported_as_unchained(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        "CREATE TABLE manifest (run_id TEXT PRIMARY KEY, payload TEXT NOT NULL);"
        "CREATE TABLE records (seq INTEGER PRIMARY KEY, ts_event INTEGER NOT NULL, "
        "ts_init INTEGER NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL);"
        "INSERT INTO manifest VALUES ('old', '{}');"
    )
    conn.close()
    report = verify_journal(path)
    assert (report.ok, report.problem) == (False, "unchained")
    assert "cannot be verified" in report.message


def test_a_journal_committed_to_while_it_is_verified_is_read_as_of_one_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a killed node's writer may still commit its last batch while the journal is verified:
    # the records and the chain head must come from the same commit (not a "truncated" chain)
    path = _journal(tmp_path)
    _sql(path, ("PRAGMA journal_mode=WAL", ()))  # as a running node's journal is
    real_connect = sqlite3.connect

    class Reader:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if "FROM chain" in sql:  # the writer commits between the two reads
                _sql(path, ("UPDATE chain SET last_seq = last_seq + 1 WHERE id = 1", ()))
            return self.conn.execute(sql, *args)

        def close(self) -> None:
            self.conn.close()

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: Reader(real_connect(*a, **k)))
    report = verify_journal(path.parent)
    assert report.ok, report.message
    assert report.last_seq == 10

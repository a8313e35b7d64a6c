"""``--resume`` refuses what it must not continue, each with one clear error, and leaves the
run as it was (the resume itself, against the emulator: ``tests/unit/bench/test_soak_kills``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tradeloop.core import ConfigError
from tradeloop.engine.resume import ResumedRunDir
from tradeloop.journal import RunManifest, SqliteJournal
from tradeloop.journal.status import RunLock
from tradeloop.model import AlertRaised

MANIFEST = RunManifest(
    run_id="r1", mode="live", config_hash="abc", config_json="{}", seed=3, code_version="0"
)


def _run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "runs" / "r1-live-1"
    journal = SqliteJournal(run_dir / "journal.sqlite", MANIFEST)
    journal.append(AlertRaised(severity="info", source="t", message="x", ts_event=1, ts_init=1))
    journal.close()
    return run_dir


def test_a_run_of_another_config_is_not_resumed(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    with pytest.raises(ConfigError, match="started with another config"):
        ResumedRunDir(run_dir, "other", "live")


def test_a_run_of_another_mode_is_not_resumed(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    with pytest.raises(ConfigError, match="is a live session, not paper"):
        ResumedRunDir(run_dir, "abc", "paper")


def test_a_run_that_is_still_running_is_not_resumed(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        with pytest.raises(ConfigError, match="in use by another running process"):
            ResumedRunDir(run_dir, "abc", "live")
    finally:
        lock.release()


def test_an_edited_journal_is_not_resumed_and_the_run_stays_as_it_was(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    conn = sqlite3.connect(run_dir / "journal.sqlite", isolation_level=None)
    conn.execute("UPDATE records SET payload = replace(payload, 'x', 'y')")
    conn.close()
    with pytest.raises(ConfigError, match=r"does not verify: record 1 .* was edited"):
        ResumedRunDir(run_dir, "abc", "live")
    assert (run_dir / "journal.sqlite").is_file()
    resumed_later = RunLock(run_dir)  # the refused resume let go of the lock
    resumed_later.acquire()
    resumed_later.release()


def test_a_missing_run_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        ResumedRunDir(tmp_path / "nothing", "abc", "live")


def test_a_resumable_run_is_locked_while_resumed(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    resumed = ResumedRunDir(run_dir, "abc", "live")
    try:
        assert resumed.previous.state == "interrupted"
        assert resumed.last_seq == 1
        with pytest.raises(ConfigError, match="in use"):
            ResumedRunDir(run_dir, "abc", "live")
    finally:
        resumed.abandon()
    assert run_dir.is_dir()

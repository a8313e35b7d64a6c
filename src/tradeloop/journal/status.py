"""Whether a run ended, and how: read from its journal and its lock.

Every run that ends writes a ``RunEnded`` record last (``completed``, ``stopped`` or
``failed``). A journal without one belongs to a run that is still going or that was killed
(SIGKILL, power loss, out of memory). The two are told apart by the run's lock file
(``runs/<id>/.lock``): the node holds an exclusive ``flock`` on it for as long as it runs,
and the operating system releases it when the process dies, however it dies.

``run_status`` answers for any run directory: ``report``, ``diff``, ``journal check`` and
``replay`` use it, so that a killed run is called killed, with where its journal ends,
instead of being blamed on missing files or on a determinism bug.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import IO

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.time import ns_to_iso

LOCK_FILE = ".lock"
"""The lock file a running node holds in its run directory."""

ENDED_STATES = ("completed", "stopped", "failed")


class RunStatus(msgspec.Struct, frozen=True, kw_only=True):
    """How a run stands.

    ``state`` is ``completed``, ``stopped`` or ``failed`` (from its ``RunEnded`` record),
    ``running`` (no ``RunEnded`` yet and a live process holds its lock) or ``interrupted``
    (no ``RunEnded`` and nobody holds the lock: the process died). ``records`` counts the
    journal's records; ``last_seq``, ``last_type`` and ``last_ts_init`` describe the last one
    (for an interrupted run: where it stopped). ``reason`` and ``location`` are the
    ``RunEnded`` record's.
    """

    state: str
    records: int
    last_seq: int
    last_type: str
    last_ts_init: int
    reason: str = ""
    location: str = ""

    @property
    def has_ended(self) -> bool:
        """Return whether the run wrote its ``RunEnded`` record."""
        return self.state in ENDED_STATES

    def describe(self, name: str) -> str:
        """Return one sentence that says how run ``name`` stands."""
        where = (
            f"its journal ends at record {self.last_seq} ({self.last_type}, "
            f"{ns_to_iso(self.last_ts_init)})"
            if self.last_seq
            else "its journal has no record"
        )
        if self.state == "interrupted":
            return f"run {name} was interrupted (killed before it ended): {where}"
        if self.state == "running":
            return f"run {name} is still running: {where} so far"
        if self.state == "failed":
            at = f" at {self.location}" if self.location else ""
            return f"run {name} failed: {self.reason}{at}"
        if self.state == "stopped":
            return f"run {name} was stopped: {self.reason}"
        return f"run {name} completed"


class RunLock:
    """The exclusive lock a running node holds on its run directory (module docstring)."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock.

        Raises
        ------
        ConfigError
            If another process holds it (the run is running).
        """
        import fcntl

        handle = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise ConfigError(
                f"run {self.path.parent} is in use by another running process"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Release the lock (the file stays: it is part of the run directory)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def is_locked(run_dir: str | os.PathLike[str]) -> bool:
    """Return whether a live process holds the lock of ``run_dir``."""
    import fcntl

    path = Path(run_dir) / LOCK_FILE
    if not path.is_file():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


def run_status(path: str | os.PathLike[str]) -> RunStatus:
    """Return how the run at ``path`` (a run directory or its journal) stands.

    Raises
    ------
    ConfigError
        If there is no journal at ``path``.
    """
    from tradeloop.journal.codec import JournalCodec
    from tradeloop.model.events import RunEnded

    given = Path(path)
    journal = given / "journal.sqlite" if given.is_dir() else given
    if not journal.is_file():
        raise ConfigError(f"{given} is not a run: it has no journal ({journal} does not exist)")
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        count_row = conn.execute("SELECT COUNT(*) FROM records").fetchone()
        last = conn.execute(
            "SELECT seq, type, ts_init, payload FROM records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    except sqlite3.DatabaseError as error:
        raise ConfigError(f"{journal} is not a tradeloop journal: {error}") from None
    finally:
        conn.close()
    records = int(count_row[0]) if count_row else 0
    if last is None:
        last_seq, last_type, last_ts, payload = 0, "", 0, None
    else:
        last_seq, last_type, last_ts, payload = int(last[0]), str(last[1]), int(last[2]), last[3]
    if last_type == "RunEnded" and payload is not None:
        ended = JournalCodec().decode(payload)
        assert isinstance(ended, RunEnded)
        return RunStatus(
            state=ended.status,
            records=records,
            last_seq=last_seq,
            last_type=last_type,
            last_ts_init=last_ts,
            reason=ended.reason,
            location=ended.location,
        )
    run_dir = journal.parent
    state = "running" if is_locked(run_dir) else "interrupted"
    if state == "interrupted" and _legacy_complete(run_dir):
        state = "completed"
    return RunStatus(
        state=state, records=records, last_seq=last_seq, last_type=last_type, last_ts_init=last_ts
    )


def _legacy_complete(run_dir: Path) -> bool:
    # A run written before runs ended with RunEnded: its summary.json (written when it
    # completed) has no "status" key; every newer run's has one.
    import json

    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and "status" not in summary and "final_equity" in summary

"""``tradeloop bench journal``: what the journal's durability and hash chain cost.

Three figures, each against a real SQLite journal and its writer process in a temporary
directory:

1. **Commit round trip** (``sync``) of one record, the way a command is made durable before
   it is sent: with ``synchronous=NORMAL`` (a backtest's journal: survives the death of the
   process, not a power cut) and with ``synchronous=FULL`` (live-clock runs: every commit
   fsyncs the WAL). p50 and p99 in microseconds; the difference is the fsync.
2. **Bulk write**: ``records`` records appended and closed (a backtest's path), records per
   second, hash chain included.
3. **Hash chain**: the SHA-256 of each record's content (``journal.integrity.record_hash``)
   alone, in microseconds per record, the part of (2) the chain adds to the writer process.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tradeloop import __version__
from tradeloop.journal.codec import JournalCodec
from tradeloop.journal.integrity import record_hash
from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.store import SqliteJournal
from tradeloop.model.events import AlertRaised


def _manifest(name: str) -> RunManifest:
    return RunManifest(
        run_id=name,
        mode="paper",
        config_hash="bench",
        config_json="{}",
        seed=0,
        code_version=__version__,
    )


def _record(i: int) -> AlertRaised:
    # about the size of an order event's JSON (~250 bytes)
    return AlertRaised(
        severity="info",
        source="bench.journal",
        message=f"record {i:010d} " + "x" * 180,
        ts_event=i,
        ts_init=i,
    )


def _commit_round_trips(directory: Path, name: str, commits: int, fsync: bool) -> dict[str, Any]:
    journal = SqliteJournal(directory / f"{name}.sqlite", _manifest(name), durable_commands=fsync)
    times = np.empty(commits, dtype=np.float64)
    try:
        for i in range(commits):
            start = time.perf_counter()
            journal.append(_record(i))
            journal.sync()
            times[i] = time.perf_counter() - start
    finally:
        journal.close()
    return {
        "commits": commits,
        "p50_us": round(float(np.percentile(times, 50)) * 1e6, 1),
        "p99_us": round(float(np.percentile(times, 99)) * 1e6, 1),
        "commits_per_s": round(commits / float(times.sum())),
    }


def bench_journal(commits: int = 500, records: int = 200_000) -> dict[str, Any]:
    """Return the figures of the module docstring."""
    with tempfile.TemporaryDirectory(prefix="tradeloop-bench-journal-") as tmp:
        directory = Path(tmp)
        normal = _commit_round_trips(directory, "normal", commits, fsync=False)
        full = _commit_round_trips(directory, "full", commits, fsync=True)
        journal = SqliteJournal(directory / "bulk.sqlite", _manifest("bulk"))
        items = [_record(i) for i in range(records)]
        start = time.perf_counter()
        for item in items:
            journal.append(item)
        journal.close()
        bulk_s = time.perf_counter() - start
    codec = JournalCodec()
    payloads = [codec.encode(item) for item in items]
    start = time.perf_counter()
    prev = b"\0" * 32
    for i, payload in enumerate(payloads):
        prev = record_hash(prev, i, i, "event", "AlertRaised", payload)
    hash_s = time.perf_counter() - start
    return {
        "commit_normal": normal,
        "commit_fsync": full,
        "fsync_cost_p50_us": round(full["p50_us"] - normal["p50_us"], 1),
        "bulk": {
            "records": records,
            "seconds": round(bulk_s, 3),
            "records_per_s": round(records / bulk_s),
        },
        "hash_chain_us_per_record": round(hash_s / records * 1e6, 3),
    }

"""The journal writer process: receives batches of records and inserts them into SQLite.

Run as ``python _writer.py PATH`` (a plain script: it imports only ``sqlite3`` and
``msgspec``, not the tradeloop package). It reads frames from stdin and answers on stdout, so
the kernel's process never waits on the disk and never shares the GIL with the writing work.

Frame: one byte kind, 4 bytes little-endian length, then ``length`` bytes.

- ``B``: a batch: 8 bytes first sequence number + a JSON array of records.
- ``S``: sync: commit everything received so far, then answer ``K`` (or ``E`` + message).
- ``C``: close: checkpoint the WAL, switch to rollback journal, answer
  ``K`` followed by the writer's peak resident memory in kB, exit.

The database (schema and manifest) is created by the parent before the writer starts.

Each row carries ``prev_hash`` (the previous row's ``hash``; for the first row, the SHA-256
of the manifest's JSON) and ``hash`` = SHA-256(prev_hash, ts_event, ts_init, kind, type,
payload) (``record_hash``; ``journal.integrity`` checks the chain). The ``chain`` table holds
the last row's seq and hash, updated in the same transaction as every batch, so that records
deleted at the end are found too. A writer started on a journal that already has records
(``--resume``) continues its chain.

Durability: ``synchronous=NORMAL`` by default (a commit survives the death of any process,
SIGKILL included, but not a power cut or a kernel crash: the WAL is fsynced at checkpoints);
``python _writer.py PATH --fsync`` uses ``synchronous=FULL`` (every commit fsyncs the WAL
before it is answered). Live-clock runs use ``--fsync``.
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import sys
from typing import BinaryIO

import msgspec


class _Header(msgspec.Struct):
    type: str
    ts_init: int
    ts_event: int | None = None


def record_hash(
    prev_hash: bytes, ts_event: int, ts_init: int, kind: str, type_name: str, payload: bytes
) -> bytes:
    """Return the chain hash of one record (``journal.integrity`` uses the same function)."""
    head = f"{ts_event} {ts_init} {kind} {type_name}\n".encode()
    return hashlib.sha256(prev_hash + head + payload).digest()


def chain_start(conn: sqlite3.Connection) -> tuple[int, bytes]:
    """Return the last seq and hash of the journal's chain (0 and the manifest's hash if empty)."""
    row = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    if row is not None and row[1] is not None:
        return int(row[0]), bytes(row[1])
    manifest = conn.execute("SELECT payload FROM manifest").fetchone()
    genesis = hashlib.sha256(str(manifest[0] if manifest else "").encode()).digest()
    return (0 if row is None else int(row[0])), genesis


def _peak_rss_kb() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError("journal writer input closed")
    return data


def serve(path: str, stdin: BinaryIO, stdout: BinaryIO, fsync: bool = False) -> None:
    """Write frames from ``stdin`` into the journal at ``path`` until closed."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
    _, prev = chain_start(conn)
    split = msgspec.json.Decoder(list[msgspec.Raw])
    headers = msgspec.json.Decoder(list[_Header])
    error: str | None = None
    while True:
        try:
            head = stdin.read(5)
        except (OSError, ValueError):
            head = b""
        if len(head) < 5:
            break  # parent went away: what is committed stays
        kind = head[:1]
        length = int.from_bytes(head[1:5], "little")
        try:
            payload = _read_exact(stdin, length) if length else b""
        except (EOFError, OSError, ValueError):
            break  # parent killed mid-frame: that batch was never acknowledged, drop it
        if kind == b"B":
            if error is not None:
                continue
            try:
                seq = int.from_bytes(payload[:8], "little")
                body = payload[8:]
                rows = []
                chained = prev
                sha256 = hashlib.sha256
                for header, raw in zip(headers.decode(body), split.decode(body), strict=True):
                    ts_event = header.ts_init if header.ts_event is None else header.ts_event
                    kind_name = "command" if header.ts_event is None else "event"
                    data = bytes(raw)
                    line = f"{ts_event} {header.ts_init} {kind_name} {header.type}\n".encode()
                    digest = sha256(chained + line + data).digest()  # = record_hash(...)
                    rows.append(
                        (
                            seq,
                            ts_event,
                            header.ts_init,
                            kind_name,
                            header.type,
                            data.decode(),
                            chained,
                            digest,
                        )
                    )
                    chained = digest
                    seq += 1
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                conn.execute(
                    "INSERT OR REPLACE INTO chain (id, last_seq, last_hash) VALUES (1, ?, ?)",
                    (seq - 1, chained),
                )
                conn.execute("COMMIT")
                prev = chained
            except Exception as exc:  # reported at the next sync
                error = f"{type(exc).__name__}: {exc}"
        elif kind in (b"S", b"C"):
            if kind == b"C" and error is None:
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    conn.execute("PRAGMA journal_mode=DELETE")
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
            answer = b"K" if error is None else b"E" + error.encode()
            if kind == b"C" and error is None:
                answer += str(_peak_rss_kb()).encode()
            stdout.write(len(answer).to_bytes(4, "little") + answer)
            stdout.flush()
            if kind == b"C":
                break
    conn.close()


if __name__ == "__main__":
    # Ctrl-C reaches the whole foreground process group: the node decides how to stop and
    # closes the journal; the writer must outlive the signal to commit what it was given.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer, fsync="--fsync" in sys.argv[2:])

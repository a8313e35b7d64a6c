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
"""

from __future__ import annotations

import signal
import sqlite3
import sys
from typing import BinaryIO

import msgspec


class _Header(msgspec.Struct):
    type: str
    ts_init: int
    ts_event: int | None = None


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


def serve(path: str, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Write frames from ``stdin`` into the journal at ``path`` until closed."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    split = msgspec.json.Decoder(list[msgspec.Raw])
    headers = msgspec.json.Decoder(list[_Header])
    error: str | None = None
    while True:
        try:
            head = stdin.read(5)
        except (OSError, ValueError):
            head = b""
        if not head:
            break  # parent went away: what is committed stays
        kind = head[:1]
        length = int.from_bytes(head[1:5], "little")
        payload = _read_exact(stdin, length) if length else b""
        if kind == b"B":
            if error is not None:
                continue
            try:
                seq = int.from_bytes(payload[:8], "little")
                body = payload[8:]
                rows = []
                for header, raw in zip(headers.decode(body), split.decode(body), strict=True):
                    ts_event = header.ts_init if header.ts_event is None else header.ts_event
                    kind_name = "command" if header.ts_event is None else "event"
                    rows.append(
                        (seq, ts_event, header.ts_init, kind_name, header.type, bytes(raw).decode())
                    )
                    seq += 1
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
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
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)

"""Journal: the append-only event store (SQLite by default), run manifests and codecs."""

from tradeloop.journal.codec import JournalCodec
from tradeloop.journal.manifest import DataRef, RunManifest
from tradeloop.journal.store import (
    Journal,
    JournalRecord,
    MemoryJournal,
    SqliteJournal,
    read_manifest,
    read_records,
)

__all__ = [
    "DataRef",
    "Journal",
    "JournalCodec",
    "JournalRecord",
    "MemoryJournal",
    "RunManifest",
    "SqliteJournal",
    "read_manifest",
    "read_records",
]

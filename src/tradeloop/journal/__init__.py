"""Journal: the append-only event store (SQLite by default), run manifests and codecs."""

from tradeloop.journal.codec import JournalCodec
from tradeloop.journal.manifest import (
    LOCATION_FILE,
    DataRef,
    RunLocation,
    RunManifest,
    read_base_dir,
    write_location,
)
from tradeloop.journal.store import (
    Journal,
    JournalRecord,
    MemoryJournal,
    SqliteJournal,
    read_manifest,
    read_records,
)

__all__ = [
    "LOCATION_FILE",
    "DataRef",
    "Journal",
    "JournalCodec",
    "JournalRecord",
    "MemoryJournal",
    "RunLocation",
    "RunManifest",
    "SqliteJournal",
    "read_base_dir",
    "read_manifest",
    "read_records",
    "write_location",
]

"""Journal: the append-only event store (SQLite by default), run manifests and codecs."""

from tradeloop.journal.codec import JournalCodec
from tradeloop.journal.export import LOG_FIELDS, LogRecord, export_jsonl, iter_log_records
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
    "LOG_FIELDS",
    "DataRef",
    "Journal",
    "JournalCodec",
    "JournalRecord",
    "LogRecord",
    "MemoryJournal",
    "RunLocation",
    "RunManifest",
    "SqliteJournal",
    "export_jsonl",
    "iter_log_records",
    "read_base_dir",
    "read_manifest",
    "read_records",
    "write_location",
]

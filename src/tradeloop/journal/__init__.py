"""Journal: the append-only event store (SQLite by default), run manifests and codecs."""

from tradeloop.journal.codec import JournalCodec
from tradeloop.journal.export import LOG_FIELDS, LogRecord, export_jsonl, iter_log_records
from tradeloop.journal.integrity import (
    BackupResult,
    IntegrityReport,
    backup_run,
    verify_journal,
)
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
    "BackupResult",
    "DataRef",
    "IntegrityReport",
    "Journal",
    "JournalCodec",
    "JournalRecord",
    "LogRecord",
    "MemoryJournal",
    "RunLocation",
    "RunManifest",
    "SqliteJournal",
    "backup_run",
    "export_jsonl",
    "iter_log_records",
    "read_base_dir",
    "read_manifest",
    "read_records",
    "verify_journal",
    "write_location",
]

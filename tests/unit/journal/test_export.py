"""The live-logging form: every record of a journal as one JSON line stamped with its run."""

import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import pytest

from tradeloop.core import ConfigError
from tradeloop.journal import LOG_FIELDS, export_jsonl, read_manifest
from tradeloop.journal.replay import read_rows
from tradeloop.reports.standard import check_log_lines

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _helpers().run_pipeline(tmp_path_factory.mktemp("export"))


def _export(run_dir: Path, types: list[str] | None = None) -> bytes:
    buffer = io.BytesIO()
    export_jsonl(run_dir, buffer, types)
    return buffer.getvalue()


def test_every_record_is_one_line_stamped_with_the_runs_identity(run) -> None:  # type: ignore[no-untyped-def]
    manifest = read_manifest(run.journal_path)
    rows = read_rows(run.journal_path)
    lines = _export(run.run_dir).splitlines()
    assert len(lines) == len(rows) > 500
    kinds = set()
    for line, row in zip(lines, rows, strict=True):
        item = json.loads(line)
        assert tuple(item) == LOG_FIELDS
        assert (item["run_id"], item["config_hash"], item["code_version"]) == (
            manifest.run_id,
            manifest.config_hash,
            manifest.code_version,
        )
        assert (item["seq"], item["kind"], item["type"]) == (row.seq, row.kind, row.type)
        assert (item["ts_event"], item["ts_init"]) == (row.ts_event, row.ts_init)
        # The record is the stored JSON, byte for byte.
        assert line.endswith(b',"record":' + row.payload.encode() + b"}")
        kinds.add(row.type)
    assert {"SubmitOrder", "OrderFilled", "ExecutionPlanned", "SignalsEmitted"} <= kinds


def test_the_export_is_the_same_bytes_every_time_and_follows_rule_l1(run) -> None:  # type: ignore[no-untyped-def]
    first = _export(run.run_dir)
    assert _export(run.journal_path) == first  # a run directory or its journal file
    manifest = read_manifest(run.journal_path)
    seqs = [row.seq for row in read_rows(run.journal_path, decode=False)]
    assert check_log_lines(first.splitlines(), manifest, seqs) == []


def test_types_keep_only_those_records(run) -> None:  # type: ignore[no-untyped-def]
    lines = _export(run.run_dir, ["SubmitOrder", "OrderFilled"]).splitlines()
    types = [json.loads(line)["type"] for line in lines]
    stored = [r.type for r in read_rows(run.journal_path, decode=False)]
    assert types == [t for t in stored if t in ("SubmitOrder", "OrderFilled")]
    assert set(types) == {"SubmitOrder", "OrderFilled"}


def test_an_unknown_type_is_a_config_error_with_a_suggestion(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=r"'OrderFiled' is neither .* did you mean OrderFilled"):
        _export(run.run_dir, ["OrderFiled"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda item: item.pop("config_hash"), "config_hash is missing"),
        (lambda item: item.update(code_version="0.0.0"), "is not the manifest's"),
        (lambda item: item.update(run_id="other-run"), "is not the manifest's"),
        (lambda item: item.update(ts_init=None), "ts_init is missing or not int"),
        (lambda item: item.update(type="OrderCanceled"), "is not the record's"),
    ],
)
def test_a_line_without_its_stamps_breaks_rule_l1(run, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    manifest = read_manifest(run.journal_path)
    lines = _export(run.run_dir).splitlines()
    item = json.loads(lines[10])
    change(item)
    lines[10] = json.dumps(item).encode()
    violations = check_log_lines(lines, manifest)
    assert [(v.rule, v.seq) for v in violations] == [("L1", 11)]
    assert expected in violations[0].message


def test_a_missing_line_breaks_rule_l1(run) -> None:  # type: ignore[no-untyped-def]
    manifest = read_manifest(run.journal_path)
    seqs = [row.seq for row in read_rows(run.journal_path, decode=False)]
    lines = _export(run.run_dir).splitlines()
    del lines[4]
    violations = check_log_lines(lines, manifest, seqs)
    assert [(v.rule, v.seq) for v in violations] == [("L1", 5)]
    assert "no line for records [5]" in violations[0].message

"""``tradeloop journal export|check``: a run's journal as stamped log lines, and its check."""

import importlib.util
import json
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

from tradeloop.cli.main import main
from tradeloop.engine.runner import RunResult
from tradeloop.journal import read_manifest
from tradeloop.journal.replay import read_rows

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    result: RunResult = _helpers().run_pipeline(tmp_path_factory.mktemp("journal-cli"))
    return result


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> tuple[int, bytes, str]:
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsysbinary.readouterr()
    return code, captured.out, captured.err.decode()


def test_export_writes_every_record_stamped_to_a_file(
    run: RunResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    target = tmp_path / "log.jsonl"
    code, _, stderr = run_main(
        ["journal", "export", str(run.run_dir), "--jsonl", str(target)], monkeypatch, capsysbinary
    )
    assert code == 0, stderr
    manifest = read_manifest(run.journal_path)
    lines = target.read_bytes().splitlines()
    assert len(lines) == len(read_rows(run.journal_path, decode=False))
    for line in lines:
        item = json.loads(line)
        assert item["run_id"] == manifest.run_id
        assert item["config_hash"] == manifest.config_hash
        assert item["code_version"] == manifest.code_version
    assert f"{len(lines):,} records written" in stderr
    assert not (tmp_path / "log.jsonl.partial").exists()


def test_export_of_some_types_to_standard_output(
    run: RunResult, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code, stdout, stderr = run_main(
        ["journal", "export", str(run.run_dir), "--types", "SubmitOrder,OrderFilled"],
        monkeypatch,
        capsysbinary,
    )
    assert code == 0, stderr
    types = {json.loads(line)["type"] for line in stdout.splitlines()}
    assert types == {"SubmitOrder", "OrderFilled"}


def test_export_of_an_unknown_type_is_one_line_and_exit_2(
    run: RunResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    target = tmp_path / "log.jsonl"
    code, _, stderr = run_main(
        ["journal", "export", str(run.run_dir), "--types", "Fills", "--jsonl", str(target)],
        monkeypatch,
        capsysbinary,
    )
    assert code == 2
    assert "record type 'Fills' is neither" in stderr
    assert not target.exists()
    assert not (tmp_path / "log.jsonl.partial").exists()


def test_check_passes_a_journal_that_follows_the_standard(
    run: RunResult, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code, stdout, stderr = run_main(
        ["journal", "check", str(run.run_dir)], monkeypatch, capsysbinary
    )
    assert code == 0, stdout + stderr.encode()
    assert b"follows the standard" in stdout


def test_check_lists_each_violation_and_exits_1(
    run: RunResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    copy = tmp_path / "journal.sqlite"
    copy.write_bytes(run.journal_path.read_bytes())
    conn = sqlite3.connect(copy)
    seq, payload = conn.execute(
        "SELECT seq, payload FROM records WHERE type = 'OrderFilled' ORDER BY seq LIMIT 1"
    ).fetchone()
    conn.execute(
        "UPDATE records SET payload = ? WHERE seq = ?",
        (payload.replace('"reference_px":{', '"ignored":{', 1), seq),
    )
    conn.commit()
    conn.close()
    code, stdout, stderr = run_main(["journal", "check", str(copy)], monkeypatch, capsysbinary)
    assert code == 1
    assert stdout.decode().startswith(f"O2 seq {seq}:")
    assert "1 violation(s)" in stderr

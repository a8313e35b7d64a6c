"""Every path argument of every command says what is wrong with it, in one line, exit 2.

A directory given for a file says it is a directory (not that it "does not exist"), a file
given for a directory says it is a file, a directory that is not a run says so.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tradeloop.cli.execution import register

cli_main = importlib.import_module("tradeloop.cli.main")  # the package exports main()

RUN_HINT = (
    "it has no journal.sqlite (a run directory is the runs/<run_id> a backtest or paper run writes)"
)


def _cli(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    if "tca" not in {c.name for c in cli_main.app.registered_commands}:
        register(cli_main.app, cli_main.bench_app)
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    code = 0
    try:
        cli_main.main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("not a journal\n")
    return tmp_path


CASES = [
    (["backtest", "adir"], "config file adir is a directory, not a file"),
    (["paper", "adir"], "config file adir is a directory, not a file"),
    (
        ["data", "validate", "adir", "-f", "yahoo", "-i", "ORCL.XNAS"],
        "data file adir is a directory, not a file",
    ),
    (
        ["data", "import", "adir", "-f", "yahoo", "-i", "ORCL.XNAS", "-c", "cat"],
        "data file adir is a directory, not a file",
    ),
    (["data", "list", "--catalog", "afile"], "catalog afile is a file, not a directory"),
    (["data", "list", "--catalog", "nope"], "catalog nope does not exist"),
    (["bench", "book", "--file", "adir"], "book recording adir is a directory, not a file"),
    (
        ["bench", "fidelity", "--bars", "100", "--file", "adir"],
        "book recording adir is a directory, not a file",
    ),
    (["bench", "all", "--output", "adir"], "--output file adir is a directory; give a file path"),
    (["replay", "adir", "--at", "start"], f"adir is not a run directory: {RUN_HINT}"),
    (["explain", "adir", "O-1"], f"adir is not a run directory: {RUN_HINT}"),
    (["diff", "adir", "adir"], f"adir is not a run directory: {RUN_HINT}"),
    (["report", "adir"], f"adir is not a run directory: {RUN_HINT}"),
    (["tca", "adir"], f"adir is not a run directory: {RUN_HINT}"),
    (["journal", "check", "adir"], f"adir is not a run directory: {RUN_HINT}"),
    (["journal", "export", "adir"], f"adir is not a run directory: {RUN_HINT}"),
    (
        ["tca", "nope"],
        "run nope does not exist: give a run directory (runs/<run_id>) or its journal file",
    ),
    (
        ["report", "adir", "--out", "afile"],
        "--out directory afile: afile is a file, not a directory",
    ),
    (["report", "adir", "--base-dir", "afile"], "--base-dir afile is a file, not a directory"),
    (["replay", "adir", "--at", "start", "--base-dir", "nope"], "--base-dir nope does not exist"),
    (
        ["explain", "adir", "O-1", "--base-dir", "afile"],
        "--base-dir afile is a file, not a directory",
    ),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_wrong_kind_of_path_is_one_clear_line_and_exit_2(
    args: list[str],
    message: str,
    places: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _cli(args, monkeypatch, capsys)
    assert code == 2, out + err
    assert err.strip() == f"error: {message}"
    assert not (places / "cat").exists()  # nothing written before the error


def test_journal_export_to_a_directory_is_refused_before_anything_is_written(
    places: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(["journal", "export", "afile", "--jsonl", "adir"], monkeypatch, capsys)
    assert code == 2
    assert err.strip() == "error: --jsonl file adir is a directory; give a file path"
    assert list((places / "adir").iterdir()) == []

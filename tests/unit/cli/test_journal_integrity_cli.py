"""``tradeloop journal verify`` and ``journal backup`` on a node that is running, and on its
journal after the node was killed with SIGKILL (the torn journal opens, recovers, verifies)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tradeloop.cli._common import _Exit
from tradeloop.cli.main import app
from tradeloop.journal.status import run_status

CONFIG = """
[run]
name = "backed-up"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2014-01-01"

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "100" }}
"""


def _code(result: Result) -> int:
    # the CLI's exit status (main() turns _Exit into it; CliRunner sees the exception)
    return result.exception.code if isinstance(result.exception, _Exit) else result.exit_code


def _count(journal: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_backups_of_a_running_paper_node_verify_and_its_killed_journal_recovers(
    tmp_path: Path,
) -> None:
    output = tmp_path / "runs"
    config = tmp_path / "node.toml"
    config.write_text(CONFIG.format(output=output))
    node = subprocess.Popen(
        [sys.executable, "-m", "tradeloop.cli", "paper", str(config), "--speed", "5000000", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    runner = CliRunner()
    try:
        deadline = time.monotonic() + 60
        journals: list[Path] = []
        while time.monotonic() < deadline and node.poll() is None:
            journals = list(output.glob("*/journal.sqlite"))
            if journals and _count(journals[0]) > 50:
                break
            time.sleep(0.05)
        assert node.poll() is None, node.stderr.read() if node.stderr else ""
        run_dir = journals[0].parent
        sizes = []
        for i in range(3):  # each copy is one consistent snapshot while the writer commits
            dest = tmp_path / f"backup-{i}"
            result = runner.invoke(app, ["journal", "backup", str(run_dir), str(dest)])
            assert result.exit_code == 0, result.output
            verified = runner.invoke(app, ["journal", "verify", str(dest), "--json"])
            assert verified.exit_code == 0, verified.output
            sizes.append(json.loads(verified.output)["records"])
            time.sleep(0.1)
        assert sizes[0] > 50
        assert sizes == sorted(sizes)
        assert run_status(run_dir).state == "running"
    finally:
        node.send_signal(signal.SIGKILL)
        node.wait(timeout=30)
    deadline = time.monotonic() + 30
    while run_status(run_dir).state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    # the killed node's journal (WAL and all) opens, and every committed record is chained
    verified = runner.invoke(app, ["journal", "verify", str(run_dir), "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["records"] >= sizes[-1]
    assert run_status(run_dir).state == "interrupted"


def test_verify_names_a_deleted_record_and_exits_1(tmp_path: Path) -> None:
    from tradeloop.journal import RunManifest, SqliteJournal
    from tradeloop.model import AlertRaised

    manifest = RunManifest(
        run_id="r1", mode="paper", config_hash="abc", config_json="{}", seed=3, code_version="0"
    )
    path = tmp_path / "run" / "journal.sqlite"
    journal = SqliteJournal(path, manifest)
    for i in range(1, 6):
        journal.append(
            AlertRaised(severity="info", source="t", message=str(i), ts_event=i, ts_init=i)
        )
    journal.close()
    runner = CliRunner()
    assert runner.invoke(app, ["journal", "verify", str(path.parent)]).exit_code == 0
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM records WHERE seq = 3")
    conn.close()
    result = runner.invoke(app, ["journal", "verify", str(path.parent)])
    assert result.exit_code == 1
    assert "record(s) from 3 were deleted" in " ".join(result.output.split())
    missing = runner.invoke(app, ["journal", "verify", str(tmp_path / "nothing")])
    assert _code(missing) == 2

"""A paper run killed with SIGKILL keeps every event it journaled before it went idle (issue 9,
item 1), and is then named interrupted by every command.

The node runs in its own process (``tradeloop paper``, the live clock, the journal writer
process); the test polls its journal from outside while it runs, as a user watching it would.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app
from tradeloop.journal.status import run_status

pytestmark = pytest.mark.slow

CONFIG = """
[run]
name = "killed"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2014-01-01"

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "100" }}
"""


def _answered(journal: Path) -> tuple[str, bool] | None:
    # The last order sent, and whether the venue's answer to it is on disk yet.
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute(
            "SELECT seq, json_extract(payload, '$.order.client_order_id') FROM records "
            "WHERE type = 'SubmitOrder' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        answer = conn.execute(
            "SELECT COUNT(*) FROM records WHERE seq > ? AND type = 'OrderAccepted' "
            "AND json_extract(payload, '$.client_order_id') = ?",
            (row[0], row[1]),
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[1]), bool(answer[0])


def test_a_paper_run_killed_with_sigkill_keeps_its_last_orders_answer_and_is_interrupted(
    tmp_path: Path,
) -> None:
    output = tmp_path / "runs"
    config = tmp_path / "killed.toml"
    config.write_text(CONFIG.format(output=output))
    # five days a second: an order every few bars, idle in between
    node = subprocess.Popen(
        [sys.executable, "-m", "tradeloop.cli", "paper", str(config), "--speed", "432000", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        seen: tuple[str, bool] | None = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and node.poll() is None:
            journals = list(output.glob("*/journal.sqlite"))
            seen = _answered(journals[0]) if journals else None
            if seen is not None and seen[1]:
                break
            time.sleep(0.05)
        assert node.poll() is None, node.stderr.read() if node.stderr else ""
        # while the node runs and waits for its next bar, its last order's answer is on disk
        assert seen is not None
        assert seen[1], f"order {seen[0]}: no OrderAccepted on disk while the node was idle"
        run_dir = journals[0].parent
        assert run_status(run_dir).state == "running"
    finally:
        node.send_signal(signal.SIGKILL)
        node.wait(timeout=30)
    deadline = time.monotonic() + 30
    while run_status(run_dir).state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)  # the writer process commits what it has, then lets go
    status = run_status(run_dir)
    assert status.state == "interrupted"
    assert _answered(run_dir / "journal.sqlite") is not None
    result = CliRunner().invoke(app, ["replay", str(run_dir), "--at", "end"])
    assert result.exit_code == 0, result.output
    # rich wraps at the terminal width, and the run's path (inside pytest's numbered tmp dir)
    # moves where: compare with the line breaks undone
    assert "was interrupted (killed before it ended)" in " ".join(result.output.split())
    check = CliRunner().invoke(app, ["journal", "check", str(run_dir)])
    assert check.exit_code == 1
    assert "E1 seq" in check.output
    assert not (run_dir / "summary.json").exists()
    assert os.path.isdir(run_dir)  # nothing of the killed run was removed


@pytest.mark.parametrize(
    ("signum", "reason"),
    [
        (signal.SIGTERM, "stopped by SIGTERM"),
        (signal.SIGINT, "interrupted by the operator (Ctrl-C)"),
    ],
)
def test_a_signal_stops_a_paper_run_cleanly_and_marks_it_stopped(
    tmp_path: Path, signum: signal.Signals, reason: str
) -> None:
    # `kill PID` (or a supervisor) is a stop, as Ctrl-C is: the run ends with its RunEnded
    # record, marked stopped by the signal, with its outputs written as at any end.
    from tradeloop.journal import read_records
    from tradeloop.model import RunEnded

    output = tmp_path / "runs"
    config = tmp_path / "stopped.toml"
    config.write_text(CONFIG.format(output=output).replace('name = "killed"', 'name = "stopped"'))
    node = subprocess.Popen(
        [sys.executable, "-m", "tradeloop.cli", "paper", str(config), "--speed", "432000", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A child started from a script may inherit SIGINT ignored; a terminal's Ctrl-C is not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        seen = None
        while time.monotonic() < deadline and node.poll() is None:
            journals = list(output.glob("*/journal.sqlite"))
            seen = _answered(journals[0]) if journals else None
            if seen is not None:
                break
            time.sleep(0.05)
        assert seen is not None
        node.send_signal(signum)
        code = node.wait(timeout=60)
    finally:
        if node.poll() is None:
            node.kill()
    assert code == 0
    run_dir = journals[0].parent
    status = run_status(run_dir)
    assert (status.state, status.reason) == ("stopped", reason)
    last = list(read_records(run_dir / "journal.sqlite"))[-1].record
    assert isinstance(last, RunEnded)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["status"], summary["reason"]) == ("stopped", reason)
    assert summary["orders"] >= 1  # the outputs of a stopped run are written as at any end
    assert (run_dir / "equity.csv").is_file()

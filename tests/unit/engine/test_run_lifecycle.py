"""How a run ends, and what every command says of a run that did not (issue 9, items 2, 3, 7).

- A rerun never removes an earlier run: it gets its own directory.
- A run ends with a ``RunEnded`` record; a strategy's error marks it failed, with the file
  and line of the user's code, in the journal and in ``summary.json``.
- A run killed before its end is *interrupted*: ``journal check``, ``report``, ``diff`` and
  ``replay`` say so and where its journal ends; an order whose command is journaled with no
  answer is replayed as in flight.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tradeloop.config import parse_config
from tradeloop.core import ConfigError, StrategyError
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.journal.diff import diff_runs
from tradeloop.journal.replay import JournalIndex
from tradeloop.journal.status import RunLock, run_status
from tradeloop.model import RunEnded, SubmitOrder
from tradeloop.reports import RunInputs, build_report
from tradeloop.reports.standard import check_journal


def _config(output: Path, strategy: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "run": {"name": "life", "output_dir": str(output)},
        "data": [{"dataset": "orcl_daily", "start": "2014-01-01"}],
        "strategies": [
            strategy
            or {
                "class": "SmaCross",
                "params": {"instrument_ids": ["ORCL.XNAS"], "fast": 3, "slow": 5},
            }
        ],
    }


def _run(tmp_path: Path, strategy: dict[str, object] | None = None) -> RunResult:
    return run_backtest(prepare_run(parse_config(_config(tmp_path / "runs", strategy)), tmp_path))


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return _run(tmp_path_factory.mktemp("complete"))


def _interrupted_copy(run: RunResult, where: Path, keep: int) -> Path:
    # What SIGKILL leaves: the journal up to some record, no RunEnded, no outputs of the end.
    copy = where / run.run_dir.name
    shutil.copytree(run.run_dir, copy)
    for name in ("equity.csv", "summary.json"):
        (copy / name).unlink()
    conn = sqlite3.connect(copy / "journal.sqlite")
    conn.execute("DELETE FROM records WHERE seq > ?", (keep,))
    conn.commit()
    conn.close()
    return copy


def test_a_rerun_gets_its_own_directory_and_the_earlier_run_keeps_every_file(
    tmp_path: Path,
) -> None:
    first = _run(tmp_path)
    mine = first.run_dir / "my notes.txt"
    mine.write_text("keep me")
    report, _ = build_report(RunInputs(first.run_dir))
    second = _run(tmp_path)
    third = _run(tmp_path)
    assert second.run_id == first.run_id
    assert second.run_dir.name == f"{first.run_id}.2"
    assert third.run_dir.name == f"{first.run_id}.3"
    assert mine.read_text() == "keep me"
    assert Path(report.html).is_file()
    # same config, data and code: the rerun reproduces the run byte for byte
    assert second.journal_path.read_bytes() == first.journal_path.read_bytes()


def test_a_completed_run_ends_with_run_ended_and_its_summary_says_completed(
    complete: RunResult,
) -> None:
    last = list(read_records(complete.journal_path))[-1].record
    assert isinstance(last, RunEnded)
    assert (last.status, last.reason) == ("completed", "the market data ran out")
    assert last.records == complete.records
    assert run_status(complete.run_dir).state == "completed"
    assert json.loads((complete.run_dir / "summary.json").read_text())["status"] == "completed"
    assert not [v for v in check_journal(complete.run_dir) if v.rule == "E1"]


STRATEGY = """\
from tradeloop.strategy import Strategy


class Fragile(Strategy):
    def on_start(self) -> None:
        self.subscribe_bars("ORCL.XNAS")
        self.seen = 0

    def on_bar(self, bar) -> None:
        self.seen += 1
        if self.seen == 40:
            ratio = {"ORCL.XNAS": 1.0}[bar.instrument_id + "X"]
"""


def test_a_strategy_that_raises_is_shown_at_its_own_line_and_the_run_is_marked_failed(
    tmp_path: Path,
) -> None:
    (tmp_path / "fragile.py").write_text(STRATEGY)
    with pytest.raises(StrategyError) as raised:
        _run(tmp_path, {"class": "fragile.py:Fragile"})
    error = raised.value
    assert "on_bar raised KeyError: 'ORCL.XNASX'" in str(error)
    assert "fragile.py:12 in on_bar: ratio = {" in str(error)  # the user's frame, not ours
    assert any("marked failed" in note for note in getattr(error, "__notes__", ()))
    run_dir = next((tmp_path / "runs").iterdir())
    last = list(read_records(run_dir / "journal.sqlite"))[-1].record
    assert isinstance(last, RunEnded)
    assert last.status == "failed"
    assert last.location.startswith("fragile.py:12 in on_bar")  # relative to the config's dir
    assert last.records == 39  # the 40th bar is the one that failed
    status = run_status(run_dir)
    assert status.state == "failed"
    assert "fragile.py:12" in status.describe("r")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["status"], summary["records"]) == ("failed", 39)
    with pytest.raises(ConfigError, match=r"run .* failed: .*a report needs a run that completed"):
        build_report(RunInputs(run_dir))


def test_an_interrupted_run_is_called_interrupted_with_where_its_journal_ends(
    complete: RunResult, tmp_path: Path
) -> None:
    copy = _interrupted_copy(complete, tmp_path, keep=60)
    status = run_status(copy)
    assert (status.state, status.last_seq) == ("interrupted", 60)
    described = status.describe("x")
    assert "was interrupted (killed before it ended): its journal ends at record 60" in described
    e1 = [v for v in check_journal(copy) if v.rule == "E1"]
    assert len(e1) == 1
    assert e1[0].seq == 60
    with pytest.raises(
        ConfigError, match=r"was interrupted .* a report needs a run that completed"
    ):
        build_report(RunInputs(copy))
    diff = diff_runs(complete.run_dir, copy)
    assert diff.reasons == ("interrupted",)
    assert "agree record for record up to there (60 records)" in diff.explanation
    assert "determinism" not in diff.explanation


def test_a_run_whose_process_holds_its_lock_is_running_not_interrupted(
    complete: RunResult, tmp_path: Path
) -> None:
    copy = _interrupted_copy(complete, tmp_path, keep=30)
    lock = RunLock(copy)
    lock.acquire()
    try:
        assert run_status(copy).state == "running"
        with pytest.raises(ConfigError, match="in use by another running process"):
            RunLock(copy).acquire()
    finally:
        lock.release()
    assert run_status(copy).state == "interrupted"


def test_an_order_journaled_but_never_answered_is_replayed_in_flight(
    complete: RunResult, tmp_path: Path
) -> None:
    rows = list(read_records(complete.journal_path))
    submit = next(r for r in rows if isinstance(r.record, SubmitOrder))
    copy = _interrupted_copy(complete, tmp_path, keep=submit.seq)  # killed right after send
    index = JournalIndex(copy)
    state = index.state_at(index.last_ts)
    assert [(o.client_order_id, o.status) for o in state.open_orders] == [
        (submit.record.order.client_order_id, "IN_FLIGHT")
    ]


def test_the_cli_shows_a_failing_strategy_at_its_own_line_and_where_the_run_was_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tradeloop.cli.main import main

    (tmp_path / "fragile.py").write_text(STRATEGY)
    config = tmp_path / "fragile.toml"
    config.write_text(
        f'[run]\nname = "f"\noutput_dir = "{tmp_path / "runs"}"\n'
        '[[data]]\ndataset = "orcl_daily"\nstart = "2014-01-01"\n'
        '[[strategies]]\nclass = "fragile.py:Fragile"\n'
    )
    monkeypatch.setattr("sys.argv", ["tradeloop", "backtest", str(config), "-q"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "error: Fragile: on_bar raised KeyError: 'ORCL.XNASX' (at " in err
    assert "fragile.py:12 in on_bar" in err
    assert "the run was marked failed in " in err

"""Real journals follow the live-logging standard of docs/journal-standard.md."""

from importlib.resources import files
from pathlib import Path

import msgspec
import pytest

from tradeloop.config.loader import load_config
from tradeloop.engine.runner import prepare_run, run_backtest
from tradeloop.journal import read_manifest
from tradeloop.journal.replay import read_rows
from tradeloop.model import OrderFilled, SubmitOrder
from tradeloop.reports.standard import check_journal


@pytest.mark.slow
def test_the_pipeline_demos_journal_follows_the_standard(tmp_path: Path) -> None:
    # The real pipeline (``tradeloop demo``'s config) over two and a half years.
    config = load_config(Path(str(files("tradeloop.cli").joinpath("demo.toml"))))
    data = [msgspec.structs.replace(d, start="2004-06-01", end="2006-12-31") for d in config.data]
    run = msgspec.structs.replace(config.run, output_dir=str(tmp_path))
    result = run_backtest(prepare_run(msgspec.structs.replace(config, data=data, run=run)))
    assert check_journal(result.run_dir) == []
    rows = read_rows(result.journal_path)
    assert any(isinstance(r.record, OrderFilled) for r in rows)
    children = [r.record for r in rows if isinstance(r.record, SubmitOrder)]
    assert children
    assert all(c.order.parent_order_id for c in children)
    assert read_manifest(result.journal_path).code_version


def test_the_mini_pipelines_journal_follows_the_standard(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    assert check_journal(pipeline_run.run_dir) == []


def test_a_fill_without_reference_price_breaks_rule_o2(pipeline_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import sqlite3

    copy = tmp_path / "journal.sqlite"
    shutil.copy(pipeline_run.journal_path, copy)
    conn = sqlite3.connect(copy)
    seq, payload = conn.execute(
        "SELECT seq, payload FROM records WHERE type = 'OrderFilled' ORDER BY seq LIMIT 1"
    ).fetchone()
    stripped = payload.replace('"reference_px":{', '"ignored":{', 1)
    conn.execute("UPDATE records SET payload = ? WHERE seq = ?", (stripped, seq))
    conn.commit()
    conn.close()
    violations = check_journal(copy)
    assert [(v.rule, v.seq) for v in violations] == [("O2", seq)]


def _tamper(journal: Path, tmp_path: Path, record_type: str, change) -> tuple[Path, int]:  # type: ignore[no-untyped-def]
    import json
    import shutil
    import sqlite3

    copy = tmp_path / "journal.sqlite"
    shutil.copy(journal, copy)
    conn = sqlite3.connect(copy)
    seq, payload = conn.execute(
        "SELECT seq, payload FROM records WHERE type = ? ORDER BY seq LIMIT 1", (record_type,)
    ).fetchone()
    record = json.loads(payload)
    change(record)
    conn.execute(
        "UPDATE records SET payload = ? WHERE seq = ?",
        (json.dumps(record, separators=(",", ":")), seq),
    )
    conn.commit()
    conn.close()
    return copy, seq


@pytest.mark.parametrize(
    ("record_type", "rule", "change"),
    [
        ("SubmitOrder", "O3", lambda r: r["order"].update(arrival_price=None)),
        ("OrderFilled", "O2", lambda r: r.update(costs=None)),
        ("SignalsEmitted", "V2", lambda r: r["agent_versions"].pop("momentum")),
        ("EnsembleScored", "V2", lambda r: r.update(model_version=None)),
        ("TargetsProposed", "V2", lambda r: r.update(model_version="")),
    ],
)
def test_each_missing_field_breaks_its_rule(
    pipeline_run, tmp_path: Path, record_type, rule, change
) -> None:  # type: ignore[no-untyped-def]
    copy, seq = _tamper(pipeline_run.journal_path, tmp_path, record_type, change)
    assert [(v.rule, v.seq) for v in check_journal(copy)] == [(rule, seq)]


def test_a_risk_exit_without_its_breach_breaks_rule_d1(pipeline_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy, seq = _tamper(
        pipeline_run.journal_path,
        tmp_path,
        "ExecutionPlanned",
        lambda r: r.update(rebalance_id="risk-99"),
    )
    rules = [(v.rule, v.seq) for v in check_journal(copy)]
    assert ("D1", seq) in rules


def test_a_scheduled_plan_needs_no_breach(pipeline_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # An execution schedule's parent orders (schedule-<n>) are decisions of their own, not
    # risk exits: D1 asks a breach of risk-<n> plans only.
    copy, seq = _tamper(
        pipeline_run.journal_path,
        tmp_path,
        "ExecutionPlanned",
        lambda r: r.update(rebalance_id="schedule-1"),
    )
    assert ("D1", seq) not in [(v.rule, v.seq) for v in check_journal(copy)]

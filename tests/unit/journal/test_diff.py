"""Diff: the first record where two runs diverge, and why (config, data, code, seed, mode)."""

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import msgspec
import pytest

from tradeloop.core import ConfigError
from tradeloop.core.time import parse_time
from tradeloop.engine.runner import prepare_run, run_paper_replay
from tradeloop.journal import read_manifest
from tradeloop.journal.diff import diff_runs, flatten
from tradeloop.reports.run import decode_config

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    helpers = _helpers()
    root = tmp_path_factory.mktemp("diff")
    data = helpers.write_orcl_file(root / "orcl.txt")
    return helpers, root, data, helpers.run_file_sma(data, root / "a")


def test_diff_of_a_run_with_its_rerun_is_identical(base) -> None:  # type: ignore[no-untyped-def]
    helpers, root, data, run_a = base
    run_b = helpers.run_file_sma(data, root / "b")
    result = diff_runs(run_a.run_dir, run_b.run_dir)
    assert result.is_identical
    assert result.differences == ()
    assert result.reasons == ()
    assert result.matching_prefix == result.records_a == result.records_b


def test_diff_finds_the_first_divergence_when_one_data_row_changed(base, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    helpers = base[0]
    # The same config (the same file path) run twice, one close changed in between.
    data = helpers.write_orcl_file(tmp_path / "orcl.txt")
    run_a = helpers.run_file_sma(data, tmp_path / "a")
    helpers.write_orcl_file(data, change_date="2010-06-15")
    run_b = helpers.run_file_sma(data, tmp_path / "b")
    result = diff_runs(run_a.run_dir, run_b.run_dir)
    assert result.reasons == ("data",)
    assert [d.key for d in result.differences] == [f"{data}.content_hash"]
    first = result.first_divergence
    assert first is not None
    assert first.a is not None
    assert first.a.type == "DataValidated"
    assert first.fields == ("content_hash",)
    decision = result.first_decision_divergence
    assert decision is not None
    assert decision.a is not None
    assert decision.b is not None
    assert decision.a.ts_init >= parse_time("2010-06-15")  # nothing differs before the change
    assert "data differs" in result.explanation


def test_diff_names_the_config_keys_that_differ(base) -> None:  # type: ignore[no-untyped-def]
    helpers, root, data, run_a = base
    run_b = helpers.run_file_sma(data, root / "fast7", fast=7)
    result = diff_runs(run_a.run_dir, run_b.run_dir)
    assert result.reasons == ("config",)
    assert [d.key for d in result.differences] == ["strategies[0].params.fast"]
    assert (result.differences[0].a, result.differences[0].b) == ("5", "7")
    assert not result.is_identical
    assert result.first_divergence is not None
    assert result.first_divergence.a is not None
    assert result.first_divergence.a.type in ("SubmitOrder", "OrderSubmitted")


def test_diff_of_two_seeds_names_the_seed(base) -> None:  # type: ignore[no-untyped-def]
    helpers, root, data, run_a = base
    run_b = helpers.run_file_sma(data, root / "seed9", seed=9)
    result = diff_runs(run_a.run_dir, run_b.run_dir)
    assert "seed" in result.reasons
    assert next(d for d in result.differences if d.kind == "seed").b == "9"
    # SmaCross draws no random numbers: the journals are the same record for record.
    assert result.is_identical
    assert "did not change any decision" in result.explanation


def test_backtest_and_paper_run_of_the_same_data_match_ignoring_timestamps(
    base, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, _, _, run_a = base
    config = decode_config(read_manifest(run_a.journal_path).config_json)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp_path))
    )
    paper = run_paper_replay(prepare_run(config, Path("/")), speed=2e8)
    strict = diff_runs(run_a.run_dir, paper.run_dir)
    assert strict.reasons == ("mode",)
    assert not strict.is_identical
    assert "ignore_timestamps" in strict.explanation
    loose = diff_runs(run_a.run_dir, paper.run_dir, ignore_timestamps=True)
    assert loose.is_identical
    assert loose.records_a == loose.records_b


def test_flatten_gives_dotted_paths_with_list_indices() -> None:
    value = json.loads('{"a": {"b": [1, {"c": 2}]}, "d": {}}')
    assert flatten(value) == {"a.b[0]": 1, "a.b[1].c": 2, "d": {}}


def test_diff_of_a_missing_run_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist: give a run directory"):
        diff_runs(tmp_path / "nope", tmp_path / "nope2")


def _rewrite(run_dir: Path, target: Path, code_version: str, change_record: bool) -> Path:
    import shutil
    import sqlite3

    target.mkdir(parents=True, exist_ok=True)
    copy = target / "journal.sqlite"
    shutil.copy(run_dir / "journal.sqlite", copy)
    conn = sqlite3.connect(copy)
    run_id, payload = conn.execute("SELECT run_id, payload FROM manifest").fetchone()
    manifest = json.loads(payload)
    manifest["code_version"] = code_version
    conn.execute("UPDATE manifest SET payload = ? WHERE run_id = ?", (json.dumps(manifest), run_id))
    if change_record:
        seq, record = conn.execute(
            "SELECT seq, payload FROM records WHERE type = 'OrderFilled' ORDER BY seq LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE records SET payload = ? WHERE seq = ?",
            (record.replace('"trade_id":"', '"trade_id":"X', 1), seq),
        )
    conn.commit()
    conn.close()
    return copy


def test_runs_from_differently_edited_trees_name_the_code_not_a_determinism_bug(
    base, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run_a = base[3]
    a = _rewrite(run_a.run_dir, tmp_path / "a", "0.1.0+gabc123def456.dirty.111111111111", False)
    b = _rewrite(run_a.run_dir, tmp_path / "b", "0.1.0+gabc123def456.dirty.222222222222", True)
    result = diff_runs(a, b)
    assert result.reasons == ("code",)
    assert not result.is_identical
    assert "same commit" in result.explanation
    assert "111111111111 vs 222222222222" in result.explanation


def test_same_manifests_with_different_records_are_a_determinism_bug(base, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_a = base[3]
    a = _rewrite(run_a.run_dir, tmp_path / "a", "0.1.0+gabc123def456", False)
    b = _rewrite(run_a.run_dir, tmp_path / "b", "0.1.0+gabc123def456", True)
    assert diff_runs(a, b).reasons == ("nondeterminism",)


def test_two_unhashed_dirty_versions_are_a_possible_code_change(base, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_a = base[3]
    a = _rewrite(run_a.run_dir, tmp_path / "a", "0.1.0+gabc123def456.dirty", False)
    b = _rewrite(run_a.run_dir, tmp_path / "b", "0.1.0+gabc123def456.dirty", True)
    result = diff_runs(a, b)
    assert result.reasons == ("code",)
    assert "not proof of a determinism bug" in result.explanation


def _change_volume(path: Path, date: str) -> None:
    lines = path.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith(date):
            cells = line.split(",")
            cells[6] = str(int(cells[6]) + 1000)  # the volume: SmaCross trades on closes
            lines[index] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_diff_says_outright_when_only_the_data_changed_and_no_decision(
    base, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    helpers = base[0]
    data = helpers.write_orcl_file(tmp_path / "orcl.txt")
    run_a = helpers.run_file_sma(data, tmp_path / "a")
    hash_a = read_manifest(run_a.journal_path).data[0].content_hash
    _change_volume(data, "2010-06-15")
    run_b = helpers.run_file_sma(data, tmp_path / "b")
    hash_b = read_manifest(run_b.journal_path).data[0].content_hash
    assert hash_a != hash_b
    result = diff_runs(run_a.run_dir, run_b.run_dir)
    assert not result.is_identical
    assert result.is_identical_after_data
    assert result.reasons == ("data",)
    assert result.first_divergence is not None
    assert result.first_divergence.a is not None
    assert result.first_divergence.a.type == "DataValidated"
    assert result.first_decision_divergence is None
    assert result.explanation.startswith(
        f"data differs (source {data}: sha256 {hash_a[:12]} vs {hash_b[:12]})"
        " — but every decision, order and fill is identical"
    )
    assert f"final equity {run_a.summary['final_equity']:,.2f} in both runs" in result.explanation


def test_a_data_change_that_changed_a_decision_is_not_called_identical(
    base, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    helpers = base[0]
    data = helpers.write_orcl_file(tmp_path / "orcl.txt")
    run_a = helpers.run_file_sma(data, tmp_path / "a")
    helpers.write_orcl_file(data, change_date="2010-06-15")
    run_b = helpers.run_file_sma(data, tmp_path / "b")
    result = diff_runs(run_a.run_dir, run_b.run_dir)
    assert not result.is_identical_after_data
    assert result.first_decision_divergence is not None
    assert "identical" not in result.explanation

"""Train, register and trade a model through the CLI on bundled real data (ORCL and SPY
daily): the backtest journals the model and version of every decision with its feature
contributions, the online features equal the materialized ones on every decision, an
injected timeout falls back to flat, and bad inputs stop the run at startup."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app

pytestmark = pytest.mark.xdist_group("models_end_to_end")  # one trained store per worker

CONFIG = """
[run]
name = "model-e2e"
starting_cash = "1000000"
benchmark = "SPY.ARCX"
trading_start = "2007-01-03"

[[data]]
dataset = "orcl_daily"
start = "2003-08-19"
end = "2008-06-30"

[[data]]
dataset = "spy_daily"
start = "2003-08-19"
end = "2008-06-30"

[features]
name = "e2e"

[[features.definitions]]
kind = "log_return"
window = 5

[[features.definitions]]
kind = "rsi"
window = 14

[[features.definitions]]
kind = "realized_vol"
window = 20

[[features.definitions]]
kind = "external_return"
source = "spy"
column = "close"
window = 5

[[features.external]]
name = "spy"
dataset = "spy_daily"
publication_delay_s = 60

[features.label]
horizon = 5

[[models]]
name = "ridge"
kind = "linear"
instruments = ["ORCL.XNAS"]
train_start = "2004-01-01"
train_end = "2006-12-31"
cv_folds = 3

[[strategies]]
class = "Pipeline"
id = "pipeline"

[strategies.params]
universe = ["ORCL.XNAS"]
benchmark = "SPY.ARCX"
rebalance_every = 5

[strategies.params.regime]
detector = "none"

[[strategies.params.agents]]
type = "linear"
id = "ridge"
params = { model = "ridge", version = "production"AGENT_EXTRA }
"""


def write_config(folder: Path, agent_extra: str = "", replace: tuple[str, str] = ("", "")) -> Path:
    text = CONFIG.replace("AGENT_EXTRA", agent_extra)
    if replace[0]:
        text = text.replace(*replace)
    path = folder / "model.toml"
    path.write_text(text)
    return path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def records(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    connection = sqlite3.connect(run_dir / "journal.sqlite")
    rows = connection.execute("select payload from records where type = ?", (kind,)).fetchall()
    return [json.loads(payload) for (payload,) in rows]


def backtest(config: Path) -> tuple[Any, Path | None]:
    result = invoke("backtest", str(config), "--json")
    if result.exit_code != 0:
        return result, None
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return result, Path(summary["run_dir"]) if "run_dir" in summary else next(
        Path("runs").iterdir()
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        config = write_config(folder)
        result = invoke("models", "train", str(config), "--json")
        assert result.exit_code == 0, result.output
        [card] = json.loads(result.stdout)
        assert (card["name"], card["version"], card["stage"]) == ("ridge", 1, "staging")
        assert card["fit_end"] <= "2006-12-31"
        assert set(card["metrics"]) >= {"cv_ic", "cv_hit_rate", "cv_rmse", "in_sample_ic"}
        promoted = invoke("models", "promote", "ridge", "1")
        assert promoted.exit_code == 0, promoted.output
        listed = json.loads(invoke("models", "list", "--json").stdout)
        assert [(m["name"], m["version"], m["stage"]) for m in listed] == [
            ("ridge", 1, "production")
        ]
    return folder


def test_the_model_trades_with_its_version_and_contributions_journaled_per_decision(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(trained)
    result, run_dir = backtest(trained / "model.toml")
    assert run_dir is not None, result.output
    predicted = records(run_dir, "ModelPredicted")
    signals = records(run_dir, "SignalsEmitted")
    assert len(predicted) == len(signals) > 100
    assert {(p["model"], p["model_version"]) for p in predicted} == {("ridge", "1")}
    assert all(s["agent_versions"]["ridge"].startswith("1+") for s in signals)
    for p in predicted:  # bias + contributions = prediction (the linear decomposition)
        total = p["bias"] + sum(c["contribution"] for c in p["contributions"])
        assert total == pytest.approx(p["prediction"], abs=1e-12)
    assert records(run_dir, "OrderFilled")
    # Train/serve parity inside a real run: every decision's features are the materialized
    # row of that bar, bit for bit.
    names = ["log_return_5", "rsi_14", "realized_vol_20", "spy.close.external_return_5"]
    assert [c["feature"] for c in predicted[0]["contributions"]] == names
    [path] = (trained / "store" / "features" / "e2e").glob("*/ORCL.XNAS-*.parquet")
    table = pq.read_table(path).to_pydict()
    row_of = {ts: i for i, ts in enumerate(table["ts_init"])}
    for p in predicted:
        row = row_of[p["ts_init"]]
        for c in p["contributions"]:
            assert c["value"] == table[c["feature"]][row]


def test_an_injected_timeout_falls_back_to_flat_with_an_alert(
    trained: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import time

    from tradeloop.models.agent import ModelAgent

    monkeypatch.chdir(trained)
    predict = ModelAgent._predict

    # An inference that always takes 0.5 s against a 2 ms budget. A future that finished
    # while the waiting thread was descheduled is returned rather than timed out, so the
    # model must stay slower than any stall of a loaded machine (30 ms was not).
    def slow(self: ModelAgent, row: Any) -> Any:
        time.sleep(0.5)
        return predict(self, row)

    monkeypatch.setattr(ModelAgent, "_predict", slow)
    config = write_config(tmp_path, ", timeout_ms = 2")
    result, run_dir = backtest(config)
    assert run_dir is not None, result.output
    fallbacks = records(run_dir, "ModelFallback")
    assert len(fallbacks) > 100  # every decision: the model never answers within 2 ms
    assert {(f["reason"], f["action"], f["position_fraction"]) for f in fallbacks} == {
        ("timeout", "flat", 0.0)
    }
    assert not records(run_dir, "ModelPredicted")
    # Each decision that timed out went flat, exactly.
    targets = {t["rebalance_id"]: t for t in records(run_dir, "TargetsProposed")}
    for fallback in fallbacks:
        proposed = targets[fallback["rebalance_id"]]
        for target in proposed["targets"]:
            if target["instrument_id"] == "ORCL.XNAS":
                assert target["target_qty"] == 0
                assert any("fell back (timeout" in r for r in proposed["reasons"])
    alerts = [a for a in records(run_dir, "AlertRaised") if a["source"] == "agent.ridge"]
    assert len(alerts) == len(fallbacks)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("publication_delay_s = 60", "publication_delay_s = 120"), "the features differ"),
        (
            ('[[features.definitions]]\nkind = "rsi"\nwindow = 14\n', ""),
            "needs features the run does not provide: rsi_14",
        ),
        (("[[strategies]]", "[[strategies]]"), "changed after registration"),
    ],
)
def test_bad_model_inputs_stop_the_run_at_startup(
    trained: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    change: tuple[str, str],
    message: str,
) -> None:
    monkeypatch.chdir(trained)
    artifact = trained / "store" / "models" / "ridge" / "1" / "model.json"
    original = artifact.read_bytes()
    if message == "changed after registration":
        artifact.write_bytes(original.replace(b'"alpha"', b'"alpha" ', 1))
    try:
        result, run_dir = backtest(write_config(tmp_path, replace=change))
    finally:
        artifact.write_bytes(original)
    assert run_dir is None
    assert getattr(result.exception, "code", None) == 2  # the CLI's user-error exit
    assert message in " ".join((result.stdout + result.stderr).split())

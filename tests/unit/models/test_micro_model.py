"""A model on microstructure features trades in a backtest of the pipeline with the features
it was trained on: `features materialize` writes them from the Binance BTC/USDT recording,
a ridge fitted on them is registered, and every decision of the backtest sees exactly the
materialized row of its bar (online == offline inside a real run, quotes, trades and book
delivered by the kernel). A run whose data lacks what the features read stops at startup."""

from __future__ import annotations

import bisect
import json
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app
from tradeloop.config.loader import load_config
from tradeloop.models.estimators import LinearModel
from tradeloop.models.registry import ModelCard, ModelRegistry

RECORDING = Path(__file__).parents[2] / "data" / "books" / "binance-spot-btcusdt-20240808-head.gz"

CONFIG = f"""
[run]
name = "micro-model"
starting_cash = "100000"
base_currency = "USDT"
periods_per_year = 31536000

[[data]]
path = "{RECORDING}"
format = "binance-depth"
instrument_id = "BTCUSDT.BINANCE"
options = {{ bar_seconds = 1 }}

[venue]
fidelity = "book"

[features]
name = "micro"

[[features.definitions]]
kind = "microprice_bps"

[[features.definitions]]
kind = "order_flow_imbalance"
window = 5

[[features.definitions]]
kind = "depth_imbalance"
levels = 10

[[features.definitions]]
kind = "trade_imbalance"
window = 10

[[features.definitions]]
kind = "kyle_lambda"
window = 10

[features.label]
horizon = 5

[[strategies]]
class = "Pipeline"
id = "pipeline"

[strategies.params]
universe = ["BTCUSDT.BINANCE"]
rebalance_every = 400
history_bars = 40

[strategies.params.regime]
detector = "none"

[strategies.params.beta]
window = 20

[strategies.params.construction]
lookback = 20

[[strategies.params.agents]]
type = "linear"
id = "ridge"
params = {{ model = "micro-ridge", version = "latest" }}
"""


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def records(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    connection = sqlite3.connect(run_dir / "journal.sqlite")
    rows = connection.execute("select payload from records where type = ?", (kind,)).fetchall()
    return [json.loads(payload) for (payload,) in rows]


def _register(config_path: Path, table: dict[str, list[Any]]) -> None:
    # A ridge fitted on the materialized rows (two minutes are too few rows for the train
    # command's cross-validation), registered as `models train` registers one.
    features = load_config(config_path).features
    assert features is not None
    names = features.feature_names
    matrix = np.array([table[n] for n in names], dtype=np.float64).T
    label = np.array(table["label"], dtype=np.float64)
    rows = np.isfinite(matrix).all(axis=1) & np.isfinite(label)
    assert rows.sum() > 80
    model = LinearModel({"alpha": 1.0})
    model.fit(matrix[rows], label[rows])
    card = ModelCard(
        name="micro-ridge",
        version=0,
        kind="linear",
        artifact=model.artifact,
        artifact_hash="",
        feature_set=features.name,
        feature_hash=features.definition_hash(),
        feature_names=names,
        definitions=msgspec.to_builtins({"definitions": features.definitions}),
        label=msgspec.to_builtins(features.label),
        instruments=["BTCUSDT.BINANCE"],
        fit_start_ns=int(np.array(table["ts_init"])[rows][0]),
        fit_end_ns=int(np.array(table["ts_init"])[rows][-1]),
        rows=int(rows.sum()),
        data_hashes={},
        metrics={},
        params={"alpha": 1.0},
        label_scale=float(label[rows].std()),
        config_hash="",
        code_version="test",
    )
    ModelRegistry(config_path.parent / "store").register(card, model.to_bytes())


def test_a_micro_feature_model_decides_on_exactly_the_materialized_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "micro.toml"
    config.write_text(CONFIG)
    result = invoke("features", "materialize", str(config), "--json")
    assert result.exit_code == 0, result.output
    [written] = json.loads(result.stdout)["files"]
    assert written["rows"] == 119
    table = pq.read_table(written["path"]).to_pydict()
    _register(config, table)

    result = invoke("backtest", str(config), "--json")
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "runs").iterdir())
    predicted = records(run_dir, "ModelPredicted")
    assert len(predicted) >= 15
    assert {p["model"] for p in predicted} == {"micro-ridge"}
    names = load_config(config).features.feature_names  # type: ignore[union-attr]
    for p in predicted:
        # The pipeline steps at every instant (ticks included); a decision reads the features
        # of the instrument's last bar at or before it.
        row = bisect.bisect_right(table["ts_init"], p["ts_init"]) - 1
        assert [c["feature"] for c in p["contributions"]] == names
        for c in p["contributions"]:
            assert c["value"] == table[c["feature"]][row], (c["feature"], p["ts_init"])


def test_a_model_whose_features_read_data_the_run_lacks_stops_at_startup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "micro.toml"
    config.write_text(CONFIG)
    result = invoke("features", "materialize", str(config), "--json")
    assert result.exit_code == 0, result.output
    table = pq.read_table(json.loads(result.stdout)["files"][0]["path"]).to_pydict()
    _register(config, table)
    # The same run on bars alone (the 1-minute BTC perpetual has no quotes, trades or book).
    bars_only = tmp_path / "bars.toml"
    bars_only.write_text(
        CONFIG.replace(
            f'path = "{RECORDING}"\nformat = "binance-depth"\ninstrument_id = "BTCUSDT.BINANCE"\n'
            "options = { bar_seconds = 1 }",
            'dataset = "btcusdt_trades"',
        )
    )
    result = invoke("backtest", str(bars_only))
    assert result.exit_code != 0
    assert "needs book, quotes of BTCUSDT.BINANCE" in result.output


def test_the_micro_features_example_materializes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    example = Path(__file__).parents[3] / "examples" / "models" / "micro_features.toml"
    result = invoke("features", "materialize", str(example), "--json")
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert len(made["features"]) == 12
    [written] = made["files"]
    assert (written["instrument_id"], written["rows"]) == ("BTCUSDT.BINANCE", 119)
    table = pq.read_table(written["path"]).to_pydict()
    for name in made["features"]:
        assert sum(1 for v in table[name] if v == v) >= 95, name  # values, not NaN columns

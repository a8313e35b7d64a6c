"""A node with a model in its loop, for the drift tests: a ridge model on ORCL's daily bars
trained on 2010 (``tradeloop models train``) and a pipeline trading it from a replay of
2010 onwards, with a fast regime rule and drift computed twice a second from 5 values."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

MODEL_SECTIONS = """
[features]
name = "drift-test"
store = "{store}"

[[features.definitions]]
kind = "log_return"
window = 5

[[features.definitions]]
kind = "rsi"
window = 14

[[features.definitions]]
kind = "realized_vol"
window = 20

[features.label]
horizon = 5

[[models]]
name = "ridge"
kind = "linear"
instruments = ["ORCL.XNAS"]
train_start = "2010-01-01"
train_end = "2010-12-31"
cv_folds = 3

[[strategies]]
class = "Pipeline"
id = "pipeline"

[strategies.params]
universe = ["ORCL.XNAS"]
rebalance_every = 5

[strategies.params.construction]
lookback = 20

[strategies.params.beta]
window = 20

[strategies.params.regime]
detector = "rules"
instrument = "ORCL.XNAS"
rules = {{ trend_period = 10, volatility_period = 5, percentile_window = 20 }}

[[strategies.params.agents]]
type = "linear"
id = "ridge"
params = {{ model = "ridge", version = "latest" }}

[drift]
interval_s = 0.5
min_samples = 5
"""


def model_sections(store: Path) -> str:
    """Return the config sections of the model node (features, model, pipeline, drift)."""
    return MODEL_SECTIONS.format(store=store)


def train(config: Path) -> dict[str, object]:
    """Train the config's model (``tradeloop models train``); return its card's summary."""
    from tradeloop.cli.main import app

    result = CliRunner().invoke(app, ["models", "train", str(config), "--json"])
    assert result.exit_code == 0, result.output
    [card] = json.loads(result.stdout)
    assert isinstance(card, dict)
    return card

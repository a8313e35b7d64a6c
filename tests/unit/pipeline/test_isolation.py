"""A broken user agent is isolated with a clear error and the loop goes on."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tradeloop.agents import SignalAgent
from tradeloop.journal import read_records
from tradeloop.model.decisions import (
    AgentFailed,
    EnsembleScored,
    Signal,
    SignalsEmitted,
    TargetsProposed,
)

from .conftest import run_config

CONFIG = """
[run]
name = "isolation"
starting_cash = "1000000"

[[data]]
dataset = "orcl_daily"
start = "2008-01-01"
end = "2010-12-31"

[[data]]
dataset = "nvda_daily"
start = "2008-01-01"
end = "2010-12-31"

[[strategies]]
class = "Pipeline"

[strategies.params]
universe = ["ORCL.XNAS", "NVDA.XNAS"]
rebalance_every = 10
history_bars = 300
allow_agent_modules = ["tests"]
max_agent_failures = 2
regime = { detector = "rules" }
agents = [
    { type = "mean_reversion" },
    { type = "tests.unit.pipeline.test_isolation:Exploding", id = "exploding" },
]
construction = { lookback = 60 }
beta = { window = 60 }
"""


class Exploding(SignalAgent):
    lookback = 5

    def score(self, instrument_id: str, history: Any, context: Any) -> Any:
        raise ZeroDivisionError("the agent's bug")


def test_broken_agent_is_isolated_disabled_and_the_pipeline_keeps_trading(tmp_path: Path) -> None:
    path = tmp_path / "isolation.toml"
    path.write_text(CONFIG)
    result = run_config(path, tmp_path / "runs")
    records = [r.record for r in read_records(result.journal_path)]
    failures = [r for r in records if isinstance(r, AgentFailed)]
    assert [f.is_disabled for f in failures] == [False, True]
    # the agent's own line, relative to its file's directory (the journal ignores the cwd)
    assert failures[0].error == (
        "ZeroDivisionError: the agent's bug (at test_isolation.py:59 in score: "
        'raise ZeroDivisionError("the agent\'s bug"))'
    )
    emitted = [r for r in records if isinstance(r, SignalsEmitted)]
    assert len(emitted) > 20
    assert all(s.agent_id == "mean_reversion" for r in emitted for s in r.signals)
    assert sum(1 for r in records if isinstance(r, TargetsProposed)) == len(emitted)


class NaNScores(SignalAgent):
    lookback = 5

    def score(self, instrument_id: str, history: Any, context: Any) -> Any:
        return Signal(self.id, instrument_id, float("nan"), 1.0, "a division by zero upstream")


def test_an_agent_returning_nan_is_isolated_and_never_reaches_the_ensemble(tmp_path: Path) -> None:
    path = tmp_path / "isolation.toml"
    path.write_text(
        CONFIG.replace("test_isolation:Exploding", "test_isolation:NaNScores").replace(
            '"exploding"', '"nan"'
        )
    )
    records = [r.record for r in read_records(run_config(path, tmp_path / "runs").journal_path)]
    failures = [r for r in records if isinstance(r, AgentFailed)]
    assert [f.is_disabled for f in failures] == [False, True]
    assert failures[0].error == (
        "invalid signals: agent nan signal for ORCL.XNAS: score nan is not a finite number in "
        "[-1, 1]; agent nan signal for NVDA.XNAS: score nan is not a finite number in [-1, 1]"
    )
    scored = [r for r in records if isinstance(r, EnsembleScored)]
    assert scored
    assert all("nan" not in s.contributions for r in scored for s in r.scores)
    assert all(math.isfinite(s.score) for r in scored for s in r.scores)

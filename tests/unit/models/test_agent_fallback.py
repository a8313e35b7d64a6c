"""Each way a model can fail to decide — an error, a timeout, a NaN prediction, a missing
feature — gives no signal and a ModelFallback with the configured safe position; the target
stage then holds the position exactly as the fallback says."""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import numpy as np
import pytest

from tests.unit.pipeline.test_stages import ACME, FakeHost
from tradeloop.agents.base import AgentContext
from tradeloop.analytics.history import BarHistory
from tradeloop.data import bundled
from tradeloop.features import FeatureSetConfig, FeatureSpec, OnlineFeatures
from tradeloop.model.decisions import (
    BetasEstimated,
    EnsembleScored,
    ModelFallback,
    ModelFitted,
    ModelPredicted,
    TargetsProposed,
)
from tradeloop.models.agent import ModelAgent
from tradeloop.models.estimators import LinearModel
from tradeloop.models.registry import ModelCard
from tradeloop.pipeline import PipelineConfig
from tradeloop.pipeline.stages import TargetStage

FEATURES = FeatureSetConfig(
    name="small", definitions=[FeatureSpec(kind="log_return"), FeatureSpec(kind="rsi", window=5)]
)
ORCL = "ORCL.XNAS"


def card() -> ModelCard:
    return ModelCard(
        name="m",
        version=3,
        kind="linear",
        artifact="model.json",
        artifact_hash="a" * 64,
        feature_set="small",
        feature_hash=FEATURES.definition_hash(),
        feature_names=FEATURES.feature_names,
        definitions={},
        label={},
        instruments=[ORCL],
        fit_start_ns=0,
        fit_end_ns=1,
        rows=100,
        data_hashes={},
        metrics={},
        params={},
        label_scale=0.02,
        config_hash="",
        code_version="",
    )


class Raising:
    def predict(self, row: Any) -> float:
        raise RuntimeError("corrupt tree")


class NaNModel:
    def predict(self, row: Any) -> float:
        return float("nan")

    def contributions(self, row: Any) -> tuple[Any, float]:
        return np.full(len(row), np.nan), float("nan")


class Blocked:
    def __init__(self) -> None:
        self.release = threading.Event()

    def predict(self, row: Any) -> float:
        self.release.wait(5.0)
        return 0.0

    def contributions(self, row: Any) -> tuple[Any, float]:
        return np.zeros(len(row)), 0.0


def linear() -> LinearModel:
    model = LinearModel({"alpha": 1.0})
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    model.fit(x, x @ np.array([0.01, -0.002]))
    return model


def agent(estimator: Any, bars: int, **params: Any) -> ModelAgent:
    model = ModelAgent("m", fallback=params.pop("fallback", "flat"), agent_id="m", **params)
    model.card, model.estimator, model.model_version = card(), estimator, "3"
    model.online = OnlineFeatures(FEATURES, {})
    model._columns = [0, 1]
    for bar in list(bundled.load_bars("orcl_daily").iter_bars())[:bars]:
        model.on_bar(bar)
    return model


def decide(model: ModelAgent) -> tuple[list[Any], list[Any]]:
    context = AgentContext(ts_ns=1, regime=None, universe=(ORCL,), benchmark_id=None)
    signals = model.score_all(BarHistory(10), context)
    return signals, model.drain_events("R-7", 1)


@pytest.mark.parametrize(
    ("estimator", "bars", "params", "reason", "fraction"),
    [
        (Raising(), 30, {}, "error", 0.0),
        (NaNModel(), 30, {"fallback": "hold"}, "nan_output", 1.0),
        (linear(), 3, {"fallback": "reduce", "reduce_fraction": 0.25}, "missing_feature", 0.75),
    ],
)
def test_a_failed_decision_is_no_signal_and_a_journaled_fallback(
    estimator: Any, bars: int, params: dict[str, Any], reason: str, fraction: float
) -> None:
    signals, events = decide(agent(estimator, bars, **params))
    assert signals == []
    [fallback] = events
    assert isinstance(fallback, ModelFallback)
    assert (fallback.rebalance_id, fallback.instrument_id) == ("R-7", ORCL)
    assert (fallback.model, fallback.model_version, fallback.reason) == ("m", "3", reason)
    assert fallback.position_fraction == fraction
    if reason == "missing_feature":
        assert fallback.detail == "no value for rsi_5"


def test_an_inference_over_its_timeout_falls_back_and_the_next_waits_for_none() -> None:
    blocked = Blocked()
    model = agent(blocked, 30, timeout_ms=20.0)
    try:
        _, [first] = decide(model)
        _, [second] = decide(model)  # the first is still running: no second thread piles up
    finally:
        blocked.release.set()
    assert (first.reason, second.reason) == ("timeout", "timeout")
    assert "still running" in second.detail


def test_a_decision_journals_the_model_version_and_contributions() -> None:
    signals, [event] = decide(agent(linear(), 30))
    [signal] = signals
    assert isinstance(event, ModelPredicted)
    assert (event.model, event.model_version) == ("m", "3")
    assert [c.feature for c in event.contributions] == ["log_return_1", "rsi_5"]
    total = event.bias + sum(c.contribution for c in event.contributions)
    assert total == pytest.approx(event.prediction, abs=1e-15)
    assert signal.score == pytest.approx(np.tanh(event.prediction / 0.02))


class HoldingHost(FakeHost):
    def held_raw(self, instrument_id: str) -> int:
        return 300

    def held_qty(self, instrument_id: str) -> float:
        return 300.0


def test_the_target_stage_keeps_the_fallback_position_exactly() -> None:
    host = HoldingHost(PipelineConfig(universe=[ACME.id]), "2008-06-23T20:00Z")
    for day, price in (("2008-06-19T20:00Z", 100.0), ("2008-06-20T20:00Z", 101.0)):
        host.close(day, price)
    stage = TargetStage(host)  # type: ignore[arg-type]
    host.subscribe_decisions(TargetsProposed, lambda e: None)
    now = host.now_ns()

    stage.on_betas(
        BetasEstimated(
            rebalance_id="R-1",
            benchmark_id="",
            method="ols",
            window=60,
            estimates=(),
            ts_event=now,
            ts_init=now,
        )
    )
    stage.on_fallback(
        ModelFallback(
            rebalance_id="R-1",
            agent_id="m",
            instrument_id=ACME.id,
            model="m",
            model_version="3",
            reason="timeout",
            detail="slow",
            action="reduce",
            position_fraction=0.5,
            ts_event=now,
            ts_init=now,
        )
    )
    stage.on_scores(
        EnsembleScored(
            rebalance_id="R-1", regime=None, weights={}, scores=(), ts_event=now, ts_init=now
        )
    )
    [proposed] = [e for e in host.published if isinstance(e, TargetsProposed)]
    [target] = proposed.targets
    assert (target.current_qty, target.target_qty) == (300.0, 150.0)
    assert any(
        "fell back (timeout: slow): reduce, 0.5 of the position kept" in r for r in proposed.reasons
    )


def test_a_walk_forward_refit_in_the_loop_equals_the_offline_fit_on_the_same_window(
    tmp_path: Any,
) -> None:
    from tradeloop.features import bar_arrays, materialize, read_features
    from tradeloop.features.store import data_hash
    from tradeloop.models.dataset import TrainingSet

    columns = bundled.load_bars("orcl_daily").take(slice(0, 400))
    arrays = bar_arrays(columns)
    materialize(FEATURES, tmp_path, {ORCL: (arrays, "h")}, {})
    table = read_features(FEATURES, tmp_path, ORCL, data_hash("h", arrays))
    now = int(columns.ts_init[-1])
    start = int(columns.ts_init[100])
    offline = TrainingSet.from_tables({ORCL: table}, FEATURES.feature_names).window(start, now)
    expected = LinearModel({"alpha": 1.0})
    expected.fit(offline.features, offline.label)

    model = ModelAgent("m", refit_every=1, refit_window_bars=300, agent_id="m")
    model.card = msgspec.structs.replace(
        card(), label={"kind": "forward_return", "horizon": 5}, params={"alpha": 1.0}
    )
    model.estimator, model.online, model._columns = linear(), OnlineFeatures(FEATURES, {}), [0, 1]
    model.model_version = "3"
    for bar in columns.iter_bars():
        model.on_bar(bar)
    context = AgentContext(ts_ns=now, regime=None, universe=(ORCL,), benchmark_id=None)
    model.score_all(BarHistory(10), context)
    fitted, predicted = model.drain_events("R-9", now)
    assert isinstance(fitted, ModelFitted)
    assert (fitted.fit_start_ns, fitted.fit_end_ns, fitted.rows) == (start, now, len(offline))
    assert fitted.model_version == predicted.model_version == "3+wf1"
    assert np.array_equal(model.estimator.coef, expected.coef)

"""Drift on the node: PSI and KS of a model's live values against its training window on a
schedule, the pipeline's decisions (realized vs modelled slippage, shadow fills vs quotes,
regime, agent scores) as metrics, and both as alert-rule conditions and Prometheus rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tradeloop.analytics.drift import build_reference, drift
from tradeloop.config.operations import AlertRuleSection, DriftSection
from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.decisions import (
    CostAssessed,
    CostDecisionRecord,
    ExecutionCompleted,
    ExecutionPlanned,
    RegimeChanged,
    Signal,
    SignalsEmitted,
)
from tradeloop.model.enums import LiquiditySide, OrderSide
from tradeloop.model.events import ShadowFillCompared
from tradeloop.models.registry import DriftReference
from tradeloop.monitoring.alerts import gauge_values
from tradeloop.monitoring.decisions import DecisionWatcher
from tradeloop.monitoring.drift import DriftMonitor
from tradeloop.monitoring.metrics import decision_families
from tradeloop.monitoring.promrules import promql
from tradeloop.monitoring.snapshot import NodeSnapshot


class FakeModelAgent:
    """A model agent's drift surface: a reference of N(0, 1) features, live values set by
    the test."""

    def __init__(self, live: dict[str, list[float]], predictions: list[float]) -> None:
        rng = np.random.default_rng(11)
        self.model = "ridge"
        self.drift_reference = DriftReference(
            features={name: build_reference(rng.normal(size=2000)) for name in ("a", "b")},
            prediction=build_reference(rng.normal(scale=0.01, size=2000)),
        )
        self.live = live
        self.predictions = predictions
        self.window = 0

    def keep_drift_window(self, size: int) -> None:
        self.window = size

    def drift_window(self) -> tuple[dict[str, Any], Any]:
        return {k: np.array(v) for k, v in self.live.items()}, np.array(self.predictions)


class FakeStrategy:
    def __init__(self, agent: FakeModelAgent) -> None:
        self.agent = agent

    def drift_sources(self) -> list[FakeModelAgent]:
        return [self.agent]


class FakeKernel:
    def __init__(self, agent: FakeModelAgent) -> None:
        self.strategies = [object(), FakeStrategy(agent)]


def test_drift_is_computed_on_its_schedule_from_enough_live_values_only() -> None:
    rng = np.random.default_rng(5)
    same = list(rng.normal(size=300))
    shifted = list(rng.normal(loc=1.5, size=300))
    agent = FakeModelAgent({"a": same, "b": shifted}, predictions=[0.001] * 3)
    monitor = DriftMonitor(DriftSection(interval_s=10, window=200, min_samples=20))
    monitor.attach(FakeKernel(agent))
    assert agent.window == 200
    assert monitor.maybe_update(now=100.0)
    assert not monitor.maybe_update(now=105.0)  # not every call: every interval_s
    by_name = {(m.kind, m.name): m for m in monitor.measures}
    assert set(by_name) == {("feature", "a"), ("feature", "b")}  # 3 predictions < min_samples
    expected = drift(agent.drift_reference.features["b"], shifted[-200:])
    assert expected is not None
    assert by_name["feature", "b"].psi == expected.psi
    assert by_name["feature", "b"].samples == 200
    assert by_name["feature", "a"].psi < 0.1 < 0.25 < by_name["feature", "b"].psi
    assert monitor.maxima()["drift_psi"] == by_name["feature", "b"].psi
    assert monitor.maxima()["signal_drift_psi"] == 0.0
    agent.predictions = list(rng.normal(scale=0.01, size=50))
    assert monitor.maybe_update(now=110.0)
    assert ("signal", "prediction") in {(m.kind, m.name) for m in monitor.measures}
    assert monitor.computed == 2
    # The kernel thread only copies the windows; the statistics come with compute_pending.
    before = monitor.measures
    agent.live["b"] = same
    assert monitor.collect(now=120.0)
    assert monitor.measures is before
    assert monitor.compute_pending()
    assert not monitor.compute_pending()
    assert max(m.psi for m in monitor.measures if m.kind == "feature") < 0.1


def test_a_failing_drift_computation_never_reaches_the_loop() -> None:
    agent = FakeModelAgent({"a": [1.0] * 50}, [])

    def broken() -> Any:
        raise RuntimeError("disk full")

    agent.drift_window = broken  # type: ignore[method-assign]
    monitor = DriftMonitor(DriftSection(min_samples=5))
    monitor.attach(FakeKernel(agent))
    assert not monitor.maybe_update(now=1.0)
    assert monitor.error == "RuntimeError: disk full"


def test_a_bad_drift_section_is_a_config_error_naming_the_value() -> None:
    with pytest.raises(ConfigError, match="drift min_samples 600 must be between 2 and the window"):
        DriftSection(min_samples=600)
    with pytest.raises(ConfigError, match="drift interval_s 0"):
        DriftSection(interval_s=0)


def _cost(rebalance: str, cost_bps: float, commission_bps: float) -> CostAssessed:
    record = CostDecisionRecord(
        instrument_id="ORCL.XNAS",
        decision="TRADE",
        quantity_in=100.0,
        quantity_out=100.0,
        gross_alpha_bps=20.0,
        cost_bps=cost_bps,
        net_alpha_bps=20.0 - cost_bps,
        commission_bps=commission_bps,
        spread_bps=2.0,
        impact_bps=cost_bps - commission_bps - 2.0,
        delay_bps=0.0,
        reason="",
    )
    return CostAssessed(rebalance_id=rebalance, assessments=(record,), ts_event=1, ts_init=1)


def _planned(rebalance: str, parent: str, side: str, arrival: float) -> ExecutionPlanned:
    return ExecutionPlanned(
        rebalance_id=rebalance,
        instrument_id="ORCL.XNAS",
        algorithm="immediate",
        side=side,
        quantity=100.0,
        parent_order_id=parent,
        start_ns=1,
        end_ns=1,
        slices=1,
        arrival_price=arrival,
        reason="",
        ts_event=1,
        ts_init=1,
    )


def _completed(parent: str, average: float, arrival: float) -> ExecutionCompleted:
    return ExecutionCompleted(
        parent_order_id=parent,
        instrument_id="ORCL.XNAS",
        algorithm="immediate",
        filled_qty=100.0,
        average_price=average,
        arrival_price=arrival,
        outcome="filled",
        ts_event=2,
        ts_init=2,
    )


def test_realized_slippage_is_compared_with_the_cost_models_without_commission() -> None:
    watcher = DecisionWatcher(window=10)
    # a buy 3 bps above its arrival, modelled 5 - 1 = 4 bps; a sell 2 bps below, modelled 1
    watcher.on_costs(_cost("R-1", cost_bps=5.0, commission_bps=1.0))
    watcher.on_planned(_planned("R-1", "P-1", "BUY", 100.0))
    watcher.on_completed(_completed("P-1", 100.03, 100.0))
    watcher.on_costs(_cost("R-2", cost_bps=1.5, commission_bps=0.5))
    watcher.on_planned(_planned("R-2", "P-2", "SELL", 50.0))
    watcher.on_completed(_completed("P-2", 49.99, 50.0))
    watcher.on_completed(_completed("P-unknown", 1.0, 1.0))  # never planned: ignored
    slippage = watcher.summary()["slippage"]
    assert slippage["realized_ratio"] == pytest.approx((0.0003 + 0.0002) / 2)
    assert slippage["modelled_ratio"] == pytest.approx((0.0004 + 0.0001) / 2)
    assert slippage["model_gap_ratio"] == pytest.approx(((0.0003 - 0.0004) + 0.0001) / 2)
    assert slippage["executions_compared"] == 2


def test_regime_agent_scores_and_shadow_fills_are_kept_for_the_snapshot() -> None:
    watcher = DecisionWatcher(window=3)
    watcher.on_regime(
        RegimeChanged(
            detector_id="rules",
            model_version="1",
            label="bull_low_volatility",
            previous_label=None,
            probabilities={"bull_low_volatility": 0.8, "bear": 0.2},
            confidence=0.8,
            ts_event=1,
            ts_init=1,
        )
    )
    watcher.on_signals(
        SignalsEmitted(
            rebalance_id="R-1",
            regime=None,
            signals=(Signal("ridge", "ORCL.XNAS", 0.25, 0.9, "why"),),
            agent_versions={"ridge": "1", "momentum": "1"},
            ts_event=1,
            ts_init=1,
        )
    )
    for bps in (1.0, -3.0, 2.0, 4.0):  # the window keeps the last 3
        watcher.on_shadow_fill(
            ShadowFillCompared(
                client_order_id="O-1",
                instrument_id="BTCUSDT.BINANCE",
                side=OrderSide.BUY,
                last_px=Price.from_str("100.0", 1),
                last_qty=Quantity.from_str("1", 0),
                liquidity_side=LiquiditySide.TAKER,
                slippage_vs_quote_bps=bps,
                ts_event=1,
                ts_init=1,
            )
        )
    summary = watcher.summary()
    assert summary["regimes"]["rules"]["label"] == "bull_low_volatility"
    assert summary["regimes"]["rules"]["confidence"] == 0.8
    assert summary["agent_scores"] == {
        "momentum": {},
        "ridge": {"ORCL.XNAS": {"score": 0.25, "confidence": 0.9}},
    }
    shadow = summary["shadow"]
    assert shadow["fill_gap_ratio"] == pytest.approx(1e-4)
    assert shadow["tracking_error_ratio"] == pytest.approx(math.sqrt((9 + 4 + 16) / 3) * 1e-4)
    assert shadow["fills_compared"] == 4

    families = {f.name: f for f in decision_families(summary)}
    assert families["tradeloop_regime"].samples[0].labels == {
        "detector": "rules",
        "regime": "bull_low_volatility",
    }
    assert families["tradeloop_regime_confidence"].samples[0].value == 0.8
    assert families["tradeloop_agent_score"].samples[0].value == 0.25
    assert families["tradeloop_shadow_tracking_error_ratio"].samples[0].value == pytest.approx(
        shadow["tracking_error_ratio"]
    )
    assert "tradeloop_slippage_model_gap_ratio" not in families  # nothing compared yet


def _snapshot(extra: dict[str, Any]) -> NodeSnapshot:
    return NodeSnapshot(
        ts_ns=0,
        taken_monotonic=0.0,
        is_running=True,
        trading_state="ACTIVE",
        currency="USD",
        equity=100.0,
        equity_exact="100",
        cash=100.0,
        starting_cash=100.0,
        peak_equity=100.0,
        realized_pnl=0.0,
        unrealized_pnl=0.0,
        fees=0.0,
        gross_exposure=0.0,
        positions=(),
        open_orders=(),
        order_counts={},
        records=0,
        extra=extra,
    )


def test_drift_metrics_alert_gauges_and_prometheus_rules_read_the_same_values() -> None:
    measure = {
        "model": "ridge",
        "kind": "feature",
        "name": "rsi_14",
        "psi": 0.31,
        "ks": 0.2,
        "ks_pvalue": 0.001,
        "samples": 40,
    }
    extra = {
        "drift": [measure],
        "drift_max": {"drift_psi": 0.31, "drift_ks": 0.2, "signal_drift_psi": 0.0},
        "slippage": {"model_gap_ratio": 0.0002, "executions_compared": 3},
    }
    families = {f.name: f for f in decision_families(extra)}
    [sample] = families["tradeloop_drift_psi"].samples
    assert sample.labels == {"model": "ridge", "kind": "feature", "name": "rsi_14"}
    assert sample.value == 0.31
    assert families["tradeloop_drift_ks_pvalue"].samples[0].value == 0.001
    gauges = gauge_values(_snapshot(extra), journal_error=False)
    assert (gauges["drift_psi"], gauges["drift_ks"], gauges["signal_drift_psi"]) == (0.31, 0.2, 0)
    assert gauges["slippage_model_gap_ratio"] == 0.0002
    assert gauge_values(_snapshot({}), journal_error=False)["drift_psi"] == 0.0
    rule = AlertRuleSection(name="drift", metric="drift_psi", threshold=0.25)
    assert promql(rule) == "max by (instance) (tradeloop_drift_psi) > 0.25"
    signal = AlertRuleSection(name="signal-drift", metric="signal_drift_psi", threshold=0.25)
    assert promql(signal) == 'max by (instance) (tradeloop_drift_psi{kind="signal"}) > 0.25'

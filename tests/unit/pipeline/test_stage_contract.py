"""The stages' contract: one module per stage, each importing no other stage (only the
shared ``host``), and a stage wired so that it would act on another rebalance's state stops
with ``InvariantViolation``."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import tradeloop.pipeline.stages as stages_package
from tradeloop.core.errors import InvariantViolation
from tradeloop.model.decisions import (
    BetasEstimated,
    EnsembleScored,
    ExecutionCompleted,
    ExecutionPlanned,
    RiskReviewed,
)
from tradeloop.pipeline import PipelineConfig
from tradeloop.pipeline.stages import CommandRouter, CostStage, ExitPosition, RiskStage, TargetStage

from .test_stages import ACME, FakeHost

STAGE_MODULES = ["beta", "costs", "execution", "regime", "risk", "signals", "targets"]


def test_each_stage_module_imports_no_other_stage() -> None:
    folder = Path(stages_package.__file__).parent
    assert sorted(p.stem for p in folder.glob("*.py")) == sorted(
        [*STAGE_MODULES, "__init__", "host"]
    )
    for name in STAGE_MODULES:
        tree = ast.parse((folder / f"{name}.py").read_text())
        imported = [
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module is not None
        ]
        others = [
            m
            for m in imported
            if m.startswith("tradeloop.pipeline.stages") and m != ("tradeloop.pipeline.stages.host")
        ]
        assert others == [], f"{name} imports {others}"


def _betas(rebalance_id: str, now: int) -> BetasEstimated:
    return BetasEstimated(
        rebalance_id=rebalance_id,
        benchmark_id="",
        method="ols",
        window=60,
        estimates=(),
        ts_event=now,
        ts_init=now,
    )


def test_target_stage_refuses_scores_of_a_rebalance_whose_betas_it_did_not_see() -> None:
    host = FakeHost(PipelineConfig(universe=[ACME.id]), "2008-06-23T20:00Z")
    stage = TargetStage(host)  # type: ignore[arg-type]
    stage.on_betas(_betas("R-1", host.now_ns()))
    scores = EnsembleScored(
        rebalance_id="R-2",
        regime=None,
        weights={},
        scores=(),
        model_version="m",
        ts_event=host.now_ns(),
        ts_init=host.now_ns(),
    )
    with pytest.raises(InvariantViolation, match="scores of R-2 before its betas"):
        stage.on_scores(scores)


def test_cost_stage_refuses_a_review_whose_targets_it_did_not_see() -> None:
    host = FakeHost(PipelineConfig(universe=[ACME.id]), "2008-06-23T20:00Z")
    stage = CostStage(host)  # type: ignore[arg-type]
    review = RiskReviewed(
        rebalance_id="R-1",
        decisions=(),
        trading_state="ACTIVE",
        ts_event=host.now_ns(),
        ts_init=host.now_ns(),
    )
    with pytest.raises(InvariantViolation, match="review of R-1 without its targets"):
        stage.on_review(review)


def test_risk_stage_knows_a_working_exit_only_from_execution_events() -> None:
    host = FakeHost(PipelineConfig(universe=[ACME.id]), "2008-06-23T20:00Z")
    stage = RiskStage(host)  # type: ignore[arg-type]
    now = host.now_ns()

    def planned(parent: str, decision: str) -> ExecutionPlanned:
        return ExecutionPlanned(
            rebalance_id=decision,
            instrument_id=ACME.id,
            algorithm="immediate",
            side="SELL",
            quantity=1.0,
            parent_order_id=parent,
            start_ns=now,
            end_ns=now,
            slices=1,
            arrival_price=100.0,
            reason="stop_loss",
            ts_event=now,
            ts_init=now,
        )

    def completed(parent: str) -> ExecutionCompleted:
        return ExecutionCompleted(
            parent_order_id=parent,
            instrument_id=ACME.id,
            algorithm="immediate",
            filled_qty=1.0,
            average_price=100.0,
            arrival_price=100.0,
            outcome="filled",
            ts_event=now,
            ts_init=now,
        )

    stage.on_execution_planned(planned("P-1", "R-3"))
    assert stage.working_exit(ACME.id) is None  # a rebalance's plan is no exit
    stage.on_execution_planned(planned("P-2", "risk-1"))
    stage.on_execution_completed(completed("P-1"))  # the superseded plan ends: still working
    assert stage.working_exit(ACME.id) == "risk-1"
    stage.on_execution_completed(completed("P-2"))
    assert stage.working_exit(ACME.id) is None


def test_a_command_no_stage_handles_is_an_invariant_violation() -> None:
    router = CommandRouter()
    seen: list[Any] = []
    command = ExitPosition(instrument_id=ACME.id, delta_qty=-1.0, reason="r", decision_id="risk-1")
    with pytest.raises(InvariantViolation, match="no pipeline stage handles ExitPosition"):
        router.send(command)
    router.subscribe(ExitPosition, seen.append)
    router.send(command)
    assert seen == [command]

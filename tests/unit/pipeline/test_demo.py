"""The demo on bundled real data: a golden summary of its journal, determinism, traceability."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tradeloop.engine.runner import RunResult
from tradeloop.journal import read_records
from tradeloop.model import OrderFilled, SubmitOrder
from tradeloop.model.decisions import RiskReviewed

from .conftest import DEMO, run_config

GOLDEN = Path(__file__).parents[2] / "data" / "pipeline" / "demo_golden.json"

pytestmark = pytest.mark.slow


def journal_summary(result: RunResult) -> dict[str, object]:
    records = [r.record for r in read_records(result.journal_path)]
    types = collections.Counter(type(r).__name__ for r in records)
    fills = [r for r in records if isinstance(r, OrderFilled)]
    regimes = [r for r in records if type(r).__name__ == "RegimeChanged"]
    targets = [r for r in records if type(r).__name__ == "TargetsProposed"]
    decisions = collections.Counter(
        d.decision for r in records if isinstance(r, RiskReviewed) for d in r.decisions
    )
    costs = collections.Counter(
        a.decision
        for r in records
        if type(r).__name__ == "CostAssessed"
        for a in r.assessments  # type: ignore[attr-defined]
    )
    return {
        "record_types": dict(sorted(types.items())),
        "fills": len(fills),
        "filled_quantity": sum(f.last_qty.raw for f in fills),
        "commission_raw": sum(f.commission.raw for f in fills),
        "regime_labels": [r.label for r in regimes],  # type: ignore[attr-defined]
        "rebalances": len(targets),
        "risk_decisions": dict(sorted(decisions.items())),
        "cost_decisions": dict(sorted(costs.items())),
        "final_equity": round(result.kernel.portfolio.equity().as_float(), 2),
        "final_positions": {
            p.instrument_id: p.signed_raw for p in result.kernel.portfolio.open_positions()
        },
    }


def test_demo_journal_matches_the_golden_summary(demo_run: RunResult) -> None:
    summary = journal_summary(demo_run)
    if os.environ.get("TRADELOOP_UPDATE_GOLDEN") == "1":  # deliberate: review the diff, commit
        GOLDEN.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    assert summary == json.loads(GOLDEN.read_text())


def test_every_pipeline_order_comes_from_a_risk_approved_decision(demo_run: RunResult) -> None:
    records = [r.record for r in read_records(demo_run.journal_path)]
    approved: set[tuple[str, str]] = set()
    for record in records:
        if isinstance(record, RiskReviewed):
            for decision in record.decisions:
                if decision.decision != "denied":
                    approved.add((record.rebalance_id, decision.instrument_id))
    orders = [r.order for r in records if isinstance(r, SubmitOrder)]
    assert orders
    for order in orders:
        tag = next(t for t in order.tags if t.startswith("rebalance:"))
        rebalance = tag.split(":", 1)[1]
        if rebalance.startswith("risk-"):  # exits ordered by risk itself (stop-loss, kill switch)
            assert order.is_reduce_only
            continue
        assert (rebalance, order.instrument_id) in approved


def test_demo_run_twice_gives_byte_identical_journals(demo_run: RunResult, tmp_path: Path) -> None:
    again = run_config(DEMO, tmp_path)
    digest = [
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (demo_run.journal_path, again.journal_path)
    ]
    assert digest[0] == digest[1]


def test_demo_summary_reports_gross_and_net_with_costs_by_kind(demo_run: RunResult) -> None:
    summary = demo_run.summary
    net, gross = summary["net"], summary["gross"]
    assert gross["total_return"] > net["total_return"]
    costs = summary["costs"]
    assert set(costs) == {"commission", "spread", "slippage", "impact"}
    start = summary["starting_equity"]
    # Gross equity is net equity plus every cost: the two returns differ by exactly the costs.
    assert (gross["total_return"] - net["total_return"]) * start == pytest.approx(
        sum(costs.values()), rel=1e-9
    )
    db = sqlite3.connect(demo_run.journal_path)
    (manifest,) = db.execute("select payload from manifest").fetchone()
    assert json.loads(manifest)["config_hash"] == demo_run.kernel.journal.manifest.config_hash  # type: ignore[attr-defined]

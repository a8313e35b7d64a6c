"""Portfolio targets end to end: the turnover limit covers the whole book."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.model.decisions import TargetsProposed

from .test_risk_stage import QUIET_RISK, records_of, run

pytestmark = pytest.mark.slow


def test_turnover_never_exceeds_max_turnover_counting_sales_and_the_hedge(tmp_path: Path) -> None:
    result = run(tmp_path, risk=QUIET_RISK, construction=", max_turnover = 0.1")
    targets = [r for r in records_of(result) if isinstance(r, TargetsProposed)]
    assert targets
    for event in targets:
        assert event.turnover <= 0.1
        traded = sum(abs(t.delta_qty) * t.reference_price / event.equity for t in event.targets)
        assert traded == pytest.approx(event.turnover, rel=1e-9)
    limited = [e for e in targets if any("above max_turnover 0.1" in r for r in e.reasons)]
    assert limited
    # The limit bound with trades outside the scored names: the hedge leg, or a name sold off.
    assert any(t.is_hedge and t.delta_qty for e in limited for t in e.targets)


def test_min_variance_with_shorts_puts_each_name_on_the_side_its_score_points_to(
    tmp_path: Path,
) -> None:
    from tradeloop.model.decisions import EnsembleScored

    result = run(
        tmp_path,
        risk=QUIET_RISK,
        construction=', method = "min_variance", allow_short = true, min_net_exposure = -1.0',
    )
    records = records_of(result)
    scores = {
        e.rebalance_id: {s.instrument_id: s.score * s.confidence for s in e.scores}
        for e in records
        if isinstance(e, EnsembleScored)
    }
    targets = [r for r in records if isinstance(r, TargetsProposed)]
    checked = 0
    for event in targets:
        for target in event.targets:
            score = scores[event.rebalance_id].get(target.instrument_id, 0.0)
            if target.is_hedge or target.weight == 0.0 or score == 0.0:
                continue
            assert (target.weight > 0) == (score > 0), (event.rebalance_id, target)
            checked += 1
    assert checked
    assert any(t.weight < 0 and not t.is_hedge for e in targets for t in e.targets)

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

"""A resumed run's portfolio limits continue from its journal: breach decision ids go on from
the last one (no second ``limit-1`` in one run), and a trading state the limits set is known
as theirs, so they lift it again when they clear (an operator's state stays)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.config import load_config
from tradeloop.core.clock import TestClock
from tradeloop.engine.resume import rebuild
from tradeloop.engine.runner import build_kernel, prepare_run, run_paper_replay
from tradeloop.journal import read_records
from tradeloop.journal.store import MemoryJournal
from tradeloop.model.decisions import RiskLimitBreached
from tradeloop.model.events import TradingStateChanged

pytestmark = pytest.mark.slow

CONFIG = """
[run]
name = "limits-resume"
seed = 1
starting_cash = "100000"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2007-01-01"
end = "2008-12-31"

[risk]
daily_loss_limit_pct = 0.02
drawdown_pause_pct = 0.05
drawdown_pause_bars = 20

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "4000" }}
"""


def test_the_limits_of_a_resumed_run_are_rebuilt_from_its_journal(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    path.write_text(CONFIG.format(output=tmp_path / "runs"))
    config = load_config(path)
    result = run_paper_replay(prepare_run(config, tmp_path), speed=2e8)
    guard = result.kernel.limits
    assert guard is not None
    breaches = [
        r.record
        for r in read_records(result.journal_path)
        if isinstance(r.record, RiskLimitBreached)
    ]
    assert len(breaches) >= 2  # the run paused and stopped for the day more than once
    journal_path = result.journal_path
    last_seq = list(read_records(journal_path))[-1].seq

    fresh = build_kernel(prepare_run(config, tmp_path), TestClock(0), MemoryJournal())
    assert fresh.limits is not None
    rebuilt = rebuild(fresh, journal_path, last_seq)

    # The next breach after the resume gets the next decision id.
    last = max(int((b.decision_id or "limit-0").removeprefix("limit-")) for b in breaches)
    assert fresh.limits.status()["breaches"] == last
    changes = [
        r.record for r in read_records(journal_path) if isinstance(r.record, TradingStateChanged)
    ]
    by_limits = changes[-1].reason in {b.action for b in breaches} | {"limits cleared"}
    assert rebuilt.is_state_from_limits is by_limits
    assert rebuilt.trading_state is changes[-1].state

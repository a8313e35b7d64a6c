"""A resumed run's portfolio limits continue from its journal: breach decision ids go on from
the last one (no second ``limit-1`` in one run), and a trading state the limits set is known
as theirs, so they lift it again when they clear (an operator's state stays)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.config import load_config
from tradeloop.core.clock import TestClock
from tradeloop.engine.feed import merge
from tradeloop.engine.resume import rebuild
from tradeloop.engine.runner import build_kernel, prepare_run, run_paper_replay
from tradeloop.journal import read_records
from tradeloop.journal.store import MemoryJournal, SqliteJournal, read_manifest
from tradeloop.model.data import Bar
from tradeloop.model.decisions import RiskLimitBreached
from tradeloop.model.events import MarketDataReceived, TradingStateChanged

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


def _with_market_data(journal_path: Path, bars: list[Bar], into: Path) -> Path:
    # A replayed paper run journals no market data (its bars are in the catalog); a live
    # feed's session does, each bar before what it caused. Rewrite the run's journal so.
    rows = list(read_records(journal_path))
    journal = SqliteJournal(into, read_manifest(journal_path))
    pending = iter(bars)
    bar = next(pending, None)
    for row in rows:
        ts = row.record.ts_init
        while bar is not None and bar.ts_init <= ts:
            journal.append(MarketDataReceived(bar=bar, ts_event=bar.ts_event, ts_init=bar.ts_init))
            bar = next(pending, None)
        journal.append(row.record)
    journal.close()
    return into


def test_the_limits_of_a_resumed_run_are_rebuilt_from_its_journal(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    path.write_text(CONFIG.format(output=tmp_path / "runs"))
    config = load_config(path)
    prepared = prepare_run(config, tmp_path)
    bars = [r for r in merge([s.columns for s in prepared.sources]) if isinstance(r, Bar)]
    result = run_paper_replay(prepared, speed=2e8)
    guard = result.kernel.limits
    assert guard is not None
    breaches = [
        r.record
        for r in read_records(result.journal_path)
        if isinstance(r.record, RiskLimitBreached)
    ]
    assert len(breaches) >= 2  # the run paused and stopped for the day more than once
    journal_path = _with_market_data(result.journal_path, bars, tmp_path / "live.sqlite")
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

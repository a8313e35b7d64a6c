"""Replay: the state rebuilt from the journal equals the kernel's live state."""

import importlib.util
import time
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from tradeloop.core import ConfigError
from tradeloop.engine.kernel import Kernel
from tradeloop.journal import read_records
from tradeloop.journal.replay import JournalIndex, ReplayState, read_equity_csv
from tradeloop.reports.rerun import rerun_until

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _helpers().run_pipeline(tmp_path_factory.mktemp("replay"))


def _assert_state_equals_kernel(state: ReplayState, kernel: Kernel) -> None:
    portfolio = kernel.portfolio
    assert Decimal(state.cash) == Decimal(portfolio.cash) / 10**9
    assert Decimal(state.fees_total) == Decimal(portfolio.fees) / 10**9
    assert Decimal(state.realized_pnl) == Decimal(portfolio.realized) / 10**9
    live_positions = [
        (p.strategy_id, p.instrument_id, p.signed_raw, p.avg_px_open, p.realized_raw)
        for p in portfolio.open_positions()
    ]
    replayed = [
        (
            p.strategy_id,
            p.instrument_id,
            p.signed_qty_raw,
            p.avg_px_open,
            int(Decimal(p.realized_pnl) * 10**9),
        )
        for p in state.positions
    ]
    assert replayed == live_positions
    live_orders = sorted(
        (o.client_order_id, str(o.status), o.filled_raw, str(o.quantity), o.init.parent_order_id)
        for o in kernel.order_manager.open_orders()
    )
    replayed_orders = sorted(
        (o.client_order_id, o.status, int(Decimal(o.filled_qty)), o.quantity, o.parent_order_id)
        for o in state.open_orders
    )
    assert replayed_orders == live_orders


def test_replay_at_the_end_equals_the_kernels_cash_positions_and_open_orders(run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(run.run_dir)
    state = index.state_at(index.end_ts)
    _assert_state_equals_kernel(state, run.kernel)
    assert state.open_orders, "the run leaves its far limit order working"
    assert state.equity == pytest.approx(run.summary["final_equity"])


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9])
def test_replay_at_a_checkpoint_equals_the_kernel_rerun_to_that_instant(run, fraction) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(run.run_dir)
    at = index.first_ts + int((index.last_ts - index.first_ts) * fraction)
    result, kernel = rerun_until(run.run_dir, at, base_dir=DATA)
    assert result.check.is_identical
    assert result.check.manifest_mismatches == ()
    assert result.check.records_compared == result.check.stored_records > 0
    _assert_state_equals_kernel(index.state_at(at), kernel)


def test_rerun_reports_the_strategys_internals_at_the_instant(run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(run.run_dir)
    at = index.first_ts + (index.last_ts - index.first_ts) // 2
    result, kernel = rerun_until(run.run_dir, at, base_dir=DATA)
    internals = result.internals["MiniPipeline"]
    strategy = kernel.strategies[0]
    assert internals["steps"] == repr(strategy.steps)  # type: ignore[attr-defined]
    assert internals["regime"] == repr(strategy.regime)  # type: ignore[attr-defined]


def test_replay_decisions_are_the_latest_of_each_stage_at_the_instant(run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(run.run_dir)
    at = index.first_ts + (index.last_ts - index.first_ts) // 2
    state = index.state_at(at)
    latest: dict[str, object] = {}
    for stored in read_records(run.journal_path, until_ts_ns=at):
        latest[stored.type] = stored.record
    for name in (
        "BetasEstimated",
        "SignalsEmitted",
        "EnsembleScored",
        "TargetsProposed",
        "RiskReviewed",
        "CostAssessed",
        "ExecutionPlanned",
        "RegimeChanged",
    ):
        assert state.decisions[name] == latest[name]
    assert {a.agent_id for a in state.agents} == {"momentum", "meanrev"}
    assert state.regimes
    assert state.regimes[0] == latest["RegimeChanged"]


def test_replay_before_the_first_fill_holds_the_starting_cash_and_nothing_else(run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(run.run_dir)
    state = index.state_at(index.first_ts - 1)
    assert Decimal(state.cash) == Decimal("100000")
    assert state.positions == ()
    assert state.open_orders == ()
    assert state.decisions == {}
    assert state.records_applied == 0


def test_replay_scrubs_every_day_of_the_run_in_well_under_a_millisecond_each(run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(run.run_dir)
    days = read_equity_csv(run.run_dir / "equity.csv").ts
    index.state_at(int(days[0]))  # loads the equity curve once
    started = time.perf_counter()
    for day in days.tolist():
        index.state_at(day)
    per_query_ms = (time.perf_counter() - started) * 1e3 / len(days)
    assert len(days) > 300
    assert per_query_ms < 5.0  # measured ~0.05 ms; generous for slow CI machines


def test_replay_of_a_directory_without_a_journal_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has no journal\.sqlite"):
        JournalIndex(tmp_path)

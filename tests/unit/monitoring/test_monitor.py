"""``NodeMonitor`` on a real paper replay (live clock, replay feed thread, SQLite journal):
metrics from the bus, snapshots from the kernel thread, control actions journaled with who
and why and applied through the risk engine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tradeloop.config import load_config
from tradeloop.engine.runner import RunResult, prepare_run, run_paper_replay
from tradeloop.journal import read_records
from tradeloop.model.events import ControlActionTaken, TradingStateChanged
from tradeloop.monitoring import Actor, ControlDeniedError, NodeMonitor, NodeNotRunningError

CONFIG = """
[run]
name = "monitored"
seed = 1
starting_cash = "100000"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2010-01-01"

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "100" }}
"""

pytestmark = pytest.mark.xdist_group("monitored-run")

OPERATOR = Actor("alice", "operator")
ADMIN = Actor("root", "admin")


def _wait(predicate: Any, what: str, timeout_s: float = 20.0) -> None:
    done = threading.Event()
    waited = 0.0
    while not predicate():
        if waited > timeout_s:
            raise AssertionError(f"timed out waiting for {what}")
        done.wait(0.02)
        waited += 0.02


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[NodeMonitor, dict[str, RunResult]]]:
    # One run for the module: the first test steers it, the second reads its metrics after.
    tmp_path = tmp_path_factory.mktemp("monitored")
    path = tmp_path / "monitored.toml"
    path.write_text(CONFIG.format(output=tmp_path / "runs"))
    prepared = prepare_run(load_config(path), tmp_path)
    monitor = NodeMonitor(mode="paper", probe_interval_s=0.05, journal_sync_interval_s=0.1)
    results: dict[str, RunResult] = {}

    def run() -> None:
        # Five days a second: a bar every ~0.2 s of wall time; ends after 4 s.
        results["run"] = run_paper_replay(prepared, 432_000.0, None, 4.0, monitor)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        _wait(lambda: monitor.is_running and monitor.subscriber is not None, "the node to run")
        yield monitor, results
    finally:
        thread.join(30)


def test_control_actions_change_state_through_risk_and_are_journaled_with_who_and_why(
    running: tuple[NodeMonitor, dict[str, RunResult]],
) -> None:
    monitor, results = running
    _wait(lambda: monitor.snapshot is not None and monitor.snapshot.positions, "a position")

    paused = monitor.act("pause", OPERATOR, "news at 14:30")
    assert paused["trading_state"] == "REDUCING"
    snap = monitor.fresh_snapshot()
    assert snap is not None
    assert snap.trading_state == "REDUCING"

    killed = monitor.act("kill", OPERATOR, "venue incident")
    assert killed["trading_state"] == "HALTED"
    # A restart after a kill is a request an admin decides; the node stays HALTED meanwhile.
    asked = monitor.act("resume", OPERATOR, "not allowed after a kill")
    assert (asked["action"], asked["id"], asked["trading_state"]) == (
        "request_restart",
        "R-1",
        "HALTED",
    )
    assert [(r["id"], r["kind"]) for r in monitor.waiting_approvals()] == [("R-1", "restart")]
    with pytest.raises(ControlDeniedError):
        monitor.decide_approval("R-1", True, OPERATOR, "approving my own")
    assert monitor.act("pause", OPERATOR, "pausing a killed node")["trading_state"] == "HALTED"
    monitor.decide_approval("R-1", False, ADMIN, "not now")
    assert monitor.fresh_snapshot().trading_state == "HALTED"  # type: ignore[union-attr]
    # No decision in time: refused, the safe default (the probe expires it).
    monitor.requests.timeout_s = 0.05
    assert monitor.act("resume", OPERATOR, "try again")["id"] == "R-2"
    _wait(lambda: not monitor.requests.pending, "the request to time out")
    monitor.requests.timeout_s = 300.0
    _wait(lambda: (s := monitor.fresh_snapshot()) is not None and not s.positions, "flat positions")
    assert monitor.act("resume", OPERATOR, "incident over")["id"] == "R-3"
    resumed = monitor.decide_approval("R-3", True, ADMIN, "checked")
    assert (resumed["trading_state"], resumed["status"]) == ("ACTIVE", "APPROVED")

    _wait(lambda: "run" in results, "the run's end", 30)
    with pytest.raises(NodeNotRunningError):
        monitor.act("pause", OPERATOR, "too late")
    records = [r.record for r in read_records(results["run"].journal_path)]
    actions = [r for r in records if isinstance(r, ControlActionTaken)]
    assert [(a.action, a.actor, a.role, a.reason) for a in actions] == [
        ("pause", "alice", "operator", "news at 14:30"),
        ("kill", "alice", "operator", "venue incident"),
        ("request_restart", "alice", "operator", "not allowed after a kill"),
        ("pause", "alice", "operator", "pausing a killed node"),
        ("reject", "root", "admin", "not now"),
        ("request_restart", "alice", "operator", "try again"),
        ("reject", "approvals", "automation", "not approved within 0.05 s"),
        ("request_restart", "alice", "operator", "incident over"),
        ("approve", "root", "admin", "checked"),
        (
            "resume",
            "root",
            "admin",
            "restart R-3 requested by alice (incident over), approved: checked",
        ),
    ]
    assert [a.outcome for a in actions if a.action == "reject"] == [
        "restart refused: the node stays HALTED"
    ] * 2
    states = [r for r in records if isinstance(r, TradingStateChanged)]
    assert [str(s.state) for s in states] == ["REDUCING", "HALTED", "ACTIVE"]
    assert all("alice" in s.reason for s in states[:2])
    # Each action is journaled before the state change it causes.
    seqs = {id(r): i for i, r in enumerate(records)}
    changing = [
        a
        for a in actions
        if a.action in ("pause", "kill", "resume") and a.reason != "pausing a killed node"
    ]
    for action, state in zip(changing, states, strict=True):
        assert seqs[id(action)] < seqs[id(state)]
    final = monitor.snapshot
    assert final is not None
    assert not final.is_running


def test_metrics_follow_prometheus_naming_and_count_the_runs_orders(
    running: tuple[NodeMonitor, dict[str, RunResult]],
) -> None:
    monitor, results = running
    _wait(lambda: "run" in results, "the run's end", 30)
    text = monitor.metrics.exposition().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for family in families.values():
        assert family.name.startswith("tradeloop_"), family.name
        for sample in family.samples:
            assert not {"client_order_id", "order_id", "run_id", "trade_id"} & set(sample.labels)
        if family.type == "counter":
            assert all(s.name.endswith("_total") for s in family.samples), family.name
    orders = results["run"].kernel.order_manager.stats
    submitted = families["tradeloop_orders_submitted"].samples[0].value
    assert submitted == orders["submitted"] > 1
    assert families["tradeloop_fills"].samples[0].value == orders["fills"]
    count = {s.name: s.value for s in families["tradeloop_tick_to_order_seconds"].samples}
    assert count["tradeloop_tick_to_order_seconds_count"] == submitted
    slippage = {s.name: s.value for s in families["tradeloop_fill_slippage_ratio"].samples}
    assert slippage["tradeloop_fill_slippage_ratio_count"] == orders["fills"]
    assert families["tradeloop_journal_sync_seconds"].samples
    assert families["tradeloop_node_up"].samples[0].value == 0.0  # the run is over
    state = {s.labels["state"]: s.value for s in families["tradeloop_trading_state"].samples}
    assert state == {"ACTIVE": 1.0, "REDUCING": 0.0, "HALTED": 0.0}
    equity = families["tradeloop_equity"].samples[0].value
    assert equity == pytest.approx(results["run"].kernel.portfolio.equity_raw() / 1e9)
    assert families["tradeloop_sharpe_ratio"].samples  # some twenty days were replayed
    records = families["tradeloop_market_records"].samples[0].value
    assert records == results["run"].kernel.records_processed

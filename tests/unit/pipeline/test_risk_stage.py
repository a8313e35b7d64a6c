"""The risk stage end to end on real data: the kill switch liquidates and stays flat, an
on-demand kill (from strategy code or the kernel's trading state) does the same, and a risk
exit binds: the same bar's rebalance neither cancels it nor trades the instrument."""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Any

import pytest

from tradeloop.engine.runner import RunResult
from tradeloop.journal import read_records
from tradeloop.model import OrderFilled, SubmitOrder
from tradeloop.model.decisions import RiskLimitBreached, RiskReviewed
from tradeloop.model.enums import OrderSide, TradingState
from tradeloop.model.events import OrderCanceled, OrderDenied, TradingStateChanged
from tradeloop.pipeline import Pipeline

from .conftest import run_config

pytestmark = pytest.mark.slow

# Last day of the runs that rebalance every bar (the others run to 2009-06-30).
SHORT_END = "2008-06-30"

CONFIG = """
[run]
name = "risk-stage"
starting_cash = "1000000"

[plugins]
allow = ["tests"]

[[data]]
dataset = "orcl_daily"
start = "2007-01-01"
end = "{end}"

[[data]]
dataset = "nvda_daily"
start = "2007-01-01"
end = "{end}"

[[data]]
dataset = "yhoo_daily"
start = "2007-01-01"
end = "{end}"

[[data]]
dataset = "spy_daily"
start = "2007-01-01"
end = "{end}"

[venue]
market_fill = "next_open"
max_participation = 0.05

[risk]
allow_short_cash = true
{limits}

[[strategies]]
class = "{cls}"
id = "pipeline"

[strategies.params]
universe = ["ORCL.XNAS", "NVDA.XNAS", "YHOO.XNAS"]
benchmark = "SPY.ARCX"
rebalance_every = {every}
history_bars = 150
agents = [
    {{ type = "mean_reversion" }},
    {{ type = "xs_momentum", params = {{ lookback = 60, skip = 5 }} }},
    {{ type = "levels", params = {{ lookback = 60 }} }},
]
regime = {{ detector = "none" }}
beta = {{ window = 60, hedge = true }}
construction = {{ lookback = 60, max_weight = 0.3{construction} }}

[strategies.params.execution]
{execution}

[strategies.params.risk]
{risk}
"""


def run(
    tmp_path: Path,
    *,
    risk: str,
    limits: str = "",
    cls: str = "Pipeline",
    every: int = 5,
    execution: str = "",
    construction: str = "",
    end: str = "2009-06-30",
) -> RunResult:
    path = tmp_path / "risk.toml"
    path.write_text(
        CONFIG.format(
            cls=cls,
            risk=risk,
            limits=limits,
            every=every,
            execution=execution,
            construction=construction,
            end=end,
        )
    )
    return run_config(path, tmp_path / "runs")


def records_of(result: RunResult) -> list[Any]:
    return [r.record for r in read_records(result.journal_path)]


def assert_flat_after_the_halt(records: list[Any], result: RunResult) -> None:
    """After HALTED: fills only reduce positions, every order is a reduce-only liquidation
    that risk lets through, no exit re-fires, and every position ends flat."""
    halted_at = next(
        i
        for i, r in enumerate(records)
        if isinstance(r, TradingStateChanged) and r.state is TradingState.HALTED
    )
    position: dict[str, int] = collections.defaultdict(int)
    for record in records[:halted_at]:
        if isinstance(record, OrderFilled):
            sign = 1 if record.order_side is OrderSide.BUY else -1
            position[record.instrument_id] += sign * record.last_qty.raw
    assert any(position.values()), "the scenario must hold positions when the switch fires"
    after = records[halted_at:]
    liquidations = [r.order for r in after if isinstance(r, SubmitOrder)]
    assert liquidations
    assert all(o.is_reduce_only for o in liquidations)
    assert {o.instrument_id for o in liquidations} == {i for i, q in position.items() if q}
    assert not [r for r in after if isinstance(r, OrderDenied)]
    assert not [r for r in after if isinstance(r, RiskLimitBreached) and r.instrument_id]
    for record in after:
        if isinstance(record, OrderFilled):
            before = position[record.instrument_id]
            sign = 1 if record.order_side is OrderSide.BUY else -1
            position[record.instrument_id] += sign * record.last_qty.raw
            assert abs(position[record.instrument_id]) < abs(before)  # never new exposure
    assert not any(position.values())
    assert list(result.kernel.portfolio.open_positions()) == []
    assert result.kernel.risk.trading_state is TradingState.HALTED


def test_kill_switch_drawdown_liquidates_every_position_and_opens_nothing_after(
    tmp_path: Path,
) -> None:
    result = run(
        tmp_path,
        limits="kill_switch_drawdown_pct = 0.03\ndrawdown_pause_pct = 0.5\n"
        "daily_loss_limit_pct = 0.5",
        risk="stop_loss_pct = 0.10",
    )
    records = records_of(result)
    # The kernel's kill switch, then the pipeline's liquidation decision that follows it.
    kernel_breach, breach = [
        r for r in records if isinstance(r, RiskLimitBreached) and r.instrument_id is None
    ]
    assert (kernel_breach.rule, kernel_breach.decision_id) == ("kill_switch_drawdown", "limit-1")
    assert kernel_breach.value >= 0.03
    assert breach.rule == "kill_switch_external"
    # Every liquidation order carries the pipeline's kill decision id.
    halted_at = records.index(kernel_breach)
    tags = {t for r in records[halted_at:] if isinstance(r, SubmitOrder) for t in r.order.tags}
    assert f"rebalance:{breach.decision_id}" in tags
    assert_flat_after_the_halt(records, result)
    # Rebalances after the halt are reviewed and denied, with the reason.
    reviews = [r for r in records[halted_at:] if isinstance(r, RiskReviewed)]
    assert reviews
    assert all(d.decision == "denied" for r in reviews for d in r.decisions)


class KillOnDemand(Pipeline):
    """Calls ``kill`` from strategy code at its fifth rebalance."""

    def on_step(self, ts_ns: int) -> None:
        super().on_step(ts_ns)
        if self.rebalances == 5 and self.risk_stage.reviewer.state is not TradingState.HALTED:
            self.kill("operator pressed the button")


class HaltThroughTheKernel(Pipeline):
    """Sets the engine's trading state to HALTED (as an operator or a monitor would)."""

    def on_step(self, ts_ns: int) -> None:
        super().on_step(ts_ns)
        if self.rebalances == 5 and self.risk_stage.reviewer.state is not TradingState.HALTED:
            self.set_trading_state(TradingState.HALTED, "monitor: feed stale")


QUIET_RISK = ""  # no stop-loss change; the kernel's portfolio limits are off by default


def test_kill_on_demand_from_strategy_code_halts_and_flattens(tmp_path: Path) -> None:
    result = run(tmp_path, risk=QUIET_RISK, cls="tests.unit.pipeline.test_risk_stage:KillOnDemand")
    records = records_of(result)
    [state] = [r for r in records if isinstance(r, TradingStateChanged)]
    assert (state.state, state.reason) == (
        TradingState.HALTED,
        "kill switch: operator pressed the button",
    )
    [breach] = [r for r in records if isinstance(r, RiskLimitBreached)]
    assert breach.rule == "kill_switch_on_demand"
    assert_flat_after_the_halt(records, result)


def test_halted_set_through_the_kernel_makes_the_pipeline_flatten(tmp_path: Path) -> None:
    result = run(
        tmp_path, risk=QUIET_RISK, cls="tests.unit.pipeline.test_risk_stage:HaltThroughTheKernel"
    )
    records = records_of(result)
    [state] = [r for r in records if isinstance(r, TradingStateChanged)]
    assert state.reason == "monitor: feed stale"
    [breach] = [r for r in records if isinstance(r, RiskLimitBreached)]
    assert (breach.rule, breach.action) == (
        "kill_switch_external",
        "kill switch (monitor: feed stale): flatten every position and halt trading",
    )
    assert_flat_after_the_halt(records, result)


def test_a_risk_exit_binds_over_the_same_bars_rebalance(tmp_path: Path) -> None:
    # A tight stop-loss and a rebalance every bar: exits and rebalances meet on the same bar.
    # Rebalancing every bar is the costly part: one year of it (2007-08 to 2008-06, through
    # the 2008 falls) has exits and rebalances meeting on the same bar many times.
    result = run(tmp_path, risk=QUIET_RISK + "\nstop_loss_pct = 0.03", every=1, end=SHORT_END)
    records = records_of(result)
    exits = {
        (r.ts_event, r.instrument_id): r.decision_id
        for r in records
        if isinstance(r, RiskLimitBreached) and r.instrument_id is not None
    }
    assert len(exits) > 10
    # No order is ever cancelled: exits are not superseded by a rebalance.
    assert not [r for r in records if isinstance(r, OrderCanceled)]
    # On the bar of an exit, the rebalance denies its instrument, naming the exit...
    bound = 0
    for record in records:
        if isinstance(record, RiskReviewed):
            for decision in record.decisions:
                exit_id = exits.get((record.ts_event, decision.instrument_id))
                if exit_id is not None:
                    assert decision.decision == "denied"
                    assert decision.reasons == (
                        f"risk exit {exit_id} (stop_loss) sent this bar is binding on "
                        f"{decision.instrument_id} this bar: the rebalance may not cancel it "
                        "or trade the instrument",
                    )
                    bound += 1
    assert bound > 0
    # ... and sends no order for it.
    for record in records:
        if isinstance(record, SubmitOrder):
            key = (record.ts_init, record.order.instrument_id)
            if key in exits:
                assert f"rebalance:{exits[key]}" in record.order.tags


def test_every_cancel_names_what_cancelled_the_order(tmp_path: Path) -> None:
    # Resting limits (limit-then-market) and a rebalance every bar: later decisions
    # supersede working plans.
    result = run(
        tmp_path,
        risk=QUIET_RISK,
        every=1,
        end=SHORT_END,
        execution='algorithm = "limit_then_market"\ntimeout_bars = 3\nlarge_participation = 1.0',
    )
    cancels = [r for r in records_of(result) if isinstance(r, OrderCanceled)]
    assert cancels
    reasons = collections.Counter(
        "superseded"
        if re.fullmatch(r"P-pipeline-\d+ superseded by (R|risk)-\d+", c.reason)
        else c.reason
        for c in cancels
    )
    assert reasons["superseded"] > 0
    assert all(
        kind == "superseded" or re.fullmatch(r"limit_then_market algorithm of P-pipeline-\d+", kind)
        for kind in reasons
    ), reasons

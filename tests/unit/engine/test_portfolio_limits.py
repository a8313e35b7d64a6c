"""The kernel's portfolio limits with a plain strategy (SMA crossover on ORCL's daily bars, 2007
to 2008, 4,000 shares a trade): each limit journals its breach, sets the trading state, and
the kill switch flattens the account with nothing opened after."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradeloop.config import load_config
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import OrderFilled, SubmitOrder
from tradeloop.model.decisions import RiskLimitBreached
from tradeloop.model.enums import OrderSide, TradingState
from tradeloop.model.events import OrderDenied, TradingStateChanged
from tradeloop.risk.limits import DAY_NS

CONFIG = """
[run]
name = "limits"
seed = 1
starting_cash = "100000"

[[data]]
dataset = "orcl_daily"
start = "2007-01-01"
end = "2008-12-31"

[risk]
{limits}

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "4000" }}
"""


def run(tmp_path: Path, limits: str) -> tuple[RunResult, list[Any]]:
    path = tmp_path / "limits.toml"
    path.write_text(CONFIG.format(limits=limits))
    config = load_config(path)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp_path / "runs"))
    )
    result = run_backtest(prepare_run(config, tmp_path))
    return result, [r.record for r in read_records(result.journal_path)]


def states(records: list[Any]) -> list[tuple[TradingState, str, int]]:
    return [(r.state, r.reason, r.ts_event) for r in records if isinstance(r, TradingStateChanged)]


def test_no_limit_set_changes_nothing(tmp_path: Path) -> None:
    _, records = run(tmp_path, "")
    assert states(records) == []
    assert not [r for r in records if isinstance(r, RiskLimitBreached)]


def test_daily_loss_reduces_until_the_next_utc_day(tmp_path: Path) -> None:
    result, records = run(tmp_path, "daily_loss_limit_pct = 0.02")
    breaches = [r for r in records if isinstance(r, RiskLimitBreached)]
    assert breaches
    assert {b.rule for b in breaches} == {"daily_loss_limit"}
    assert all(b.value >= 0.02 and b.decision_id.startswith("limit-") for b in breaches)
    changes = states(records)
    assert changes[0][:2] == (TradingState.REDUCING, "reduce only until the next day")
    # The breach is journaled before the state it causes.
    assert records.index(breaches[0]) < next(
        i for i, r in enumerate(records) if isinstance(r, TradingStateChanged)
    )
    for (state, _, ts), (after, reason, ts_after) in itertools.pairwise(changes):
        if state is TradingState.REDUCING:
            assert (after, reason) == (TradingState.ACTIVE, "limits cleared")
            assert ts_after // DAY_NS > ts // DAY_NS  # cleared on a later UTC day
    assert result.kernel.limits is not None
    assert result.kernel.limits.limits.breaches == len(breaches)


def test_drawdown_pause_lasts_its_bars_from_the_high_water_mark(tmp_path: Path) -> None:
    _, records = run(tmp_path, "drawdown_pause_pct = 0.08\ndrawdown_pause_bars = 5")
    [first, *_] = [r for r in records if isinstance(r, RiskLimitBreached)]
    assert (first.rule, first.action) == ("drawdown_pause", "pause new exposure for 5 bars")
    assert first.value >= 0.08
    changes = states(records)
    assert changes[0][0] is TradingState.REDUCING
    assert changes[1][:2] == (TradingState.ACTIVE, "limits cleared")
    days = (changes[1][2] - changes[0][2]) / DAY_NS
    assert 5 <= days <= 9  # five bars (trading days), weekends between


def test_kill_switch_halts_flattens_and_opens_nothing_after(tmp_path: Path) -> None:
    result, records = run(tmp_path, "kill_switch_drawdown_pct = 0.15")
    [breach] = [r for r in records if isinstance(r, RiskLimitBreached)]
    assert (breach.rule, breach.decision_id) == ("kill_switch_drawdown", "limit-1")
    assert breach.value >= 0.15
    [(state, reason, _)] = states(records)
    assert (state, reason) == (TradingState.HALTED, breach.action)
    halted_at = records.index(breach)
    liquidations = [r.order for r in records[halted_at:] if isinstance(r, SubmitOrder)]
    accepted = [o for o in liquidations if "limit-1" in o.tags]
    assert accepted
    assert all(o.is_reduce_only for o in accepted)
    assert all(o.client_order_id.startswith("O-") and "risk" in o.client_order_id for o in accepted)
    position = 0
    for record in records:
        if isinstance(record, OrderFilled):
            before = position
            position += record.last_qty.raw * (1 if record.order_side is OrderSide.BUY else -1)
            if records.index(record) > halted_at:
                assert abs(position) < abs(before)  # only reductions after the halt
    assert position == 0
    assert list(result.kernel.portfolio.open_positions()) == []
    assert result.kernel.risk.trading_state is TradingState.HALTED
    # The strategy kept trying: the kernel denied its orders (its own closing sell, sent while
    # the liquidation was working, by the cash account's sellable position).
    denied = [r.reason for r in records[halted_at:] if isinstance(r, OrderDenied)]
    assert sum("trading is halted" in d for d in denied) >= 10
    assert all("trading is halted" in d or "exceeds the sellable position" in d for d in denied)


@pytest.mark.parametrize("limits", ["drawdown_pause_pct = 0.0", "day_start_utc = '24:00'"])
def test_bad_limits_stop_the_run_before_it_starts(tmp_path: Path, limits: str) -> None:
    from tradeloop.core.errors import ConfigError

    with pytest.raises(ConfigError, match="risk"):
        run(tmp_path, limits)

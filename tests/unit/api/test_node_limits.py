"""The kernel's portfolio limits on a live-clock node: ``tradeloop paper --replay --api`` with a
plain SMA strategy; the daily loss limit and the kill switch change the trading state, seen
through ``GET /api/v1/status`` (and ``/metrics``), each breach journaled before its state."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.unit.api.node import TOKEN, call, running_node

from tradeloop.journal import read_records
from tradeloop.model.decisions import RiskLimitBreached
from tradeloop.model.events import TradingStateChanged

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api-node")]

# ORCL from July 2008: a 2 % daily loss on 2008-07-14 (under a second into the replay at
# twenty days a second), the 10 % kill switch on 2008-09-29 (about 4.5 s).
CONFIG = """
[run]
name = "limits-node"
seed = 1
starting_cash = "100000"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2008-07-01"
end = "2009-03-31"

[risk]
daily_loss_limit_pct = 0.02
kill_switch_drawdown_pct = 0.10

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "4000" }}
"""


def test_limits_change_the_trading_state_seen_through_the_status(tmp_path: Path) -> None:
    seen: list[str] = []
    with running_node(tmp_path, speed="1728000", config_text=CONFIG) as (url, runs):
        deadline = time.monotonic() + 60
        body: dict[str, object] = {}
        while time.monotonic() < deadline:
            status, body = call(url, "/api/v1/status", TOKEN)
            if status != 200:
                break
            state = str(body["trading_state"])
            if not seen or seen[-1] != state:
                seen.append(state)
            if state == "HALTED":
                break
            time.sleep(0.02)
        assert "ACTIVE" in seen
        assert seen[-1] == "HALTED", seen
        limits = body["limits"]
        assert isinstance(limits, dict)
        assert limits["state"] == "HALTED"
        assert limits["kill_switch_drawdown_pct"] == 0.10
        assert float(limits["drawdown"]) >= 0.10
        metrics = call(url, "/metrics")[1]
        assert 'tradeloop_trading_state{state="HALTED"} 1.0' in metrics
        assert "tradeloop_portfolio_limit_breaches_total" in metrics
        actions = call(url, "/api/v1/actions", TOKEN)[1]
        reasons = [(a.get("state"), a.get("reason")) for a in actions]
        assert ("REDUCING", "reduce only until the next day") in reasons
        assert ("HALTED", "kill switch: flatten every position and halt trading") in reasons
    [journal] = list(runs.glob("*/journal.sqlite"))
    records = [r.record for r in read_records(journal)]
    breaches = [r for r in records if isinstance(r, RiskLimitBreached)]
    assert {b.rule for b in breaches} == {"daily_loss_limit", "kill_switch_drawdown"}
    changes = [r for r in records if isinstance(r, TradingStateChanged)]
    assert records.index(breaches[0]) < records.index(changes[0])
    assert changes[-1].state.name == "HALTED"

"""Stage promotions through a running node's API: ``GET /api/v1/stage`` measures every gate,
``POST /api/v1/stage/promote`` queues a request that only an admin's approval carries out
(the gates measured again; failing gates refuse it, with the reasons), journaled with who."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.api.node import OPERATOR_TOKEN, TOKEN, VIEWER_TOKEN, call, running_node
from typer.testing import CliRunner

from tradeloop.cli.main import app
from tradeloop.config import load_config
from tradeloop.engine.deployment import read_ledger
from tradeloop.engine.runner import prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model.events import ControlActionTaken

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api-node")]

CONFIG = """
[run]
name = "ladder"
seed = 1
starting_cash = "100000"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2010-01-01"
END

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "100" }}

[deployment]
stage = "paper"

[[deployment.stages]]
name = "paper"
live = false
fraction = 1.0
min_days = 30
max_drawdown = 0.5

[[deployment.stages]]
name = "shadow"
live = false
fraction = 1.0
"""


def backtest(tmp: Path, end: str) -> str:
    path = tmp / f"ladder-{end}.toml"
    path.write_text(CONFIG.replace("END", f'end = "{end}"').format(output=tmp / "runs"))
    return run_backtest(prepare_run(load_config(path), tmp)).run_dir.name


def test_a_promotion_waits_for_an_admin_and_failing_gates_refuse_it(tmp_path: Path) -> None:
    short = backtest(tmp_path, "2010-01-08")  # a week: min_days 30 does not hold
    long = backtest(tmp_path, "2010-04-30")  # four months: every gate holds
    ledger = tmp_path / "runs" / "deployments" / "ladder.jsonl"
    node_config = CONFIG.replace("END", "")
    with running_node(tmp_path, config_text=node_config) as (url, runs):
        status, stage = call(url, "/api/v1/stage", VIEWER_TOKEN)
        assert status == 200, stage
        assert (stage["stage"], stage["next_stage"], stage["ready"]) == ("paper", "shadow", True)
        assert stage["run"].endswith(long)  # the latest ended run of the deployment
        assert {g["name"] for g in stage["gates"]} == {"min_days", "max_drawdown"}
        status, short_stage = call(url, f"/api/v1/stage?run={short}", VIEWER_TOKEN)
        assert (status, short_stage["ready"]) == (200, False)
        assert call(url, "/api/v1/stage?run=..%2Fetc", VIEWER_TOKEN)[0] == 400
        # Without the right role: refused, nothing queued.
        assert call(url, "/api/v1/stage/promote", None, "POST", {})[0] == 401
        assert call(url, "/api/v1/stage/promote", VIEWER_TOKEN, "POST", {})[0] == 403
        assert call(url, "/api/v1/approvals", TOKEN)[1] == []

        status, asked = call(
            url, "/api/v1/stage/promote", OPERATOR_TOKEN, "POST", {"run": short, "reason": "go"}
        )
        assert (status, asked["id"], asked["action"]) == (202, "R-1", "request_promotion")
        [waiting] = call(url, "/api/v1/approvals", VIEWER_TOKEN)[1]
        assert (waiting["id"], waiting["kind"], waiting["requested_by"]) == (
            "R-1",
            "promotion",
            "otto",
        )
        # An operator may not decide it; an admin's approval measures the gates and refuses.
        assert call(url, "/api/v1/approvals/R-1/approve", OPERATOR_TOKEN, "POST", {})[0] == 403
        status, refused = call(url, "/api/v1/approvals/R-1/approve", TOKEN, "POST", {})
        assert status == 400
        assert "min_days" in refused["detail"]
        assert not ledger.exists()

        runner = CliRunner()
        env = {"TRADELOOP_API_URL": url, "TRADELOOP_API_TOKEN": OPERATOR_TOKEN}
        result = runner.invoke(
            app, ["ctl", "stage", "promote", "--run", long, "--reason", "four good months"], env=env
        )
        assert result.exit_code == 0, result.output
        assert "R-2" in result.output
        result = runner.invoke(app, ["ctl", "stage", "status", "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert '"R-2"' in result.output
        env["TRADELOOP_API_TOKEN"] = TOKEN
        result = runner.invoke(app, ["ctl", "approve", "R-2", "--reason", "signed off"], env=env)
        assert result.exit_code == 0, result.output
        assert "PROMOTED" in result.output
        [promotion] = read_ledger(ledger)
        assert (promotion.from_stage, promotion.to_stage, promotion.approved_by) == (
            "paper",
            "shadow",
            "admin",
        )
        assert call(url, "/api/v1/approvals", TOKEN)[1] == []
    [journal] = [p for p in runs.glob("*/journal.sqlite") if p.parent.name not in (short, long)]
    actions = [r.record for r in read_records(journal) if isinstance(r.record, ControlActionTaken)]
    assert [(a.action, a.actor) for a in actions] == [
        ("request_promotion", "otto"),
        ("approve", "admin"),
        ("request_promotion", "otto"),
        ("approve", "admin"),
    ]
    assert actions[1].outcome.startswith("promotion refused: ")
    assert actions[3].outcome == "promoted paper -> shadow"

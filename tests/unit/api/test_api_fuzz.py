"""The API fuzzed from its own OpenAPI schema (schemathesis), against a running paper node
with portfolio limits, held orders and a deployment (the stage and promotion endpoints): no
request gets a 5xx, and a viewer's or an anonymous request changes nothing (the node's
journal gains no control action, its trading state stays, no request waits for an admin)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tradeloop.api.app import create_app
from tradeloop.api.auth import TokenStore
from tradeloop.api.stage import NodeStageDesk
from tradeloop.config import load_config
from tradeloop.engine.live import StopRequested
from tradeloop.engine.runner import prepare_run, run_paper_replay
from tradeloop.monitoring import NodeMonitor

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api-fuzz")]

ADMIN = "fuzz-admin-token-0123456789"
VIEWER = "fuzz-viewer-token-0123456789"
CONFIG = """
[run]
name = "fuzzed"
starting_cash = "100000"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2010-01-01"

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "100" }}

[approvals]
order_notional = "1000"

[risk]
daily_loss_limit_pct = 0.5
kill_switch_drawdown_pct = 0.9

[deployment]
stage = "paper"
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeMonitor]:
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "fuzzed.toml"
    path.write_text(CONFIG.format(output=tmp / "runs"))
    config = load_config(path)
    prepared = prepare_run(config, tmp)
    monitor = NodeMonitor(mode="paper", approvals=config.approvals)
    monitor.stage_desk = NodeStageDesk(config)  # GET /api/v1/stage, POST .../stage/promote
    thread = threading.Thread(
        target=run_paper_replay, args=(prepared, 86_400.0, None, 300.0, monitor)
    )
    thread.start()
    pause = threading.Event()
    while not monitor.is_running:
        pause.wait(0.02)
    try:
        yield monitor
    finally:
        if monitor._inbox is not None:
            monitor._inbox.put_control(StopRequested("the fuzz is over"))
        thread.join(60)


@pytest.fixture(scope="module")
def api_schema(node: NodeMonitor) -> Any:
    tokens = TokenStore([("root", "admin", ADMIN), ("vera", "viewer", VIEWER)])
    app = create_app(node, tokens)
    # Examples and fuzzing phases (the coverage and stateful phases would cost minutes here).
    config = SchemathesisConfig.from_dict(
        {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


# The event stream never ends while the node runs: it is read by the dashboard test.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/api/v1/stream")


def _actions(node: NodeMonitor) -> int:
    subscriber = node.subscriber
    assert subscriber is not None
    return sum(1 for a in subscriber.recent_actions if "actor" in a)


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_gets_a_5xx_and_only_an_operator_changes_anything(
    case: Any, node: NodeMonitor
) -> None:
    before = (
        _actions(node),
        node.snapshot.trading_state if node.snapshot else None,
        len(node.requests.pending),
    )
    for headers in ({}, {"Authorization": f"Bearer {VIEWER}"}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.path, response.status_code, response.text)
        if case.method.upper() not in ("GET", "HEAD", "OPTIONS"):
            # refused: no or a viewer's token, a malformed request, a method not served
            assert 400 <= response.status_code < 500, (case.path, response.text)
    after = (
        _actions(node),
        node.snapshot.trading_state if node.snapshot else None,
        len(node.requests.pending),
    )
    assert after == before
    response = case.call(headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code < 500, (case.path, response.status_code, response.text)

"""A real node: ``tradeloop paper CONFIG --replay orcl_daily --api 127.0.0.1:<free port>`` in its
own process, watched and steered over HTTP and with ``tradeloop ctl`` as an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app
from tradeloop.journal import read_records
from tradeloop.model.events import ControlActionTaken

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api-node")]

TOKEN = "test-admin-token-0123456789"
VIEWER_TOKEN = "test-viewer-token-0123456789"
CONFIG = """
[run]
name = "api-node"
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


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(
    url: str, path: str, token: str | None = None, method: str = "GET", body: Any = None
) -> tuple[int, Any]:
    """Return (status, decoded body) of one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


def wait_ready(url: str, node: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    """Wait until ``/health/ready`` answers 200."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if node.poll() is not None:
            raise AssertionError(f"the node exited: {node.stderr.read() if node.stderr else ''}")
        try:
            if call(url, "/health/ready")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise AssertionError("the node never became ready")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("api-node")
    config = tmp / "node.toml"
    config.write_text(CONFIG.format(output=tmp / "runs"))
    tokens = tmp / "tokens.toml"
    tokens.write_text(f'[[tokens]]\nname = "vera"\nrole = "viewer"\ntoken = "{VIEWER_TOKEN}"\n')
    tokens.chmod(0o600)
    port = free_port()
    env = {**os.environ, "TRADELOOP_API_TOKEN": TOKEN}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradeloop.cli",
            "paper",
            str(config),
            "--replay",
            "orcl_daily",
            "--speed",
            "432000",
            "--api",
            f"127.0.0.1:{port}",
            "--api-tokens",
            str(tokens),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url, tmp / "runs"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def test_health_metrics_and_openapi_answer_without_a_token(node: tuple[str, Path]) -> None:
    url, _ = node
    assert call(url, "/health/live")[0] == 200
    status, ready = call(url, "/health/ready")
    assert status == 200
    assert ready["checks"]["journal_writable"] is True
    status, text = call(url, "/metrics")
    assert status == 200
    assert "tradeloop_equity " in text
    assert "tradeloop_feed_up" in text
    status, schema = call(url, "/openapi.json")
    assert status == 200
    for path in ("/api/v1/status", "/api/v1/pause", "/api/v1/resume", "/api/v1/kill"):
        assert path in schema["paths"]


def test_control_without_a_valid_token_is_401_and_changes_nothing(node: tuple[str, Path]) -> None:
    url, _ = node
    before = call(url, "/api/v1/status", TOKEN)[1]["trading_state"]
    for token in (None, "wrong-token-wrong-token", TOKEN[:-1]):
        for path in ("/api/v1/pause", "/api/v1/kill", "/api/v1/cancel-all"):
            assert call(url, path, token, "POST", {"reason": "x"})[0] == 401
        assert call(url, "/api/v1/status", token)[0] == 401
    # A viewer reads but may not act.
    assert call(url, "/api/v1/status", VIEWER_TOKEN)[0] == 200
    assert call(url, "/api/v1/pause", VIEWER_TOKEN, "POST", {"reason": "x"})[0] == 403
    # Malformed bodies are 4xx and change nothing.
    assert call(url, "/api/v1/pause", TOKEN, "POST", {"reason": 5, "extra": 1})[0] == 422
    assert call(url, "/api/v1/flatten", TOKEN, "POST", {"instrument_id": "NOPE.X"})[0] == 400
    assert call(url, "/api/v1/status", TOKEN)[1]["trading_state"] == before == "ACTIVE"


def test_pause_kill_and_ctl_steer_the_node_and_every_action_is_journaled(
    node: tuple[str, Path],
) -> None:
    url, runs = node
    status, body = call(url, "/api/v1/status", TOKEN)
    assert status == 200
    assert {"trading_state", "equity", "positions"} <= set(body)
    assert isinstance(body["equity"], float)
    assert isinstance(body["positions"], list)

    runner = CliRunner()
    env = {"TRADELOOP_API_URL": url, "TRADELOOP_API_TOKEN": TOKEN}
    result = runner.invoke(app, ["ctl", "pause", "--reason", "news at 14:30"], env=env)
    assert result.exit_code == 0, result.output
    assert call(url, "/api/v1/status", TOKEN)[1]["trading_state"] == "REDUCING"
    result = runner.invoke(app, ["ctl", "status", "--json"], env=env)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["trading_state"] == "REDUCING"
    wrong = runner.invoke(app, ["ctl", "resume"], env={**env, "TRADELOOP_API_TOKEN": "bad"})
    assert wrong.exit_code != 0
    assert "401" in wrong.output

    status, killed = call(url, "/api/v1/kill", TOKEN, "POST", {"reason": "venue incident"})
    assert status == 200
    assert killed["trading_state"] == "HALTED"
    deadline = time.monotonic() + 20
    while call(url, "/api/v1/status", TOKEN)[1]["positions"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert call(url, "/api/v1/status", TOKEN)[1]["positions"] == []
    metrics = call(url, "/metrics")[1]
    assert 'tradeloop_trading_state{state="HALTED"} 1.0' in metrics
    assert 'tradeloop_control_actions_total{action="kill"} 1.0' in metrics

    journal = next(runs.glob("*/journal.sqlite"))
    deadline = time.monotonic() + 20
    actions: list[ControlActionTaken] = []
    while len(actions) < 2 and time.monotonic() < deadline:
        actions = [
            r.record for r in read_records(journal) if isinstance(r.record, ControlActionTaken)
        ]
        time.sleep(0.2)
    assert [(a.action, a.actor, a.role, a.reason) for a in actions] == [
        ("pause", "admin", "admin", "news at 14:30"),
        ("kill", "admin", "admin", "venue incident"),
    ]

"""The shipped monitoring stack: Prometheus rules and config (promtool), the Grafana dashboard
and provisioning (the Grafana Foundation SDK; Grafana itself is not installable here), and a
real Prometheus (Debian package, ``scripts/ensure-prometheus.sh``) on a loopback port scraping
a running node, through whose HTTP API every dashboard panel's PromQL must return data and
every rule must evaluate cleanly.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard
from tests.unit.api.node import TOKEN, call, free_port, running_node

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("monitoring-stack")]

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "tradeloop-rules.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "tradeloop-node.json"


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_dashboard", DEPLOY / "grafana" / "build_dashboard.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def prometheus_bin() -> Path:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-prometheus.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"Prometheus cannot be installed here: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def _panel_queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]


def test_rules_and_config_pass_promtool(prometheus_bin: Path) -> None:
    promtool = str(prometheus_bin.parent / "promtool")
    rules = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = subprocess.run(
        [promtool, "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_configs_alert_rules_export_as_prometheus_rules_that_pass_promtool(
    prometheus_bin: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from tradeloop.cli.main import app

    output = tmp_path / "run-alerts.yml"
    result = CliRunner().invoke(
        app, ["alerts", "export", str(ROOT / "examples" / "operations.toml"), "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load(output.read_text())["groups"][0]["rules"]
    assert [r["labels"]["action"] for r in rules] == ["pause", "manual_review", "emergency_stop"]
    check = subprocess.run(
        [str(prometheus_bin.parent / "promtool"), "check", "rules", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    again = CliRunner().invoke(
        app, ["alerts", "export", str(ROOT / "examples" / "operations.toml"), "-o", str(output)]
    )
    assert again.exit_code != 0
    assert "exists" in again.output


def test_the_dashboard_is_what_the_sdk_builds_and_reads_back() -> None:
    builder = _builder()
    assert DASHBOARD.read_text() == builder.render(), "run deploy/grafana/build_dashboard.py"
    data = json.loads(DASHBOARD.read_text())
    model = Dashboard.from_json(data)
    assert model.uid == "tradeloop-node"
    assert model.panels is not None
    assert len(model.panels) == len(data["panels"])
    queries = _panel_queries()
    assert len(queries) >= 20
    metrics_used = {name for _, expr in queries for name in _metric_names(expr)}
    assert {"tradeloop_equity", "tradeloop_drawdown_ratio", "tradeloop_feed_up"} <= metrics_used


def test_the_provisioning_points_the_dashboard_at_its_datasource() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    datasources = yaml.safe_load(
        (provisioning / "datasources" / "tradeloop-prometheus.yml").read_text()
    )
    providers = yaml.safe_load((provisioning / "dashboards" / "tradeloop.yml").read_text())
    assert datasources["apiVersion"] == providers["apiVersion"] == 1
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus"
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"]
    board = json.loads(DASHBOARD.read_text())
    uids = {p["datasource"]["uid"] for p in board["panels"] if "datasource" in p}
    assert uids == {source["uid"]}


def _metric_names(expr: str) -> set[str]:
    import re

    return set(re.findall(r"\b(tradeloop_[a-z_]+)", expr))


def _query(prometheus: str, expr: str) -> dict[str, Any]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = call(url, "")
    assert status == 200, (expr, body)
    result: dict[str, Any] = body
    return result


@pytest.fixture(scope="module")
def stack(
    prometheus_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("stack")
    with running_node(tmp) as (node_url, _):
        port = free_port()
        config = tmp / "prometheus.yml"
        (tmp / "tradeloop-rules.yml").write_text(RULES.read_text())
        text = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
        text = text.replace('"127.0.0.1:8780"', f'"{node_url.removeprefix("http://")}"')
        text = text.replace("scrape_interval: 5s", "scrape_interval: 1s")
        text = text.replace("evaluation_interval: 5s", "evaluation_interval: 1s")
        config.write_text(text)
        server = subprocess.Popen(
            [
                str(prometheus_bin),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        prometheus = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(prometheus, server)
            yield node_url, prometheus
        finally:
            server.terminate()
            server.communicate(timeout=30)


def _wait_ready(prometheus: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise AssertionError(f"prometheus exited: {stderr}")
        try:
            if call(prometheus, "/-/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("prometheus never became ready")


def test_a_real_prometheus_runs_every_panel_query_and_rule_against_a_running_node(
    stack: tuple[str, str],
) -> None:
    node, prometheus = stack
    # A control action, so that its counter exists; then enough scrapes for the rates.
    assert call(node, "/api/v1/pause", TOKEN, "POST", {"reason": "stack test"})[0] == 200
    assert call(node, "/api/v1/resume", TOKEN, "POST", {"reason": "stack test"})[0] == 200
    deadline = time.monotonic() + 60
    missing: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        missing = []
        for title, expr in _panel_queries():
            body = _query(prometheus, expr.replace("$instance", ".*"))
            assert body["status"] == "success", (title, expr, body)
            values = [sample["value"][1] for sample in body["data"]["result"]]
            if not values or all(v == "NaN" for v in values):
                missing.append((title, expr))
        if not missing:
            break
        time.sleep(1)
    assert not missing, f"panels without data: {missing}"

    # Every rule evaluates without error; killing the node fires the halted alert.
    assert call(node, "/api/v1/kill", TOKEN, "POST", {"reason": "stack test"})[0] == 200
    deadline = time.monotonic() + 30
    firing: set[str] = set()
    while "TradeloopTradingHalted" not in firing and time.monotonic() < deadline:
        status, alerts = call(prometheus, "/api/v1/alerts")
        assert status == 200
        firing = {a["labels"]["alertname"] for a in alerts["data"]["alerts"]}
        time.sleep(0.5)
    assert "TradeloopTradingHalted" in firing
    status, rules = call(prometheus, "/api/v1/rules")
    assert status == 200
    evaluated = [rule for group in rules["data"]["groups"] for rule in group["rules"]]
    assert len(evaluated) == 15
    assert all(rule["health"] == "ok" for rule in evaluated), [
        (r["name"], r.get("lastError")) for r in evaluated if r["health"] != "ok"
    ]

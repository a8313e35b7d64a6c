"""The shipped monitoring stack: Prometheus rules and config (promtool), the Alertmanager
config (amtool), the config's alert rules exported for Prometheus, the Grafana dashboard and provisioning (the Grafana Foundation
SDK; Grafana itself is not installable here). A real Prometheus scraping a running node runs
every panel's query in ``tests/unit/api/test_node_api.py`` (it shares that test's node), with
a real Alertmanager routing the alert a kill fires to a local webhook.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard
from tests.unit.deploy.stack import (
    DASHBOARD,
    DEPLOY,
    ROOT,
    ensure_alertmanager,
    ensure_prometheus,
    panel_queries,
)

RULES = DEPLOY / "prometheus" / "tradeloop-rules.yml"


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
    return ensure_prometheus()


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


def test_the_alertmanager_config_passes_amtool_and_routes_to_the_webhook() -> None:
    amtool = str(ensure_alertmanager().parent / "amtool")
    path = DEPLOY / "alertmanager" / "alertmanager.yml"
    check = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    routed = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={path}", "severity=critical"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert routed.returncode == 0, routed.stdout + routed.stderr
    assert routed.stdout.strip() == "tradeloop-webhook"
    config = yaml.safe_load(path.read_text())
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    [targets] = prometheus["alerting"]["alertmanagers"][0]["static_configs"]
    assert targets["targets"] == ["127.0.0.1:9093"]
    [receiver] = config["receivers"]
    assert receiver["webhook_configs"][0]["url"].startswith("http://127.0.0.1:")


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
    queries = panel_queries()
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

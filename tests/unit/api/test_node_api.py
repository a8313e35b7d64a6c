"""A real node: ``tradeloop paper CONFIG --replay orcl_daily --api 127.0.0.1:<free port>`` in its
own process, watched and steered over HTTP and with ``tradeloop ctl`` as an operator would;
then a real Prometheus (Debian package) on a loopback port scrapes it and runs every Grafana
panel's PromQL and every shipped rule through its HTTP API. Beside its moving-average
strategy the node trades a ridge model in the pipeline (trained on 2010 by the fixture), so
the drift, slippage-model, regime and agent-score panels have data, and its drift alert rule
fires and is journaled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.api.node import TOKEN, VIEWER_TOKEN, call, ensure_chromium, running_node
from tests.unit.deploy.stack import (
    panel_queries,
    query,
    running_alertmanager,
    running_prometheus,
    webhook_receiver,
)
from tests.unit.monitoring.model_node import model_sections, train
from typer.testing import CliRunner

from tradeloop.cli.main import app
from tradeloop.journal import read_records
from tradeloop.model.events import AlertRuleFired, ControlActionTaken

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api-node")]


DRIFT_ALERT = """
[[alerts]]
name = "feature-drift"
metric = "drift_psi"
op = ">"
threshold = 0.25
severity = "warning"
action = "notify"
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("api-node")
    extra = model_sections(folder / "store") + DRIFT_ALERT
    with running_node(folder, extra=extra, prepare=train) as running:
        yield running


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


def test_a_real_prometheus_runs_every_panel_query_and_rule_against_the_node(
    node: tuple[str, Path], tmp_path: Path
) -> None:
    # Last in this module: the node was paused and killed before; resuming needs an admin's
    # approval.
    url, _ = node
    with (
        webhook_receiver() as (receiver, received),
        running_alertmanager(receiver, tmp_path) as alertmanager,
        running_prometheus(url, tmp_path, alertmanager) as prometheus,
    ):
        _check_stack(url, prometheus)
        # Prometheus sent the firing alert to Alertmanager, which routed it to the webhook.
        deadline = time.monotonic() + 20
        names: set[str] = set()
        while "TradeloopTradingHalted" not in names and time.monotonic() < deadline:
            names = {
                alert["labels"]["alertname"]
                for body in list(received)
                for alert in body["alerts"]
                if alert["status"] == "firing"
            }
            time.sleep(0.2)
        assert "TradeloopTradingHalted" in names, received
        halted = next(
            alert
            for body in received
            for alert in body["alerts"]
            if alert["labels"]["alertname"] == "TradeloopTradingHalted"
        )
        assert halted["labels"]["severity"] == "critical"
        assert halted["labels"]["instance"] == url.removeprefix("http://")


def _check_stack(node: str, prometheus: str) -> None:
    # A control action, so that its counter exists; then enough scrapes for the rates.
    assert call(node, "/api/v1/pause", TOKEN, "POST", {"reason": "stack test"})[0] == 200
    # The node was killed: a resume is a restart request an admin approves.
    status, asked = call(node, "/api/v1/resume", TOKEN, "POST", {"reason": "stack test"})
    assert (status, asked["trading_state"]) == (202, "HALTED")
    status, resumed = call(node, f"/api/v1/approvals/{asked['id']}/approve", TOKEN, "POST", {})
    assert (status, resumed["trading_state"]) == (200, "ACTIVE")
    deadline = time.monotonic() + 60
    missing: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        missing = []
        for title, expr in panel_queries():
            body = query(prometheus, expr.replace("$instance", ".*"))
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
    assert len(evaluated) == 19
    assert all(rule["health"] == "ok" for rule in evaluated), [
        (r["name"], r.get("lastError")) for r in evaluated if r["health"] != "ok"
    ]


def test_drift_of_the_models_live_values_is_served_and_its_alert_rule_is_journaled(
    node: tuple[str, Path],
) -> None:
    url, runs = node
    status, body = call(url, "/api/v1/status", TOKEN)
    assert status == 200
    drift = body["drift"]
    assert {(d["model"], d["kind"]) for d in drift} >= {("ridge", "feature")}
    names = {"log_return_5", "rsi_14", "realized_vol_20", "prediction"}
    assert {d["name"] for d in drift} <= names
    for measure in drift:
        assert measure["samples"] >= 5
        assert measure["psi"] >= 0
        assert 0 <= measure["ks"] <= 1
    assert body["drift_max"]["drift_psi"] == pytest.approx(max(d["psi"] for d in drift), abs=1e-6)
    assert body["agent_scores"]["ridge"]
    metrics = call(url, "/metrics")[1]
    assert 'tradeloop_drift_psi{kind="feature",model="ridge",name="rsi_14"}' in metrics
    journal = next(runs.glob("*/journal.sqlite"))
    fired = [r.record for r in read_records(journal) if isinstance(r.record, AlertRuleFired)]
    drifted = [f for f in fired if f.rule == "feature-drift"]
    assert drifted, "the drift rule never fired"
    assert drifted[0].metric == "drift_psi"
    assert drifted[0].value > 0.25


def test_the_dashboard_shows_the_regime_the_agents_scores_and_the_models_drift(
    node: tuple[str, Path],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _ = node
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=ensure_chromium(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/")
            page.fill("#token", TOKEN)
            page.click("#connect")
            drift = page.locator("#drift tr", has_text="rsi_14")
            expect(drift).to_have_count(1, timeout=20_000)
            expect(drift.locator("td").first).to_have_text("ridge")
            status = call(url, "/api/v1/status", TOKEN)[1]
            assert status["regimes"]
            detector, regime = next(iter(status["regimes"].items()))
            expect(page.locator("#regimes")).to_contain_text(detector)
            expect(page.locator("#agents tr", has_text="ORCL.XNAS")).to_contain_text("ridge")
            expect(page.locator("#slippage-model")).to_contain_text("compared")
            assert regime["label"]
        finally:
            browser.close()

"""Alert rules of the run config on a real paper replay: firing and resolution journaled,
actions taken through the control surface, manual reviews decided by a person or by their
timeout's safe default, notifications delivered through apprise to local receivers (an
aiosmtpd SMTP server, a local HTTP webhook) while a failing one is journaled and never stops
trading. Slack and Telegram URLs point at their own hosts in apprise, so the webhook (json://)
stands in for them here.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest
from aiosmtpd.controller import Controller

from tradeloop.config import load_config
from tradeloop.config.operations import AlertRuleSection, NotificationsSection
from tradeloop.core.errors import ConfigError
from tradeloop.engine.runner import RunResult, prepare_run, run_paper_replay
from tradeloop.journal import read_records
from tradeloop.model.events import (
    AlertRaised,
    AlertRuleFired,
    AlertRuleResolved,
    ControlActionTaken,
    TradingStateChanged,
)
from tradeloop.monitoring import Actor, Message, NodeMonitor, Notifier, monitor_for

CONFIG = """
[run]
name = "alerted"
seed = 1
starting_cash = "100000"
output_dir = "{output}"

[[data]]
dataset = "orcl_daily"
start = "2010-01-01"

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 2, slow = 3, quantity = "100" }}

{rules}

[notifications]
urls = [{urls}]
min_interval_s = 0
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Webhook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        url = f"mailto://127.0.0.1:{port}?from=node@example.com&to=ops@example.com&mode=insecure"
        yield url, received
    finally:
        controller.stop()


def _wait(predicate: Any, what: str, timeout_s: float = 20.0) -> None:
    pause = threading.Event()
    waited = 0.0
    while not predicate():
        if waited > timeout_s:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.02)
        waited += 0.02


def _run(
    tmp_path: Path, rules: str, urls: list[str], seconds: float
) -> tuple[NodeMonitor, threading.Thread, dict[str, RunResult]]:
    path = tmp_path / "alerted.toml"
    quoted = ", ".join(json.dumps(url) for url in urls)
    path.write_text(CONFIG.format(output=tmp_path / "runs", rules=rules, urls=quoted))
    config = load_config(path)
    prepared = prepare_run(config, tmp_path)
    monitor = monitor_for(config, "paper", {})
    monitor.probe_interval_s = 0.05
    results: dict[str, RunResult] = {}

    def run() -> None:
        results["run"] = run_paper_replay(prepared, 432_000.0, None, seconds, monitor)
        if monitor.notifier is not None:
            monitor.notifier.close()

    thread = threading.Thread(target=run)
    thread.start()
    return monitor, thread, results


@pytest.mark.slow
def test_rules_fire_act_notify_and_resolve_and_a_review_timeout_applies_its_safe_default(
    tmp_path: Path,
    webhook: tuple[str, list[dict[str, Any]]],
    smtp: tuple[str, list[bytes]],
) -> None:
    rules = """
[[alerts]]
name = "in-position"
metric = "positions_open"
op = ">="
threshold = 1
action = "notify"
severity = "info"

[[alerts]]
name = "first-fill"
metric = "fills"
op = ">="
threshold = 1
action = "manual_review"
review_timeout_s = 0.3
review_default = "emergency_stop"
"""
    failing = f"json://127.0.0.1:{_free_port()}/nobody-listens"
    _, thread, results = _run(tmp_path, rules, [webhook[0], smtp[0], failing], 4.0)
    thread.join(60)
    journal = [r.record for r in read_records(results["run"].journal_path)]

    fired = [r for r in journal if isinstance(r, AlertRuleFired)]
    assert {f.rule for f in fired} == {"in-position", "first-fill"}
    first_fill = next(f for f in fired if f.rule == "first-fill")
    assert first_fill.value >= 1
    assert first_fill.action == "manual_review"
    actions = [(a.action, a.actor) for a in journal if isinstance(a, ControlActionTaken)]
    # paused for the review, then the timeout's default: the emergency stop
    assert actions[:2] == [("pause", "alert:first-fill"), ("kill", "alert:first-fill")]
    states = [str(s.state) for s in journal if isinstance(s, TradingStateChanged)]
    assert states[:2] == ["REDUCING", "HALTED"]
    # flattened by the kill: the position rule resolves
    resolved = [r.rule for r in journal if isinstance(r, AlertRuleResolved)]
    assert "in-position" in resolved
    # the node kept running: the market data went on after the failures and the kill
    assert results["run"].kernel.records_processed > 3

    titles = [item["title"] for item in webhook[1]]
    assert any("first-fill fired" in t for t in titles)
    assert any("in-position fired" in t for t in titles)
    assert any("resolved" in t and "in-position" in t for t in titles)
    assert any(b"first-fill fired" in mail for mail in smtp[1])
    failures = [a for a in journal if isinstance(a, AlertRaised) and a.source == "notifier"]
    assert failures
    assert all("nobody-listens" not in a.message for a in failures)  # the URL's path is left out
    assert "127.0.0.1" in failures[0].message


@pytest.mark.slow
def test_a_person_decides_a_review_through_the_monitor(tmp_path: Path) -> None:
    rules = """
[[alerts]]
name = "first-fill"
metric = "fills"
op = ">="
threshold = 1
action = "manual_review"
review_timeout_s = 600
"""
    monitor, thread, results = _run(tmp_path, rules, [], 4.0)
    try:
        _wait(lambda: bool(monitor.reviews()), "the review")
        (review,) = monitor.reviews()
        assert review["rule"] == "first-fill"
        assert review["default"] == "emergency_stop"
        with pytest.raises(ConfigError, match="no review of alert 'nope'"):
            monitor.decide("nope", "resume", Actor("alice", "operator"), "x")
        answer = monitor.decide("first-fill", "resume", Actor("alice", "operator"), "checked")
        assert answer["trading_state"] == "ACTIVE"
        assert monitor.reviews() == []
    finally:
        thread.join(60)
    journal = [r.record for r in read_records(results["run"].journal_path)]
    actions = [(a.action, a.actor, a.reason) for a in journal if isinstance(a, ControlActionTaken)]
    assert actions[0][:2] == ("pause", "alert:first-fill")
    assert actions[1] == ("resume", "alice", "review of alert first-fill: checked")


def test_the_notifier_rate_limits_per_key_and_reports_a_full_queue() -> None:
    failures: list[str] = []
    notifier = Notifier([], min_interval_s=3600, on_failure=failures.append, max_queue=1)
    notifier._queue.put(None)  # its thread ends on this: what follows stays queued
    notifier._thread.join(5)
    assert notifier.send(Message("a:fired", "a", "body"))
    assert not notifier.send(Message("a:fired", "a", "again"))  # within min_interval_s
    assert notifier.suppressed == 1
    assert not notifier.send(Message("b:fired", "b", "body"))  # the queue (1) is full
    assert notifier.dropped == 1
    assert failures == ["notification queue full: dropped 'b'"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metric": "sharpe"}, "metric 'sharpe' is not one of"),
        ({"op": "=="}, "op '==' is not one of"),
        ({"action": "sell_everything"}, "action 'sell_everything' is not one of"),
        ({"severity": "panic"}, "severity 'panic' is not one of"),
        ({"for_s": -1.0}, "for_s -1.0 must be zero or more"),
        ({"window_s": 0.0}, "window_s 0.0 must be positive"),
        ({"name": "has space"}, "name must start with a letter"),
        ({"review_default": "flatten"}, "review_default 'flatten' is not"),
    ],
)
def test_a_bad_alert_rule_is_a_config_error_naming_the_rule_and_the_value(
    change: dict[str, Any], message: str
) -> None:
    base = {"name": "dd", "metric": "drawdown_ratio", "threshold": 0.1}
    with pytest.raises(ConfigError, match=message):
        msgspec.convert({**base, **change}, type=AlertRuleSection)


def test_notification_urls_must_be_usable_at_startup() -> None:
    from tradeloop.monitoring.notify import resolve_urls

    with pytest.raises(ConfigError, match="not an apprise URL"):
        NotificationsSection(urls=["hooks.example.com"])
    with pytest.raises(ConfigError, match="TRADELOOP_HOOK is not set"):
        resolve_urls(NotificationsSection(url_envs=["TRADELOOP_HOOK"]), {})
    with pytest.raises(ConfigError, match="does not understand"):
        resolve_urls(NotificationsSection(urls=["nosuchservice://x"]), {})
    assert resolve_urls(
        NotificationsSection(url_envs=["TRADELOOP_HOOK"]), {"TRADELOOP_HOOK": "json://127.0.0.1/x"}
    ) == ["json://127.0.0.1/x"]

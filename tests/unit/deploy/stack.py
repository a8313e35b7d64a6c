"""The monitoring stack's files, and a real Prometheus and Alertmanager (Debian packages) with
a local webhook receiver for the tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.unit.api.node import call, free_port

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "tradeloop-node.json"


def ensure_prometheus() -> Path:
    """Return the prometheus executable, installing the Debian package when missing; skip the
    test with the reason when it cannot be installed."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-prometheus.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"Prometheus cannot be installed here: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def ensure_alertmanager() -> Path:
    """Return the Alertmanager executable, installing the Debian package when missing; skip
    the test with the reason when it cannot be installed."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-alertmanager.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"Alertmanager cannot be installed here: {done.stderr.strip()}")
    return Path(done.stdout.strip())


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Serve a JSON webhook on a free loopback port; yield (its URL, the bodies received)."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def _wait_ready(server: subprocess.Popen[bytes], url: str, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise AssertionError(f"{what} exited: {stderr}")
        try:
            if call(url, "/-/ready")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never became ready")
        time.sleep(0.1)


@contextlib.contextmanager
def running_alertmanager(receiver_url: str, tmp: Path) -> Iterator[str]:
    """Run Alertmanager on a free loopback port with the shipped config, its webhook pointed
    at ``receiver_url`` and its group waits cut to a second; yield its address."""
    binary = ensure_alertmanager()
    port = free_port()
    folder = tmp / "alertmanager"
    folder.mkdir()
    text = (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()
    text = text.replace('"http://127.0.0.1:9095/alerts"', json.dumps(receiver_url))
    for wait in ("group_wait: 30s", "group_wait: 5s"):
        text = text.replace(wait, "group_wait: 1s")
    config = folder / "alertmanager.yml"
    config.write_text(text)
    server = subprocess.Popen(
        [
            str(binary),
            f"--config.file={config}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_ready(server, f"http://127.0.0.1:{port}", "alertmanager")
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.communicate(timeout=30)


def panel_queries() -> list[tuple[str, str]]:
    """Return (panel title, PromQL) of every query of the shipped dashboard."""
    board = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]


def query(prometheus: str, expr: str) -> dict[str, Any]:
    """Return Prometheus's answer to an instant query."""
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = call(url, "")
    assert status == 200, (expr, body)
    result: dict[str, Any] = body
    return result


@contextlib.contextmanager
def running_prometheus(node_url: str, tmp: Path, alertmanager: str | None = None) -> Iterator[str]:
    """Run Prometheus on a free loopback port scraping ``node_url`` every second with the
    shipped rules, sending its alerts to ``alertmanager`` (host:port; None: a free port
    nothing listens on); yield its URL."""
    binary = ensure_prometheus()
    port = free_port()
    config = tmp / "prometheus.yml"
    (tmp / "tradeloop-rules.yml").write_text(
        (DEPLOY / "prometheus" / "tradeloop-rules.yml").read_text()
    )
    text = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    text = text.replace('"127.0.0.1:8780"', f'"{node_url.removeprefix("http://")}"')
    text = text.replace('"127.0.0.1:9093"', f'"{alertmanager or f"127.0.0.1:{free_port()}"}"')
    text = text.replace("scrape_interval: 5s", "scrape_interval: 1s")
    text = text.replace("evaluation_interval: 5s", "evaluation_interval: 1s")
    config.write_text(text)
    server = subprocess.Popen(
        [
            str(binary),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(server, url, "prometheus")
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=30)

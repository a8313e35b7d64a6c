"""The monitoring stack's files and a real Prometheus (Debian package) for the tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
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
def running_prometheus(node_url: str, tmp: Path) -> Iterator[str]:
    """Run Prometheus on a free loopback port scraping ``node_url`` every second with the
    shipped rules; yield its URL."""
    binary = ensure_prometheus()
    port = free_port()
    config = tmp / "prometheus.yml"
    (tmp / "tradeloop-rules.yml").write_text(
        (DEPLOY / "prometheus" / "tradeloop-rules.yml").read_text()
    )
    text = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    text = text.replace('"127.0.0.1:8780"', f'"{node_url.removeprefix("http://")}"')
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
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                stderr = server.stderr.read().decode() if server.stderr else ""
                raise AssertionError(f"prometheus exited: {stderr}")
            try:
                if call(url, "/-/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("prometheus never became ready")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=30)

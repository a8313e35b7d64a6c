"""A real node for the API and monitoring tests: ``tradeloop paper CONFIG --replay orcl_daily
--api 127.0.0.1:<free port>`` in its own process, and small HTTP helpers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TOKEN = "test-admin-token-0123456789"
VIEWER_TOKEN = "test-viewer-token-0123456789"
OPERATOR_TOKEN = "test-operator-token-0123456789"
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


def ensure_chromium() -> str:
    """Return headless Chromium's path (``scripts/ensure-chromium.sh`` installs Debian's
    package when missing); fail the test with the reason when it cannot."""
    import pytest

    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        ["bash", str(root / "scripts" / "ensure-chromium.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"headless Chromium could not be installed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


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


@contextlib.contextmanager
def running_node(
    tmp: Path,
    speed: str = "432000",
    extra: str = "",
    prepare: Callable[[Path], object] | None = None,
    config_text: str = CONFIG,
) -> Iterator[tuple[str, Path]]:
    """Run a paper replay node with ``--api`` on a free port; yield (its URL, its runs dir).

    The admin token is ``TOKEN`` (environment), the viewer ``vera`` has ``VIEWER_TOKEN`` and
    the operator ``otto`` ``OPERATOR_TOKEN`` (a 0600 tokens file); ``extra`` is appended to
    the config (``config_text``, a template with ``{output}``) and ``prepare`` is called with
    the config's path before the node starts (to train its model). The node is stopped with
    SIGINT (a clean stop) at the end.
    """
    config = tmp / "node.toml"
    config.write_text(config_text.format(output=tmp / "runs") + extra)
    if prepare is not None:
        prepare(config)
    tokens = tmp / "tokens.toml"
    tokens.write_text(
        f'[[tokens]]\nname = "vera"\nrole = "viewer"\ntoken = "{VIEWER_TOKEN}"\n'
        f'[[tokens]]\nname = "otto"\nrole = "operator"\ntoken = "{OPERATOR_TOKEN}"\n'
    )
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
            speed,
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

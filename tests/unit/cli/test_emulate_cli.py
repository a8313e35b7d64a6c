"""``tradeloop emulate binance``: a real server process on a free port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_help_documents_the_default_credentials() -> None:
    result = CliRunner().invoke(app, ["emulate", "binance", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "emulator-key" in result.output
    assert "emulator-secret" in result.output


def test_alpaca_help_documents_the_default_credentials_and_port() -> None:
    result = CliRunner().invoke(app, ["emulate", "alpaca", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "emulator-key" in result.output
    assert "emulator-secret" in result.output
    assert "8766" in result.output


def test_a_bad_fault_probability_is_one_line_and_status_2() -> None:
    result = CliRunner().invoke(app, ["emulate", "binance", "--ws-drop", "1.5"])
    assert result.exit_code == 2
    assert "ws_drop_probability 1.5 must be in [0, 1]" in result.output


@pytest.mark.slow
def test_emulate_binance_serves_on_the_given_port() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tradeloop.cli", "emulate", "binance", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v3/exchangeInfo", timeout=2
                ) as response:
                    info = json.loads(response.read())
                break
            except OSError:
                assert process.poll() is None, process.stdout and process.stdout.read()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT"]
    finally:
        process.terminate()
        process.wait(timeout=30)

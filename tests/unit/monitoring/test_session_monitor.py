"""``NodeMonitor`` on a live session against the Binance emulator, through the real ccxt
client: the feed's health comes from the data client, and a kill sent from another thread
cancels and flattens at the venue itself (reduce-only orders the emulator receives)."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tradeloop.config import load_config
from tradeloop.engine.runner import RunResult, prepare_run
from tradeloop.journal import read_records
from tradeloop.model.events import ControlActionTaken, OrderSubmitted
from tradeloop.monitoring import Actor, NodeMonitor
from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulatorConfig,
    start_binance_emulator,
)

pytest.importorskip("tradeloop.venues.ccxt")

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "live"


@pytest.fixture
def emulator() -> Iterator[str]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running.url


def _wait(predicate: Any, what: str, timeout_s: float = 30.0) -> None:
    pause = threading.Event()
    waited = 0.0
    while not predicate():
        if waited > timeout_s:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.05)
        waited += 0.05


def test_a_live_session_reports_its_feed_and_a_kill_flattens_at_the_venue(
    tmp_path: Path, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradeloop.engine.session import run_session

    monkeypatch.setenv("BINANCE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("BINANCE_SECRET", DEFAULT_SECRET)
    text = (EXAMPLES / "binance_live.toml").read_text()
    text = text.replace("http://127.0.0.1:8765", emulator)
    text = text.replace(
        'starting_cash = "100000"', f'starting_cash = "100000"\noutput_dir = "{tmp_path / "runs"}"'
    )
    text = text.replace(
        'class = "strategies/flipper.py:Flipper"',
        f'class = "{EXAMPLES / "strategies" / "flipper.py"}:Flipper"',
    )
    text = text.replace("every = 20", "every = 5")
    config = tmp_path / "live.toml"
    config.write_text(text)
    prepared = prepare_run(load_config(config), config.parent)
    monitor = NodeMonitor(mode="live", probe_interval_s=0.1)
    results: dict[str, RunResult] = {}

    def run() -> None:
        results["run"] = run_session(prepared, "live", duration_s=8.0, operations=monitor)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        _wait(lambda: monitor.readiness()[0], "a ready node")
        _, checks = monitor.readiness()
        assert checks["feeds"] == {"BINANCE": True}
        text = monitor.metrics.exposition().decode()
        assert 'tradeloop_feed_up{feed="BINANCE"} 1.0' in text
        _wait(
            lambda: (s := monitor.fresh_snapshot()) is not None and bool(s.positions),
            "a position",
        )
        killed = monitor.act("kill", Actor("alice", "operator"), "venue incident")
        assert killed["trading_state"] == "HALTED"
        assert killed["liquidation_orders"] == 1
        _wait(
            lambda: (s := monitor.fresh_snapshot()) is not None and not s.positions,
            "the venue's fill of the liquidation",
        )
    finally:
        thread.join(60)
    records = [r.record for r in read_records(results["run"].journal_path)]
    (action,) = [r for r in records if isinstance(r, ControlActionTaken)]
    assert (action.action, action.actor) == ("kill", "alice")
    sent = {r.client_order_id for r in records if isinstance(r, OrderSubmitted)}
    liquidation = next(cid for cid in sent if "-operator-" in cid)
    with urllib.request.urlopen(f"{emulator}/_emulator/orders", timeout=10) as answer:
        body = json.loads(answer.read())
    orders = body["orders"] if isinstance(body, dict) else body
    assert liquidation in {o.get("clientOrderId") for o in orders}

"""Live-clock sessions end to end against the Binance emulator, through the real ccxt client.

paper (live data, simulated venue), shadow (no order leaves) and live (orders at the
emulator, answered on its streams) each run a few seconds of the shipped example config with
its strategy that trades often; then the session replays from its journal, the secrets are
looked for in every file it wrote, and a wrong key stops the start with one clear error.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeloop.config import load_config
from tradeloop.engine.runner import RunResult, prepare_run
from tradeloop.journal import read_records
from tradeloop.journal.diff import diff_runs
from tradeloop.journal.status import run_status
from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulatorConfig,
    start_binance_emulator,
)

pytest.importorskip("tradeloop.venues.ccxt")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "live"


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running.url


def _config(tmp_path: Path, mode: str, url: str) -> Path:
    text = (EXAMPLES / f"binance_{mode}.toml").read_text()
    text = text.replace("http://127.0.0.1:8765", url)
    text = text.replace(
        'starting_cash = "100000"', f'starting_cash = "100000"\noutput_dir = "{tmp_path / "runs"}"'
    )
    text = text.replace(
        'class = "strategies/flipper.py:Flipper"',
        f'class = "{EXAMPLES / "strategies" / "flipper.py"}:Flipper"',
    )
    text = text.replace("every = 20", "every = 5")
    path = tmp_path / f"binance_{mode}.toml"
    path.write_text(text)
    return path


def _session(tmp_path: Path, mode: str, url: str, seconds: float = 6.0) -> RunResult:
    from tradeloop.engine.session import run_session

    config = _config(tmp_path, mode, url)
    prepared = prepare_run(load_config(config), config.parent)
    return run_session(prepared, mode, duration_s=seconds)


def _types(result: RunResult) -> Counter[str]:
    return Counter(type(r.record).__name__ for r in read_records(result.journal_path))


def _emulator_orders(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/_emulator/orders", timeout=10) as answer:
        body = json.loads(answer.read())
    orders = body["orders"] if isinstance(body, dict) else body
    return list(orders)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("BINANCE_SECRET", DEFAULT_SECRET)


def test_paper_on_live_data_trades_within_seconds_and_replays_from_its_journal(
    tmp_path: Path, emulator: str, keys: None
) -> None:
    before = {o.get("clientOrderId") for o in _emulator_orders(emulator)}
    result = _session(tmp_path, "paper", emulator)
    types = _types(result)
    assert types["MarketDataReceived"] > 10
    assert types["OrderFilled"] >= 1, types
    assert run_status(result.run_dir).state == "completed"
    # paper: nothing reached the venue
    assert {o.get("clientOrderId") for o in _emulator_orders(emulator)} == before
    from tradeloop.engine.from_journal import prepare_from_journal
    from tradeloop.engine.runner import run_backtest

    prepared, scope = prepare_from_journal(result.run_dir)
    replay = run_backtest(prepared, order_id_scope=scope)
    diff = diff_runs(result.run_dir, replay.run_dir, ignore_timestamps=True)
    assert diff.first_decision_divergence is None, diff.explanation
    assert diff.is_identical or diff.is_identical_after_data, diff.explanation


def test_shadow_sends_nothing_and_compares_each_fill_with_the_quote(
    tmp_path: Path, emulator: str, keys: None
) -> None:
    before = len(_emulator_orders(emulator))
    result = _session(tmp_path, "shadow", emulator)
    types = _types(result)
    assert types["ShadowFillCompared"] == types["OrderFilled"] >= 1
    assert len(_emulator_orders(emulator)) == before
    assert result.summary["shadow"]["fills"] == types["OrderFilled"]
    # Each fill is followed by the venue's trades for the markout horizon, then the report
    # gets a shadow section with the same figures.
    assert types["ShadowMarkout"] == types["OrderFilled"]
    markouts = [r.record for r in read_records(result.journal_path) if r.type == "ShadowMarkout"]
    assert any(m.trades > 0 and m.markout_bps is not None for m in markouts)  # type: ignore[attr-defined]
    from tradeloop.reports.run import RunInputs
    from tradeloop.reports.tearsheet import build_report

    files, _ = build_report(RunInputs(result.run_dir))
    metrics = json.loads(Path(files.metrics_json).read_text())["shadow"]
    assert metrics["fills"] == types["OrderFilled"]
    assert metrics["markouts"] == types["ShadowMarkout"]
    assert metrics["avg_markout_bps"] == pytest.approx(result.summary["shadow"]["avg_markout_bps"])
    assert "Shadow: simulated fills against the venue" in Path(files.html).read_text()


def test_live_orders_reach_the_venue_by_client_id_and_fills_come_back(
    tmp_path: Path, emulator: str, keys: None
) -> None:
    result = _session(tmp_path, "live", emulator)
    records = [r.record for r in read_records(result.journal_path)]
    submitted = [r.order.client_order_id for r in records if type(r).__name__ == "SubmitOrder"]
    fills = [r for r in records if type(r).__name__ == "OrderFilled"]
    assert submitted
    assert fills
    at_venue = {str(o.get("clientOrderId")) for o in _emulator_orders(emulator)}
    assert set(submitted) <= at_venue  # every order the node sent, by its own client id
    assert all(cid.startswith("O-") and cid.count("-") >= 3 for cid in submitted)  # scoped
    for path in result.run_dir.rglob("*"):  # no secret in any file the run wrote
        if path.is_file():
            data = path.read_bytes()
            assert DEFAULT_SECRET.encode() not in data, path
            assert DEFAULT_API_KEY.encode() not in data, path


def test_a_wrong_key_stops_a_live_start_with_one_clear_error_and_no_run(
    tmp_path: Path, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradeloop.cli.main import main

    monkeypatch.setenv("BINANCE_API_KEY", "not-a-key")
    monkeypatch.setenv("BINANCE_SECRET", "not-a-secret")
    config = _config(tmp_path, "live", emulator)
    monkeypatch.setattr("sys.argv", ["tradeloop", "live", str(config), "--for", "5s", "-q"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    runs = tmp_path / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []


RESTING = """\
from tradeloop.strategy import Strategy


class Resting(Strategy):
    def on_start(self) -> None:
        self.subscribe_trades("BTCUSDT.BINANCE")
        self.sent = False

    def on_trade(self, trade) -> None:
        if not self.sent:
            self.sent = True
            half = self.price("BTCUSDT.BINANCE", float(trade.price) / 2)
            self.buy("BTCUSDT.BINANCE", "0.001", half)  # far below: it rests
"""


def test_a_live_session_cancels_its_resting_orders_at_the_venue_when_it_ends(
    tmp_path: Path, emulator: str, keys: None
) -> None:
    from tradeloop.engine.session import run_session

    (tmp_path / "resting.py").write_text(RESTING)
    config = _config(tmp_path, "live", emulator)
    text = config.read_text()
    text = text[: text.index("[[strategies]]")] + '[[strategies]]\nclass = "resting.py:Resting"\n'
    config.write_text(text)
    prepared = prepare_run(load_config(config), config.parent)
    result = run_session(prepared, "live", duration_s=4.0)
    records = [r.record for r in read_records(result.journal_path)]
    names = [type(r).__name__ for r in records]
    assert "CancelOrder" in names
    canceled = [r for r in records if type(r).__name__ == "OrderCanceled"]
    assert len(canceled) == 1  # the venue's answer arrived before the node closed
    (order_id,) = {r.order.client_order_id for r in records if type(r).__name__ == "SubmitOrder"}
    at_venue = [o for o in _emulator_orders(emulator) if o.get("clientOrderId") == order_id]
    assert [str(o.get("status")).upper() for o in at_venue] == ["CANCELED"]

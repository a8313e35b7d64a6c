"""Order-book feeds in live-clock sessions: a paper session on a live book replays from its
journal with the same decisions, and a live session's book lives in the market data cache
(not in a simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeloop.config import load_config
from tradeloop.engine.from_journal import prepare_from_journal
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.journal.diff import diff_runs
from tradeloop.model.enums import BookAction, BookSide
from tradeloop.model.events import MarketDataReceived
from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulatorConfig,
    start_binance_emulator,
)

pytest.importorskip("tradeloop.venues.ccxt")

pytestmark = pytest.mark.slow

FLIPPER = Path(__file__).resolve().parents[3] / "examples" / "live" / "strategies" / "flipper.py"

CONFIG = """
[run]
name = "book"
starting_cash = "100000"
base_currency = "USDT"
output_dir = "{out}"

[connections.BINANCE]
kind = "ccxt"
exchange = "binance"
base_url = "{url}"
api_key_env = "BINANCE_API_KEY"
secret_env = "BINANCE_SECRET"

[[feeds]]
connection = "BINANCE"
instrument_id = "BTCUSDT.BINANCE"
kinds = ["trades", "book"]

[venue]
fidelity = "book"
commission = {{ kind = "bps", bps = 10.0 }}

[deployment]
stage = "pilot"

[[strategies]]
class = "{flipper}:Flipper"
params = {{ instrument_id = "BTCUSDT.BINANCE", quantity = "0.001", every = 5 }}
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running.url


def _session(tmp_path: Path, url: str, mode: str, monkeypatch: pytest.MonkeyPatch) -> RunResult:
    from tradeloop.engine.session import run_session

    monkeypatch.setenv("BINANCE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("BINANCE_SECRET", DEFAULT_SECRET)
    path = tmp_path / "book.toml"
    path.write_text(CONFIG.format(out=tmp_path / "runs", url=url, flipper=FLIPPER))
    return run_session(prepare_run(load_config(path), tmp_path), mode, duration_s=5.0)


def test_a_paper_session_on_a_live_book_replays_with_the_same_decisions(
    tmp_path: Path, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _session(tmp_path, emulator, "paper", monkeypatch)
    deltas = [
        r.record.delta
        for r in read_records(result.journal_path)
        if isinstance(r.record, MarketDataReceived) and r.record.delta is not None
    ]
    assert deltas[0].action is BookAction.CLEAR  # the snapshot comes first
    assert result.summary["fills"] >= 1
    prepared, scope = prepare_from_journal(result.run_dir)
    replay = run_backtest(prepared, order_id_scope=scope)
    diff = diff_runs(result.run_dir, replay.run_dir, ignore_timestamps=True)
    assert diff.first_decision_divergence is None, diff.explanation


def test_a_live_session_keeps_its_book_in_the_cache_not_in_a_simulator(
    tmp_path: Path, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _session(tmp_path, emulator, "live", monkeypatch)
    kernel = result.kernel
    bids = kernel.cache.book_levels("BTCUSDT.BINANCE", BookSide.BID)
    asks = kernel.cache.book_levels("BTCUSDT.BINANCE", BookSide.ASK)
    assert bids
    assert asks
    assert bids[0][0] < asks[0][0]
    assert kernel.venues["BINANCE"].displayed_levels("BTCUSDT.BINANCE", BookSide.BID) == []
    assert result.summary["fills"] >= 1


RESTER = '''
from tradeloop.core.fixed import Price
from tradeloop.model import TradeTick
from tradeloop.strategy import Strategy, StrategyConfig


class Rester(Strategy):
    """One limit buy far below the market, on the first print: it rests until the stop."""

    class Config(StrategyConfig, frozen=True, kw_only=True):
        instrument_id: str

    def on_start(self) -> None:
        self.sent = False
        self.subscribe_trades(self.config.instrument_id)

    def on_trade(self, trade: TradeTick) -> None:
        if not self.sent:
            self.sent = True
            price = Price(trade.price.raw // 2, trade.price.precision)
            self.buy(self.config.instrument_id, "0.001", price)
'''


def test_the_replay_of_a_session_cancels_at_its_end_what_the_session_cancelled_at_its_stop(
    tmp_path: Path, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradeloop.engine.session import run_session

    monkeypatch.setenv("BINANCE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("BINANCE_SECRET", DEFAULT_SECRET)
    (tmp_path / "rester.py").write_text(RESTER)
    text = CONFIG.format(out=tmp_path / "runs", url=emulator, flipper=FLIPPER)
    text = text.replace(f'class = "{FLIPPER}:Flipper"', 'class = "rester.py:Rester"')
    text = text.replace(', quantity = "0.001", every = 5', "")
    path = tmp_path / "rester.toml"
    path.write_text(text)
    result = run_session(prepare_run(load_config(path), tmp_path), "paper", duration_s=3.0)
    stops = [
        r.record
        for r in read_records(result.journal_path)
        if r.type == "CancelOrder" and "stopping" in r.record.reason  # type: ignore[attr-defined]
    ]
    assert len(stops) == 1
    prepared, scope = prepare_from_journal(result.run_dir)
    replay = run_backtest(prepared, order_id_scope=scope)
    types = [r.type for r in read_records(replay.journal_path)]
    assert types[-4:-1] == ["CancelOrder", "OrderPendingCancel", "OrderCanceled"]
    diff = diff_runs(result.run_dir, replay.run_dir, ignore_timestamps=True)
    assert diff.first_decision_divergence is None, diff.explanation

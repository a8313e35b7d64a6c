"""Live sessions against the Binance emulator (spot and USD-M), through the real ccxt client:
a new run journals the venue's baseline, a resume compares the venue's balances (spot) and
position (USD-M) with the baseline plus the run's fills, and an account changed behind the
node's back between two sessions is a ``ReconciliationBreak`` with both values that halts
the node."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradeloop.config import load_config
from tradeloop.engine.runner import RunResult, prepare_run
from tradeloop.journal import read_records
from tradeloop.model.enums import TradingState
from tradeloop.model.events import (
    ReconciliationBreak,
    TradingStateChanged,
    VenueBaselineRecorded,
)
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


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("BINANCE_SECRET", DEFAULT_SECRET)


def _config(tmp_path: Path, example: str, url: str) -> Path:
    text = (EXAMPLES / example).read_text()
    text = text.replace("http://127.0.0.1:8765", url)
    text = text.replace(
        'starting_cash = "100000"', f'starting_cash = "100000"\noutput_dir = "{tmp_path / "runs"}"'
    )
    text = text.replace(
        'class = "strategies/flipper.py:Flipper"',
        f'class = "{EXAMPLES / "strategies" / "flipper.py"}:Flipper"',
    )
    text = text.replace("every = 20", "every = 3")
    path = tmp_path / example
    path.write_text(text)
    return path


def _session(config: Path, seconds: float, resume: Path | None = None) -> RunResult:
    from tradeloop.engine.session import run_session

    prepared = prepare_run(load_config(config), config.parent)
    return run_session(prepared, "live", duration_s=seconds, resume=resume)


def _control(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _records(result: RunResult) -> list[Any]:
    return [row.record for row in read_records(result.journal_path)]


def test_a_spot_balance_changed_between_sessions_is_a_break_on_resume(
    tmp_path: Path, emulator: str, keys: None
) -> None:
    config = _config(tmp_path, "binance_live.toml", emulator)
    before = {
        b["asset"]: Decimal(b["free"]) for b in _control(emulator, "/_emulator/balances")["spot"]
    }
    first = _session(config, 3.0)
    records = _records(first)
    (baseline,) = [r for r in records if isinstance(r, VenueBaselineRecorded)]
    assert baseline.venue == "BINANCE"
    assert {c: Decimal(v) for c, v in baseline.balances} == {c: v for c, v in before.items() if v}
    assert [r for r in records if type(r).__name__ == "OrderFilled"], "the flipper should trade"
    run_dir = first.journal_path.parent

    second = _session(config, 1.0, resume=run_dir)  # nothing changed: no break
    assert not [r for r in _records(second) if isinstance(r, ReconciliationBreak)]

    _control(emulator, "/_emulator/transfer", {"asset": "USDT", "amount": "-25.5"})
    third = _session(config, 1.0, resume=run_dir)
    records = _records(third)
    (found,) = [r for r in records if isinstance(r, ReconciliationBreak)]
    assert (found.kind, found.subject, found.action) == ("balance", "BINANCE USDT", "halted")
    local = Decimal(found.local.split()[0])
    venue = Decimal(found.venue.split()[0])
    assert local - venue == Decimal("25.5")
    assert any(
        isinstance(r, TradingStateChanged) and r.state is TradingState.HALTED for r in records
    )
    assert len([r for r in records if isinstance(r, VenueBaselineRecorded)]) == 1  # kept


def test_a_usdm_position_changed_between_sessions_is_a_break_on_resume(
    tmp_path: Path, emulator: str, keys: None
) -> None:
    config = _config(tmp_path, "binance_perp_live.toml", emulator)
    first = _session(config, 3.0)
    run_dir = first.journal_path.parent
    assert [r for r in _records(first) if isinstance(r, VenueBaselineRecorded)]
    _control(emulator, "/_emulator/transfer", {"market": "usdm", "position": "0.002"})
    second = _session(config, 1.0, resume=run_dir)
    found = [r for r in _records(second) if isinstance(r, ReconciliationBreak)]
    assert [(b.kind, b.subject) for b in found] == [("position", "BTCUSDT.BINANCE")]
    assert Decimal(found[0].venue) - Decimal(found[0].local) == Decimal("0.002")

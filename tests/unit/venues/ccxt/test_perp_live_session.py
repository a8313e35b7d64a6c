"""A short ``tradeloop live`` session on the Binance USD-M perpetual against the emulator:
the shipped ``examples/live/binance_perp_live.toml`` (``market_type = "swap"``, stage pilot)
goes short and buys back through the real ccxt client; every order reaches the emulator's
futures account by tradeloop's client order id, the closing orders are reduce-only, and the
fills come back on the futures user stream."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradeloop.config import load_config
from tradeloop.engine.runner import prepare_run
from tradeloop.journal import read_records
from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulatorConfig,
    start_binance_emulator,
)

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "live"


@pytest.fixture
def emulator_url() -> Iterator[str]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running.url


def _usdm_orders(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_emulator/orders?market=usdm", timeout=10) as answer:
        return list(json.loads(answer.read()))


def test_a_live_session_on_the_perpetual_goes_short_and_buys_back(
    tmp_path: Path, emulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradeloop.engine.session import run_session

    monkeypatch.setenv("BINANCE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("BINANCE_SECRET", DEFAULT_SECRET)
    text = (EXAMPLES / "binance_perp_live.toml").read_text()
    text = text.replace("http://127.0.0.1:8765", emulator_url)
    text = text.replace(
        'starting_cash = "100000"', f'starting_cash = "100000"\noutput_dir = "{tmp_path / "runs"}"'
    )
    text = text.replace(
        'class = "strategies/flipper.py:Flipper"',
        f'class = "{EXAMPLES / "strategies" / "flipper.py"}:Flipper"',
    )
    text = text.replace("every = 20", "every = 5")
    config = tmp_path / "binance_perp_live.toml"
    config.write_text(text)
    result = run_session(prepare_run(load_config(config), config.parent), "live", duration_s=6.0)

    records = [r.record for r in read_records(result.journal_path)]
    submitted = [r.order for r in records if type(r).__name__ == "SubmitOrder"]
    fills = [r for r in records if type(r).__name__ == "OrderFilled"]
    assert len(submitted) >= 2, "the session should open a short and buy it back"
    assert fills
    assert not [r for r in records if type(r).__name__ in ("OrderDenied", "OrderRejected")]
    first = submitted[0]
    assert first.side.name == "SELL"  # flat: the flipper goes short on the perpetual
    at_venue = {o["clientOrderId"]: o for o in _usdm_orders(emulator_url)}
    assert {o.client_order_id for o in submitted} <= set(at_venue)  # the USD-M account
    closes = [o for o in submitted if o.side.name == "BUY"]
    assert closes
    assert all(at_venue[o.client_order_id]["reduceOnly"] for o in closes)
    assert Decimal(at_venue[first.client_order_id]["origQty"]) == first.quantity.as_decimal()
    filled_ids = {f.client_order_id for f in fills}
    assert all(at_venue[cid]["status"] == "FILLED" for cid in filled_ids)

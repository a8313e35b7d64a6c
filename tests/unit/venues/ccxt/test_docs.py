"""docs/venues.md stays true: its connection table converts and its example runs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import msgspec
import pytest

from tradeloop.venues.ccxt import CcxtConnectionConfig, is_loopback

DOC = (Path(__file__).resolve().parents[4] / "docs" / "venues.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_documented_connection_table_converts() -> None:
    [table] = _blocks("toml")
    config = msgspec.convert(tomllib.loads(table)["connections"]["BINANCE"], CcxtConnectionConfig)
    assert config.exchange == "binance"
    assert is_loopback(config)


def test_the_documented_example_runs_against_the_emulator(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    [example] = _blocks("python")
    for name in ("BINANCE_API_KEY", "BINANCE_SECRET"):  # restored after the example sets them
        monkeypatch.setenv(name, "unset")
    exec(compile(example, "docs/venues.md", "exec"), {"__name__": "docs_example"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "OrderAccepted "
    assert any(line.startswith("OrderFilled ") and line.split()[1].isdigit() for line in lines)
    assert "BalanceReport(venue='BINANCE', currency='BTC'" in lines[-1]

"""``tradeloop bench live`` runs the live loop end to end and reports its documented keys.

A small run: the figures themselves are measured by ``make bench``, never asserted here.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app, main


def test_bench_live_reports_throughput_and_tick_to_order_for_every_order() -> None:
    result = CliRunner().invoke(
        app,
        ["bench", "live", "--messages", "2000", "--orders", "20", "--round-trips", "5", "--json"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["inbox"]["messages"] == figures["inbox"]["dispatched"] == 2000
    assert figures["inbox"]["strategy_saw"] == 2000
    assert figures["tick_to_order"]["orders"] == 20
    assert 0 < figures["tick_to_order"]["p50_us"] <= figures["tick_to_order"]["p99_us"]
    assert figures["round_trip"]["orders"] == 5


def test_bench_live_refuses_a_run_too_small_to_measure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["tradeloop", "bench", "live", "--messages", "10"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "--messages 10 must be between 1,000 and 100,000,000" in capsys.readouterr().err

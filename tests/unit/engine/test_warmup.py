"""``run.trading_start``: data before it warms strategies up, no order goes out, and the
measured period (equity curve, metrics) starts there."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tradeloop.config import load_config
from tradeloop.core import ConfigError, parse_time
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import OrderDenied, OrderFilled

CONFIG = """
[run]
name = "warmup"
output_dir = "{out}"
{run}

[[data]]
dataset = "orcl_daily"
start = "2010-01-01"
end = "2012-12-31"

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["ORCL.XNAS"], fast = 5, slow = 20, quantity = "100" }}
"""


def run(tmp_path: Path, run_section: str) -> RunResult:
    path = tmp_path / "warmup.toml"
    path.write_text(CONFIG.format(out=tmp_path / "runs", run=run_section))
    return run_backtest(prepare_run(load_config(path), tmp_path))


def test_no_order_goes_out_before_trading_start_and_metrics_start_there(tmp_path: Path) -> None:
    start = parse_time("2011-07-01")
    result = run(tmp_path, 'trading_start = "2011-07-01"')
    records = [r.record for r in read_records(result.journal_path)]
    denied = [r for r in records if isinstance(r, OrderDenied)]
    assert denied  # the strategy wanted to trade during the warm-up
    assert {r.reason for r in denied} == {
        "warm-up: trading starts at 2011-07-01T00:00:00.000000000Z"
    }
    assert all(r.ts_init < start for r in denied)
    fills = [r for r in records if isinstance(r, OrderFilled)]
    assert fills
    assert min(f.ts_event for f in fills) >= start
    # The equity curve and the metrics start at the last close before trading_start.
    with open(result.run_dir / "equity.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["ts"] == "2011-06-30T20:00:00.000000000Z"
    assert float(rows[0]["equity"]) == 100_000.0
    summary = result.summary
    assert summary["measured_from"] == "2011-06-30T20:00:00.000000000Z"
    assert summary["trading_start"] == "2011-07-01T00:00:00.000000000Z"
    assert summary["net"]["total_return"] == pytest.approx(summary["total_return"], rel=1e-12)


def test_without_trading_start_everything_is_measured(tmp_path: Path) -> None:
    result = run(tmp_path, "")
    assert result.summary["measured_from"] == "2010-01-04T21:00:00.000000000Z"
    assert "trading_start" not in result.summary


def test_a_bad_trading_start_stops_the_run_at_startup(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.format(out=tmp_path, run='trading_start = "July 2011"'))
    with pytest.raises(ConfigError, match="run trading_start"):
        load_config(path)

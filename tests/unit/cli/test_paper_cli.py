"""``tradeloop paper CONFIG --replay DATA`` gives the backtest's orders and fills, through the CLI.

The runs go through ``cli.main`` → ``engine.runner.run_paper_replay`` (the live clock, the
replay feed on its own thread, the paper journal with durable commands), not only the kernel.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.unit.cli.journals import fills, order_records
from typer.testing import CliRunner

from tradeloop.cli.main import _replace_data, app
from tradeloop.config import load_config

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
ORDER_MIX = ROOT / "tests" / "data" / "strategies" / "order_mix.py"
EXAMPLE = ROOT / "examples" / "sma_orcl.toml"


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "mix.toml"
    config.write_text(
        f"""
[run]
name = "mix"
seed = 3
starting_cash = "1000000"
output_dir = "{tmp_path / "runs"}"

[[data]]
dataset = "orcl_daily"
start = "2011-01-01"
end = "2012-12-31"

[venue]
market_fill = "next_open"
commission = {{ kind = "per_share", per_share = "0.005", minimum = "1.00" }}
slippage = {{ kind = "bps", bps = 2.0 }}

[risk]
allow_short_cash = true

[[strategies]]
class = "{ORDER_MIX}:OrderMix"
params = {{ instrument_id = "ORCL.XNAS", quantity = "1000", fast = 3, slow = 10, rest_bars = 2 }}
"""
    )
    return config


def _run(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def test_paper_replay_through_the_runner_gives_the_backtests_orders_and_fills(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    backtest = _run(["backtest", str(config)])
    # Two years of daily bars at 10^8 × real time: about 0.6 s of replay.
    paper = _run(["paper", str(config), "--replay", "orcl_daily", "--speed", "100000000"])

    assert paper["mode"] == "paper"
    assert paper["records"] == backtest["records"] == 501  # the config's start/end are kept
    backtest_fills, paper_fills = fills(str(backtest["run_dir"])), fills(str(paper["run_dir"]))
    kinds = Counter(fill[1] for fill in backtest_fills)
    assert {"MARKET", "LIMIT", "STOP_MARKET", "STOP_LIMIT"} <= set(kinds), kinds
    assert paper_fills == backtest_fills
    backtest_orders = order_records(str(backtest["run_dir"]))
    assert sum(1 for kind, _ in backtest_orders if kind == "OrderCanceled") > 10
    assert order_records(str(paper["run_dir"])) == backtest_orders
    for key in ("orders", "fills", "buys", "sells", "final_equity", "realized_pnl", "fees"):
        assert paper[key] == backtest[key], key


def test_replaying_the_configs_own_dataset_keeps_its_start_and_end() -> None:
    config = load_config(EXAMPLE)
    replaced = _replace_data(config, "orcl_daily", EXAMPLE.parent)
    assert replaced.data == config.data
    assert replaced.data[0].start == "2005-01-01"


def test_replaying_another_dataset_carries_the_only_entrys_start_and_end() -> None:
    config = load_config(EXAMPLE)
    replaced = _replace_data(config, "nvda_daily", EXAMPLE.parent)
    assert [(s.dataset, s.start, s.end) for s in replaced.data] == [
        ("nvda_daily", "2005-01-01", None)
    ]

"""Capital stages in a run: strategies see the stage's part of the capital, the risk engine
holds exposure to it, and the summary says which stage the run traded at."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.config import load_config
from tradeloop.core import ConfigError
from tradeloop.engine.deployment import check_stage, resolve_stage
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import OrderDenied

CONFIG = """
[run]
name = "staged"
output_dir = "{out}"

[[data]]
dataset = "orcl_daily"
start = "2010-01-01"
end = "2010-03-31"

[[strategies]]
class = "sizer.py:Sizer"
params = {{ instrument_id = "ORCL.XNAS" }}
{deployment}
"""

STRATEGY = '''
from tradeloop.model import Bar
from tradeloop.strategy import Strategy, StrategyConfig


class Sizer(Strategy):
    """Buys half of the equity it sees, then asks for three times more (past any stage)."""

    class Config(StrategyConfig, frozen=True, kw_only=True):
        instrument_id: str

    def on_start(self) -> None:
        self.seen: list[tuple[float, float, float]] = []
        self.sized: list[int] = []
        self.subscribe_bars(self.config.instrument_id)

    def on_bar(self, bar: Bar) -> None:
        iid = self.config.instrument_id
        self.seen.append((self.equity.as_float(), self.cash.as_float(), bar.close.as_float()))
        if self.is_flat(iid) and not self.open_orders(iid) and not self.sized:
            quantity = int(self.equity.as_float() * 0.5 / bar.close.as_float())
            self.sized.append(quantity)
            self.buy(iid, str(quantity))
            self.buy(iid, str(quantity * 3))
'''


def run(tmp_path: Path, deployment: str) -> RunResult:
    (tmp_path / "sizer.py").write_text(STRATEGY)
    path = tmp_path / "staged.toml"
    path.write_text(CONFIG.format(out=tmp_path / "runs", deployment=deployment))
    return run_backtest(prepare_run(load_config(path), tmp_path))


def test_at_pilot_strategies_size_from_a_tenth_of_the_capital(tmp_path: Path) -> None:
    result = run(tmp_path, '[deployment]\nstage = "pilot"')
    strategy = result.kernel.strategies[0]
    equity, cash, close = strategy.seen[0]  # type: ignore[attr-defined]
    assert equity == pytest.approx(10_000.0)  # 10 % of 100,000
    assert cash == pytest.approx(10_000.0)
    assert strategy.sized == [int(5_000 / close)]  # type: ignore[attr-defined]
    # After the buy, the equity it sees is still a tenth of the account's, and its cash is
    # what is left of that budget.
    equity, cash, _ = strategy.seen[-1]  # type: ignore[attr-defined]
    account = result.kernel.portfolio.equity().as_float()
    assert equity == pytest.approx(account * 0.10, rel=1e-9)
    position_value = account - result.kernel.portfolio.cash / 1e9
    assert cash == pytest.approx(account * 0.10 - position_value, rel=1e-9)
    denied = [r.record for r in read_records(result.journal_path) if r.type == "OrderDenied"]
    assert len(denied) == 1
    assert isinstance(denied[0], OrderDenied)
    assert "exceeds the capital of stage pilot (0.1 × equity = 10,000.00)" in denied[0].reason
    assert result.summary["deployment"] == {"stage": "pilot", "fraction": 0.1, "live": True}


def test_without_a_deployment_strategies_see_the_whole_account(tmp_path: Path) -> None:
    result = run(tmp_path, "")
    equity, _, _close = result.kernel.strategies[0].seen[0]  # type: ignore[attr-defined]
    assert equity == pytest.approx(100_000.0)
    assert "deployment" not in result.summary


def test_live_needs_a_live_stage(tmp_path: Path) -> None:
    (tmp_path / "sizer.py").write_text(STRATEGY)
    path = tmp_path / "staged.toml"
    path.write_text(CONFIG.format(out=tmp_path / "runs", deployment=""))
    with pytest.raises(ConfigError, match=r"live trading needs a \[deployment\] table"):
        check_stage(load_config(path), "live")
    path.write_text(
        CONFIG.format(out=tmp_path / "runs", deployment='[deployment]\nstage = "shadow"')
    )
    with pytest.raises(ConfigError, match="stage 'shadow' does not trade real orders"):
        check_stage(load_config(path), "live")
    check_stage(load_config(path), "paper")  # simulated stages run paper and shadow


def test_the_ledger_decides_the_stage_of_the_next_session(tmp_path: Path) -> None:
    path = tmp_path / "staged.toml"
    (tmp_path / "sizer.py").write_text(STRATEGY)
    path.write_text(
        CONFIG.format(out=tmp_path / "runs", deployment='[deployment]\nstage = "paper"')
    )
    config = load_config(path)
    assert resolve_stage(config).deployment.stage == "paper"  # type: ignore[union-attr]
    ledger = tmp_path / "runs" / "deployments" / "staged.jsonl"
    ledger.parent.mkdir(parents=True)
    line = (
        '{"at":"x","at_ns":1,"from_stage":"shadow","to_stage":"pilot","approved_by":"a",'
        '"host":"h","run":"r","gates":[]}\n'
    )
    ledger.write_text(line)
    assert resolve_stage(config).deployment.stage == "pilot"  # type: ignore[union-attr]
    ledger.write_text(line + "not json\n")
    with pytest.raises(ConfigError, match=r"staged\.jsonl line 2 is not a promotion"):
        resolve_stage(config)

"""Per-venue accounts: each venue's buys spend its own cash, checked by the risk engine; the
accounts add up to the run's starting cash; the summary shows each venue's cash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.config import load_config
from tradeloop.core import ConfigError
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import OrderDenied, OrderFilled

CONFIG = """
[run]
name = "accounts"
output_dir = "{out}"
starting_cash = "{total}"

[[data]]
dataset = "orcl_daily"
start = "2012-01-01"
end = "2012-02-28"

[[data]]
dataset = "spy_daily"
start = "2012-01-01"
end = "2012-02-28"

[[strategies]]
class = "buyer.py:Buyer"
params = {{}}

{accounts}
"""

STRATEGY = '''
from tradeloop.model import Bar
from tradeloop.strategy import Strategy, StrategyConfig


class Buyer(Strategy):
    """Buys 40,000 of SPY twice, then 20,000 of ORCL, on its first bars."""

    class Config(StrategyConfig, frozen=True, kw_only=True):
        pass

    def on_start(self) -> None:
        self.done = False
        self.subscribe_bars("SPY.ARCX")
        self.subscribe_bars("ORCL.XNAS")

    def on_bar(self, bar: Bar) -> None:
        if self.done or bar.instrument_id != "SPY.ARCX":
            return
        self.done = True
        spy = int(40_000 / bar.close.as_float())
        self.buy("SPY.ARCX", str(spy))
        self.buy("SPY.ARCX", str(spy))
        orcl = self.last_price("ORCL.XNAS")
        if orcl is not None:
            self.buy("ORCL.XNAS", str(int(20_000 / orcl.as_float())))
'''

ACCOUNTS = """
[accounts.ARCX]
starting_cash = "50000"

[accounts.XNAS]
starting_cash = "50000"
"""


def _config(tmp_path: Path, accounts: str, total: str = "100000") -> Path:
    (tmp_path / "buyer.py").write_text(STRATEGY)
    path = tmp_path / "accounts.toml"
    path.write_text(CONFIG.format(out=tmp_path / "runs", accounts=accounts, total=total))
    return path


def _run(tmp_path: Path, accounts: str) -> RunResult:
    path = _config(tmp_path, accounts)
    return run_backtest(prepare_run(load_config(path), tmp_path))


def test_a_venue_buys_with_its_own_cash(tmp_path: Path) -> None:
    result = _run(tmp_path, ACCOUNTS)
    records = [r.record for r in read_records(result.journal_path)]
    denied = [r for r in records if isinstance(r, OrderDenied)]
    assert len(denied) == 1
    assert denied[0].instrument_id == "SPY.ARCX"
    assert "but free cash in the ARCX account is" in denied[0].reason
    fills = [r for r in records if isinstance(r, OrderFilled)]
    assert {f.instrument_id for f in fills} == {"SPY.ARCX", "ORCL.XNAS"}
    accounts = result.summary["accounts"]
    spent = {
        venue: sum(
            f.last_px.as_float() * f.last_qty.as_float() + f.commission.as_float()
            for f in fills
            if f.instrument_id.endswith(venue)
        )
        for venue in ("ARCX", "XNAS")
    }
    assert accounts["ARCX"]["cash"] == pytest.approx(50_000 - spent["ARCX"], abs=1e-6)
    assert accounts["XNAS"]["cash"] == pytest.approx(50_000 - spent["XNAS"], abs=1e-6)
    total = accounts["ARCX"]["cash"] + accounts["XNAS"]["cash"]
    assert total == pytest.approx(result.kernel.portfolio.cash / 1e9, abs=1e-6)


def test_one_account_for_all_venues_lets_the_second_buy_through(tmp_path: Path) -> None:
    result = _run(tmp_path, "")
    assert not [r for r in read_records(result.journal_path) if r.type == "OrderDenied"]
    assert "accounts" not in result.summary


@pytest.mark.parametrize(
    ("accounts", "total", "message"),
    [
        ('[accounts.ARCX]\nstarting_cash = "100000"', "100000", "venue XNAS trades instruments"),
        (ACCOUNTS, "90000", r"add up to 100000 but run starting_cash is 90000"),
        (
            ACCOUNTS + '\n[accounts.BINANCE]\nstarting_cash = "1"',
            "100001",
            r"\[accounts\.BINANCE\] names a venue where no instrument trades",
        ),
        ('[accounts.ARCX]\nstarting_cash = "-5"', "100000", "accounts starting_cash -5"),
    ],
)
def test_account_mistakes_stop_the_run_at_startup(
    tmp_path: Path, accounts: str, total: str, message: str
) -> None:
    path = _config(tmp_path, accounts, total)
    with pytest.raises(ConfigError, match=message):
        prepare_run(load_config(path), tmp_path)
    assert not (tmp_path / "runs").exists()

"""The kernel on the canonical benchmark job: exact trades and equity, and determinism."""

import hashlib
from pathlib import Path

from tradeloop.bench import job
from tradeloop.bench.sma import run_job
from tradeloop.core import Money, TestClock
from tradeloop.costs import CommissionConfig
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.journal import MemoryJournal, RunManifest, SqliteJournal
from tradeloop.model import OrderFilled, OrderSide
from tradeloop.risk import RiskConfig
from tradeloop.strategy import SmaCross
from tradeloop.venues import SimVenueConfig


def test_canonical_job_on_100k_bars_gives_the_published_trades_and_equity(tmp_path: Path) -> None:
    # docs/benchmark-job.md: every engine that follows the rules gets 1936 entries and 996,037.57 at 100k bars.
    result = run_job([job.make_bars(100_000, 42)], tmp_path, "100k")
    assert result["trades"] == 1936
    assert result["sells"] == 1936
    assert round(result["final_equity"], 2) == 996_037.57


def test_generated_data_has_the_documented_exact_tie_count() -> None:
    assert job.exact_ties(job.make_bars(100_000, 42)) == 1


def _run(journal_path: Path, n: int) -> None:
    instrument = job.instrument("S000")
    journal = SqliteJournal(
        journal_path,
        RunManifest(
            run_id="r", mode="backtest", config_hash="h", config_json="{}", seed=1, code_version="0"
        ),
    )
    kernel = Kernel(
        clock=TestClock(),
        journal=journal,
        instruments={instrument.id: instrument},
        starting_cash=Money.from_str("1000000", "USD"),
        venue_config=SimVenueConfig(commission=CommissionConfig(kind="bps", bps=10)),
        risk_config=RiskConfig(),
        strategies=[SmaCross(SmaCross.Config(instrument_ids=[instrument.id]))],
    )
    kernel.run_backtest(merge([job.make_bars(n, 42)]))
    journal.close()


def test_same_config_data_and_seed_give_a_byte_identical_journal(tmp_path: Path) -> None:
    _run(tmp_path / "a.sqlite", 20_000)
    _run(tmp_path / "b.sqlite", 20_000)
    a, b = ((tmp_path / n).read_bytes() for n in ("a.sqlite", "b.sqlite"))
    assert len(a) > 100_000
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()


def test_multi_asset_run_shares_one_account_and_sums_the_single_runs() -> None:
    sources = [job.make_bars(3_000, 1000 + i, f"S{i:03d}") for i in range(3)]
    singles = 0.0
    for columns in sources:
        singles += _equity_of([columns]) - 1_000_000
    assert abs(_equity_of(sources) - (1_000_000 + singles)) < 1e-6


def _equity_of(sources: list) -> float:  # type: ignore[type-arg]
    instruments = {c.instrument_id: job.instrument(c.instrument_id.split(".")[0]) for c in sources}
    journal = MemoryJournal()
    kernel = Kernel(
        clock=TestClock(),
        journal=journal,
        instruments=instruments,
        starting_cash=Money.from_str("1000000", "USD"),
        venue_config=SimVenueConfig(commission=CommissionConfig(kind="bps", bps=10)),
        risk_config=RiskConfig(),
        strategies=[SmaCross(SmaCross.Config(instrument_ids=sorted(instruments)))],
    )
    kernel.run_backtest(merge(sources))
    fills = [r for r in journal.records if isinstance(r, OrderFilled)]
    assert fills
    assert all(f.order_side in (OrderSide.BUY, OrderSide.SELL) for f in fills)
    return kernel.portfolio.equity().as_float()

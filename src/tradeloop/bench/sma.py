"""``tradeloop bench sma``: the canonical job through the full event-driven loop.

Every bar goes through the kernel: the simulated venue, the portfolio's marks, the bus, the
strategy's two SMAs (exact, on fixed-point closes) and its cross rule; every order through
the order manager and the risk engine; every command and event into the SQLite journal
(written by its writer process). Data generation is timed apart from the run.
"""

from __future__ import annotations

import gc
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradeloop import __version__
from tradeloop.bench import job
from tradeloop.core.clock import TestClock
from tradeloop.core.fixed import Money
from tradeloop.costs.fees import CommissionConfig
from tradeloop.data.columns import BarColumns
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.store import SqliteJournal
from tradeloop.strategy.sma_cross import SmaCross
from tradeloop.venues.sim.config import SimVenueConfig


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def run_job(
    sources: list[BarColumns],
    journal_dir: Path,
    size_label: str,
    attach: Callable[[Kernel], None] | None = None,
) -> dict[str, Any]:
    """Run the job on ``sources`` and return the result record; ``attach`` is called with the
    kernel before the run (``bench.monitoring`` attaches the node's monitoring there)."""
    instruments = {c.instrument_id: job.instrument(c.instrument_id.split(".")[0]) for c in sources}
    manifest = RunManifest(
        run_id=f"bench-sma-{size_label}",
        mode="backtest",
        config_hash="bench",
        config_json="{}",
        seed=0,
        code_version=__version__,
    )
    journal = SqliteJournal(journal_dir / "journal.sqlite", manifest)
    strategy = SmaCross(
        SmaCross.Config(
            instrument_ids=sorted(instruments), fast=job.FAST, slow=job.SLOW, quantity=job.QUANTITY
        )
    )
    kernel = Kernel(
        clock=TestClock(),
        journal=journal,
        instruments=instruments,
        starting_cash=Money.from_str(job.STARTING_CASH, "USD"),
        venue_config=SimVenueConfig(
            commission=CommissionConfig(kind="bps", bps=job.COMMISSION_BPS)
        ),
        risk_config=job.risk_config(instruments),
        strategies=[strategy],
    )
    if attach is not None:
        attach(kernel)
    bars = sum(len(c) for c in sources)
    gc.collect()
    gc.freeze()  # setup objects never need scanning again; one process runs one job
    start = time.perf_counter()
    cpu_start = time.process_time()
    thread_start = time.thread_time()
    try:
        kernel.run_backtest(merge(sources))
        journal.close()
    finally:
        gc.unfreeze()  # let shutdown (and a caller's later runs) collect them again
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    thread_cpu_seconds = time.thread_time() - thread_start
    counts = kernel.order_manager.order_counts()
    entries, exits = counts["filled_buy"], counts["filled_sell"]
    return {
        "engine": "tradeloop",
        "version": __version__,
        "size": size_label,
        "bars": bars,
        "trades": entries,
        "sells": exits,
        "final_equity": round(kernel.portfolio.equity().as_float(), 4),
        "seconds": round(seconds, 4),
        "cpu_seconds": round(cpu_seconds, 4),
        "kernel_thread_cpu_seconds": round(thread_cpu_seconds, 4),
        "bars_per_s": round(bars / seconds, 1),
        "journal_records": journal.count,
        "peak_rss_mb": round(_rss_mb(resource.RUSAGE_SELF), 1),
        "journal_writer_peak_rss_mb": round(journal.writer_peak_rss_mb, 1),
        "ties": "exact (fixed-point SMAs)",
    }


def job_sources(bars: int | None = None, multi: bool = False) -> tuple[list[BarColumns], str]:
    """Return the job's data (``bench_sma``'s choice of set) and its size label."""
    if multi:
        return job.make_multi(), "multi"
    count = 1_000_000 if bars is None else bars
    return [job.make_bars(count, 42)], {100_000: "100k", 1_000_000: "1m"}.get(count, str(count))


def bench_sma(bars: int | None = None, multi: bool = False) -> dict[str, Any]:
    """Generate the job's data and run it; return the JSON-ready result.

    ``bars`` selects the single-symbol series (100,000 or 1,000,000 in the job; any size
    works); ``multi`` runs the 100 × 10,000 multi-asset set on one shared account.
    """
    start = time.perf_counter()
    sources, label = job_sources(bars, multi)
    generate_s = time.perf_counter() - start
    ties = sum(job.exact_ties(c) for c in sources)
    with tempfile.TemporaryDirectory(prefix="tradeloop-bench-") as tmp:
        result = run_job(sources, Path(tmp), label)
    result["generate_s"] = round(generate_s, 4)
    result["sma_exact_ties"] = ties
    return result

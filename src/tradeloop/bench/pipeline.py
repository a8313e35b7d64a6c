"""``tradeloop bench pipeline``: the multi-agent pipeline's speed, per stage and end to end.

Two workloads:

- ``demo``: the demo config (4 stocks + SPY, daily bars 2003–2013, HMM regime, beta hedge);
- ``multi``: the canonical job's multi-asset data (100 symbols × 10,000 one-minute bars), the
  pipeline trading S001–S099 with S000 as benchmark, rebalancing every 60 bars.

Stages call each other synchronously through the bus, so each stage's time is measured
*exclusive* of the stages it triggers (a timing stack). Figures: milliseconds per rebalance
for each stage, and records per second for the whole run (journal on).
"""

from __future__ import annotations

import gc
import resource
import tempfile
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import msgspec

from tradeloop.bench import job
from tradeloop.config.loader import load_config
from tradeloop.core.clock import TestClock
from tradeloop.core.fixed import Money
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.runner import prepare_run, run_backtest
from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.store import SqliteJournal
from tradeloop.pipeline.config import BetaSpec, ConstructionSpec, PipelineConfig, RegimeSpec
from tradeloop.pipeline.strategy import Pipeline
from tradeloop.risk.engine import RiskConfig
from tradeloop.venues.sim.config import SimVenueConfig


class StageProfiler:
    """Exclusive wall time per stage (a stack subtracts the time of nested stages)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[float]] = []

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``function`` timed under ``name``."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [time.perf_counter(), 0.0]
            self._stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                self._stack.pop()
                elapsed = time.perf_counter() - frame[0]
                self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - frame[1]
                self.calls[name] = self.calls.get(name, 0) + 1
                if self._stack:
                    self._stack[-1][1] += elapsed

        return timed


def _instrument_stages(pipeline: Pipeline, profiler: StageProfiler) -> None:
    """Replace the stages' entry points with timed ones (after ``on_start``)."""
    targets = {
        "beta": (pipeline.beta_stage, "run"),
        "regime": (pipeline.regime_stage, "on_bar"),
        "signals": (pipeline.signal_stage, "on_betas"),
        "ensemble": (pipeline.ensemble_stage, "on_signals"),
        "portfolio": (pipeline.target_stage, "on_scores"),
        "risk_review": (pipeline.risk_stage, "on_targets"),
        "risk_in_trade": (pipeline.risk_stage, "on_bar"),
        "risk_portfolio": (pipeline.risk_stage, "on_step"),
        "costs": (pipeline.cost_stage, "on_review"),
        "execution": (pipeline.execution_stage, "on_costs"),
        "execution_algos": (pipeline.execution_stage, "on_bar"),
    }
    bus_handlers = {"on_betas", "on_signals", "on_scores", "on_targets", "on_review", "on_costs"}
    for name, (stage, method) in targets.items():
        original = getattr(stage, method)
        timed = profiler.wrap(name, original)
        setattr(stage, method, timed)
        if method in bus_handlers:
            bus = pipeline.ctx._kernel.bus  # type: ignore[attr-defined]
            for sub in bus._subscriptions:
                if sub.handler == original:
                    sub.handler = timed
            bus._resolved.clear()
            bus.version += 1


class _ProfiledPipeline(Pipeline):
    profiler: StageProfiler

    def on_start(self) -> None:
        super().on_start()
        _instrument_stages(self, self.profiler)


def _result(
    name: str, records: int, seconds: float, profiler: StageProfiler, rebalances: int
) -> dict[str, Any]:
    per_rebalance = {
        stage: round(total / max(1, rebalances) * 1000, 3)
        for stage, total in sorted(profiler.seconds.items())
    }
    return {
        "bench": "pipeline",
        "workload": name,
        "records": records,
        "rebalances": rebalances,
        "seconds": round(seconds, 3),
        "records_per_s": round(records / seconds, 1),
        "stage_ms_per_rebalance": per_rebalance,
        "stage_seconds": {k: round(v, 3) for k, v in sorted(profiler.seconds.items())},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }


def bench_demo() -> dict[str, Any]:
    """Run the demo config with stage timing."""
    config = load_config(Path(str(files("tradeloop.cli").joinpath("demo.toml"))))
    profiler = StageProfiler()
    with tempfile.TemporaryDirectory(prefix="tradeloop-bench-") as tmp:
        config = msgspec.structs.replace(
            config, run=msgspec.structs.replace(config.run, output_dir=tmp)
        )
        prepared = prepare_run(config)
        pipeline = prepared.strategies[0]
        assert isinstance(pipeline, Pipeline)
        profiled = _ProfiledPipeline(pipeline.config, strategy_id=pipeline.id)
        profiled.load_plugins(prepared.base_dir)
        profiled.profiler = profiler
        prepared.strategies[0] = profiled
        start = time.perf_counter()
        result = run_backtest(prepared)
        seconds = time.perf_counter() - start
    return _result("demo", result.records, seconds, profiler, profiled.rebalances)


def bench_multi() -> dict[str, Any]:
    """Run the pipeline on the canonical multi-asset data (100 × 10,000 one-minute bars)."""
    sources = job.make_multi()
    instruments = {c.instrument_id: job.instrument(c.instrument_id.split(".")[0]) for c in sources}
    ids = sorted(instruments)
    params = PipelineConfig(
        universe=ids[1:],
        benchmark=ids[0],
        rebalance_every=60,
        history_bars=300,
        regime=RegimeSpec(detector="rules"),
        beta=BetaSpec(window=60),
        construction=ConstructionSpec(lookback=60, max_weight=0.05),
    )
    profiler = StageProfiler()
    pipeline = _ProfiledPipeline(params, strategy_id="pipeline")
    pipeline.profiler = profiler
    with tempfile.TemporaryDirectory(prefix="tradeloop-bench-") as tmp:
        manifest = RunManifest(
            run_id="bench-pipeline-multi",
            mode="backtest",
            config_hash="bench",
            config_json="{}",
            seed=0,
            code_version="bench",
        )
        journal = SqliteJournal(Path(tmp) / "journal.sqlite", manifest)
        kernel = Kernel(
            clock=TestClock(),
            journal=journal,
            instruments=instruments,
            starting_cash=Money.from_str("10000000", "USD"),
            venue_config=SimVenueConfig(),
            risk_config=RiskConfig(allow_short_cash=True),
            strategies=[pipeline],
        )
        gc.collect()
        start = time.perf_counter()
        kernel.run_backtest(merge(sources))
        journal.close()
        seconds = time.perf_counter() - start
    return _result(
        "multi_100x10k", kernel.records_processed, seconds, profiler, pipeline.rebalances
    )


def bench_pipeline(workload: str = "demo") -> dict[str, Any]:
    """Run one workload (``demo`` or ``multi``) and return its figures."""
    if workload == "demo":
        return bench_demo()
    if workload == "multi":
        return bench_multi()
    raise ValueError(f"pipeline bench workload {workload!r} is not demo or multi")


__all__ = ["StageProfiler", "bench_pipeline"]

"""Benchmarks: the canonical job of docs/benchmark-job.md through the full loop, the pipeline,
order-book replay, the venue's fidelity levels, the live loop and the options library.

Each benchmark module loads on first use: a benchmark's process should carry only what the
benchmark runs (peak memory is one of the figures).
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from tradeloop.bench.book import bench_book_replay
    from tradeloop.bench.options import bench_options
    from tradeloop.bench.pipeline import StageProfiler, bench_pipeline
    from tradeloop.bench.sma import bench_sma, run_job

_LAZY: dict[str, str] = {
    "bench_book_replay": "tradeloop.bench.book",
    "bench_options": "tradeloop.bench.options",
    "StageProfiler": "tradeloop.bench.pipeline",
    "bench_pipeline": "tradeloop.bench.pipeline",
    "bench_sma": "tradeloop.bench.sma",
    "run_job": "tradeloop.bench.sma",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.bench has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "StageProfiler",
    "bench_book_replay",
    "bench_options",
    "bench_pipeline",
    "bench_sma",
    "run_job",
]

"""Benchmarks: the canonical job of shared/bench/JOB.md through the full loop."""

from tradeloop.bench.book import bench_book_replay
from tradeloop.bench.sma import bench_sma, run_job

__all__ = ["bench_book_replay", "bench_sma", "run_job"]

"""``tradeloop bench sma --monitoring``: the canonical job with the node's monitoring and API on
vs off, and the cost of a ``/metrics`` scrape.

Steps:

1. generate the job's data once (``bench.sma.job_sources``);
2. ``repeats`` times, alternating: run the job plain (off), then with a ``NodeMonitor``
   attached to the kernel's bus and its API served on loopback while a scraper process (as
   Prometheus is one) fetches ``/metrics`` every ``scrape_interval_s`` (on; default 1 s:
   five times as often as the shipped Prometheus config). The server answers one scrape
   before the run (a node's first answer loads the request path once, at its start). Each
   run's wall and CPU seconds (the process's: the server's threads included) are kept;
   reported are the best of each side (the machine is shared: the best run is the least
   disturbed one) and the median of the pairs' CPU ratios (each pair ran back to back), of
   the process and of the kernel's thread alone;
3. time ``scrapes`` HTTP fetches of ``/metrics`` with a snapshot of ``instruments``
   positions and feeds (the node's largest exposition at that size).
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from tradeloop.bench.sma import job_sources, run_job
from tradeloop.engine.kernel import Kernel
from tradeloop.monitoring.monitor import NodeMonitor
from tradeloop.monitoring.snapshot import FeedHealth

Serve = Callable[[NodeMonitor], contextlib.AbstractContextManager[str]]
"""Serve a monitor's API; the context yields its base URL (the CLI passes the real server)."""


class _BacktestNode:
    # What the monitor attaches to in a backtest: the kernel, no inbox, no feeds.
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.inbox = None
        self.data_clients: list[Any] = []


def _fetch(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
    return time.perf_counter() - start


_SCRAPER = """
import sys, time, urllib.request
url, interval = sys.argv[1], float(sys.argv[2])
while True:
    time.sleep(interval)
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
    print(time.perf_counter() - start, flush=True)
"""


@contextlib.contextmanager
def _scraping(url: str, interval_s: float) -> Iterator[list[float]]:
    # The scraper is a process of its own, as Prometheus is: the node's process pays for
    # answering the scrapes, not for making them.
    times: list[float] = []
    scraper = subprocess.Popen(
        [sys.executable, "-c", _SCRAPER, url, str(interval_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield times
    finally:
        scraper.terminate()
        output, _ = scraper.communicate(timeout=10)
        times.extend(float(line) for line in output.split())


def bench_monitoring(
    serve: Serve,
    bars: int | None = None,
    multi: bool = False,
    *,
    repeats: int = 5,
    scrape_interval_s: float = 1.0,
    instruments: int = 100,
    scrapes: int = 200,
) -> dict[str, Any]:
    """Run the comparison (module docstring); return the JSON-ready result."""
    sources, label = job_sources(bars, multi)
    off: list[dict[str, Any]] = []
    on: list[dict[str, Any]] = []
    during: list[float] = []
    scrape: dict[str, Any] = {}
    for index in range(repeats):
        with tempfile.TemporaryDirectory(prefix="tradeloop-bench-") as tmp:
            off.append(run_job(sources, Path(tmp), label))
        monitor = NodeMonitor(mode="bench")
        with serve(monitor) as url, tempfile.TemporaryDirectory(prefix="tradeloop-bench-") as tmp:

            def attach(kernel: Kernel, monitor: NodeMonitor = monitor) -> None:
                monitor.attach(_BacktestNode(kernel))

            _fetch(url + "/metrics")  # the first answer, as a node gives it at its start
            with _scraping(url + "/metrics", scrape_interval_s) as times:
                on.append(run_job(sources, Path(tmp), label, attach))
            during.extend(times)
            if index == repeats - 1:
                scrape = _scrape_figures(monitor, url, instruments, scrapes)
    best_off = min(off, key=lambda r: r["seconds"])
    best_on = min(on, key=lambda r: r["seconds"])
    best_off_cpu = min(r["cpu_seconds"] for r in off)
    best_on_cpu = min(r["cpu_seconds"] for r in on)
    return {
        "size": label,
        "bars": best_off["bars"],
        "repeats": repeats,
        "off_seconds": best_off["seconds"],
        "on_seconds": best_on["seconds"],
        "slowdown_pct": round(100 * (best_on["seconds"] / best_off["seconds"] - 1), 2),
        "off_cpu_seconds": best_off_cpu,
        "on_cpu_seconds": best_on_cpu,
        "cpu_slowdown_pct": round(100 * (best_on_cpu / best_off_cpu - 1), 2),
        "kernel_thread_cpu_slowdown_pct_median_pair": round(
            100
            * (
                statistics.median(
                    b["kernel_thread_cpu_seconds"] / a["kernel_thread_cpu_seconds"]
                    for a, b in zip(off, on, strict=True)
                )
                - 1
            ),
            2,
        ),
        "cpu_slowdown_pct_median_pair": round(
            100
            * (
                statistics.median(
                    b["cpu_seconds"] / a["cpu_seconds"] for a, b in zip(off, on, strict=True)
                )
                - 1
            ),
            2,
        ),
        "off_bars_per_s": best_off["bars_per_s"],
        "on_bars_per_s": best_on["bars_per_s"],
        "same_result": all(
            (r["final_equity"], r["trades"], r["sells"])
            == (off[0]["final_equity"], off[0]["trades"], off[0]["sells"])
            for r in off + on
        ),
        "scrapes_during_runs": len(during),
        "scrape_during_run_ms_p50": round(1e3 * statistics.median(during), 3) if during else None,
        **scrape,
    }


def _scrape_figures(
    monitor: NodeMonitor, url: str, instruments: int, scrapes: int
) -> dict[str, Any]:
    # The latest snapshot with `instruments` positions and feeds: the exposition's size grows
    # with both (two series per instrument, two per feed).
    snap = monitor.snapshot
    assert snap is not None
    positions = tuple(
        {
            "instrument_id": f"SYM{i:03d}.XNAS",
            "strategy_id": "bench",
            "side": "LONG",
            "signed_quantity": "100",
            "mark_price": "10.00",
            "value": 1000.0,
            "unrealized_pnl": 0.0,
            "realized_pnl": 0.0,
        }
        for i in range(instruments)
    )
    feeds = tuple(
        FeedHealth(f"feed-{i:03d}", "connected", 0.1, 1000, True) for i in range(instruments)
    )
    monitor._snapshot = replace(snap, positions=positions, feeds=feeds)
    text = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    times = sorted(_fetch(url + "/metrics") for _ in range(scrapes))
    return {
        "scrape_instruments": instruments,
        "scrape_series": sum(1 for line in text.splitlines() if line and line[0] != "#"),
        "scrape_bytes": len(text.encode()),
        "scrape_ms_p50": round(1e3 * times[len(times) // 2], 3),
        "scrape_ms_p99": round(1e3 * times[min(len(times) - 1, int(len(times) * 0.99))], 3),
    }

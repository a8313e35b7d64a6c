"""``bench sma --monitoring`` runs the job with monitoring off and on (same orders, same
equity) and scrapes ``/metrics`` of a snapshot with 100 instruments (figures only: no timing
is asserted here; ``make bench`` reports them)."""

from __future__ import annotations

from tradeloop.bench.monitoring import bench_monitoring
from tradeloop.cli.ops import serve_for_bench


def test_monitoring_on_and_off_give_the_same_run_and_the_scrape_covers_100_instruments() -> None:
    result = bench_monitoring(serve_for_bench, 5_000, repeats=1, scrapes=5)
    assert result["same_result"] is True
    assert result["bars"] == 5_000
    assert result["scrape_instruments"] == 100
    # two series per instrument's position and two per feed, besides the node's own
    assert result["scrape_series"] > 400
    for key in ("off_seconds", "on_seconds", "scrape_ms_p50", "scrape_ms_p99"):
        assert result[key] > 0

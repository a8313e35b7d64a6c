"""``bench.book`` on the USD-M slice (kept here: the books package owns the data slices)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.bench.book import bench_book_replay


def test_bench_book_replay_times_parse_and_replay_apart_and_checks_the_result(
    books: Path,
) -> None:
    result = bench_book_replay(books / "binance-usdm-btcusdt-20240808-head.gz", repeat=1)
    assert result["market"] == "usdm"
    assert result["deltas"] == 49069
    assert result["seconds"] > 0
    assert result["parse_s"] > 0
    assert result["deltas_per_s"] > 0
    # End to end (file to book) is the parse plus the replay, so it is slower than either.
    assert result["end_to_end_seconds"] == pytest.approx(
        result["parse_s"] + result["seconds"], abs=2e-4
    )
    assert result["end_to_end_deltas_per_s"] < min(
        result["deltas_per_s"], result["parse_deltas_per_s"]
    )
    assert result["matches_python_book"] is True
    assert result["top_agrees_with_book_ticker"] == 1.0

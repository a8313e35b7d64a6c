"""The microstructure part of ``tradeloop bench models`` counts what it timed."""

from pathlib import Path

from tradeloop.bench.micro import bench_micro, micro_features
from tradeloop.features import MICRO_KINDS

RECORDING = Path(__file__).parents[2] / "data" / "books" / "binance-spot-btcusdt-20240808-head.gz"


def test_the_micro_bench_times_every_event_kind_and_bar_of_the_recording() -> None:
    record = bench_micro(RECORDING, repeat=1)
    assert {d.kind for d in micro_features().definitions} >= set(MICRO_KINDS)
    assert (record["bars"], record["book_deltas"], record["quotes"], record["trades"]) == (
        119,
        39_191,
        9_784,
        2_543,
    )
    assert set(record["online"]) >= {
        "ns_per_book_event",
        "ns_per_quote",
        "ns_per_trade",
        "us_per_bar",
    }
    assert all(value > 0 for value in record["online"].values())
    assert record["bulk"]["events_per_s"] > 0

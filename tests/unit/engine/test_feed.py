"""The record stream: several sources merged in kernel order (ts_init, kind, source, row)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.data.columns import BarColumns, TradeColumns
from tradeloop.engine.feed import KIND_PRIORITY, build_records, merge
from tradeloop.model.data import Bar

MINUTE = 60_000_000_000


def _bars(symbol: str, ts: list[int], precision: int, lag_ns: int) -> BarColumns:
    n = len(ts)
    close = np.arange(n, dtype=np.int64) * 3 + 1000
    stamps = np.array(ts, dtype=np.int64)
    return BarColumns(
        f"{symbol}.SIM",
        precision,
        0,
        stamps,
        stamps + lag_ns,
        close - 1,
        close + 2,
        close - 2,
        close,
        np.arange(n, dtype=np.int64) + 1,
    )


def _expected(sources: list[BarColumns | TradeColumns]) -> list[object]:
    # The definition: every record keyed by (ts_init, kind, source, row), sorted.
    keyed = []
    for index, columns in enumerate(sources):
        for row, record in enumerate(build_records(columns, 0, len(columns))):
            keyed.append(((record.ts_init, KIND_PRIORITY[type(columns)], index, row), record))
    keyed.sort(key=lambda pair: pair[0])
    return [record for _, record in keyed]


timestamps = st.lists(st.integers(0, 40), min_size=0, max_size=30).map(
    lambda minutes: [m * MINUTE for m in sorted(minutes)]
)


@settings(max_examples=60, deadline=None)
@given(
    series=st.lists(
        st.tuples(timestamps, st.integers(0, 4), st.sampled_from([0, 0, 7])), min_size=2, max_size=5
    ),
    window=st.integers(1, 25),
)
def test_merged_bar_sources_come_in_kernel_order_whatever_the_window(
    series: list[tuple[list[int], int, int]], window: int
) -> None:
    sources = [_bars(f"S{i}", ts, p, lag) for i, (ts, p, lag) in enumerate(series)]
    chunks = list(merge(sources, window_rows=window).chunks())
    merged = [record for chunk in chunks for record in chunk]
    assert merged == _expected(sources)
    assert all(type(record) is Bar for record in merged)
    if sum(1 for source in sources if len(source)) < 2:
        return  # one source is served in plain slices of its rows
    # Merging several sources, a timestamp never straddles two chunks.
    seen: set[int] = set()
    for chunk in chunks:
        stamps = {record.ts_init for record in chunk}
        assert not stamps & seen
        seen |= stamps


def test_bars_and_trades_merge_with_trades_first_on_a_tie() -> None:
    bars = _bars("A", [0, MINUTE, 2 * MINUTE], 2, 0)
    stamps = np.array([MINUTE, MINUTE, 3 * MINUTE], dtype=np.int64)
    trades = TradeColumns(
        "A.SIM",
        2,
        0,
        stamps,
        stamps,
        np.array([1000, 1001, 1002], dtype=np.int64),
        np.array([1, 2, 3], dtype=np.int64),
        np.array([1, 2, 1], dtype=np.int8),
        ["t1", "t2", "t3"],
    )
    merged = [r for chunk in merge([bars, trades], window_rows=2).chunks() for r in chunk]
    assert merged == _expected([bars, trades])
    assert [type(r).__name__ for r in merged] == [
        "Bar",
        "TradeTick",
        "TradeTick",
        "Bar",
        "Bar",
        "TradeTick",
    ]

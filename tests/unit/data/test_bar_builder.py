"""BarBuilder: one bar per interval with trades, closed by a later trade or by time; no
duplicate or missing bar when a feed repeats trades; bulk and incremental agree."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core.errors import InvalidValueError
from tradeloop.data.bar_builder import BarBuilder, BuilderTrade, bars_from_trades

SEC = 1_000_000_000
MIN = 60 * SEC


def trade(n: int, price: int, size: int, ts: int) -> BuilderTrade:
    return BuilderTrade(str(n), price, size, ts)


def test_a_bar_closes_when_the_first_trade_of_a_later_interval_arrives() -> None:
    builder = BarBuilder("X.SIM", MIN, 2, 3)
    assert builder.on_trade(trade(1, 100, 5, 10 * SEC)) == []
    assert builder.on_trade(trade(2, 105, 1, 20 * SEC)) == []
    assert builder.on_trade(trade(3, 95, 2, 30 * SEC)) == []
    assert builder.on_trade(trade(4, 101, 3, 50 * SEC)) == []
    [bar] = builder.on_trade(trade(5, 110, 1, 3 * MIN + 1))  # a gap: no bars for empty minutes
    assert (bar.open_raw, bar.high_raw, bar.low_raw, bar.close_raw) == (100, 105, 95, 101)
    assert bar.volume_raw == 11
    assert bar.ts_event == MIN  # the interval's end
    assert bar.trades == 4
    assert bar.to_bar(77).ts_init == 77
    [last] = builder.flush()
    assert last.ts_event == 4 * MIN
    assert builder.flush() == []


def test_time_closes_a_bar_after_its_interval_end_plus_the_grace() -> None:
    builder = BarBuilder("X.SIM", MIN, 2, 3, grace_ns=2 * SEC)
    builder.on_trade(trade(1, 100, 5, 10 * SEC))
    assert builder.on_time(MIN) == []
    assert builder.on_time(MIN + SEC) == []
    [bar] = builder.on_time(MIN + 2 * SEC)
    assert bar.ts_event == MIN
    assert builder.on_time(10 * MIN) == []  # nothing open: no empty bar


def test_repeated_and_late_trades_are_counted_not_added() -> None:
    builder = BarBuilder("X.SIM", MIN, 2, 3)
    builder.on_trade(trade(1, 100, 5, 10 * SEC))
    builder.on_trade(trade(1, 100, 5, 10 * SEC))  # the feed sent it again (a reconnect)
    [bar] = builder.on_trade(trade(2, 101, 1, MIN + SEC))
    assert bar.volume_raw == 5
    assert builder.duplicates == 1
    assert builder.on_trade(trade(3, 99, 1, 30 * SEC)) == []  # its bar is closed already
    assert builder.late == 1
    [second] = builder.flush()
    assert second.volume_raw == 1


def test_open_and_close_follow_trade_time_not_arrival_order() -> None:
    builder = BarBuilder("X.SIM", MIN, 2, 3)
    builder.on_trade(trade(2, 200, 1, 20 * SEC))
    builder.on_trade(trade(1, 100, 1, 10 * SEC))  # arrived after a later trade
    [bar] = builder.flush()
    assert (bar.open_raw, bar.close_raw) == (100, 200)


def test_bad_interval_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="interval_ns 0 must be positive"):
        BarBuilder("X.SIM", 0, 2, 3)


trades_strategy = st.lists(
    st.tuples(
        st.integers(0, 30),  # trade id (repeats happen)
        st.integers(1, 1000),
        st.integers(1, 50),
        st.integers(0, 10 * MIN),
    ),
    max_size=80,
).map(lambda rows: [trade(n, p, s, t) for n, p, s, t in rows])


@settings(max_examples=150, deadline=None)
@given(trades=trades_strategy, cuts=st.lists(st.integers(0, 80), max_size=6))
def test_feeding_trades_in_pieces_gives_the_same_bars_as_all_at_once(
    trades: list[BuilderTrade], cuts: list[int]
) -> None:
    bulk = bars_from_trades(trades, "X.SIM", MIN, 2, 3)
    builder = BarBuilder("X.SIM", MIN, 2, 3)
    incremental = []
    bounds = sorted({0, len(trades), *(min(c, len(trades)) for c in cuts)})
    for start, end in itertools.pairwise(bounds):
        for item in trades[start:end]:
            incremental.extend(builder.on_trade(item))
    incremental.extend(builder.flush())
    assert incremental == bulk
    ends = [bar.ts_event for bar in bulk]
    assert ends == sorted(set(ends))  # one bar per interval, in order
    assert sum(bar.trades for bar in bulk) + builder.duplicates + builder.late == len(trades)

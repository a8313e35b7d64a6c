"""The numba replay kernel against the pure-Python ``L2Book``, on real and random streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core import DataIntegrityError, InvalidValueError
from tradeloop.data.books import (
    BookDeltaColumns,
    apply_deltas,
    read_binance_depth,
    read_bybit_orderbook,
    replay_l2,
)
from tradeloop.model.book import NULL_PRICE, BookFlag, L2Book
from tradeloop.model.enums import BookSide, OrderSide

ADD, UPDATE, DELETE, CLEAR, TRADE = 1, 2, 3, 4, 7
IGNORE = int(BookFlag.IGNORE_MISSING)
SNAPSHOT = int(BookFlag.SNAPSHOT)
LAST = int(BookFlag.LAST)


def python_tops(columns: BookDeltaColumns) -> tuple[list[tuple[int, int, int, int]], L2Book]:
    book = L2Book(columns.instrument_id, columns.price_precision, columns.size_precision)
    tops = []
    for row in range(len(columns)):
        apply_deltas(book, columns, start=row, stop=row + 1)
        bid, ask = book.best_bid_raw(), book.best_ask_raw()
        tops.append(
            (
                bid[0] if bid else NULL_PRICE,
                bid[1] if bid else 0,
                ask[0] if ask else NULL_PRICE,
                ask[1] if ask else 0,
            )
        )
    return tops, book


def kernel_tops(columns: BookDeltaColumns) -> list[tuple[int, int, int, int]]:
    replay = replay_l2(columns)
    assert replay.bid_price is not None
    assert replay.bid_size is not None
    assert replay.ask_price is not None
    assert replay.ask_size is not None
    return list(
        zip(
            replay.bid_price.tolist(),
            replay.bid_size.tolist(),
            replay.ask_price.tolist(),
            replay.ask_size.tolist(),
            strict=True,
        )
    )


def assert_same_as_python(columns: BookDeltaColumns) -> None:
    tops, book = python_tops(columns)
    assert kernel_tops(columns) == tops
    replay = replay_l2(columns, emit_top=False)
    assert replay.bid_price is None
    for side in (BookSide.BID, BookSide.ASK):
        assert replay.levels_raw(side) == book.levels_raw(side)


def test_kernel_equals_python_book_after_every_delta_of_a_real_bybit_stream(books: Path) -> None:
    assert_same_as_python(read_bybit_orderbook(books / "xrpusdt-ob500.data.zip").deltas)


def test_kernel_final_book_equals_python_book_on_a_real_binance_stream(books: Path) -> None:
    deltas = read_binance_depth(books / "binance-usdm-btcusdt-20240808-head.gz").deltas
    replay = replay_l2(deltas)
    book = L2Book(deltas.instrument_id, deltas.price_precision, deltas.size_precision)
    apply_deltas(book, deltas)
    for side in (BookSide.BID, BookSide.ASK):
        assert replay.levels_raw(side) == book.levels_raw(side)
    last = len(deltas) - 1
    assert replay.bid_price is not None
    assert replay.bid_size is not None
    assert (int(replay.bid_price[last]), int(replay.bid_size[last])) == book.best_bid_raw()
    # The replayed book keeps its analytics: to_book() is an L2Book.
    rebuilt = replay.to_book()
    assert rebuilt.fill_estimate(OrderSide.BUY, 10_000) == book.fill_estimate(OrderSide.BUY, 10_000)


@st.composite
def l2_streams(draw: st.DrawFn) -> BookDeltaColumns:
    """A valid random L2 stream: adds of new levels, updates, deletes, clears, prints."""
    levels: dict[int, set[int]] = {1: set(), 2: set()}
    rows: list[tuple[int, int, int, int, int, int]] = []
    sequence = 0
    tick = draw(st.sampled_from([1, 5, 25]))
    base = draw(st.integers(-1000, 100_000))
    for _ in range(draw(st.integers(1, 80))):
        kind = draw(
            st.sampled_from(["add", "update", "update", "delete", "missing", "clear", "trade"])
        )
        side = draw(st.sampled_from([1, 2]))
        price = base + tick * draw(st.integers(0, 30))
        size = draw(st.integers(1, 10**12))
        flags = draw(st.sampled_from([0, LAST]))
        sequence += draw(st.integers(0, 3))
        if kind == "add" and price in levels[side]:
            kind = "update"
        if kind == "delete":
            if not levels[side]:
                continue
            price = draw(st.sampled_from(sorted(levels[side])))
        if kind == "missing" and price in levels[side]:
            continue
        if kind == "add":
            levels[side].add(price)
            rows.append((ADD, side, price, size, flags, sequence))
        elif kind == "update":
            levels[side].add(price)
            rows.append((UPDATE, side, price, size, flags, sequence))
        elif kind == "delete":
            levels[side].discard(price)
            rows.append((DELETE, side, price, 0, flags, sequence))
        elif kind == "missing":
            rows.append((DELETE, side, price, 0, flags | IGNORE, sequence))
        elif kind == "clear":
            which = draw(st.sampled_from([0, 1, 2]))
            for cleared in (1, 2):
                if which in (0, cleared):
                    levels[cleared].clear()
            rows.append((CLEAR, which, NULL_PRICE, 0, flags, sequence))
        else:
            rows.append((TRADE, side, price, size, flags, sequence))
    n = len(rows)
    array = np.asarray(rows, dtype=np.int64).reshape(n, 6)
    ts = np.arange(n, dtype=np.int64)
    return BookDeltaColumns(
        "X.SIM",
        2,
        0,
        ts,
        ts,
        array[:, 0],
        array[:, 1],
        array[:, 2],
        array[:, 3],
        np.zeros(n, dtype=np.int64),
        array[:, 4],
        array[:, 5],
    )


@settings(max_examples=200, deadline=None)
@given(l2_streams())
def test_kernel_equals_python_book_on_random_valid_streams(columns: BookDeltaColumns) -> None:
    assert_same_as_python(columns)


def stream(rows: list[tuple[int, int, int, int, int, int]]) -> BookDeltaColumns:
    array = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    zeros = np.zeros(n, dtype=np.int64)
    return BookDeltaColumns(
        "X.SIM",
        2,
        0,
        zeros,
        zeros,
        array[:, 0],
        array[:, 1],
        array[:, 2],
        array[:, 3],
        zeros,
        array[:, 4],
        array[:, 5],
    )


@pytest.mark.parametrize(
    ("rows", "rule"),
    [
        ([(ADD, 1, 100, 1, 0, 0), (ADD, 1, 100, 2, 0, 0)], "already in the book"),
        ([(ADD, 1, 100, 1, 0, 0), (DELETE, 2, 100, 0, 0, 0)], "not in the book"),
        ([(UPDATE, 1, 100, 0, 0, 0)], "positive size"),
        ([(UPDATE, 1, 100, 1, 0, 5), (UPDATE, 1, 101, 1, 0, 4)], "out of order"),
        ([(UPDATE, 0, 100, 1, 0, 0)], "side is BID or ASK"),
        ([(5, 1, 100, 1, 0, 0)], "market-by-price"),
    ],
)
def test_kernel_raises_the_python_books_error_at_the_same_row(
    rows: list[tuple[int, int, int, int, int, int]], rule: str
) -> None:
    columns = stream(rows)
    with pytest.raises(DataIntegrityError, match=rule) as from_kernel:
        replay_l2(columns)
    with pytest.raises(DataIntegrityError) as from_python:
        apply_deltas(L2Book("X.SIM", 2, 0), columns)
    assert str(from_kernel.value) == str(from_python.value)


def test_snapshot_clear_restarts_sequence_numbering_in_both_paths() -> None:
    columns = stream(
        [
            (UPDATE, 1, 100, 1, 0, 50),
            (CLEAR, 0, NULL_PRICE, 0, SNAPSHOT, 1),
            (ADD, 2, 105, 3, SNAPSHOT, 1),
            (UPDATE, 1, 99, 2, LAST, 2),
        ]
    )
    assert_same_as_python(columns)


def test_grid_step_is_the_common_divisor_of_price_distances() -> None:
    # Two far-apart prices on a coarse grid need two slots, not a billion.
    assert_same_as_python(stream([(ADD, 1, 0, 1, 0, 0), (ADD, 2, 10**9, 1, 0, 0)]))


def test_price_range_wider_than_max_slots_raises() -> None:
    columns = stream([(ADD, 1, 0, 1, 0, 0), (ADD, 1, 1, 1, 0, 0), (ADD, 2, 10**9, 1, 0, 0)])
    with pytest.raises(InvalidValueError, match="above max_slots"):
        replay_l2(columns, max_slots=1000)

"""Databento CME MBO (ESH4 2023-12-24 snapshot, 2023-12-25 reopening; ESM4 2024-05-08) and
ESU4 MBP-1, as CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core import DataIntegrityError
from tradeloop.data.books import (
    BookDeltaColumns,
    check_databento_mbo,
    mbo_book,
    read_databento_mbo,
    read_databento_mbp1,
    snapshot_length,
)
from tradeloop.model.book import BookActionCode, BookFlag
from tradeloop.model.enums import BookSide

CraftBook = Callable[[str, Callable[[list[str]], list[str]]], Path]

DEC24 = "esh4-glbx-mdp3-20231224.mbo.csv.gz"
DEC25 = "esh4-glbx-mdp3-20231225-head.mbo.csv.gz"
MAY08 = "esm4-glbx-mdp3-20240508T000000-000002.mbo.csv.gz"
MBP1 = "esu4-glbx-mdp3-20240701T2358-20240702T0002.mbp-1.csv.gz"


@pytest.fixture(scope="module")
def dec25() -> BookDeltaColumns:
    return read_databento_mbo(Path(__file__).resolve().parents[3] / "data" / "books" / DEC25)


def test_reopening_file_starts_with_the_previous_files_snapshot_order_for_order(
    books: Path, dec25: BookDeltaColumns
) -> None:
    dec24 = read_databento_mbo(books / DEC24)
    assert snapshot_length(dec24) == len(dec24) == 8725
    assert snapshot_length(dec25) == 8725
    before = mbo_book(dec24)
    after = mbo_book(dec25, stop=snapshot_length(dec25))
    assert before.order_count == after.order_count == 8725
    for side in (BookSide.BID, BookSide.ASK):
        # Same orders, same sizes, same queue order at every level.
        assert before.orders_by_level(side) == after.orders_by_level(side)


def test_book_is_crossed_only_in_the_pre_open_before_the_opening_trade(
    dec25: BookDeltaColumns,
) -> None:
    check = check_databento_mbo(dec25)
    assert check.snapshot_orders == 8725
    assert check.first_trade_row == 9650  # the opening auction's prints at 23:00:00.1 UTC
    assert check.crossed_before_first_trade == 891
    assert check.crossed_after_first_trade == 0
    assert check.invariant_checks >= 3
    check_databento_mbo(dec25, on_crossed="raise")  # nothing crossed once trading


def test_file_that_starts_with_a_clear_and_a_snapshot_rebuilds(books: Path) -> None:
    deltas = read_databento_mbo(books / MAY08)
    assert deltas.instrument_id == "ESM4.GLBX"
    assert int(deltas.action[0]) == int(BookActionCode.CLEAR)
    check = check_databento_mbo(deltas, on_crossed="raise")
    assert check.snapshot_records == 13601
    assert check.snapshot_orders == 13600
    assert check.crossed_before_first_trade == check.crossed_after_first_trade == 0


def test_fills_are_prints_flagged_resting_fill(dec25: BookDeltaColumns) -> None:
    fills = (dec25.flags & int(BookFlag.RESTING_FILL)) != 0
    assert bool(np.all(dec25.action[fills] == int(BookActionCode.TRADE)))
    assert int(fills.sum()) > 0


def live_row(lines: list[str], action: str, skip: int = 0) -> int:
    rows = [i for i, line in enumerate(lines) if line.split(",")[6] == action and i > 8726]
    return rows[skip]


def test_cancel_of_an_unknown_order_raises(craft_book: CraftBook) -> None:
    def edit(lines: list[str]) -> list[str]:
        index = live_row(lines, "C")
        fields = lines[index].split(",")
        fields[10] = "1"
        lines[index] = ",".join(fields)
        return lines

    deltas = read_databento_mbo(craft_book(DEC25, edit))
    with pytest.raises(DataIntegrityError, match="CANCEL of order 1 that is not in the book"):
        check_databento_mbo(deltas)


def test_modify_on_the_wrong_side_raises(craft_book: CraftBook) -> None:
    def edit(lines: list[str]) -> list[str]:
        index = live_row(lines, "M")
        fields = lines[index].split(",")
        fields[7] = "A" if fields[7] == "B" else "B"
        lines[index] = ",".join(fields)
        return lines

    deltas = read_databento_mbo(craft_book(DEC25, edit))
    with pytest.raises(DataIntegrityError, match="names its order's side"):
        check_databento_mbo(deltas)


def test_sequence_going_backwards_raises_out_of_order(craft_book: CraftBook) -> None:
    def edit(lines: list[str]) -> list[str]:
        index = live_row(lines, "A", skip=100)
        fields = lines[index].split(",")
        fields[3] = "5000"
        lines[index] = ",".join(fields)
        return lines

    deltas = read_databento_mbo(craft_book(DEC25, edit))
    with pytest.raises(DataIntegrityError, match=r"at sequence 5000: .*out of order"):
        check_databento_mbo(deltas)


def test_top_of_book_records_are_refused(craft_book: CraftBook) -> None:
    def edit(lines: list[str]) -> list[str]:
        index = live_row(lines, "A")
        fields = lines[index].split(",")
        fields[11] = str(int(fields[11]) | 64)
        lines[index] = ",".join(fields)
        return lines

    with pytest.raises(DataIntegrityError, match="F_TOB"):
        read_databento_mbo(craft_book(DEC25, edit))


def test_mbp1_reads_as_uncrossed_quotes_and_uniquely_identified_trades(books: Path) -> None:
    mbp = read_databento_mbp1(books / MBP1)
    assert mbp.quotes.instrument_id == "ESU4.GLBX"
    assert len(mbp.quotes) == 2168
    assert len(mbp.trades) == 120
    assert mbp.skipped_quotes == 0
    assert bool(np.all(mbp.quotes.bid_price < mbp.quotes.ask_price))
    assert len(set(mbp.trades.trade_id.tolist())) == 120
    assert set(mbp.trades.aggressor.tolist()) <= {1, 2}
    assert mbp.quotes.price_precision == 2

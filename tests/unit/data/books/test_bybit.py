"""Bybit linear XRPUSDT ``orderbook.500``: 1 snapshot + 49 deltas (2024-12-01 00:00:00-05 UTC)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tradeloop.core import DataIntegrityError
from tradeloop.data.books import apply_deltas, check_bybit_book, read_bybit_orderbook
from tradeloop.model.book import BookFlag, L2Book
from tradeloop.model.enums import BookSide

CraftBook = Callable[[str, Callable[[list[str]], list[str]]], Path]

BYBIT = "xrpusdt-ob500.data.zip"


def test_bybit_book_holds_500_levels_a_side_after_every_message_and_never_crosses(
    books: Path,
) -> None:
    feed = read_bybit_orderbook(books / BYBIT)
    assert feed.report.topic == "orderbook.500.XRPUSDT"
    assert (feed.report.messages, feed.report.snapshots, feed.report.deltas_applied) == (50, 1, 49)
    assert feed.deltas.instrument_id == "XRPUSDT-LINEAR.BYBIT"
    assert (feed.deltas.price_precision, feed.deltas.size_precision) == (4, 0)
    check = check_bybit_book(feed)
    assert check.messages == 50
    assert check.full_depth_messages == 50
    assert (check.min_bid_levels, check.max_ask_levels) == (500, 500)
    assert check.crossed_messages == 0


def test_bybit_gap_raises_naming_the_update_id_rule(craft_book: CraftBook) -> None:
    def drop(lines: list[str]) -> list[str]:
        del lines[10]
        return lines

    with pytest.raises(DataIntegrityError, match=r"u=20254880 .*sequence gap after u=20254878"):
        read_bybit_orderbook(craft_book(BYBIT, drop))


def test_bybit_gap_with_resync_clears_and_drops_deltas_until_a_new_snapshot(
    craft_book: CraftBook,
) -> None:
    def drop_and_resnapshot(lines: list[str]) -> list[str]:
        snapshot = json.loads(lines[0])
        snapshot["data"]["u"] = 1  # Bybit's snapshot after a service restart
        del lines[10]
        return [*lines, json.dumps(snapshot)]

    feed = read_bybit_orderbook(craft_book(BYBIT, drop_and_resnapshot), on_gap="resync")
    assert feed.report.gaps == 1
    assert feed.report.deltas_dropped == 39
    assert feed.report.snapshots == 2
    unsynced = (feed.deltas.flags & int(BookFlag.UNSYNCED)) != 0
    assert int(unsynced.sum()) == 1
    book = L2Book(feed.deltas.instrument_id, 4, 0)
    apply_deltas(book, feed.deltas)
    first = read_bybit_orderbook(craft_book(BYBIT, lambda lines: lines[:1]))
    snapshot_book = L2Book(feed.deltas.instrument_id, 4, 0)
    apply_deltas(snapshot_book, first.deltas)
    for side in (BookSide.BID, BookSide.ASK):
        assert book.levels_raw(side) == snapshot_book.levels_raw(side)


def test_bybit_out_of_order_delta_raises(craft_book: CraftBook) -> None:
    def replay_old(lines: list[str]) -> list[str]:
        lines.insert(8, lines[5])
        return lines

    with pytest.raises(DataIntegrityError, match="out of order: u=20254874 after u=20254876"):
        read_bybit_orderbook(craft_book(BYBIT, replay_old))


def test_bybit_delta_before_any_snapshot_raises(craft_book: CraftBook) -> None:
    with pytest.raises(DataIntegrityError, match="delta before any snapshot"):
        read_bybit_orderbook(craft_book(BYBIT, lambda lines: lines[1:]))


def test_bybit_delete_of_a_level_not_in_the_book_raises(craft_book: CraftBook) -> None:
    def delete_unknown(lines: list[str]) -> list[str]:
        message = json.loads(lines[3])
        message["data"]["b"].append(["1.0001", "0"])
        lines[3] = json.dumps(message)
        return lines

    feed = read_bybit_orderbook(craft_book(BYBIT, delete_unknown))
    with pytest.raises(DataIntegrityError, match=r"DELETE of bid level 1\.0001 that is not in"):
        check_bybit_book(feed)


def test_deltas_as_records_rebuild_the_same_book_as_the_raw_rows(books: Path) -> None:
    feed = read_bybit_orderbook(books / BYBIT)
    from_rows = L2Book(feed.deltas.instrument_id, 4, 0)
    apply_deltas(from_rows, feed.deltas)
    from_records = L2Book(feed.deltas.instrument_id, 4, 0)
    for record in feed.deltas.iter_deltas():
        from_records.apply(record)
    for side in (BookSide.BID, BookSide.ASK):
        assert from_records.levels_raw(side) == from_rows.levels_raw(side)
    assert from_records.ts_last == int(feed.deltas.ts_event[-1])

"""LOBSTER AAPL 2012-06-21, level 10: 999 messages and the book after each of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core import ConfigError, DataIntegrityError, parse_time
from tradeloop.data.books import (
    DELTA_FIELDS,
    default_orderbook_path,
    read_lobster_messages,
    read_lobster_orderbook,
    read_lobster_stream,
    reconstruct_lobster,
)
from tradeloop.model.book import BookActionCode, BookFlag, BookSideCode, L3Book
from tradeloop.model.enums import BookSide

CraftBook = Callable[[str, Callable[[list[str]], list[str]]], Path]

MESSAGES = "AAPL_2012-06-21_34200000_57600000_message_10.csv"
ORDERBOOK = "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"


def test_rebuild_reproduces_every_knowable_level_of_all_998_compared_rows(books: Path) -> None:
    result = reconstruct_lobster(books / MESSAGES, books / ORDERBOOK)
    assert (result.rows, result.compared) == (999, 998)
    assert result.mismatched_rows == 0
    # 318 rows: a deletion emptied a level and the one entering the top 10 from below was
    # unknown (the message file omits events below level 10); each such row lacks one level.
    assert result.exact_rows == 680
    assert result.partial_rows == 318
    assert result.unknown_levels == 318
    assert result.reseeded_levels == 318
    assert result.hidden_executions == 61
    assert result.unattributed_updates == 0


def test_rebuild_seeded_from_the_first_row_only_matches_every_known_level(books: Path) -> None:
    result = reconstruct_lobster(books / MESSAGES, books / ORDERBOOK, reseed=False)
    assert result.mismatched_rows == 0
    # Without re-seeding the known part of the book only shrinks: few rows stay complete.
    assert result.exact_rows == 20
    assert result.partial_rows == 978
    assert result.unknown_levels == 13557
    assert result.unattributed_updates == 11


def test_rebuild_detects_an_edited_order_book_row(craft_book: CraftBook, books: Path) -> None:
    def edit(lines: list[str]) -> list[str]:
        fields = lines[500].split(",")
        fields[3] = str(int(fields[3]) + 1)  # best bid size of row 501
        lines[500] = ",".join(fields)
        return lines

    result = reconstruct_lobster(
        craft_book(MESSAGES, lambda lines: lines), craft_book(ORDERBOOK, edit)
    )
    assert result.mismatched_rows == 1
    row, side, level, _, _ = result.first_mismatches[0]
    assert (row, side, level) == (501, "BID", 1)


def test_full_delete_of_a_known_order_for_the_wrong_size_raises(craft_book: CraftBook) -> None:
    def edit(lines: list[str]) -> list[str]:
        # Row 9 deletes order 16113594 (added by row 3 with 18 shares); claim 17.
        assert lines[8].split(",")[1:3] == ["3", "16113594"]
        lines[8] = lines[8].replace(",18,", ",17,")
        return lines

    with pytest.raises(DataIntegrityError, match="whole remaining size"):
        reconstruct_lobster(craft_book(MESSAGES, edit), craft_book(ORDERBOOK, lambda x: x))


def test_files_of_different_lengths_raise(craft_book: CraftBook) -> None:
    with pytest.raises(DataIntegrityError, match="one order-book row per message"):
        reconstruct_lobster(
            craft_book(MESSAGES, lambda lines: lines[:-1]),
            craft_book(ORDERBOOK, lambda lines: lines),
        )


def test_messages_map_to_deltas_stamped_in_new_york_time(books: Path) -> None:
    deltas = read_lobster_messages(books / MESSAGES)
    assert deltas.instrument_id == "AAPL.XNAS"
    assert (deltas.price_precision, deltas.size_precision) == (4, 0)
    assert len(deltas) == 999
    first = (int(deltas.action[0]), int(deltas.side[0]), int(deltas.price[0]), int(deltas.size[0]))
    assert first == (int(BookActionCode.ADD), int(BookSideCode.BID), 5853300, 18)
    # 34200.004241176 s after midnight in New York (EDT, UTC-4) = 13:30:00.004241176 UTC
    assert int(deltas.ts_event[0]) == parse_time("2012-06-21T13:30:00Z") + 4_241_176
    assert deltas.sequence[:3].tolist() == [1, 2, 3]


def test_misnamed_message_file_needs_a_date_and_an_instrument(tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    path.write_text("34200.1,1,1,10,1000000,1\n")
    with pytest.raises(ConfigError, match="pass instrument_id and session_date"):
        read_lobster_messages(path)


def _top(row: list[int], offset: int, scale: int) -> list[tuple[int, int]]:
    out = []
    for level in range(10):
        price, size = row[4 * level + offset], row[4 * level + offset + 1]
        if size == 0 or abs(price) == 9_999_999_999:
            break
        out.append((price // scale, size))
    return out


def test_the_stream_replays_to_every_row_of_the_order_book_file(books: Path) -> None:
    # The stream read by a run: row 1 as a snapshot, then one event per message. Replayed on
    # a plain L3 book it equals the order-book file's ten levels after each of the 999
    # messages (reseeding takes the levels entering the top from below from the file).
    stream = read_lobster_stream(books / MESSAGES, price_precision=2)
    deltas = stream.deltas
    assert (deltas.instrument_id, deltas.price_precision) == ("AAPL.XNAS", 2)
    assert stream.reconstruction.mismatched_rows == 0
    rows = read_lobster_orderbook(books / ORDERBOOK).tolist()
    book = L3Book(deltas.instrument_id, 2, 0)
    ends = 0
    columns = [getattr(deltas, name).tolist() for name in DELTA_FIELDS[2:]]
    for action, side, price, size, order_id, flags, sequence in zip(*columns, strict=True):
        book.apply_raw(action, side, price, size, order_id, flags, sequence)
        if flags & int(BookFlag.LAST):
            row = rows[ends]
            ends += 1
            assert book.levels_raw(BookSide.ASK, 10) == _top(row, 0, 100), ends
            assert book.levels_raw(BookSide.BID, 10) == _top(row, 2, 100), ends
    assert ends == 999
    # Message 58 cancels an order resting before the file started: its level's synthetic order.
    assert int(deltas.order_id[deltas.sequence == 58][0]) < 0
    # The 61 hidden executions are prints (TRADE rows), not book changes.
    assert int(np.count_nonzero(deltas.action == int(BookActionCode.TRADE))) == 61


def test_a_stream_at_fewer_decimals_than_a_price_needs_is_an_error(books: Path) -> None:
    with pytest.raises(DataIntegrityError, match="needs more than 1 decimals"):
        read_lobster_stream(books / MESSAGES, price_precision=1)
    with pytest.raises(ConfigError, match="give the order-book file explicitly"):
        default_orderbook_path(books / "AAPL.csv")

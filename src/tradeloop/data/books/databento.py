"""Databento CME Globex (GLBX.MDP3) market-by-order and MBP-1 files, as CSV (``.csv[.gz]``).

MBO columns: ``ts_recv, ts_event, ts_in_delta, sequence, instrument_id, symbol, action, side,
price, size, order_id, flags, channel_id, publisher_id``. Actions: ``A`` add, ``C`` cancel
(``size`` is the size cancelled; an order reaches zero only when fully cancelled), ``M``
modify (new price and size; the order loses priority when the price changes or the size
grows), ``R`` clear the book, ``T`` trade (aggressor side), ``F`` fill (resting side),
``N`` none. ``T`` and ``F`` do not change the book: CME sends the matching cancel or modify
of the filled order separately. Flags are DBN's bits: 128 ``LAST`` (last record of an event:
the book is consistent only there), 64 top of book, 32 ``SNAPSHOT``, 16 MBP, 8 bad
``ts_recv``, 4 maybe bad book.

``read_databento_mbo`` maps records to deltas: A ADD, C CANCEL, M UPDATE, R CLEAR, T TRADE,
F TRADE flagged ``RESTING_FILL``, N NONE; ``ts_init`` is ``ts_recv``; ``sequence`` is the
venue's (CME packet) sequence number. Snapshot records carry the original sequence numbers of
the orders they recreate, so they are exempt from the ordering rule (``L3Book``).

``check_databento_mbo`` rebuilds the book and checks what the data itself guarantees:

* every cancel, modify and fill names a resting order, on its side and at its price, and no
  cancel takes more than the order holds (``L3Book`` raises otherwise);
* level sizes and order counts equal the sums over the orders (``L3Book.check_invariants``
  after the snapshot, every 1,000 events and at the end);
* the book is not crossed at ``LAST`` boundaries, *except* before the market opens: CME's
  pre-open accepts crossing orders and matches them only at the opening auction, whose
  prints are the first ``T``/``F`` records. Crossed boundaries are therefore counted before
  and after the first trade; ``on_crossed="raise"`` raises only for the ones after it.

Sequence numbers are not checked for gaps: MDP3 numbers packets per channel, and Databento
keeps only this instrument's records, so jumps are normal; a decrease outside snapshot
records is an out-of-order error.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Final

import msgspec
import numpy as np

from tradeloop.core.errors import DataIntegrityError
from tradeloop.data.books._build import (
    CrossedPolicy,
    DeltaBuilder,
    RawCache,
    open_text,
    reduce_precision,
)
from tradeloop.data.books.columns import BookDeltaColumns
from tradeloop.data.books.replay import apply_deltas
from tradeloop.data.columns import QuoteColumns, TradeColumns
from tradeloop.model.book import NULL_PRICE, BookFlag, L3Book

WORKING_PRECISION: Final = 9
"""DBN prices are fixed-point with 9 decimals."""
INVARIANT_CHECK_EVERY: Final = 1_000

_ACTIONS: Final = {"A": 1, "C": 5, "M": 2, "R": 4, "T": 7, "F": 7, "N": 0}
_SIDES: Final = {"B": 1, "A": 2, "N": 0}
_F_RESTING_FILL: Final = int(BookFlag.RESTING_FILL)
_F_TOB: Final = int(BookFlag.TOP_OF_BOOK)
_F_SNAPSHOT: Final = int(BookFlag.SNAPSHOT)
_MBO_HEADER: Final = (
    "ts_recv",
    "ts_event",
    "ts_in_delta",
    "sequence",
    "instrument_id",
    "symbol",
    "action",
    "side",
    "price",
    "size",
    "order_id",
    "flags",
    "channel_id",
    "publisher_id",
)


def _header(
    reader: csv.DictReader[str], path: str | os.PathLike[str], wanted: tuple[str, ...]
) -> None:
    names = tuple(reader.fieldnames or ())
    missing = [name for name in wanted if name not in names]
    if missing:
        raise DataIntegrityError(f"Databento CSV {path} lacks columns {missing}")


def read_databento_mbo(
    path: str | os.PathLike[str],
    *,
    instrument_id: str | None = None,
    price_precision: int | None = None,
) -> BookDeltaColumns:
    """Read a Databento MBO CSV of one instrument into market-by-order deltas.

    Parameters
    ----------
    path : the CSV (``.csv`` or ``.csv.gz``) with Databento's MBO columns.
    instrument_id : defaults to ``<symbol>.GLBX``.
    price_precision : decimals of the raw prices; by default the fewest that keep every
        price exact (2 for ES's 0.25 tick). Sizes are contracts (precision 0).

    Raises
    ------
    ConfigError
        If the file is missing.
    DataIntegrityError
        If a column is missing, a value does not parse, the file mixes instruments, or a
        record is a top-of-book (``F_TOB``) record, which is not market-by-order data.
    """
    out = DeltaBuilder()
    prices = RawCache(WORKING_PRECISION, "Databento price")
    instruments: set[str] = set()
    symbol = ""
    with open_text(path, "Databento MBO") as handle:
        reader = csv.DictReader(handle)
        _header(reader, path, _MBO_HEADER)
        for number, record in enumerate(reader, start=2):
            try:
                flags = int(record["flags"])
                action_text = record["action"]
                action = _ACTIONS[action_text]
                side = _SIDES[record["side"]]
                price_text = record["price"]
                price = prices[price_text] if price_text else NULL_PRICE
                if action_text == "F":
                    flags |= _F_RESTING_FILL
                out.append(
                    int(record["ts_event"]),
                    int(record["ts_recv"]),
                    action,
                    side,
                    price,
                    int(record["size"]),
                    int(record["order_id"]),
                    flags,
                    int(record["sequence"]),
                )
            except (KeyError, ValueError, DataIntegrityError) as exc:
                raise DataIntegrityError(
                    f"Databento MBO {path}, line {number}: {exc!s} in {dict(record)}"
                ) from None
            if flags & _F_TOB:
                raise DataIntegrityError(
                    f"Databento MBO {path}, line {number}: top-of-book (F_TOB) record; such "
                    "records summarise a level and cannot be applied order by order"
                )
            instruments.add(record["instrument_id"])
            symbol = symbol or record["symbol"]
    if len(instruments) > 1:
        raise DataIntegrityError(
            f"Databento MBO {path} mixes instruments {sorted(instruments)}; split it first"
        )
    arrays = out.arrays()
    (arrays[4],), p = reduce_precision(
        [arrays[4]], WORKING_PRECISION, price_precision, "Databento price", null=NULL_PRICE
    )
    return BookDeltaColumns(instrument_id or f"{symbol or 'UNKNOWN'}.GLBX", p, 0, *arrays)


def snapshot_length(columns: BookDeltaColumns) -> int:
    """Return how many leading rows are snapshot records (a leading CLEAR included)."""
    is_snapshot = (columns.flags & _F_SNAPSHOT) != 0
    if len(is_snapshot) == 0 or not is_snapshot[0]:
        return 0
    live = np.flatnonzero(~is_snapshot)
    return int(live[0]) if len(live) else len(columns)


def mbo_book(columns: BookDeltaColumns, *, stop: int | None = None) -> L3Book:
    """Return the ``L3Book`` after applying rows ``:stop`` of ``columns``.

    Raises
    ------
    DataIntegrityError
        If a record breaks a rule of ``L3Book``.
    """
    book = L3Book(columns.instrument_id, columns.price_precision, columns.size_precision)
    apply_deltas(book, columns, stop=stop)
    return book


class MboCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The rebuilt market-by-order book checked against the data's guarantees.

    Attributes
    ----------
    records, events : rows, and rows flagged ``LAST`` (event boundaries).
    snapshot_records, snapshot_orders : leading snapshot rows, and the orders they leave.
    first_trade_row : row of the first ``T``/``F`` record (the opening auction's prints on a
        reopening), or -1.
    crossed_before_first_trade, crossed_after_first_trade : crossed or locked books at
        ``LAST`` boundaries before and after that row.
    invariant_checks : times ``check_invariants`` passed.
    final_orders, final_bid_levels, final_ask_levels : the book at the end.
    """

    records: int
    events: int
    snapshot_records: int
    snapshot_orders: int
    first_trade_row: int
    crossed_before_first_trade: int
    crossed_after_first_trade: int
    invariant_checks: int
    final_orders: int
    final_bid_levels: int
    final_ask_levels: int


def check_databento_mbo(
    columns: BookDeltaColumns, *, on_crossed: CrossedPolicy = "count"
) -> MboCheck:
    """Rebuild the order-by-order book and check it at every event boundary.

    Raises
    ------
    DataIntegrityError
        If a record breaks a rule of ``L3Book``, or (``on_crossed="raise"``) the book is
        crossed at a boundary after the first trade.
    """
    book = L3Book(columns.instrument_id, columns.price_precision, columns.size_precision)
    snapshot = snapshot_length(columns)
    apply_deltas(book, columns, stop=snapshot)
    book.check_invariants()
    checks = 1
    snapshot_orders = book.order_count
    trades = np.flatnonzero(columns.action == 7)
    first_trade = int(trades[0]) if len(trades) else -1
    ends = np.flatnonzero(columns.event_ends())
    ends = ends[ends >= snapshot].tolist()
    before = after = 0
    start = snapshot
    for number, end in enumerate(ends, start=1):
        apply_deltas(book, columns, start=start, stop=end + 1)
        start = end + 1
        if book.is_crossed():
            if first_trade < 0 or end < first_trade:
                before += 1
            else:
                after += 1
                if on_crossed == "raise":
                    raise DataIntegrityError(
                        f"Databento MBO {columns.instrument_id} at sequence "
                        f"{int(columns.sequence[end])}: book crossed after the opening trade "
                        "(rule: a continuously trading book is not crossed at an event end)"
                    )
        if number % INVARIANT_CHECK_EVERY == 0:
            book.check_invariants()
            checks += 1
    apply_deltas(book, columns, start=start)
    book.check_invariants()
    return MboCheck(
        records=len(columns),
        events=int(np.count_nonzero(columns.event_ends())),
        snapshot_records=snapshot,
        snapshot_orders=snapshot_orders,
        first_trade_row=first_trade,
        crossed_before_first_trade=before,
        crossed_after_first_trade=after,
        invariant_checks=checks + 1,
        final_orders=book.order_count,
        final_bid_levels=book.bid_level_count,
        final_ask_levels=book.ask_level_count,
    )


_MBP1_HEADER: Final = (
    "ts_recv",
    "ts_event",
    "sequence",
    "action",
    "side",
    "price",
    "size",
    "flags",
    "bid_px_00",
    "ask_px_00",
    "bid_sz_00",
    "ask_sz_00",
    "symbol",
)


@dataclass(frozen=True, slots=True)
class DatabentoMbp1:
    """An MBP-1 file read as quotes and trades.

    Attributes
    ----------
    quotes : the best bid and offer after every record flagged ``LAST`` whose two sides are
        defined (``ts_init`` = ``ts_recv``).
    trades : the ``T`` records; the aggressor is the record's side (``B`` buyer, ``A``
        seller, ``N`` unknown); ``trade_id`` is the sequence number, suffixed ``.n`` when
        several trades share one.
    skipped_quotes : ``LAST`` records with an undefined side.
    """

    quotes: QuoteColumns
    trades: TradeColumns
    skipped_quotes: int


def read_databento_mbp1(
    path: str | os.PathLike[str],
    *,
    instrument_id: str | None = None,
    price_precision: int | None = None,
) -> DatabentoMbp1:
    """Read a Databento MBP-1 CSV (top of book with trades) into quotes and trades.

    Raises
    ------
    ConfigError
        If the file is missing.
    DataIntegrityError
        If a column is missing or a value does not parse.
    """
    prices = RawCache(WORKING_PRECISION, "Databento price")
    quotes: list[tuple[int, int, int, int, int, int]] = []
    trades: list[tuple[int, int, int, int, int, str]] = []
    seen_sequences: dict[int, int] = {}
    skipped = 0
    symbol = ""
    with open_text(path, "Databento MBP-1") as handle:
        reader = csv.DictReader(handle)
        _header(reader, path, _MBP1_HEADER)
        for number, record in enumerate(reader, start=2):
            try:
                ts_event, ts_recv = int(record["ts_event"]), int(record["ts_recv"])
                symbol = symbol or record["symbol"]
                if record["action"] == "T":
                    sequence = int(record["sequence"])
                    count = seen_sequences.get(sequence, 0)
                    seen_sequences[sequence] = count + 1
                    trade_id = str(sequence) if count == 0 else f"{sequence}.{count}"
                    aggressor = {"B": 1, "A": 2}.get(record["side"], 0)
                    price = prices[record["price"]]
                    trades.append(
                        (ts_event, ts_recv, price, int(record["size"]), aggressor, trade_id)
                    )
                if int(record["flags"]) & int(BookFlag.LAST):
                    bid, ask = record["bid_px_00"], record["ask_px_00"]
                    if not bid or not ask:
                        skipped += 1
                        continue
                    quotes.append(
                        (
                            ts_event,
                            ts_recv,
                            prices[bid],
                            prices[ask],
                            int(record["bid_sz_00"]),
                            int(record["ask_sz_00"]),
                        )
                    )
            except (KeyError, ValueError, DataIntegrityError) as exc:
                raise DataIntegrityError(
                    f"Databento MBP-1 {path}, line {number}: {exc!s}"
                ) from None
    q = np.asarray(quotes, dtype=np.int64).reshape(-1, 6)
    t_numbers = np.asarray([row[:5] for row in trades], dtype=np.int64).reshape(-1, 5)
    price_columns, p = reduce_precision(
        [q[:, 2].copy(), q[:, 3].copy(), t_numbers[:, 2].copy()],
        WORKING_PRECISION,
        price_precision,
        "Databento price",
    )
    iid = instrument_id or f"{symbol or 'UNKNOWN'}.GLBX"
    return DatabentoMbp1(
        quotes=QuoteColumns(
            iid, p, 0, q[:, 0], q[:, 1], price_columns[0], price_columns[1], q[:, 4], q[:, 5]
        ),
        trades=TradeColumns(
            iid,
            p,
            0,
            t_numbers[:, 0],
            t_numbers[:, 1],
            price_columns[2],
            t_numbers[:, 3],
            t_numbers[:, 4],
            [row[5] for row in trades],
        ),
        skipped_quotes=skipped,
    )

"""LOBSTER (lobsterdata.com) NASDAQ message and order-book files: deltas and exact rebuild.

A ``<TICKER>_<date>_<start>_<end>_message_<N>.csv`` row is one event, without header:
``time`` (seconds after midnight, New York time, up to nanoseconds), ``type``, ``order id``,
``size``, ``price`` (× 10,000) and ``direction`` (1 buy/bid, -1 sell/ask; for executions the
side of the resting order). Types: 1 new limit order, 2 partial cancel, 3 full delete,
4 execution of a visible order, 5 execution of a hidden order (no book change), 7 trading
halt indicator (no book change). The matching ``orderbook_<N>.csv`` row is the book's top
``N`` levels *after* that event: ``ask price, ask size, bid price, bid size`` per level,
empty levels as ±9,999,999,999 with size 0.

``read_lobster_messages`` maps the rows to deltas (1 ADD, 2 CANCEL, 3 DELETE, 4 FILL,
5 TRADE, 7 NONE), one event per row (``sequence`` = 1-based row number).

``reconstruct_lobster`` rebuilds the book from the messages and compares every order-book row.
Two facts about the files decide what can be known:

* The sample starts mid-session: the orders resting before the first message are unknown.
  The first order-book row is the only snapshot, so the book is seeded from it (the state
  *after* message 1): each of its levels becomes one synthetic order (negative id) holding
  the level's size, less message 1's own order when message 1 is an add (that order is real
  and known). Cancels and executions of order ids never added in the file are taken from
  their level's synthetic order; asking for more than it holds raises ``DataIntegrityError``.
* A level-``N`` message file holds only the events that touch the top ``N`` levels. A level
  pushed below level ``N`` changes unseen, so it is forgotten (``L3Book.truncate``); the book
  is exact only down to a boundary price per side: the ``N``-th seeded level, moved up each
  time a level is pushed out. When a deletion leaves fewer than ``N`` known levels, the level
  that enters the top ``N`` from below is unknown: that order-book row can be compared only
  on its known levels, and is counted as *partial*. With ``reseed=True`` (default) the unknown
  levels are then taken from that row as new synthetic orders and the boundary moves down to
  its ``N``-th level, so later rows are checked in full again; with ``reseed=False`` the
  rebuild uses the first row only and the known part of the book shrinks as the session goes.

Every known level of every row must match exactly (``mismatched_rows`` is 0 on the real
sample); the counts of partial rows and unknown levels say how much could not be known.

``read_lobster_stream`` turns the pair into a stream a run can replay (level 4, L3): the
rebuild's own book operations, one venue event per message. The first event is a snapshot
(``CLEAR`` and the synthetic orders of row 1, flagged ``SNAPSHOT``) plus message 1; every
later message follows as it is, except that a cancel or execution of an order never added
in the file names its level's synthetic order, and the rows the rebuild adds to keep the
top ``N`` levels exact — levels pushed below level ``N`` removed, unknown levels entering the
top taken from the order-book row (``reseed``) — are part of the message's event, flagged
``SNAPSHOT``. Hidden executions and halts stay as ``TRADE`` and ``NONE`` rows (no book
change); an execution of an unknown order below the known levels becomes a ``TRADE`` print
(its price is real; its order is not), and a cancel there is left out (it cannot change the
known book) — both are counted in the reconstruction report.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.data.books._build import DeltaBuilder, open_text, reduce_precision
from tradeloop.data.books.columns import DELTA_FIELDS, BookDeltaColumns
from tradeloop.model.book import NULL_PRICE, BookFlag, L3Book
from tradeloop.model.enums import BookSide

I64 = npt.NDArray[np.int64]

PRICE_PRECISION: Final = 4
"""LOBSTER prices are dollars × 10,000."""
EMPTY_LEVEL_PRICE: Final = 9_999_999_999
"""Price LOBSTER writes (with size 0) for a level that does not exist (negative for bids)."""
EXCHANGE_TZ: Final = "America/New_York"

_NAME: Final = re.compile(r"(?P<ticker>[A-Za-z.]+)_(?P<date>\d{4}-\d{2}-\d{2})_\d+_\d+_")
_ADD, _UPDATE, _DELETE, _CLEAR, _CANCEL, _FILL, _TRADE, _NONE = 1, 2, 3, 4, 5, 6, 7, 0
_BID, _ASK = 1, 2
_ACTIONS: Final = {1: _ADD, 2: _CANCEL, 3: _DELETE, 4: _FILL, 5: _TRADE, 7: _NONE}
_F_LAST: Final = int(BookFlag.LAST)
_F_SNAPSHOT: Final = int(BookFlag.SNAPSHOT)


class _RecordingBook(L3Book):
    # An L3Book that also writes every operation applied to it as a delta row (the stream).

    __slots__ = ("recorder", "ts_ns")

    def __init__(self, instrument_id: str, recorder: DeltaBuilder | None) -> None:
        super().__init__(instrument_id, PRICE_PRECISION, 0)
        self.recorder = recorder
        self.ts_ns = 0

    def apply_raw(
        self,
        action: int,
        side: int,
        price: int,
        size: int,
        order_id: int = 0,
        flags: int = 0,
        sequence: int = 0,
    ) -> None:
        super().apply_raw(action, side, price, size, order_id, flags, sequence)
        if self.recorder is not None:
            ts = self.ts_ns
            self.recorder.append(ts, ts, action, side, price, size, order_id, flags, sequence)

    def record(self, action: int, side: int, price: int, size: int, order_id: int) -> None:
        # A row that does not change the book (a print, a halt, a deep execution).
        if self.recorder is not None:
            ts = self.ts_ns
            self.recorder.append(ts, ts, action, side, price, size, order_id, 0, 0)


def _seconds_to_ns(text: str) -> int:
    whole, _, frac = text.strip().partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 9:
        raise ValueError(f"time {text!r} is not seconds after midnight with up to 9 decimals")
    return int(whole) * 1_000_000_000 + int(frac.ljust(9, "0"))


def _name_parts(path: Path) -> tuple[str, date] | None:
    found = _NAME.match(path.name)
    if found is None:
        return None
    return found["ticker"], date.fromisoformat(found["date"])


def read_lobster_messages(
    path: str | os.PathLike[str],
    *,
    instrument_id: str | None = None,
    session_date: date | None = None,
) -> BookDeltaColumns:
    """Read a LOBSTER message file into book deltas (prices at 4 decimals, sizes in shares).

    Parameters
    ----------
    path : the ``..._message_<N>.csv`` file.
    instrument_id : defaults to ``<TICKER>.XNAS`` from the file name.
    session_date : defaults to the date in the file name; times are seconds after its
        New York midnight.

    Raises
    ------
    ConfigError
        If the file is missing, or the ticker or date is neither given nor in the file name.
    DataIntegrityError
        On a row that is not six fields of the documented types.
    """
    file = Path(path)
    named = _name_parts(file)
    if named is None and (instrument_id is None or session_date is None):
        raise ConfigError(
            f"LOBSTER file {file.name} is not named <TICKER>_<date>_<start>_<end>_message_<N>"
            ".csv; pass instrument_id and session_date"
        )
    if named is not None:
        instrument_id = instrument_id or f"{named[0]}.XNAS"
        session_date = session_date or named[1]
    assert instrument_id is not None
    assert session_date is not None
    midnight = datetime(
        session_date.year, session_date.month, session_date.day, tzinfo=ZoneInfo(EXCHANGE_TZ)
    )
    midnight_ns = int(midnight.timestamp()) * 1_000_000_000
    out = DeltaBuilder()
    with open_text(file, "LOBSTER message") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            try:
                time_text, kind_text, order_text, size_text, price_text, direction_text = row
                ts = midnight_ns + _seconds_to_ns(time_text)
                kind, order_id, size = int(kind_text), int(order_text), int(size_text)
                price, direction = int(price_text), int(direction_text)
                action = _ACTIONS[kind]
            except (ValueError, KeyError) as exc:
                raise DataIntegrityError(
                    f"LOBSTER message file {file.name}, row {number}: {row} is not "
                    f"time,type(1-5,7),order id,size,price,direction ({exc})"
                ) from None
            side = _BID if direction == 1 else _ASK if direction == -1 else 0
            if action == _NONE:
                price = NULL_PRICE  # a halt row's price field is the halt code, not a price
            out.append(ts, ts, action, side, price, size, order_id, _F_LAST, number)
    return BookDeltaColumns(instrument_id, PRICE_PRECISION, 0, *out.arrays())


def read_lobster_orderbook(path: str | os.PathLike[str]) -> I64:
    """Return a LOBSTER order-book file as an int64 array of shape ``(rows, 4 × levels)``.

    Raises
    ------
    ConfigError
        If the file is missing.
    DataIntegrityError
        If a row is not integers or rows differ in length (or not a multiple of 4 fields).
    """
    with open_text(path, "LOBSTER order book") as handle:
        try:
            rows = [[int(v) for v in row] for row in csv.reader(handle) if row]
        except ValueError as exc:
            raise DataIntegrityError(f"LOBSTER order book {path}: {exc}") from None
    widths = {len(r) for r in rows}
    if len(widths) > 1 or (widths and next(iter(widths)) % 4):
        raise DataIntegrityError(
            f"LOBSTER order book {path}: rows have {sorted(widths)} fields, not one multiple of 4"
        )
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), -1)


class LobsterReconstruction(msgspec.Struct, frozen=True, kw_only=True):
    """What ``reconstruct_lobster`` could reproduce of the order-book file.

    Attributes
    ----------
    rows : order-book rows; row 1 seeds the book, rows 2.. are compared (``compared``).
    exact_rows : compared rows whose every level (both sides, all ``levels``) is known and
        equal to the file.
    partial_rows : compared rows where a level entering the top from below was unknown; their
        known levels are equal to the file.
    mismatched_rows : compared rows where a known level differs from the file (0 means the
        rebuild reproduces every knowable number).
    unknown_levels : level slots (side × level × row) that could not be known.
    reseeded_levels : levels taken from order-book rows after the first (``reseed=True``).
    unattributed_updates : cancels/executions of unknown orders below the known boundary,
        which cannot change the known book.
    halts, hidden_executions : type-7 and type-5 messages.
    first_mismatches : up to 10 ``(row, side, level, expected, rebuilt)`` for inspection.
    """

    rows: int
    compared: int
    exact_rows: int
    partial_rows: int
    mismatched_rows: int
    unknown_levels: int
    reseeded_levels: int
    unattributed_updates: int
    halts: int
    hidden_executions: int
    first_mismatches: tuple[tuple[int, str, int, tuple[int, int], tuple[int, int]], ...]


@dataclass(slots=True)
class _SideState:
    side: int
    book_side: BookSide
    boundary: int  # worst price still known; inf-like when the whole side is known
    synthetic: dict[int, int]  # price -> synthetic order id

    def is_within(self, price: int) -> bool:
        return price >= self.boundary if self.side == _BID else price <= self.boundary


class _Rebuild:
    def __init__(
        self, messages: BookDeltaColumns, levels: int, recorder: DeltaBuilder | None = None
    ) -> None:
        self.messages = messages
        self.levels = levels
        self.book = _RecordingBook(messages.instrument_id, recorder)
        self.sides = {
            _BID: _SideState(_BID, BookSide.BID, -EMPTY_LEVEL_PRICE, {}),
            _ASK: _SideState(_ASK, BookSide.ASK, EMPTY_LEVEL_PRICE, {}),
        }
        self.next_synthetic = -1
        self.known_orders: set[int] = set()
        self.unattributed = 0
        self.reseeded = 0

    def _row_levels(self, row: list[int], side: int) -> list[tuple[int, int]]:
        offset = 2 if side == _BID else 0
        out = []
        for level in range(self.levels):
            price, size = row[4 * level + offset], row[4 * level + offset + 1]
            if size == 0 or abs(price) == EMPTY_LEVEL_PRICE:
                break
            out.append((price, size))
        return out

    def seed(self, state: _SideState, row_levels: list[tuple[int, int]]) -> None:
        # Row levels beyond the known ones become synthetic orders; the boundary follows.
        known = self.known_levels(state)
        for price, _ in self.book.levels_raw(state.book_side)[len(known) :]:
            for order_id, _ in self.book.level_orders(state.book_side, price):
                self.book.apply_raw(_DELETE, state.side, price, 0, order_id, _F_SNAPSHOT)
                self.known_orders.discard(order_id)
        state.synthetic = {p: o for p, o in state.synthetic.items() if self.book_has(state, p)}
        for price, size in row_levels[len(known) :]:
            order_id = self.next_synthetic
            self.next_synthetic -= 1
            self.book.apply_raw(_ADD, state.side, price, size, order_id, _F_SNAPSHOT)
            state.synthetic[price] = order_id
        if len(row_levels) < self.levels:
            state.boundary = -EMPTY_LEVEL_PRICE if state.side == _BID else EMPTY_LEVEL_PRICE
        else:
            state.boundary = row_levels[-1][0]

    def book_has(self, state: _SideState, price: int) -> bool:
        return bool(self.book.level_orders(state.book_side, price))

    def known_levels(self, state: _SideState) -> list[tuple[int, int]]:
        return [lv for lv in self.book.levels_raw(state.book_side) if state.is_within(lv[0])]

    def apply(self, row: int) -> None:
        m = self.messages
        action = int(m.action[row])
        side = int(m.side[row])
        price = int(m.price[row])
        size = int(m.size[row])
        order_id = int(m.order_id[row])
        sequence = int(m.sequence[row])
        if action == _ADD:
            self.book.apply_raw(_ADD, side, price, size, order_id, 0, sequence)
            self.known_orders.add(order_id)
            return
        if action not in (_CANCEL, _DELETE, _FILL):
            self.book.record(action, side, price, size, order_id)  # a print or a halt
            return
        if order_id in self.known_orders:
            resting = self.book.order(order_id)
            if action == _DELETE and resting is not None and resting[2] != size:
                raise DataIntegrityError(
                    f"LOBSTER {m.instrument_id} message {sequence}: full delete of order "
                    f"{order_id} for {size} shares; the order holds {resting[2]} (rule: a type-3 "
                    "delete removes the order's whole remaining size)"
                )
            reduce = _CANCEL if action == _DELETE else action
            self.book.apply_raw(reduce, side, price, size, order_id, 0, sequence)
            if self.book.order(order_id) is None:
                self.known_orders.discard(order_id)
            return
        state = self.sides[side]
        synthetic = state.synthetic.get(price)
        if not state.is_within(price):
            self.unattributed += 1  # an order we never saw, in a level we cannot know
            if action == _FILL:
                self.book.record(_TRADE, side, price, size, 0)  # the print is real
            return
        if synthetic is None or not self.book.has_order(synthetic):
            raise DataIntegrityError(
                f"LOBSTER {m.instrument_id} message {sequence}: type {action} for unknown order "
                f"{order_id} at {price} on the {state.book_side.value.lower()} side, where every "
                "resting order is known (rule: orders are added before they are cancelled or "
                "executed)"
            )
        reduce = _CANCEL if action == _DELETE else action
        self.book.apply_raw(reduce, side, price, size, synthetic, 0, sequence)

    def truncate_known(self, state: _SideState) -> None:
        known = self.known_levels(state)
        if len(known) > self.levels:
            state.boundary = known[self.levels - 1][0]
            for price, _ in self.book.levels_raw(state.book_side)[self.levels :]:
                for order_id, _ in self.book.level_orders(state.book_side, price):
                    self.book.apply_raw(_DELETE, state.side, price, 0, order_id, _F_SNAPSHOT)
                    self.known_orders.discard(order_id)
                state.synthetic.pop(price, None)


def reconstruct_lobster(
    message_path: str | os.PathLike[str],
    orderbook_path: str | os.PathLike[str],
    *,
    reseed: bool = True,
) -> LobsterReconstruction:
    """Rebuild the book from a LOBSTER message file and compare every order-book row.

    Raises
    ------
    ConfigError
        If a file is missing or misnamed (see ``read_lobster_messages``).
    DataIntegrityError
        If the two files differ in length, a message breaks a book rule (see the module
        docstring), or the first message's order does not fit the first row.
    """
    messages = read_lobster_messages(message_path)
    book_rows = read_lobster_orderbook(orderbook_path)
    return _walk(messages, book_rows, reseed, None)


class LobsterStream(msgspec.Struct, frozen=True, kw_only=True):
    """A LOBSTER pair as a replayable stream (``read_lobster_stream``).

    Attributes
    ----------
    deltas : L3 rows, one venue event per message (the first one a snapshot of row 1).
    reconstruction : how the rebuild that produced them matched the order-book file.
    """

    deltas: BookDeltaColumns
    reconstruction: LobsterReconstruction


def default_orderbook_path(message_path: str | os.PathLike[str]) -> Path:
    """Return the order-book file beside a message file (``_message_`` → ``_orderbook_``).

    Raises
    ------
    ConfigError
        If the message file's name has no ``_message_`` part.
    """
    path = Path(message_path)
    if "_message_" not in path.name:
        raise ConfigError(
            f"LOBSTER file {path.name} is not named ..._message_<N>.csv: give the order-book "
            "file explicitly"
        )
    return path.with_name(path.name.replace("_message_", "_orderbook_"))


def read_lobster_stream(
    message_path: str | os.PathLike[str],
    orderbook_path: str | os.PathLike[str] | None = None,
    *,
    instrument_id: str | None = None,
    session_date: date | None = None,
    price_precision: int | None = None,
    reseed: bool = True,
) -> LobsterStream:
    """Return a LOBSTER message file, seeded from its order-book file, as a replayable stream.

    See the module docstring for what the stream holds. Every known level of the rebuilt book
    equals the order-book file after every message (``reconstruction.mismatched_rows`` is 0,
    or the data is inconsistent).

    Parameters
    ----------
    message_path : the ``..._message_<N>.csv`` file.
    orderbook_path : its ``..._orderbook_<N>.csv`` (default: beside it, same name).
    instrument_id, session_date : as ``read_lobster_messages``.
    price_precision : decimals of the stream's prices (default 4, LOBSTER's); fewer must keep
        every price exact (US equities: 2).
    reseed : take unknown levels entering the top from the order-book rows (default).

    Raises
    ------
    ConfigError
        If a file is missing or misnamed.
    DataIntegrityError
        As ``reconstruct_lobster``; also if a known level disagrees with the order-book file,
        or a price needs more decimals than ``price_precision``.
    """
    book_path = default_orderbook_path(message_path) if orderbook_path is None else orderbook_path
    messages = read_lobster_messages(
        message_path, instrument_id=instrument_id, session_date=session_date
    )
    book_rows = read_lobster_orderbook(book_path)
    recorder = DeltaBuilder()
    report = _walk(messages, book_rows, reseed, recorder)
    if report.mismatched_rows:
        row, side, level, want, got = report.first_mismatches[0]
        raise DataIntegrityError(
            f"LOBSTER {messages.instrument_id}: the rebuilt book differs from the order-book "
            f"file in {report.mismatched_rows} rows (first: row {row}, {side} level {level}: "
            f"file {want}, rebuilt {got})"
        )
    arrays = recorder.arrays()
    precision = PRICE_PRECISION
    if price_precision is not None and price_precision != PRICE_PRECISION:
        index = DELTA_FIELDS.index("price")
        (arrays[index],), precision = reduce_precision(
            [arrays[index]], PRICE_PRECISION, price_precision, "LOBSTER price", null=NULL_PRICE
        )
    deltas = BookDeltaColumns(messages.instrument_id, precision, 0, *arrays)
    return LobsterStream(deltas=deltas, reconstruction=report)


def _walk(
    messages: BookDeltaColumns,
    book_rows: I64,
    reseed: bool,
    recorder: DeltaBuilder | None,
) -> LobsterReconstruction:
    # The rebuild of the module docstring; with a recorder, every book operation is a row.
    if len(book_rows) != len(messages):
        raise DataIntegrityError(
            f"LOBSTER files disagree: {len(messages)} messages, {len(book_rows)} order-book rows "
            "(rule: one order-book row per message)"
        )
    levels = book_rows.shape[1] // 4
    rebuild = _Rebuild(messages, levels, recorder)
    rows = book_rows.tolist()
    if not rows:
        raise DataIntegrityError("LOBSTER files hold no rows")
    book = rebuild.book
    book.ts_ns = int(messages.ts_event[0])
    book.apply_raw(_CLEAR, 0, NULL_PRICE, 0, 0, _F_SNAPSHOT)
    first = {side: rebuild._row_levels(rows[0], side) for side in (_BID, _ASK)}
    first_action = int(messages.action[0])
    first_side = int(messages.side[0])
    own = None
    if first_action == _ADD and first_side in (_BID, _ASK):
        own = (int(messages.price[0]), int(messages.size[0]), int(messages.order_id[0]))
        seeded = []
        for price, size in first[first_side]:
            if price == own[0]:
                if size < own[1]:
                    raise DataIntegrityError(
                        f"LOBSTER row 1: level {price} holds {size} shares, less than message "
                        f"1's new order of {own[1]}"
                    )
                size -= own[1]
            seeded.append((price, size))
        first[first_side] = seeded
    for side in (_BID, _ASK):
        state = rebuild.sides[side]
        for price, size in first[side]:
            if size:
                order_id = rebuild.next_synthetic
                rebuild.next_synthetic -= 1
                book.apply_raw(_ADD, side, price, size, order_id, _F_SNAPSHOT)
                state.synthetic[price] = order_id
        full = len(first[side]) == levels
        state.boundary = (
            first[side][-1][0]
            if full
            else (-EMPTY_LEVEL_PRICE if side == _BID else EMPTY_LEVEL_PRICE)
        )
    if own is not None:
        book.apply_raw(_ADD, first_side, own[0], own[1], own[2], _F_SNAPSHOT)
        rebuild.known_orders.add(own[2])
    elif first_action in (_FILL, _TRADE):  # already in the snapshot; the print is real
        book.record(_TRADE, first_side, int(messages.price[0]), int(messages.size[0]), 0)
    if recorder is not None:
        recorder.set_last()
    exact = partial = mismatched = unknown = 0
    mismatches: list[tuple[int, str, int, tuple[int, int], tuple[int, int]]] = []
    for row in range(1, len(rows)):
        book.ts_ns = int(messages.ts_event[row])
        before = 0 if recorder is None else len(recorder)
        rebuild.apply(row)
        row_is_partial = row_is_wrong = False
        for side in (_BID, _ASK):
            state = rebuild.sides[side]
            rebuild.truncate_known(state)
            known = rebuild.known_levels(state)[:levels]
            expected = rebuild._row_levels(rows[row], side)
            whole_side = abs(state.boundary) == EMPTY_LEVEL_PRICE
            for level in range(levels if whole_side else len(known)):
                got = known[level] if level < len(known) else (0, 0)
                want = expected[level] if level < len(expected) else (0, 0)
                if got != want:
                    row_is_wrong = True
                    if len(mismatches) < 10:
                        mismatches.append((row + 1, state.book_side.value, level + 1, want, got))
            if not whole_side and len(known) < levels:
                row_is_partial = True
                unknown += levels - len(known)
                if reseed:
                    rebuild.reseeded += max(len(expected) - len(known), 0)
                    rebuild.seed(state, expected)
        if recorder is not None and len(recorder) > before:
            recorder.set_last()
        if row_is_wrong:
            mismatched += 1
        elif row_is_partial:
            partial += 1
        else:
            exact += 1
    kinds = messages.action
    return LobsterReconstruction(
        rows=len(rows),
        compared=len(rows) - 1,
        exact_rows=exact,
        partial_rows=partial,
        mismatched_rows=mismatched,
        unknown_levels=unknown,
        reseeded_levels=rebuild.reseeded,
        unattributed_updates=rebuild.unattributed,
        halts=int(np.count_nonzero(kinds == _NONE)),
        hidden_executions=int(np.count_nonzero(kinds == _TRADE)),
        first_mismatches=tuple(mismatches),
    )

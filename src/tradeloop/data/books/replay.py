"""Replay of a market-by-price delta stream: a numba kernel over a price-indexed book.

Steps of ``replay_l2``:

1. Price grid (``_grid``): the lowest and highest price of the ADD/UPDATE/DELETE rows and the
   greatest common divisor of their distances give ``slots`` prices, one int64 size per slot
   and side. Feeds quote on a tick grid, so the divisor is the tick (or a multiple of it).
2. Kernel (``_replay_kernel``): applies every row with the rules of ``L2Book.apply_raw`` (the
   module table of ``model.book``). An update is O(1); the best bid or ask is a slot index,
   moved by a scan over empty slots only when the best level is deleted. With ``emit_top``
   the best bid and ask after every row are written out.
3. Errors: the kernel stops at the first row that breaks a rule and returns its index; the
   rows up to it are then applied to a pure-Python ``L2Book``, which raises the same
   ``DataIntegrityError`` as a live book would (one source of error messages).

``apply_deltas`` is the pure-Python path (any ``L2Book`` or ``L3Book``), used by the readers'
checks and by code that needs the book's analytics after every event.

``top_of_book`` gives the best bid and ask at every event end where the book is two-sided and
not crossed (the mid a run without quotes benchmarks against); ``book_prints`` the stream's
own executions (the prints a run without trade ticks measures volume and VWAP with).
"""

from __future__ import annotations

from typing import Final

import numba
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError, InvariantViolation
from tradeloop.data.books.columns import BookDeltaColumns
from tradeloop.model.book import NULL_PRICE, L2Book, L3Book
from tradeloop.model.enums import BookSide

I64 = npt.NDArray[np.int64]

DEFAULT_MAX_SLOTS: Final = 1 << 25
"""Largest price grid ``replay_l2`` allocates by default (2 × 256 MiB of int64 sizes)."""

# Codes as plain ints: numba freezes module globals into the compiled kernel.
_ADD: Final = 1
_UPDATE: Final = 2
_DELETE: Final = 3
_CLEAR: Final = 4
_TRADE: Final = 7
_NONE: Final = 0
_BID: Final = 1
_ASK: Final = 2
_F_SNAPSHOT: Final = 32
_F_IGNORE_MISSING: Final = 256
_F_LAST: Final = 128
_F_RESTING_FILL: Final = 1024
_CANCEL: Final = 5
_FILL: Final = 6
_NULL: Final = NULL_PRICE


@numba.njit(cache=True, fastmath=False, nogil=True)
def _replay_kernel(
    action: I64,
    side: I64,
    price: I64,
    size: I64,
    flags: I64,
    sequence: I64,
    base: int,
    tick: int,
    slots: int,
    emit: bool,
    bid_px_out: I64,
    bid_sz_out: I64,
    ask_px_out: I64,
    ask_sz_out: I64,
    bid: I64,
    ask: I64,
) -> int:
    best_bid = -1
    best_ask = slots
    bid_count = 0
    ask_count = 0
    bid_lo = slots
    bid_hi = -1
    ask_lo = slots
    ask_hi = -1
    last_seq = 0
    for i in range(len(action)):
        a = action[i]
        s = side[i]
        f = flags[i]
        q = sequence[i]
        if a == _CLEAR and (f & _F_SNAPSHOT) != 0:
            last_seq = 0
        if q != 0:
            if (f & _F_SNAPSHOT) != 0:
                if q > last_seq:
                    last_seq = q
            elif q < last_seq:
                return i
            else:
                last_seq = q
        if a == _UPDATE or a == _ADD or a == _DELETE:  # noqa: SIM109 - numba: no tuple test
            p = price[i]
            z = size[i]
            if s != _BID and s != _ASK:
                return i
            if a != _DELETE and (z <= 0 or p == _NULL):
                return i
            if p == _NULL:
                # A delete of an undefined price names no level.
                if (f & _F_IGNORE_MISSING) == 0:
                    return i
            elif s == _BID:
                k = (p - base) // tick
                cur = bid[k]
                if a == _DELETE:
                    if cur == 0:
                        if (f & _F_IGNORE_MISSING) == 0:
                            return i
                    else:
                        bid[k] = 0
                        bid_count -= 1
                        if k == best_bid:
                            if bid_count == 0:
                                best_bid = -1
                            else:
                                k -= 1
                                while bid[k] == 0:
                                    k -= 1
                                best_bid = k
                else:
                    if cur == 0:
                        bid_count += 1
                        if k > best_bid:
                            best_bid = k
                        if k < bid_lo:
                            bid_lo = k
                        if k > bid_hi:
                            bid_hi = k
                    elif a == _ADD:
                        return i
                    bid[k] = z
            else:
                k = (p - base) // tick
                cur = ask[k]
                if a == _DELETE:
                    if cur == 0:
                        if (f & _F_IGNORE_MISSING) == 0:
                            return i
                    else:
                        ask[k] = 0
                        ask_count -= 1
                        if k == best_ask:
                            if ask_count == 0:
                                best_ask = slots
                            else:
                                k += 1
                                while ask[k] == 0:
                                    k += 1
                                best_ask = k
                else:
                    if cur == 0:
                        ask_count += 1
                        if k < best_ask:
                            best_ask = k
                        if k < ask_lo:
                            ask_lo = k
                        if k > ask_hi:
                            ask_hi = k
                    elif a == _ADD:
                        return i
                    ask[k] = z
        elif a == _CLEAR:
            if s != _ASK:
                if bid_hi >= 0:
                    bid[bid_lo : bid_hi + 1] = 0
                bid_lo = slots
                bid_hi = -1
                bid_count = 0
                best_bid = -1
            if s != _BID:
                if ask_hi >= 0:
                    ask[ask_lo : ask_hi + 1] = 0
                ask_lo = slots
                ask_hi = -1
                ask_count = 0
                best_ask = slots
        elif a != _TRADE and a != _NONE:
            return i
        if emit:
            if best_bid >= 0:
                bid_px_out[i] = base + best_bid * tick
                bid_sz_out[i] = bid[best_bid]
            else:
                bid_px_out[i] = _NULL
                bid_sz_out[i] = 0
            if best_ask < slots:
                ask_px_out[i] = base + best_ask * tick
                ask_sz_out[i] = ask[best_ask]
            else:
                ask_px_out[i] = _NULL
                ask_sz_out[i] = 0
    return -1


class L2Replay:
    """The result of ``replay_l2``: top of book after every row (optional) and the final book.

    ``bid_price``/``ask_price`` hold ``NULL_PRICE`` (and size 0) where a side is empty; they
    are ``None`` when the replay ran without ``emit_top``.
    """

    __slots__ = (
        "_ask_slots",
        "_base",
        "_bid_slots",
        "_tick",
        "ask_price",
        "ask_size",
        "bid_price",
        "bid_size",
        "instrument_id",
        "price_precision",
        "size_precision",
    )

    def __init__(
        self,
        columns: BookDeltaColumns,
        base: int,
        tick: int,
        bid_slots: I64,
        ask_slots: I64,
        top: tuple[I64, I64, I64, I64] | None,
    ) -> None:
        self.instrument_id = columns.instrument_id
        self.price_precision = columns.price_precision
        self.size_precision = columns.size_precision
        self._base = base
        self._tick = tick
        self._bid_slots = bid_slots
        self._ask_slots = ask_slots
        self.bid_price: I64 | None = None
        self.bid_size: I64 | None = None
        self.ask_price: I64 | None = None
        self.ask_size: I64 | None = None
        if top is not None:
            self.bid_price, self.bid_size, self.ask_price, self.ask_size = top

    def levels_raw(self, side: BookSide, depth: int | None = None) -> list[tuple[int, int]]:
        """Return the final book's ``(price_raw, size_raw)`` of ``side``, best first."""
        if side is BookSide.BID:
            index = np.flatnonzero(self._bid_slots)[::-1]
            sizes = self._bid_slots
        elif side is BookSide.ASK:
            index = np.flatnonzero(self._ask_slots)
            sizes = self._ask_slots
        else:
            raise InvalidValueError("levels_raw needs side BID or ASK")
        if depth is not None:
            index = index[:depth]
        prices = (self._base + index * self._tick).tolist()
        return list(zip(prices, sizes[index].tolist(), strict=True))

    def to_book(self) -> L2Book:
        """Return the final state as an ``L2Book`` (for its analytics, or to keep applying)."""
        book = L2Book(self.instrument_id, self.price_precision, self.size_precision)
        for side, code in ((BookSide.BID, _BID), (BookSide.ASK, _ASK)):
            for price, size in self.levels_raw(side):
                book.apply_raw(_ADD, code, price, size)
        return book


def _grid(columns: BookDeltaColumns, max_slots: int) -> tuple[int, int, int]:
    action = columns.action
    mask = ((action == _ADD) | (action == _UPDATE) | (action == _DELETE)) & (columns.price != _NULL)
    prices = columns.price[mask]
    if len(prices) == 0:
        return 0, 1, 1
    base = int(prices.min())
    offsets = prices - base
    tick = int(np.gcd.reduce(offsets)) or 1
    slots = int(offsets.max()) // tick + 1
    if slots > max_slots:
        raise InvalidValueError(
            f"book deltas of {columns.instrument_id} span {slots} price slots (prices "
            f"{base}..{int(prices.max())} raw, step {tick}), above max_slots {max_slots}; "
            "pass a larger max_slots or replay with apply_deltas"
        )
    return base, tick, slots


def replay_l2(
    columns: BookDeltaColumns, *, emit_top: bool = True, max_slots: int = DEFAULT_MAX_SLOTS
) -> L2Replay:
    """Apply a market-by-price delta stream with the compiled kernel.

    Parameters
    ----------
    columns : the deltas (ADD, UPDATE, DELETE, CLEAR; TRADE and NONE rows are skipped).
    emit_top : write the best bid and ask (price and size) after every row.
    max_slots : the largest price grid to allocate (see ``_grid``).

    Raises
    ------
    DataIntegrityError
        At the first row that breaks a rule of ``L2Book.apply_raw``, with the same message.
    InvalidValueError
        If the prices span more than ``max_slots`` grid steps.
    """
    base, tick, slots = _grid(columns, max_slots)
    n = len(columns) if emit_top else 0
    top = (
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
    )
    # numpy's zeros come from calloc: the OS maps zero pages lazily, so a wide grid with a few
    # far-away levels costs only the pages it touches (numba's np.zeros would memset them all).
    bid = np.zeros(slots, dtype=np.int64)
    ask = np.zeros(slots, dtype=np.int64)
    error_row = _replay_kernel(
        columns.action,
        columns.side,
        columns.price,
        columns.size,
        columns.flags,
        columns.sequence,
        base,
        tick,
        slots,
        emit_top,
        *top,
        bid,
        ask,
    )
    if error_row >= 0:
        book = L2Book(columns.instrument_id, columns.price_precision, columns.size_precision)
        apply_deltas(book, columns, stop=error_row + 1)
        raise InvariantViolation(
            f"replay kernel stopped at row {error_row} of {columns.instrument_id}, which the "
            "Python book accepts"
        )
    return L2Replay(columns, base, tick, bid, ask, top if emit_top else None)


def apply_deltas(
    book: L2Book | L3Book, columns: BookDeltaColumns, *, start: int = 0, stop: int | None = None
) -> None:
    """Apply rows ``start:stop`` of ``columns`` to ``book`` with ``apply_raw``.

    Raises
    ------
    DataIntegrityError
        At the first row that breaks a rule of the book.
    """
    window = slice(start, stop)
    apply = book.apply_raw
    for row in zip(
        columns.action[window].tolist(),
        columns.side[window].tolist(),
        columns.price[window].tolist(),
        columns.size[window].tolist(),
        columns.order_id[window].tolist(),
        columns.flags[window].tolist(),
        columns.sequence[window].tolist(),
        strict=True,
    ):
        apply(*row)


def _event_end_rows(columns: BookDeltaColumns) -> I64:
    # Rows that end a venue event: flagged LAST, or followed by a row of a later ts_init
    # (how ``engine.feed`` cuts the stream into events).
    n = len(columns)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    ends = (columns.flags & _F_LAST) != 0
    ends[:-1] |= columns.ts_init[1:] != columns.ts_init[:-1]
    ends[-1] = True
    return np.flatnonzero(ends).astype(np.int64)


def top_of_book(columns: BookDeltaColumns, *, allow_crossed: bool = False) -> tuple[I64, I64, I64]:
    """Return ``(ts_init, best bid raw, best ask raw)`` at every event end of a usable book.

    An event end counts when both sides have levels and the bid is below the ask (a crossed
    or locked book, like a pre-open, has no meaningful mid). Market-by-order streams (order
    ids or CANCEL/FILL rows) are applied to an ``L3Book``, the others with ``replay_l2``.
    With ``allow_crossed`` a crossed or locked book counts too: the kernel marks positions at
    the venue book's mid whenever both sides have levels, and the reports value them the same.

    Raises
    ------
    DataIntegrityError
        At a row that breaks a rule of the book.
    """
    ends = _event_end_rows(columns)
    is_l3 = bool(
        np.any(columns.order_id != 0)
        or np.any((columns.action == _CANCEL) | (columns.action == _FILL))
    )
    if is_l3:
        book = L3Book(columns.instrument_id, columns.price_precision, columns.size_precision)
        bids: list[int] = []
        asks: list[int] = []
        start = 0
        for end in ends.tolist():
            apply_deltas(book, columns, start=start, stop=end + 1)
            start = end + 1
            bid, ask = book.best_bid_raw(), book.best_ask_raw()
            bids.append(_NULL if bid is None else bid[0])
            asks.append(_NULL if ask is None else ask[0])
        bid_price = np.asarray(bids, dtype=np.int64)
        ask_price = np.asarray(asks, dtype=np.int64)
    else:
        replay = replay_l2(columns, emit_top=True)
        assert replay.bid_price is not None
        assert replay.ask_price is not None
        bid_price, ask_price = replay.bid_price[ends], replay.ask_price[ends]
    usable = (bid_price != _NULL) & (ask_price != _NULL)
    if not allow_crossed:
        usable &= bid_price < ask_price
    return columns.ts_init[ends][usable], bid_price[usable], ask_price[usable]


def book_prints(columns: BookDeltaColumns) -> tuple[I64, I64, I64]:
    """Return ``(ts_init, price raw, size raw)`` of the stream's executions, in order.

    FILL rows (an execution of a named resting order: LOBSTER's visible executions) and
    TRADE rows that are not flagged ``RESTING_FILL`` (aggressor prints: Databento's ``T``,
    LOBSTER's hidden executions); the ``RESTING_FILL`` prints (Databento's ``F``) repeat the
    aggressor's volume and are left out.
    """
    action, flags = columns.action, columns.flags
    mask = (action == _FILL) | ((action == _TRADE) & ((flags & _F_RESTING_FILL) == 0))
    mask &= (columns.price != _NULL) & (columns.size > 0)
    return columns.ts_init[mask], columns.price[mask], columns.size[mask]

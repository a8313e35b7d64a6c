"""The columnar order-book delta stream: one int64 array per field, one row per delta.

Codes of ``action``, ``side`` and ``flags`` are ``BookActionCode``, ``BookSideCode`` and
``BookFlag`` (``model.book``). Prices are raws at ``price_precision`` (``NULL_PRICE`` where the
source gives none), sizes raws at ``size_precision``. ``sequence`` is the venue's sequence
number of the update (0 when the feed has none). A row flagged ``LAST`` ends a venue event:
books are only consistent (for example uncrossed) at those rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import DataIntegrityError, InvalidValueError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.book import BookActionCode, BookFlag, action_name
from tradeloop.model.data import OrderBookDelta
from tradeloop.model.enums import BookAction, BookSide

I64 = npt.NDArray[np.int64]

DELTA_FIELDS: Final = (
    "ts_event",
    "ts_init",
    "action",
    "side",
    "price",
    "size",
    "order_id",
    "flags",
    "sequence",
)
"""The column names of ``BookDeltaColumns``, in constructor order."""

_BOOK_ACTIONS = {
    int(BookActionCode.ADD): BookAction.ADD,
    int(BookActionCode.UPDATE): BookAction.UPDATE,
    int(BookActionCode.DELETE): BookAction.DELETE,
    int(BookActionCode.CLEAR): BookAction.CLEAR,
}
_BOOK_SIDES = (BookSide.NONE, BookSide.BID, BookSide.ASK)


class BookDeltaColumns:
    """Order-book deltas of one instrument as int64 columns, in the order they apply."""

    __slots__ = (
        "action",
        "flags",
        "instrument_id",
        "order_id",
        "price",
        "price_precision",
        "sequence",
        "side",
        "size",
        "size_precision",
        "ts_event",
        "ts_init",
    )

    def __init__(
        self,
        instrument_id: str,
        price_precision: int,
        size_precision: int,
        ts_event: npt.ArrayLike,
        ts_init: npt.ArrayLike,
        action: npt.ArrayLike,
        side: npt.ArrayLike,
        price: npt.ArrayLike,
        size: npt.ArrayLike,
        order_id: npt.ArrayLike,
        flags: npt.ArrayLike,
        sequence: npt.ArrayLike,
    ) -> None:
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.ts_event: I64 = np.ascontiguousarray(ts_event, dtype=np.int64)
        self.ts_init: I64 = np.ascontiguousarray(ts_init, dtype=np.int64)
        self.action: I64 = np.ascontiguousarray(action, dtype=np.int64)
        self.side: I64 = np.ascontiguousarray(side, dtype=np.int64)
        self.price: I64 = np.ascontiguousarray(price, dtype=np.int64)
        self.size: I64 = np.ascontiguousarray(size, dtype=np.int64)
        self.order_id: I64 = np.ascontiguousarray(order_id, dtype=np.int64)
        self.flags: I64 = np.ascontiguousarray(flags, dtype=np.int64)
        self.sequence: I64 = np.ascontiguousarray(sequence, dtype=np.int64)
        lengths = {name: len(getattr(self, name)) for name in DELTA_FIELDS}
        if len(set(lengths.values())) > 1:
            raise DataIntegrityError(
                f"book deltas of {instrument_id} have columns of different lengths: {lengths}"
            )

    def __len__(self) -> int:
        return len(self.action)

    def take(self, index: slice | npt.ArrayLike) -> BookDeltaColumns:
        """Return the rows at ``index`` (a slice, an integer array or a boolean mask)."""
        idx: Any = index
        return BookDeltaColumns(
            self.instrument_id,
            self.price_precision,
            self.size_precision,
            *(getattr(self, name)[idx] for name in DELTA_FIELDS),
        )

    @classmethod
    def from_deltas(cls, deltas: list[OrderBookDelta]) -> BookDeltaColumns:
        """Return ``deltas`` (one instrument, at least one) as columns.

        Raises
        ------
        InvalidValueError
            If ``deltas`` is empty or mixes instruments.
        """
        if not deltas:
            raise InvalidValueError("from_deltas needs at least one delta")
        first = deltas[0]
        if any(d.instrument_id != first.instrument_id for d in deltas):
            raise InvalidValueError("from_deltas got deltas of more than one instrument")
        actions = {v: k for k, v in _BOOK_ACTIONS.items()}
        sides = {side: code for code, side in enumerate(_BOOK_SIDES)}
        return cls(
            first.instrument_id,
            first.price.precision,
            first.size.precision,
            [d.ts_event for d in deltas],
            [d.ts_init for d in deltas],
            [actions[d.action] for d in deltas],
            [sides[d.side] for d in deltas],
            [d.price.raw for d in deltas],
            [d.size.raw for d in deltas],
            [d.order_id for d in deltas],
            [d.flags for d in deltas],
            [d.sequence for d in deltas],
        )

    @classmethod
    def concat(cls, parts: list[BookDeltaColumns]) -> BookDeltaColumns:
        """Return ``parts`` joined end to end (same instrument and precisions).

        Raises
        ------
        InvalidValueError
            If ``parts`` is empty or the parts differ in instrument or precision.
        """
        if not parts:
            raise InvalidValueError("concat needs at least one part")
        first = parts[0]
        for part in parts[1:]:
            if (part.instrument_id, part.price_precision, part.size_precision) != (
                first.instrument_id,
                first.price_precision,
                first.size_precision,
            ):
                raise InvalidValueError("concat parts differ in instrument or precision")
        return cls(
            first.instrument_id,
            first.price_precision,
            first.size_precision,
            *(np.concatenate([getattr(p, name) for p in parts]) for name in DELTA_FIELDS),
        )

    def event_ends(self) -> npt.NDArray[np.bool_]:
        """Return True at the rows flagged ``LAST`` (the end of a venue event)."""
        is_last: npt.NDArray[np.bool_] = (self.flags & int(BookFlag.LAST)) != 0
        return is_last

    def iter_deltas(self) -> Iterator[OrderBookDelta]:
        """Yield every row as an ``OrderBookDelta`` record.

        Raises
        ------
        InvalidValueError
            At a row whose action has no ``BookAction`` (CANCEL, FILL, TRADE, NONE: the
            market-by-order actions of the columnar stream).
        """
        iid, p, s = self.instrument_id, self.price_precision, self.size_precision
        rows = zip(
            self.action.tolist(),
            self.side.tolist(),
            self.price.tolist(),
            self.size.tolist(),
            self.order_id.tolist(),
            self.flags.tolist(),
            self.sequence.tolist(),
            self.ts_event.tolist(),
            self.ts_init.tolist(),
            strict=True,
        )
        for row, (a, sd, px, sz, oid, fl, seq, te, ti) in enumerate(rows):
            action = _BOOK_ACTIONS.get(a)
            if action is None:
                raise InvalidValueError(
                    f"book delta row {row} of {iid} is a {action_name(a)}, which has no "
                    "OrderBookDelta action; apply the columns with L3Book.apply_raw"
                )
            yield OrderBookDelta(
                iid,
                action,
                _BOOK_SIDES[sd],
                Price(px if action is not BookAction.CLEAR else 0, p),
                Quantity(sz, s),
                oid,
                fl,
                seq,
                te,
                ti,
            )

"""Columnar market data: the form in which data is read, validated, stored and replayed.

Prices and sizes are ``int64`` raws at a fixed precision (``Price(raw, precision)``), times are
``int64`` nanoseconds. The kernel builds one record object per row only as it dispatches it,
chunk by chunk, so memory stays flat however long the series.

Every column set is sorted by ``ts_init`` (ties keep file order) once validated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import DataIntegrityError
from tradeloop.core.fixed import Price, Quantity, pow10
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

CHUNK_ROWS = 65_536
_AGGRESSORS = (AggressorSide.NONE, AggressorSide.BUYER, AggressorSide.SELLER)


def floats_to_raw(values: npt.ArrayLike, precision: int, what: str) -> I64:
    """Return float ``values`` as int64 raws at ``precision`` (round half-even).

    A value that needs more decimals than ``precision`` is rounded, not rejected: call
    ``excess_precision_mask`` first where that must be reported (data validation does).

    Raises
    ------
    DataIntegrityError
        If a value is NaN or infinite (validation quarantines those rows before this).
    """
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise DataIntegrityError(
            f"{what} at row {bad} is {arr[bad]}; quarantine it before conversion"
        )
    return np.rint(arr * float(pow10(precision))).astype(np.int64)


def excess_precision_mask(values: npt.ArrayLike, precision: int) -> npt.NDArray[np.bool_]:
    """Return True where a float carries more decimals than ``precision`` (beyond float noise)."""
    arr = np.asarray(values, dtype=np.float64)
    # A huge value (1e300) overflows to infinity here; it is judged by its own rule
    # (out_of_range), so the overflow is not a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = arr * float(pow10(precision))
        tolerance = np.maximum(1e-6, np.abs(scaled) * 1e-12)
        return np.abs(scaled - np.rint(scaled)) > tolerance


def _i64(values: npt.ArrayLike) -> I64:
    return np.ascontiguousarray(values, dtype=np.int64)


def _check_lengths(name: str, **columns: np.ndarray[Any, Any]) -> int:
    lengths = {key: len(col) for key, col in columns.items()}
    if len(set(lengths.values())) > 1:
        raise DataIntegrityError(f"{name} columns have different lengths: {lengths}")
    return next(iter(lengths.values()), 0)


class BarColumns:
    """OHLCV bars of one instrument as int64 columns."""

    __slots__ = (
        "close",
        "high",
        "instrument_id",
        "low",
        "open",
        "price_precision",
        "ts_event",
        "ts_init",
        "volume",
        "volume_precision",
    )

    def __init__(
        self,
        instrument_id: str,
        price_precision: int,
        volume_precision: int,
        ts_event: npt.ArrayLike,
        ts_init: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
    ) -> None:
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.volume_precision = volume_precision
        self.ts_event = _i64(ts_event)
        self.ts_init = _i64(ts_init)
        self.open = _i64(open)
        self.high = _i64(high)
        self.low = _i64(low)
        self.close = _i64(close)
        self.volume = _i64(volume)
        _check_lengths(
            f"bars of {instrument_id}",
            ts_event=self.ts_event,
            ts_init=self.ts_init,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
        )

    @classmethod
    def from_floats(
        cls,
        instrument_id: str,
        price_precision: int,
        volume_precision: int,
        ts_event: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
        ts_init: npt.ArrayLike | None = None,
    ) -> BarColumns:
        """Return bars from float columns, converted to raws at the given precisions."""
        return cls(
            instrument_id,
            price_precision,
            volume_precision,
            ts_event,
            ts_event if ts_init is None else ts_init,
            floats_to_raw(open, price_precision, "open"),
            floats_to_raw(high, price_precision, "high"),
            floats_to_raw(low, price_precision, "low"),
            floats_to_raw(close, price_precision, "close"),
            floats_to_raw(volume, volume_precision, "volume"),
        )

    def __len__(self) -> int:
        return len(self.ts_init)

    def take(self, index: slice | npt.ArrayLike) -> BarColumns:
        """Return the rows at ``index`` (a slice, an integer array or a boolean mask)."""
        idx: Any = index
        return BarColumns(
            self.instrument_id,
            self.price_precision,
            self.volume_precision,
            self.ts_event[idx],
            self.ts_init[idx],
            self.open[idx],
            self.high[idx],
            self.low[idx],
            self.close[idx],
            self.volume[idx],
        )

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> BarColumns:
        """Return the rows with ``start_ns <= ts_init <= end_ns`` (either bound optional)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.ts_init, start_ns, "left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.ts_init, end_ns, "right"))
        return self.take(slice(lo, hi))

    def as_float(self, column: str) -> F64:
        """Return a price column (``open`` … ``close``) or ``volume`` as floats."""
        raw: I64 = getattr(self, column)
        precision = self.volume_precision if column == "volume" else self.price_precision
        return raw / float(pow10(precision))

    def bar(self, row: int) -> Bar:
        """Return row ``row`` as a ``Bar`` record."""
        return Bar(
            self.instrument_id,
            int(self.open[row]),
            int(self.high[row]),
            int(self.low[row]),
            int(self.close[row]),
            int(self.volume[row]),
            self.price_precision,
            self.volume_precision,
            int(self.ts_event[row]),
            int(self.ts_init[row]),
        )

    def iter_bars(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Bar]:
        """Yield every row as a ``Bar``, converting one chunk of columns to lists at a time."""
        iid, p, vp = self.instrument_id, self.price_precision, self.volume_precision
        for start in range(0, len(self), chunk_rows):
            stop = start + chunk_rows
            rows = zip(
                self.open[start:stop].tolist(),
                self.high[start:stop].tolist(),
                self.low[start:stop].tolist(),
                self.close[start:stop].tolist(),
                self.volume[start:stop].tolist(),
                self.ts_event[start:stop].tolist(),
                self.ts_init[start:stop].tolist(),
                strict=True,
            )
            for o, h, lo, c, v, te, ti in rows:
                yield Bar(iid, o, h, lo, c, v, p, vp, te, ti)


class QuoteColumns:
    """Best bid/ask quotes of one instrument as int64 columns."""

    __slots__ = (
        "ask_price",
        "ask_size",
        "bid_price",
        "bid_size",
        "instrument_id",
        "price_precision",
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
        bid_price: npt.ArrayLike,
        ask_price: npt.ArrayLike,
        bid_size: npt.ArrayLike,
        ask_size: npt.ArrayLike,
    ) -> None:
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.ts_event = _i64(ts_event)
        self.ts_init = _i64(ts_init)
        self.bid_price = _i64(bid_price)
        self.ask_price = _i64(ask_price)
        self.bid_size = _i64(bid_size)
        self.ask_size = _i64(ask_size)
        _check_lengths(
            f"quotes of {instrument_id}",
            ts_event=self.ts_event,
            ts_init=self.ts_init,
            bid_price=self.bid_price,
            ask_price=self.ask_price,
            bid_size=self.bid_size,
            ask_size=self.ask_size,
        )

    def __len__(self) -> int:
        return len(self.ts_init)

    def take(self, index: slice | npt.ArrayLike) -> QuoteColumns:
        """Return the rows at ``index``."""
        idx: Any = index
        return QuoteColumns(
            self.instrument_id,
            self.price_precision,
            self.size_precision,
            self.ts_event[idx],
            self.ts_init[idx],
            self.bid_price[idx],
            self.ask_price[idx],
            self.bid_size[idx],
            self.ask_size[idx],
        )

    def iter_quotes(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[QuoteTick]:
        """Yield every row as a ``QuoteTick``."""
        iid, p, sp = self.instrument_id, self.price_precision, self.size_precision
        for start in range(0, len(self), chunk_rows):
            stop = start + chunk_rows
            rows = zip(
                self.bid_price[start:stop].tolist(),
                self.ask_price[start:stop].tolist(),
                self.bid_size[start:stop].tolist(),
                self.ask_size[start:stop].tolist(),
                self.ts_event[start:stop].tolist(),
                self.ts_init[start:stop].tolist(),
                strict=True,
            )
            for bp, ap, bs, asz, te, ti in rows:
                yield QuoteTick(
                    iid, Price(bp, p), Price(ap, p), Quantity(bs, sp), Quantity(asz, sp), te, ti
                )


class TradeColumns:
    """Trade ticks of one instrument. ``aggressor`` is 0 none, 1 buyer, 2 seller."""

    __slots__ = (
        "aggressor",
        "instrument_id",
        "price",
        "price_precision",
        "size",
        "size_precision",
        "trade_id",
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
        price: npt.ArrayLike,
        size: npt.ArrayLike,
        aggressor: npt.ArrayLike,
        trade_id: npt.ArrayLike,
    ) -> None:
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.ts_event = _i64(ts_event)
        self.ts_init = _i64(ts_init)
        self.price = _i64(price)
        self.size = _i64(size)
        self.aggressor = np.ascontiguousarray(aggressor, dtype=np.int8)
        self.trade_id = np.asarray(trade_id).astype(str)
        _check_lengths(
            f"trades of {instrument_id}",
            ts_event=self.ts_event,
            ts_init=self.ts_init,
            price=self.price,
            size=self.size,
            aggressor=self.aggressor,
            trade_id=self.trade_id,
        )

    def __len__(self) -> int:
        return len(self.ts_init)

    def take(self, index: slice | npt.ArrayLike) -> TradeColumns:
        """Return the rows at ``index``."""
        idx: Any = index
        return TradeColumns(
            self.instrument_id,
            self.price_precision,
            self.size_precision,
            self.ts_event[idx],
            self.ts_init[idx],
            self.price[idx],
            self.size[idx],
            self.aggressor[idx],
            self.trade_id[idx],
        )

    def iter_trades(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[TradeTick]:
        """Yield every row as a ``TradeTick``."""
        iid, p, sp = self.instrument_id, self.price_precision, self.size_precision
        for start in range(0, len(self), chunk_rows):
            stop = start + chunk_rows
            rows = zip(
                self.price[start:stop].tolist(),
                self.size[start:stop].tolist(),
                self.aggressor[start:stop].tolist(),
                self.trade_id[start:stop].tolist(),
                self.ts_event[start:stop].tolist(),
                self.ts_init[start:stop].tolist(),
                strict=True,
            )
            for px, sz, ag, tid, te, ti in rows:
                yield TradeTick(iid, Price(px, p), Quantity(sz, sp), _AGGRESSORS[ag], tid, te, ti)


Columns = BarColumns | QuoteColumns | TradeColumns

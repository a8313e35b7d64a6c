"""Merging market data sources into one stream in kernel order.

The tie-break for records with the same ``ts_init`` (documented in the kernel):

1. kind: order-book deltas, then quotes, then trades, then bars (a bar summarises what
   happened before it closed, so it comes after the ticks of its last instant);
2. source order: the order the sources were given in (the config's data order);
3. row order inside a source.

Records are built a chunk at a time (``map`` over column lists, in C) and handed to the
kernel as lists, so only one window's records exist as objects at a time and the kernel
loops over lists instead of resuming a generator per record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import repeat

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvariantViolation
from tradeloop.core.fixed import Price, Quantity, pow10
from tradeloop.data.columns import CHUNK_ROWS, BarColumns, Columns, QuoteColumns, TradeColumns
from tradeloop.model.data import Bar, MarketData, QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide

KIND_PRIORITY = {QuoteColumns: 1, TradeColumns: 2, BarColumns: 3}
_AGGRESSORS = (AggressorSide.NONE, AggressorSide.BUYER, AggressorSide.SELLER)


def build_records(columns: Columns, start: int, stop: int) -> list[MarketData]:
    """Return rows ``start:stop`` of ``columns`` as record objects."""
    n = stop - start
    iid = repeat(columns.instrument_id, n)
    ts_event = columns.ts_event[start:stop].tolist()
    ts_init = columns.ts_init[start:stop].tolist()
    if isinstance(columns, BarColumns):
        return list(
            map(
                Bar,
                iid,
                columns.open[start:stop].tolist(),
                columns.high[start:stop].tolist(),
                columns.low[start:stop].tolist(),
                columns.close[start:stop].tolist(),
                columns.volume[start:stop].tolist(),
                repeat(columns.price_precision, n),
                repeat(columns.volume_precision, n),
                ts_event,
                ts_init,
            )
        )
    if isinstance(columns, QuoteColumns):
        p, sp = repeat(columns.price_precision, n), repeat(columns.size_precision, n)
        return list(
            map(
                QuoteTick,
                iid,
                map(Price, columns.bid_price[start:stop].tolist(), p),
                map(
                    Price,
                    columns.ask_price[start:stop].tolist(),
                    repeat(columns.price_precision, n),
                ),
                map(Quantity, columns.bid_size[start:stop].tolist(), sp),
                map(
                    Quantity,
                    columns.ask_size[start:stop].tolist(),
                    repeat(columns.size_precision, n),
                ),
                ts_event,
                ts_init,
            )
        )
    return list(
        map(
            TradeTick,
            iid,
            map(Price, columns.price[start:stop].tolist(), repeat(columns.price_precision, n)),
            map(Quantity, columns.size[start:stop].tolist(), repeat(columns.size_precision, n)),
            (_AGGRESSORS[a] for a in columns.aggressor[start:stop].tolist()),
            columns.trade_id[start:stop].tolist(),
            ts_event,
            ts_init,
        )
    )


def _mark_values(columns: Columns) -> npt.NDArray[np.float64]:
    if isinstance(columns, BarColumns):
        return columns.close / float(pow10(columns.price_precision))
    if isinstance(columns, QuoteColumns):
        return (columns.bid_price + columns.ask_price) / (2.0 * pow10(columns.price_precision))
    return columns.price / float(pow10(columns.price_precision))


class RecordStream:
    """The records of several sources in kernel order, served in chunks."""

    def __init__(self, sources: Sequence[Columns], window_rows: int = CHUNK_ROWS) -> None:
        self.sources = [s for s in sources if len(s)]
        self.window_rows = window_rows

    def __iter__(self) -> Iterator[MarketData]:
        for chunk in self.chunks():
            yield from chunk

    def __len__(self) -> int:
        return sum(len(s) for s in self.sources)

    def chunks(self) -> Iterator[list[MarketData]]:
        """Yield lists of records; concatenated, they are the whole stream in kernel order."""
        sources = self.sources
        if len(sources) == 1:
            source = sources[0]
            for start in range(0, len(source), self.window_rows):
                yield build_records(source, start, min(start + self.window_rows, len(source)))
            return
        if not sources:
            return
        kinds = [KIND_PRIORITY[type(s)] for s in sources]
        all_ts = np.concatenate([s.ts_init for s in sources])
        # Window edges on distinct timestamps, so equal timestamps never straddle two windows.
        cuts = np.unique(np.sort(all_ts)[:: max(1, self.window_rows)])
        edges: list[int | None] = [*cuts[1:].tolist(), None]
        cursors = [0] * len(sources)
        emitted = 0
        for edge in edges:
            pieces: list[list[MarketData]] = []
            ts_parts, kind_parts, source_parts, row_parts = [], [], [], []
            for i, source in enumerate(sources):
                start = cursors[i]
                stop = (
                    len(source)
                    if edge is None
                    else int(np.searchsorted(source.ts_init, edge, "left"))
                )
                pieces.append(build_records(source, start, stop) if stop > start else [])
                if stop > start:
                    n = stop - start
                    ts_parts.append(source.ts_init[start:stop])
                    kind_parts.append(np.full(n, kinds[i], dtype=np.int8))
                    source_parts.append(np.full(n, i, dtype=np.int32))
                    row_parts.append(np.arange(n, dtype=np.int64))
                cursors[i] = stop
            if not ts_parts:
                continue
            source_idx = np.concatenate(source_parts)
            row_idx = np.concatenate(row_parts)
            # lexsort: the last key is the primary one.
            order = np.lexsort(
                (row_idx, source_idx, np.concatenate(kind_parts), np.concatenate(ts_parts))
            )
            yield [
                pieces[src][row]
                for src, row in zip(
                    source_idx[order].tolist(), row_idx[order].tolist(), strict=True
                )
            ]
            emitted += len(order)
        if emitted != len(all_ts):
            raise InvariantViolation(f"data merge emitted {emitted} of {len(all_ts)} records")

    def timestamps(self) -> npt.NDArray[np.int64]:
        """Return the distinct ``ts_init`` values of the stream, sorted."""
        if not self.sources:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate([s.ts_init for s in self.sources]))

    def marks(self) -> dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """Return each instrument's marks (bar close, quote mid, trade price) in kernel order."""
        by_instrument: dict[str, list[tuple[Columns, int]]] = {}
        for index, source in enumerate(self.sources):
            by_instrument.setdefault(source.instrument_id, []).append((source, index))
        marks: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}
        for instrument_id, parts in by_instrument.items():
            if len(parts) == 1:
                only = parts[0][0]
                marks[instrument_id] = (only.ts_init, _mark_values(only))
                continue
            ts = np.concatenate([s.ts_init for s, _ in parts])
            values = np.concatenate([_mark_values(s) for s, _ in parts])
            kind = np.concatenate([np.full(len(s), KIND_PRIORITY[type(s)]) for s, _ in parts])
            rank = np.concatenate([np.full(len(s), i) for s, i in parts])
            order = np.lexsort((rank, kind, ts))
            marks[instrument_id] = (ts[order], values[order])
        return marks


def merge(sources: Sequence[Columns], window_rows: int = CHUNK_ROWS) -> RecordStream:
    """Return the records of every source in kernel order (ts_init, kind, source, row)."""
    return RecordStream(sources, window_rows)


def iter_records(columns: Columns) -> Iterator[MarketData]:
    """Yield the records of one source in row order."""
    yield from RecordStream([columns])

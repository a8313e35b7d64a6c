"""Merging market data sources into one stream in kernel order.

The tie-break for records with the same ``ts_init`` (documented in the kernel):

1. kind: order-book deltas, then quotes, then trades, then bars (a bar summarises what
   happened before it closed, so it comes after the ticks of its last instant);
2. source order: the order the sources were given in (the config's instrument order);
3. row order inside a source.

Sources are merged in windows of about ``window_rows`` records, so memory stays flat: only
one window's records exist as objects at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from tradeloop.core.errors import InvariantViolation
from tradeloop.data.columns import BarColumns, Columns, QuoteColumns, TradeColumns
from tradeloop.model.data import MarketData

KIND_PRIORITY = {QuoteColumns: 1, TradeColumns: 2, BarColumns: 3}


def _records(columns: Columns, start: int, stop: int) -> list[MarketData]:
    part = columns.take(slice(start, stop))
    if isinstance(part, BarColumns):
        return list(part.iter_bars())
    if isinstance(part, QuoteColumns):
        return list(part.iter_quotes())
    return list(part.iter_trades())


def iter_records(columns: Columns) -> Iterator[MarketData]:
    """Yield the records of one source in row order."""
    if isinstance(columns, BarColumns):
        yield from columns.iter_bars()
    elif isinstance(columns, QuoteColumns):
        yield from columns.iter_quotes()
    else:
        yield from columns.iter_trades()


def merge(sources: Sequence[Columns], window_rows: int = 65_536) -> Iterator[MarketData]:
    """Yield the records of every source in kernel order (ts_init, kind, source, row)."""
    if len(sources) == 1:
        yield from iter_records(sources[0])
        return
    non_empty = [s for s in sources if len(s)]
    if not non_empty:
        return
    kinds = [KIND_PRIORITY[type(s)] for s in non_empty]
    all_ts = np.concatenate([s.ts_init for s in non_empty])
    total = len(all_ts)
    # Window edges on distinct timestamps, so equal timestamps never straddle two windows.
    cuts = np.unique(np.sort(all_ts)[:: max(1, window_rows)])
    edges: list[int | None] = [*cuts[1:].tolist(), None]
    cursors = [0] * len(non_empty)
    emitted = 0
    for edge in edges:
        pieces: list[list[MarketData]] = []
        ts_parts, kind_parts, source_parts, row_parts = [], [], [], []
        for i, source in enumerate(non_empty):
            start = cursors[i]
            stop = (
                len(source) if edge is None else int(np.searchsorted(source.ts_init, edge, "left"))
            )
            pieces.append(_records(source, start, stop) if stop > start else [])
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
        for src, row in zip(source_idx[order].tolist(), row_idx[order].tolist(), strict=True):
            yield pieces[src][row]
        emitted += len(order)
    if emitted != total:
        raise InvariantViolation(f"data merge emitted {emitted} of {total} records")

"""``bench_book_replay``: decode a Binance diff-depth recording, then time the replay.

Parsing (gzip, JSON, exact decimal text to raws, Binance's sequencing rules) is timed apart
from the replay of the decoded deltas by the numba kernel (``data.books.replay_l2``), whose
compilation (or load from numba's on-disk cache) is timed apart too; both are repeated and the
fastest counts. The end-to-end figure is what a user waits for from the file to the replayed
book: ``deltas / (fastest parse + fastest replay)``. The replay writes the
best bid and ask after every delta; its top of book at the end of each depth event is checked
against the recording's own ``bookTicker`` quotes (matched by update id), and its final book
against the pure-Python ``L2Book``, which is also timed once for comparison.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from tradeloop import __version__
from tradeloop.data.books.binance import read_binance_depth
from tradeloop.data.books.replay import apply_deltas, replay_l2
from tradeloop.model.book import L2Book
from tradeloop.model.enums import BookSide


def bench_book_replay(
    path: str | os.PathLike[str], *, repeat: int = 5, emit_top: bool = True
) -> dict[str, Any]:
    """Decode the recording at ``path``, replay its deltas ``repeat`` times, return the record.

    ``seconds`` is the fastest replay (``median_seconds`` the median); ``deltas_per_s`` is
    ``deltas / seconds`` (replay only). ``parse_s`` is the fastest decode of the file;
    ``end_to_end_deltas_per_s`` is ``deltas / (parse_s + seconds)``: file to book.

    Raises
    ------
    ConfigError
        If the file is missing.
    DataIntegrityError
        If the recording breaks Binance's sequencing rules.
    """
    parse_timings = []
    feed = None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        feed = read_binance_depth(path)
        parse_timings.append(time.perf_counter() - start)
    assert feed is not None
    parse_s = min(parse_timings)
    deltas = feed.deltas

    start = time.perf_counter()
    replay_l2(deltas.take(slice(0, 64)), emit_top=emit_top)
    compile_s = time.perf_counter() - start

    timings = []
    replay = None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        replay = replay_l2(deltas, emit_top=emit_top)
        timings.append(time.perf_counter() - start)
    assert replay is not None
    seconds = min(timings)

    start = time.perf_counter()
    book = L2Book(deltas.instrument_id, deltas.price_precision, deltas.size_precision)
    apply_deltas(book, deltas)
    python_s = time.perf_counter() - start
    matches_python = all(
        replay.levels_raw(side) == book.levels_raw(side) for side in (BookSide.BID, BookSide.ASK)
    )

    agreement = None
    if replay.bid_price is not None:
        assert replay.bid_size is not None
        assert replay.ask_price is not None
        assert replay.ask_size is not None
        ends = np.flatnonzero(deltas.event_ends() & (deltas.flags & 32 == 0))
        index = np.searchsorted(feed.quote_update_ids, deltas.sequence[ends], side="right") - 1
        ends, index = ends[index >= 0], index[index >= 0]
        q = feed.quotes
        same = (
            (replay.bid_price[ends] == q.bid_price[index])
            & (replay.bid_size[ends] == q.bid_size[index])
            & (replay.ask_price[ends] == q.ask_price[index])
            & (replay.ask_size[ends] == q.ask_size[index])
        )
        agreement = round(float(same.mean()), 6) if len(same) else None

    return {
        "engine": "tradeloop",
        "version": __version__,
        "job": "book_replay",
        "file": Path(path).name,
        "market": feed.report.market,
        "instrument_id": deltas.instrument_id,
        "depth_events": feed.report.depth_events,
        "deltas": len(deltas),
        "parse_s": round(parse_s, 4),
        "parse_deltas_per_s": round(len(deltas) / parse_s, 1),
        "compile_s": round(compile_s, 4),
        "seconds": round(seconds, 6),
        "median_seconds": round(statistics.median(timings), 6),
        "deltas_per_s": round(len(deltas) / seconds, 1),
        "end_to_end_seconds": round(parse_s + seconds, 4),
        "end_to_end_deltas_per_s": round(len(deltas) / (parse_s + seconds), 1),
        "emit_top": emit_top,
        "repeat": len(timings),
        "python_seconds": round(python_s, 4),
        "python_deltas_per_s": round(len(deltas) / python_s, 1),
        "matches_python_book": matches_python,
        "top_agrees_with_book_ticker": agreement,
    }

"""Bybit v5 ``orderbook.<depth>.<symbol>`` WebSocket recordings: deltas and checks.

One JSON message per line (a ``.zip`` holding one such file is read too)::

    {"topic": "orderbook.500.XRPUSDT", "type": "snapshot" | "delta", "ts": <ms>,
     "cts": <ms>, "data": {"s": ..., "b": [[price, size], ...], "a": [...], "u": <id>, "seq": <id>}}

Bybit's rules (v5 public orderbook docs), applied by ``read_bybit_orderbook``:

1. The first message after subscribing is a snapshot; any later snapshot replaces the book
   (``u == 1`` is a snapshot after a service restart).
2. Each delta's update id ``u`` is the previous message's ``u + 1``.
3. A delta gives absolute sizes; size ``"0"`` removes the level. Levels leave the stream's
   depth window by being removed, so after every message each side holds ``depth`` levels
   (when the market is that deep) and a removal always names a level in the book (the DELETE
   rows are strict, unlike Binance's).
4. ``seq`` (the matching engine's cross sequence) never decreases.

A gap, an out-of-order message or a delta before any snapshot raises ``DataIntegrityError``
naming the topic, the update id and the rule. With ``on_gap="resync"`` the book is cleared
(a CLEAR flagged ``UNSYNCED``) and deltas are dropped until the next snapshot, which Bybit
sends after a problem on its side.

The recording has no local receive time: ``ts_init`` is the message's ``ts`` (when Bybit's
system produced it) and ``ts_event`` its ``cts`` (the matching engine's time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

import msgspec
import numpy as np

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.data.books._build import (
    CrossedPolicy,
    DeltaBuilder,
    GapPolicy,
    RawCache,
    open_text,
    reduce_precision,
)
from tradeloop.data.books.columns import BookDeltaColumns
from tradeloop.data.books.replay import apply_deltas
from tradeloop.model.book import NULL_PRICE, BookFlag, L2Book

WORKING_PRECISION: Final = 10
_MS: Final = 1_000_000
_ADD, _UPDATE, _DELETE, _CLEAR = 1, 2, 3, 4
_BID, _ASK = 1, 2
_F_SNAPSHOT: Final = int(BookFlag.SNAPSHOT)
_F_UNSYNCED: Final = int(BookFlag.UNSYNCED)


class _Data(msgspec.Struct):
    u: int
    b: list[tuple[str, str]] = msgspec.field(default_factory=list)
    a: list[tuple[str, str]] = msgspec.field(default_factory=list)
    s: str = ""
    seq: int = 0


class _Message(msgspec.Struct):
    topic: str
    type: str
    ts: int
    data: _Data
    cts: int = 0


class BybitSyncReport(msgspec.Struct, frozen=True, kw_only=True):
    """How ``read_bybit_orderbook`` read the stream.

    Attributes
    ----------
    topic : the stream's topic (``orderbook.500.XRPUSDT``).
    depth : levels per side of the stream (500).
    messages, snapshots, deltas_applied : messages in the file, snapshots among them, and the
        delta messages applied.
    deltas_dropped : delta messages dropped while waiting for a snapshot (``on_gap="resync"``).
    gaps : sequence breaks met.
    """

    topic: str
    depth: int
    messages: int
    snapshots: int
    deltas_applied: int
    deltas_dropped: int
    gaps: int


@dataclass(frozen=True, slots=True)
class BybitFeed:
    """A decoded Bybit order-book recording: deltas (``sequence`` = ``u``) and its report."""

    deltas: BookDeltaColumns
    report: BybitSyncReport


def read_bybit_orderbook(
    path: str | os.PathLike[str],
    *,
    instrument_id: str | None = None,
    price_precision: int | None = None,
    size_precision: int | None = None,
    on_gap: GapPolicy = "raise",
) -> BybitFeed:
    """Read a Bybit ``orderbook.<depth>`` recording into book deltas.

    Parameters
    ----------
    path : the recording (plain text, ``.gz`` or a one-file ``.zip``).
    instrument_id : defaults to ``<SYMBOL>-LINEAR.BYBIT``.
    price_precision, size_precision : decimals of the raws; by default the fewest that keep
        every value exact.
    on_gap : ``"raise"`` (default) or ``"resync"`` (see the module docstring).

    Raises
    ------
    ConfigError
        If the file is missing.
    DataIntegrityError
        On a gap, an out-of-order message, a delta before the first snapshot (unless
        ``on_gap="resync"``), messages of several topics, or malformed JSON.
    """
    if on_gap not in ("raise", "resync"):
        raise ConfigError(f"on_gap {on_gap!r} is not 'raise' or 'resync'")
    with open_text(path, "Bybit recording") as handle:
        lines = handle.read().splitlines()
    decoder = msgspec.json.Decoder(_Message)
    prices = RawCache(WORKING_PRECISION, "Bybit price")
    sizes = RawCache(WORKING_PRECISION, "Bybit size")
    out = DeltaBuilder()
    topic = ""
    symbol = ""
    last_u = -1
    last_seq = -1
    is_synced = False
    snapshots = applied = dropped = gaps = messages = 0
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            message = decoder.decode(text)
        except msgspec.DecodeError as exc:
            raise DataIntegrityError(f"Bybit recording {path}, line {number}: {exc}") from None
        messages += 1
        if not topic:
            topic, symbol = message.topic, message.data.s
        elif message.topic != topic:
            raise DataIntegrityError(
                f"Bybit recording {path}, line {number}: topic {message.topic} after {topic} "
                "(rule: one recording holds one order-book stream)"
            )
        data = message.data
        ts_init = message.ts * _MS
        ts_event = (message.cts or message.ts) * _MS
        where = f"bybit {topic} update u={data.u} at line {number}"
        if message.type == "snapshot":
            out.append(ts_event, ts_init, _CLEAR, 0, NULL_PRICE, 0, 0, _F_SNAPSHOT, data.u)
            for side, levels in ((_BID, data.b), (_ASK, data.a)):
                for price_text, size_text in levels:
                    size = sizes[size_text]
                    if size:
                        out.append(
                            ts_event,
                            ts_init,
                            _ADD,
                            side,
                            prices[price_text],
                            size,
                            0,
                            _F_SNAPSHOT,
                            data.u,
                        )
            out.set_last()
            snapshots += 1
            is_synced = True
            last_u, last_seq = data.u, data.seq
            continue
        if message.type != "delta":
            raise DataIntegrityError(f"{where}: message type {message.type!r} is not known")
        rule = ""
        if not is_synced:
            rule = "the stream starts with a snapshot; deltas apply to it"
            problem = "delta before any snapshot"
        elif data.u <= last_u:
            rule = "each delta's u is the previous u + 1 (Bybit orderbook)"
            problem = f"out of order: u={data.u} after u={last_u}"
        elif data.u != last_u + 1:
            rule = "each delta's u is the previous u + 1 (Bybit orderbook)"
            problem = f"sequence gap after u={last_u}"
        elif data.seq < last_seq:
            rule = "the cross sequence seq never decreases (Bybit orderbook)"
            problem = f"out of order: seq={data.seq} after seq={last_seq}"
        if rule:
            if on_gap == "raise":
                raise DataIntegrityError(
                    f"{where}: {problem} (rule: {rule}); pass on_gap='resync' to drop deltas "
                    "until the next snapshot"
                )
            if is_synced:
                gaps += 1
                out.append(ts_event, ts_init, _CLEAR, 0, NULL_PRICE, 0, 0, _F_UNSYNCED, 0)
                out.set_last()
                is_synced = False
            dropped += 1
            continue
        start = len(out)
        for side, levels in ((_BID, data.b), (_ASK, data.a)):
            for price_text, size_text in levels:
                size = sizes[size_text]
                action = _UPDATE if size else _DELETE
                out.append(ts_event, ts_init, action, side, prices[price_text], size, 0, 0, data.u)
        if len(out) == start:
            out.append(ts_event, ts_init, 0, 0, NULL_PRICE, 0, 0, 0, data.u)
        out.set_last()
        applied += 1
        last_u, last_seq = data.u, data.seq
    if not topic:
        raise DataIntegrityError(f"Bybit recording {path} holds no message")
    arrays = out.arrays()
    (arrays[4],), p = reduce_precision(
        [arrays[4]], WORKING_PRECISION, price_precision, "Bybit price", null=NULL_PRICE
    )
    (arrays[5],), s = reduce_precision([arrays[5]], WORKING_PRECISION, size_precision, "Bybit size")
    parts = topic.split(".")
    depth = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
    if instrument_id is None:
        instrument_id = f"{(symbol or parts[-1]).upper()}-LINEAR.BYBIT"
    report = BybitSyncReport(
        topic=topic,
        depth=depth,
        messages=messages,
        snapshots=snapshots,
        deltas_applied=applied,
        deltas_dropped=dropped,
        gaps=gaps,
    )
    return BybitFeed(BookDeltaColumns(instrument_id, p, s, *arrays), report)


class BybitBookCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The rebuilt book checked against the stream's own guarantees after every message.

    Attributes
    ----------
    messages : messages applied (rows flagged ``LAST``).
    full_depth_messages : messages after which both sides hold exactly ``depth`` levels (the
        stream keeps its window full: levels that leave it are deleted).
    min_bid_levels, max_bid_levels, min_ask_levels, max_ask_levels : level counts seen.
    crossed_messages : messages that ended with a crossed or locked book.
    """

    messages: int
    full_depth_messages: int
    min_bid_levels: int
    max_bid_levels: int
    min_ask_levels: int
    max_ask_levels: int
    crossed_messages: int


def check_bybit_book(feed: BybitFeed, *, on_crossed: CrossedPolicy = "raise") -> BybitBookCheck:
    """Rebuild ``feed``'s book message by message and check Bybit's guarantees.

    Raises
    ------
    DataIntegrityError
        If a delta breaks a book rule (a delete of a level not in the book, …), or a message
        ends with a crossed book under ``on_crossed="raise"``.
    """
    deltas = feed.deltas
    depth = feed.report.depth
    book = L2Book(deltas.instrument_id, deltas.price_precision, deltas.size_precision)
    ends = np.flatnonzero(deltas.event_ends()).tolist()
    sequences = deltas.sequence.tolist()
    bid_counts: list[int] = []
    ask_counts: list[int] = []
    full = crossed = 0
    start = 0
    for end in ends:
        apply_deltas(book, deltas, start=start, stop=end + 1)
        start = end + 1
        bids, asks = book.bid_level_count, book.ask_level_count
        bid_counts.append(bids)
        ask_counts.append(asks)
        full += bids == depth and asks == depth
        if book.is_crossed():
            crossed += 1
            if on_crossed == "raise":
                raise DataIntegrityError(
                    f"bybit {feed.report.topic} book is crossed after u={sequences[end]} "
                    "(rule: the book is never crossed between messages)"
                )
    return BybitBookCheck(
        messages=len(ends),
        full_depth_messages=full,
        min_bid_levels=min(bid_counts, default=0),
        max_bid_levels=max(bid_counts, default=0),
        min_ask_levels=min(ask_counts, default=0),
        max_ask_levels=max(ask_counts, default=0),
        crossed_messages=crossed,
    )

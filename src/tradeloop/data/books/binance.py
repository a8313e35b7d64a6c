"""Binance diff-depth recordings (spot and USD-M futures): deltas, quotes, trades, checks.

The format is hftbacktest's raw WebSocket capture, one message per line:
``<local receive time ns> <JSON>``. A line holds a combined-stream message
(``{"stream": "btcusdt@depth@100ms", "data": {...}}``; streams ``depth``, ``bookTicker``,
``trade``) or, without a ``stream`` key, a REST depth snapshot (``{"lastUpdateId": ...}``)
that the recorder fetched after subscribing.

Binance's documented way to keep a local book ("How to manage a local order book correctly",
spot and USD-M API docs), applied by ``read_binance_depth``:

1. Buffer the diff events; take the REST snapshot; drop the buffered events it already
   contains: ``u <= lastUpdateId`` on spot, ``u < lastUpdateId`` on USD-M.
2. The first event applied must straddle the snapshot: ``U <= lastUpdateId + 1 <= u`` on
   spot, ``U <= lastUpdateId <= u`` on USD-M.
3. Every later event must follow the previous one: ``U == previous u + 1`` on spot,
   ``pu == previous u`` on USD-M (futures events may skip ids: ``pu`` carries the link).
4. Quantities are absolute; a zero quantity removes the level, and removing a level that is
   not in the book "can happen and is normal" (the DELETE rows carry ``IGNORE_MISSING``).

A break of rules 2–3 (a gap, or an event older than the previous one) raises
``DataIntegrityError`` naming the stream, the update ids and the rule. With
``on_gap="resync"`` the documented recovery runs instead: the book is cleared and rebuilt from
the diff events, flagged ``UNSYNCED``, until a later snapshot in the file straddles the
buffered events (rule 2 again); events already applied (``u <=`` the last applied ``u``) are
ignored, as Binance's spot procedure says. A stream without any usable snapshot is read the
same way (all of it ``UNSYNCED``) under ``on_gap="resync"``, and raises otherwise.

``check_binance_book`` rebuilds the book and compares it with the ``bookTicker`` stream of the
same file. Both streams carry the venue's update ids, so each depth event (state as of its
``u``) is compared with the last best bid/offer whose id is ``<= u``. While a book is
``UNSYNCED`` it also decides, from the data alone, whether the top ``view_depth`` levels are
nevertheless exact: a level never mentioned since the restart may hide anywhere, so the top
is exact only when every tick from the n-th bid to the best ask (exclusive) has been mentioned
on the bid side and every tick from the best bid (exclusive) to the n-th ask on the ask side
(an uncrossed book puts no bid at or above a known ask, and no ask at or below a known bid).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError, DataIntegrityError, InvalidValueError
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
from tradeloop.data.columns import QuoteColumns, TradeColumns
from tradeloop.model.book import NULL_PRICE, BookFlag, L2Book
from tradeloop.model.enums import BookSide

I64 = npt.NDArray[np.int64]

BinanceMarket = Literal["spot", "usdm"]

WORKING_PRECISION: Final = 8
"""Binance sends at most 8 decimals; text is parsed at 8, then narrowed without loss."""

_MS: Final = 1_000_000
_ADD, _UPDATE, _DELETE, _CLEAR, _NONE = 1, 2, 3, 4, 0
_BID, _ASK = 1, 2
_F_SNAPSHOT: Final = int(BookFlag.SNAPSHOT)
_F_UNSYNCED: Final = int(BookFlag.UNSYNCED)
_F_IGNORE_MISSING: Final = int(BookFlag.IGNORE_MISSING)
_F_LAST: Final = int(BookFlag.LAST)

Levels = list[tuple[str, str]]


class _Depth(msgspec.Struct):
    U: int
    u: int
    b: Levels
    a: Levels
    E: int = 0
    T: int = 0
    s: str = ""
    pu: int = -1


class _Ticker(msgspec.Struct):
    u: int
    b: str
    B: str
    a: str
    A: str
    T: int = 0


class _Trade(msgspec.Struct):
    t: int
    p: str
    q: str
    T: int
    m: bool


class _Envelope(msgspec.Struct):
    stream: str
    data: msgspec.Raw


class _Snapshot(msgspec.Struct):
    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: Levels = msgspec.field(default_factory=list)
    asks: Levels = msgspec.field(default_factory=list)
    T: int = 0


class BinanceSyncReport(msgspec.Struct, frozen=True, kw_only=True):
    """How ``read_binance_depth`` synchronised the diff stream.

    Attributes
    ----------
    market : ``"spot"`` or ``"usdm"``.
    depth_events : diff events in the file.
    events_applied : events applied to a book synchronised from a snapshot.
    events_unsynced : events emitted flagged ``UNSYNCED`` (``on_gap="resync"`` only).
    events_dropped : buffered events the snapshot already contained (rule 1).
    events_stale : events ignored because their ``u`` was already applied.
    snapshots_seen, snapshots_used : REST snapshots in the file, and those the book used.
    gaps : sequence breaks met (each one raises unless ``on_gap="resync"``).
    first_snapshot_update_id : ``lastUpdateId`` of the first snapshot used (0 if none).
    """

    market: str
    depth_events: int
    events_applied: int
    events_unsynced: int
    events_dropped: int
    events_stale: int
    snapshots_seen: int
    snapshots_used: int
    gaps: int
    first_snapshot_update_id: int


@dataclass(frozen=True, slots=True)
class BinanceFeed:
    """A decoded Binance recording.

    Attributes
    ----------
    deltas : the book deltas (snapshot rows flagged ``SNAPSHOT``; each depth event ends with
        a row flagged ``LAST``; ``sequence`` is the event's final update id ``u``).
    quotes : the ``bookTicker`` stream (best bid and offer).
    quote_update_ids : the ``u`` of every quote, aligned with ``quotes``.
    trades : the ``trade`` stream.
    report : how the diff stream was synchronised.
    """

    deltas: BookDeltaColumns
    quotes: QuoteColumns
    quote_update_ids: I64
    trades: TradeColumns
    report: BinanceSyncReport


class _Sync:
    """The state machine of rules 1-3, writing deltas as it goes."""

    def __init__(
        self,
        market: BinanceMarket,
        name: str,
        on_gap: GapPolicy,
        out: DeltaBuilder,
        prices: RawCache,
        sizes: RawCache,
    ) -> None:
        self.is_spot = market == "spot"
        self.name = name
        self.on_gap = on_gap
        self.out = out
        self.prices = prices
        self.sizes = sizes
        self.is_synced = False
        self.awaiting_first = False
        self.snapshot_id = 0
        self.last_u = -1
        self.buffer: list[tuple[int, int, _Depth]] = []  # (ts_init, line, event)
        self.depth_events = 0
        self.applied = 0
        self.unsynced = 0
        self.dropped = 0
        self.stale = 0
        self.snapshots_seen = 0
        self.snapshots_used = 0
        self.gaps = 0
        self.first_snapshot_id = 0

    # -- rules ---------------------------------------------------------------------------

    def _is_stale_for_snapshot(self, event: _Depth, last_update_id: int) -> bool:
        return event.u <= last_update_id if self.is_spot else event.u < last_update_id

    def _straddles(self, event: _Depth, last_update_id: int) -> bool:
        if self.is_spot:
            return event.U <= last_update_id + 1 <= event.u
        return event.U <= last_update_id <= event.u

    def _follows(self, event: _Depth, previous_u: int) -> bool:
        return event.U - previous_u == 1 if self.is_spot else event.pu == previous_u

    def _describe(self, event: _Depth, line: int) -> str:
        link = "" if self.is_spot else f" pu={event.pu}"
        return f"{self.name}: depth event U={event.U} u={event.u}{link} at line {line}"

    def _link_rule(self) -> str:
        if self.is_spot:
            return "each event's U equals the previous event's u + 1 (Binance spot)"
        return "each event's pu equals the previous event's u (Binance USD-M futures)"

    def _straddle_rule(self) -> str:
        if self.is_spot:
            return "the first event applied has U <= lastUpdateId + 1 <= u (Binance spot)"
        return "the first event applied has U <= lastUpdateId <= u (Binance USD-M futures)"

    # -- output --------------------------------------------------------------------------

    def _emit(self, ts_init: int, event: _Depth, extra: int) -> None:
        out, prices, sizes = self.out, self.prices, self.sizes
        ts_event = (event.T or event.E) * _MS
        u = event.u
        delete_flags = extra | _F_IGNORE_MISSING
        start = len(out)
        for side, levels in ((_BID, event.b), (_ASK, event.a)):
            for price_text, size_text in levels:
                size = sizes[size_text]
                if size:
                    price = prices[price_text]
                    out.append(ts_event, ts_init, _UPDATE, side, price, size, 0, extra, u)
                else:
                    out.append(
                        ts_event, ts_init, _DELETE, side, prices[price_text], 0, 0, delete_flags, u
                    )
        if len(out) == start:
            out.append(ts_event, ts_init, _NONE, 0, NULL_PRICE, 0, 0, extra, u)
        out.set_last()

    def _clear(self, ts_event: int, ts_init: int, flags: int, sequence: int) -> None:
        self.out.append(ts_event, ts_init, _CLEAR, 0, NULL_PRICE, 0, 0, flags, sequence)

    # -- events --------------------------------------------------------------------------

    def _restart(self, ts_init: int, line: int, event: _Depth) -> None:
        # Rebuild from diffs: clear, keep the events for a later snapshot, flag them.
        self.is_synced = False
        self.awaiting_first = False
        self.buffer = [(ts_init, line, event)]
        self._clear((event.T or event.E) * _MS, ts_init, _F_UNSYNCED, 0)
        self._emit(ts_init, event, _F_UNSYNCED)
        self.unsynced += 1
        self.last_u = event.u

    def _violation(self, ts_init: int, line: int, event: _Depth, what: str, rule: str) -> None:
        self.gaps += 1
        if self.on_gap == "raise":
            raise DataIntegrityError(
                f"{self._describe(event, line)}: {what} (rule: {rule}); pass on_gap='resync' "
                "to rebuild from the diffs, flagged unsynchronised"
            )
        self._restart(ts_init, line, event)

    def on_depth(self, ts_init: int, line: int, event: _Depth) -> None:
        self.depth_events += 1
        if self.is_synced:
            self._apply_synced(ts_init, line, event)
            return
        if self.on_gap == "raise":
            self.buffer.append((ts_init, line, event))
            return
        if self.buffer and event.u <= self.last_u:
            self.stale += 1
            return
        if not self.buffer or not self._follows(event, self.last_u):
            if self.buffer:
                self.gaps += 1
            self._restart(ts_init, line, event)
            return
        self.buffer.append((ts_init, line, event))
        self._emit(ts_init, event, _F_UNSYNCED)
        self.unsynced += 1
        self.last_u = event.u

    def _apply_synced(self, ts_init: int, line: int, event: _Depth) -> None:
        if self.awaiting_first:
            if self._is_stale_for_snapshot(event, self.snapshot_id):
                self.dropped += 1
                return
            if not self._straddles(event, self.snapshot_id):
                self._violation(
                    ts_init,
                    line,
                    event,
                    f"the first event after snapshot lastUpdateId={self.snapshot_id} leaves a gap",
                    self._straddle_rule(),
                )
                return
            self.awaiting_first = False
        elif not self._follows(event, self.last_u):
            if event.u <= self.last_u:
                if self.on_gap == "resync":
                    self.stale += 1
                    return
                self._violation(
                    ts_init,
                    line,
                    event,
                    f"event is out of order: u={event.u} was already applied "
                    f"(previous u={self.last_u})",
                    self._link_rule(),
                )
                return
            self._violation(
                ts_init,
                line,
                event,
                f"sequence gap after u={self.last_u}",
                self._link_rule(),
            )
            return
        self._emit(ts_init, event, 0)
        self.applied += 1
        self.last_u = event.u

    def on_snapshot(self, ts_init: int, line: int, snapshot: _Snapshot) -> None:
        self.snapshots_seen += 1
        if self.is_synced:
            return  # a synchronised book needs no snapshot (rule 3 keeps it exact)
        last_id = snapshot.last_update_id
        pending = [b for b in self.buffer if not self._is_stale_for_snapshot(b[2], last_id)]
        if pending and not self._straddles(pending[0][2], last_id):
            first = pending[0][2]
            if self.on_gap == "raise":
                raise DataIntegrityError(
                    f"{self.name}: snapshot lastUpdateId={last_id} at line {line} does not "
                    f"reach the first buffered event U={first.U} u={first.u} (rule: "
                    f"{self._straddle_rule()}; Binance: fetch a newer snapshot)"
                )
            return  # wait for a later snapshot; the diff-built book stays flagged
        self.dropped += len(self.buffer) - len(pending)
        ts_event = snapshot.T * _MS if snapshot.T else ts_init
        self._clear(ts_event, ts_init, _F_SNAPSHOT, last_id)
        out, prices, sizes = self.out, self.prices, self.sizes
        for side, levels in ((_BID, snapshot.bids), (_ASK, snapshot.asks)):
            for price_text, size_text in levels:
                size = sizes[size_text]
                if size:
                    price = prices[price_text]
                    out.append(ts_event, ts_init, _ADD, side, price, size, 0, _F_SNAPSHOT, last_id)
        out.set_last()
        self.snapshots_used += 1
        if not self.first_snapshot_id:
            self.first_snapshot_id = last_id
        self.is_synced = True
        self.awaiting_first = True
        self.snapshot_id = last_id
        self.last_u = last_id
        self.buffer = []
        for buffered_ts, buffered_line, event in pending:
            # Applied when the snapshot arrived: their book state is known only from then.
            self._apply_synced(max(buffered_ts, ts_init), buffered_line, event)

    def finish(self) -> None:
        if self.snapshots_used == 0 and self.on_gap == "raise":
            raise DataIntegrityError(
                f"{self.name}: no REST snapshot in the file straddles the diff stream, so the "
                "book cannot be synchronised (rule: Binance books start from a depth snapshot); "
                "pass on_gap='resync' to rebuild from the diffs, flagged unsynchronised"
            )


def _detect_market(lines: list[str]) -> BinanceMarket:
    for text in lines:
        if '"depthUpdate"' in text:
            return "usdm" if '"pu":' in text else "spot"
    raise DataIntegrityError("no depthUpdate message in the Binance recording")


def read_binance_depth(
    path: str | os.PathLike[str],
    *,
    market: BinanceMarket | None = None,
    instrument_id: str | None = None,
    price_precision: int | None = None,
    size_precision: int | None = None,
    on_gap: GapPolicy = "raise",
) -> BinanceFeed:
    """Read a Binance depth/bookTicker/trade recording and synchronise its diff stream.

    Parameters
    ----------
    path : the recording (``.gz`` or plain text).
    market : ``"spot"`` or ``"usdm"``; detected from the first depth event (``pu``) if omitted.
    instrument_id : defaults to ``<SYMBOL>.BINANCE`` (spot) or ``<SYMBOL>-PERP.BINANCE``.
    price_precision, size_precision : decimals of the raws; by default the fewest that keep
        every value in the file exact.
    on_gap : ``"raise"`` (default) or ``"resync"`` (see the module docstring).

    Raises
    ------
    ConfigError
        If the file is missing.
    DataIntegrityError
        On a gap, an out-of-order event, a snapshot that does not reach the stream, a missing
        snapshot (all unless ``on_gap="resync"``), malformed JSON or a value that needs more
        decimals than asked for.
    """
    with open_text(path, "Binance recording") as handle:
        lines = handle.read().splitlines()
    if market is None:
        market = _detect_market(lines)
    if market not in ("spot", "usdm"):
        raise ConfigError(f"Binance market {market!r} is not 'spot' or 'usdm'")
    if on_gap not in ("raise", "resync"):
        raise ConfigError(f"on_gap {on_gap!r} is not 'raise' or 'resync'")
    prices = RawCache(WORKING_PRECISION, "Binance price")
    sizes = RawCache(WORKING_PRECISION, "Binance quantity")
    deltas = DeltaBuilder()
    symbol = ""
    sync = _Sync(market, f"binance-{market} depth stream", on_gap, deltas, prices, sizes)
    quote_rows: list[tuple[int, int, int, int, int, int, int]] = []
    trade_rows: list[tuple[int, int, int, int, int, int]] = []
    envelope = msgspec.json.Decoder(_Envelope)
    depth_decoder = msgspec.json.Decoder(_Depth)
    ticker_decoder = msgspec.json.Decoder(_Ticker)
    trade_decoder = msgspec.json.Decoder(_Trade)
    snapshot_decoder = msgspec.json.Decoder(_Snapshot)
    kinds: dict[str, str] = {}
    for number, text in enumerate(lines, start=1):
        stamp, _, payload = text.partition(" ")
        if not payload:
            continue
        try:
            ts_init = int(stamp)
            if payload.startswith('{"stream"'):
                message = envelope.decode(payload)
                kind = kinds.get(message.stream)
                if kind is None:
                    kind = kinds[message.stream] = message.stream.split("@")[1]
                if kind == "depth":
                    event = depth_decoder.decode(message.data)
                    symbol = symbol or event.s
                    sync.on_depth(ts_init, number, event)
                elif kind == "bookTicker":
                    tick = ticker_decoder.decode(message.data)
                    quote_rows.append(
                        (
                            tick.T * _MS if tick.T else ts_init,
                            ts_init,
                            prices[tick.b],
                            prices[tick.a],
                            sizes[tick.B],
                            sizes[tick.A],
                            tick.u,
                        )
                    )
                elif kind == "trade":
                    trade = trade_decoder.decode(message.data)
                    trade_rows.append(
                        (
                            trade.T * _MS,
                            ts_init,
                            prices[trade.p],
                            sizes[trade.q],
                            2 if trade.m else 1,  # buyer is maker: the seller aggressed
                            trade.t,
                        )
                    )
            elif payload.startswith('{"lastUpdateId"'):
                sync.on_snapshot(ts_init, number, snapshot_decoder.decode(payload))
        except (msgspec.DecodeError, ValueError) as exc:
            raise DataIntegrityError(
                f"binance-{market} recording {path}, line {number}: {exc}"
            ) from None
    sync.finish()
    if instrument_id is None:
        name = symbol.upper() or "UNKNOWN"
        instrument_id = f"{name}.BINANCE" if market == "spot" else f"{name}-PERP.BINANCE"
    return _assemble(
        market, instrument_id, deltas, quote_rows, trade_rows, sync, price_precision, size_precision
    )


def _assemble(
    market: BinanceMarket,
    instrument_id: str,
    deltas: DeltaBuilder,
    quote_rows: list[tuple[int, int, int, int, int, int, int]],
    trade_rows: list[tuple[int, int, int, int, int, int]],
    sync: _Sync,
    price_precision: int | None,
    size_precision: int | None,
) -> BinanceFeed:
    delta_arrays = deltas.arrays()
    quotes = np.asarray(quote_rows, dtype=np.int64).reshape(-1, 7)
    trades = np.asarray(trade_rows, dtype=np.int64).reshape(-1, 6)
    price_columns = [delta_arrays[4], quotes[:, 2].copy(), quotes[:, 3].copy(), trades[:, 2].copy()]
    size_columns = [delta_arrays[5], quotes[:, 4].copy(), quotes[:, 5].copy(), trades[:, 3].copy()]
    price_columns, p = reduce_precision(
        price_columns, WORKING_PRECISION, price_precision, "Binance price", null=NULL_PRICE
    )
    size_columns, s = reduce_precision(
        size_columns, WORKING_PRECISION, size_precision, "Binance quantity"
    )
    delta_arrays[4], delta_arrays[5] = price_columns[0], size_columns[0]
    report = BinanceSyncReport(
        market=market,
        depth_events=sync.depth_events,
        events_applied=sync.applied,
        events_unsynced=sync.unsynced,
        events_dropped=sync.dropped,
        events_stale=sync.stale,
        snapshots_seen=sync.snapshots_seen,
        snapshots_used=sync.snapshots_used,
        gaps=sync.gaps,
        first_snapshot_update_id=sync.first_snapshot_id,
    )
    return BinanceFeed(
        deltas=BookDeltaColumns(instrument_id, p, s, *delta_arrays),
        quotes=QuoteColumns(
            instrument_id,
            p,
            s,
            quotes[:, 0],
            quotes[:, 1],
            price_columns[1],
            price_columns[2],
            size_columns[1],
            size_columns[2],
        ),
        quote_update_ids=np.ascontiguousarray(quotes[:, 6]),
        trades=TradeColumns(
            instrument_id,
            p,
            s,
            trades[:, 0],
            trades[:, 1],
            price_columns[3],
            size_columns[3],
            trades[:, 4],
            trades[:, 5],
        ),
        report=report,
    )


class BinanceBookCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The rebuilt book compared with the file's own ``bookTicker`` stream.

    Attributes
    ----------
    events : depth events (rows flagged ``LAST``) in the stream, snapshots included.
    synced_events : events of a book synchronised from a snapshot.
    compared : synced events with a bookTicker quote at or before their ``u``.
    agreed : of those, events whose best bid, ask and sizes equal the quote's.
    agreement : ``agreed / compared`` (1.0 when nothing was compared).
    compared_by_arrival, agreed_by_arrival : the same against the last quote *received*
        before the event (what a live reader would see; the two streams are separate
        WebSocket streams, so a quote can arrive before or after the depth event it matches).
    crossed_events : synced events that ended with a crossed or locked book.
    unsynced_events : events flagged ``UNSYNCED``.
    proven_events : of those, events whose top ``view_depth`` levels the data proves exact.
    proven_compared, proven_agreed : proven events with a bookTicker quote at or before
        their ``u``, and those that agree with it.
    first_proven_event : index (among the events) of the first proven unsynced event, or -1.
    ignored_deletes : deletes of levels not in the book (normal on Binance, rule 4).
    first_disagreements : up to 10 ``(u, quote u, book top, quote top)`` for inspection.
    """

    events: int
    synced_events: int
    compared: int
    agreed: int
    agreement: float
    compared_by_arrival: int
    agreed_by_arrival: int
    crossed_events: int
    unsynced_events: int
    proven_events: int
    proven_compared: int
    proven_agreed: int
    first_proven_event: int
    ignored_deletes: int
    first_disagreements: tuple[tuple[int, int, tuple[int, int, int, int], tuple[int, ...]], ...]


def _proven_top(
    book: L2Book, bid_known: set[int], ask_known: set[int], depth: int, tick: int
) -> bool:
    bids = book.levels_raw(BookSide.BID, depth)
    asks = book.levels_raw(BookSide.ASK, depth)
    if len(bids) < depth or len(asks) < depth:
        return False
    best_bid, best_ask = bids[0][0], asks[0][0]
    low, high = bids[-1][0], asks[-1][0]
    if (best_ask - low) // tick > 100_000 or (high - best_bid) // tick > 100_000:
        return False
    return all(p in bid_known for p in range(low, best_ask, tick)) and all(
        p in ask_known for p in range(best_bid + tick, high + 1, tick)
    )


def check_binance_book(
    feed: BinanceFeed,
    *,
    view_depth: int = 1,
    tick_raw: int = 1,
    on_crossed: CrossedPolicy = "raise",
) -> BinanceBookCheck:
    """Rebuild ``feed``'s book and compare its top with the ``bookTicker`` quotes.

    Parameters
    ----------
    view_depth : levels per side an unsynchronised book must prove exact (module docstring).
    tick_raw : the price tick at the feed's price precision (1 = one unit of the last decimal).
    on_crossed : a synchronised book that ends an event crossed raises (default) or is counted.

    Raises
    ------
    DataIntegrityError
        If a delta breaks a book rule, or a synchronised event ends crossed under
        ``on_crossed="raise"``.
    """
    if view_depth < 1 or tick_raw < 1:
        raise InvalidValueError("view_depth and tick_raw must be at least 1")
    deltas = feed.deltas
    book = L2Book(deltas.instrument_id, deltas.price_precision, deltas.size_precision)
    ends = np.flatnonzero(deltas.event_ends())
    quote_ids = feed.quote_update_ids
    by_id = np.searchsorted(quote_ids, deltas.sequence[ends], side="right") - 1
    by_arrival = np.searchsorted(feed.quotes.ts_init, deltas.ts_init[ends], side="right") - 1
    q = feed.quotes
    quote_top = np.stack([q.bid_price, q.bid_size, q.ask_price, q.ask_size], axis=1).tolist()
    flags = deltas.flags[ends].tolist()
    sequences = deltas.sequence[ends].tolist()
    action = deltas.action.tolist()
    side = deltas.side.tolist()
    price = deltas.price.tolist()
    bid_known: set[int] = set()
    ask_known: set[int] = set()
    synced = compared = agreed = compared_arrival = agreed_arrival = crossed = 0
    unsynced = proven = proven_compared = proven_agreed = 0
    first_proven = -1
    disagreements: list[tuple[int, int, tuple[int, int, int, int], tuple[int, ...]]] = []
    start = 0
    for event, end in enumerate(ends.tolist()):
        apply_deltas(book, deltas, start=start, stop=end + 1)
        is_unsynced = bool(flags[event] & _F_UNSYNCED)
        if is_unsynced:
            for row in range(start, end + 1):
                if action[row] == _CLEAR:
                    bid_known.clear()
                    ask_known.clear()
                elif side[row] == _BID:
                    bid_known.add(price[row])
                elif side[row] == _ASK:
                    ask_known.add(price[row])
        start = end + 1
        bid = book.best_bid_raw()
        ask = book.best_ask_raw()
        top = (
            bid[0] if bid else NULL_PRICE,
            bid[1] if bid else 0,
            ask[0] if ask else NULL_PRICE,
            ask[1] if ask else 0,
        )
        index = int(by_id[event])
        matches = index >= 0 and tuple(quote_top[index]) == top
        if is_unsynced:
            unsynced += 1
            if _proven_top(book, bid_known, ask_known, view_depth, tick_raw):
                proven += 1
                proven_compared += index >= 0
                proven_agreed += matches
                if first_proven < 0:
                    first_proven = event
            continue
        synced += 1
        if book.is_crossed():
            crossed += 1
            if on_crossed == "raise":
                raise DataIntegrityError(
                    f"binance-{feed.report.market} book {deltas.instrument_id} is crossed after "
                    f"event u={sequences[event]} (bid {top[0]}, ask {top[2]} raw; rule: a "
                    "synchronised book is never crossed at an event boundary)"
                )
        if flags[event] & _F_SNAPSHOT:
            continue
        if index >= 0:
            compared += 1
            if matches:
                agreed += 1
            elif len(disagreements) < 10:
                disagreements.append(
                    (sequences[event], int(quote_ids[index]), top, tuple(quote_top[index]))
                )
        arrival = int(by_arrival[event])
        if arrival >= 0:
            compared_arrival += 1
            agreed_arrival += tuple(quote_top[arrival]) == top
    return BinanceBookCheck(
        events=len(ends),
        synced_events=synced,
        compared=compared,
        agreed=agreed,
        agreement=agreed / compared if compared else 1.0,
        compared_by_arrival=compared_arrival,
        agreed_by_arrival=agreed_arrival,
        crossed_events=crossed,
        unsynced_events=unsynced,
        proven_events=proven,
        proven_compared=proven_compared,
        proven_agreed=proven_agreed,
        first_proven_event=first_proven,
        ignored_deletes=book.ignored_delete_count,
        first_disagreements=tuple(disagreements),
    )

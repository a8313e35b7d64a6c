"""Microstructure features: quotes, trades and the order book sampled at each bar's close.

Point in time by construction: the value at a bar stamped ``ts_init = T`` reads only the
events whose own ``ts_init`` is at or before ``T`` — online, the kernel delivers every event
of an instrument up to ``T`` (order-book deltas, quotes and trades of the instant ``T``
included: they come before the bar in kernel order) before the bar; offline, the events are
cut at ``T`` with a binary search. A window of ``w`` bars is the events in
``(T_{t-w}, T_t]``. No setting shifts that cut forward.

Each instrument's events are summed up at every bar close into a ``MicroSnapshot``
(``MicroState`` online, event by event; ``micro_bulk.bulk_snapshots`` offline, in bulk). The
sums are integers (raw prices and sizes), exact on both sides; floats appear only in the
final expression of each kind, the same IEEE operations in the same order on both sides, and
in the two kinds that need float sums (``trade_realized_var``, ``kyle_lambda``), which add
in event and bar order on both sides with the helpers below.

Definitions (``definitions.MICRO_KINDS``; sources in docs/models.md):

- quoted spread, mid, microprice (weighted mid), top-of-book imbalance: the last quote;
- order flow imbalance: Cont, Kukanov & Stoikov (2014), ``e_n`` per quote update;
- depth imbalance over the best ``levels`` levels of the book;
- trade (order) imbalance by aggressor side, trade intensity, VWAP against the mid;
- realized variance of trade-to-trade log returns (Andersen, Bollerslev, Diebold & Labys);
- Kyle's lambda: the OLS slope of per-bar returns on per-bar signed volume (Kyle 1985;
  Hasbrouck 2009).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError
from tradeloop.features.definitions import FeatureSpec
from tradeloop.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide, BookAction, BookSide

if TYPE_CHECKING:  # the book package loads numba: only runs with book features import it
    from tradeloop.data.books.columns import BookDeltaColumns
    from tradeloop.data.columns import QuoteColumns, TradeColumns
    from tradeloop.model.book import L2Book, L3Book

NAN: Final = float("nan")
_BID, _ASK = 1, 2
_L3_ACTIONS: Final = (5, 6)  # CANCEL, FILL: market-by-order only (model.book.BookActionCode)
_BOOK_ACTION_CODES: Final = {
    BookAction.ADD: 1,
    BookAction.UPDATE: 2,
    BookAction.DELETE: 3,
    BookAction.CLEAR: 4,
}


class MicroData:
    """One instrument's events for bulk features: quotes, trades and book deltas (each may
    be absent), columnar, in the order the kernel delivers them."""

    __slots__ = ("book", "quotes", "trades")

    def __init__(
        self,
        quotes: QuoteColumns | None = None,
        trades: TradeColumns | None = None,
        book: BookDeltaColumns | None = None,
    ) -> None:
        self.quotes, self.trades, self.book = quotes, trades, book

    def head(self, ts_ns: int) -> MicroData:
        """Return the events known at ``ts_ns`` (``ts_init <= ts_ns``)."""

        def cut(ts: npt.NDArray[np.int64]) -> slice:
            return slice(0, int(np.searchsorted(ts, ts_ns, "right")))

        return MicroData(
            None if self.quotes is None else self.quotes.take(cut(self.quotes.ts_init)),
            None if self.trades is None else self.trades.take(cut(self.trades.ts_init)),
            None if self.book is None else self.book.take(cut(self.book.ts_init)),
        )


class MicroSnapshot:
    """The events of one instrument summed up at one bar close (cumulative sums since the
    first event; quote and book state as of the close)."""

    __slots__ = (
        "ask",
        "ask_size",
        "bid",
        "bid_size",
        "buy",
        "count",
        "depth",
        "has_quote",
        "last_price",
        "notional",
        "ofi",
        "quote_size_precision",
        "rv",
        "sell",
        "trade_size_precision",
        "volume",
    )

    def __init__(
        self,
        has_quote: bool,
        bid: int,
        ask: int,
        bid_size: int,
        ask_size: int,
        ofi: int,
        buy: int,
        sell: int,
        count: int,
        notional: int,
        volume: int,
        last_price: int | None,
        rv: float,
        depth: dict[int, tuple[int, int]],
        quote_size_precision: int | None,
        trade_size_precision: int | None,
    ) -> None:
        self.has_quote, self.bid, self.ask = has_quote, bid, ask
        self.bid_size, self.ask_size, self.ofi = bid_size, ask_size, ofi
        self.buy, self.sell, self.count = buy, sell, count
        self.notional, self.volume, self.last_price = notional, volume, last_price
        self.rv, self.depth = rv, depth  # rv: squared returns of this bar's trades only
        self.quote_size_precision = quote_size_precision
        self.trade_size_precision = trade_size_precision


def ofi_term(
    bid: int, ask: int, bid_size: int, ask_size: int, pbid: int, pask: int, pbsz: int, pasz: int
) -> int:
    """Return Cont-Kukanov-Stoikov's ``e_n`` of a quote after the previous quote (raw size)."""
    e = 0
    if bid >= pbid:
        e += bid_size
    if bid <= pbid:
        e -= pbsz
    if ask <= pask:
        e -= ask_size
    if ask >= pask:
        e += pasz
    return e


_UNDECIDED_ACTIONS: Final = (0, 4, 7)  # NONE, CLEAR, TRADE: no level or order changes


def book_kind(actions: list[int], order_ids: list[int]) -> bool | None:
    """Return whether the venue event made of these rows (actions, order ids) makes its
    stream market-by-order (``True``: an ``L3Book``), by price (``False``), or ``None`` when
    it changes no level (CLEAR, TRADE and NONE rows only). The first event that changes a
    level decides for the whole stream: by order when any of its rows names an order or is
    a CANCEL or FILL (a LOBSTER seed snapshot holds an order id 0 among others)."""
    if all(action in _UNDECIDED_ACTIONS for action in actions):
        return None
    return any(o != 0 or a in _L3_ACTIONS for a, o in zip(actions, order_ids, strict=True))


def new_book(
    instrument_id: str, price_precision: int, size_precision: int, l3: bool
) -> L2Book | L3Book:
    """Return an empty ``L3Book`` (market by order) or ``L2Book``."""
    from tradeloop.model.book import L2Book, L3Book

    if l3:
        return L3Book(instrument_id, price_precision, size_precision)
    return L2Book(instrument_id, price_precision, size_precision)


def depth_sums(book: L2Book | L3Book | None, levels: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Return, per level count, the summed size of the best levels of each side."""
    if book is None:
        return dict.fromkeys(levels, (0, 0))
    deepest = max(levels, default=0)
    bids = book.levels_raw(BookSide.BID, deepest)
    asks = book.levels_raw(BookSide.ASK, deepest)
    out = {}
    for n in levels:
        b = a = 0
        for _, size in bids[:n]:
            b += size
        for _, size in asks[:n]:
            a += size
        out[n] = (b, a)
    return out


class MicroState:
    """One instrument's events, taken one at a time as the kernel delivers them; ``close``
    sums them up at a bar close."""

    def __init__(self, levels: tuple[int, ...]) -> None:
        self.levels = levels
        self.has_quote = False
        self.bid = self.ask = self.bid_size = self.ask_size = 0
        self.ofi = self.buy = self.sell = self.count = self.notional = self.volume = 0
        self.last_price: int | None = None
        self.rv = 0.0
        self.book: L2Book | L3Book | None = None
        self._book_decided = False
        self.quote_size_precision: int | None = None
        self.trade_size_precision: int | None = None

    def on_quote(self, quote: QuoteTick) -> None:
        """Take a quote."""
        bid, ask = quote.bid_price.raw, quote.ask_price.raw
        bsz, asz = quote.bid_size.raw, quote.ask_size.raw
        if self.has_quote:
            self.ofi += ofi_term(
                bid, ask, bsz, asz, self.bid, self.ask, self.bid_size, self.ask_size
            )
        self.has_quote = True
        self.bid, self.ask, self.bid_size, self.ask_size = bid, ask, bsz, asz
        self.quote_size_precision = quote.bid_size.precision

    def on_trade(self, trade: TradeTick) -> None:
        """Take a trade print."""
        price, size = trade.price.raw, trade.size.raw
        if trade.aggressor_side is AggressorSide.BUYER:
            self.buy += size
        elif trade.aggressor_side is AggressorSide.SELLER:
            self.sell += size
        self.count += 1
        self.notional += price * size
        self.volume += size
        if self.last_price is not None:
            r = math.log(float(price) / float(self.last_price))
            self.rv = self.rv + r * r
        self.last_price = price
        self.trade_size_precision = trade.size.precision

    def _decide_book(
        self, instrument_id: str, price_p: int, size_p: int, actions: list[int], ids: list[int]
    ) -> None:
        is_l3 = book_kind(actions, ids)
        if is_l3 is not None:
            self.book = new_book(instrument_id, price_p, size_p, is_l3)
            self._book_decided = True

    def on_book_rows(self, columns: BookDeltaColumns, start: int, stop: int) -> None:
        """Take rows ``start:stop`` of a delta stream (one venue event)."""
        from tradeloop.data.books.replay import apply_deltas

        if not self._book_decided:
            self._decide_book(
                columns.instrument_id,
                columns.price_precision,
                columns.size_precision,
                columns.action[start:stop].tolist(),
                columns.order_id[start:stop].tolist(),
            )
        if self.book is not None:
            apply_deltas(self.book, columns, start=start, stop=stop)

    def on_book_delta(self, delta: OrderBookDelta) -> None:
        """Take one ``OrderBookDelta`` (a live feed's: each is its own venue event here)."""
        if not self._book_decided:
            code = _BOOK_ACTION_CODES.get(delta.action, 0)
            self._decide_book(
                delta.instrument_id,
                delta.price.precision,
                delta.size.precision,
                [code],
                [delta.order_id],
            )
        if self.book is not None:
            self.book.apply(delta)

    def close(self) -> MicroSnapshot:
        """Return the snapshot at this bar close and start the next bar."""
        snapshot = MicroSnapshot(
            self.has_quote,
            self.bid,
            self.ask,
            self.bid_size,
            self.ask_size,
            self.ofi,
            self.buy,
            self.sell,
            self.count,
            self.notional,
            self.volume,
            self.last_price,
            self.rv,
            depth_sums(self.book, self.levels) if self.levels else {},
            self.quote_size_precision,
            self.trade_size_precision,
        )
        self.rv = 0.0
        return snapshot


# -- the values, shared by both sides where they add floats ------------------------------------


def window_sum(values: list[float]) -> float:
    """Return the values added in order from 0.0 (never ``sum``: Python 3.12 compensates)."""
    total = 0.0
    for value in values:
        total = total + value
    return total


def ols_slope(xs: list[float], ys: list[float]) -> float:
    """Return the OLS slope of ``ys`` on ``xs`` (NaN if any y is NaN or xs do not vary)."""
    n = float(len(xs))
    mx = window_sum(xs) / n
    my = window_sum(ys) / n
    sxy = sxx = 0.0
    for x, y in zip(xs, ys, strict=True):
        dx = x - mx
        sxy = sxy + dx * (y - my)
        sxx = sxx + dx * dx
    if not (sxx > 0.0) or sxy != sxy:
        return NAN
    return sxy / sxx


def log_ratio(numerator: int, denominator: int) -> float:
    """Return ``log(numerator / denominator)`` of two raws (NaN unless both are > 0)."""
    if numerator <= 0 or denominator <= 0:
        return NAN
    return math.log(float(numerator) / float(denominator))


class MicroFeature:
    """One microstructure feature updated at each bar close from the instrument's
    ``MicroSnapshot`` (see the module docstring); ``update`` returns its value."""

    __slots__ = ("_history", "_lagged", "kind", "lag", "levels", "spec", "window")

    def __init__(self, spec: FeatureSpec) -> None:
        if spec.data_kind == "bars":
            raise ConfigError(f"feature {spec.feature_name}: {spec.kind} is not a micro kind")
        self.spec, self.kind, self.window, self.lag = spec, spec.kind, spec.window, spec.lag
        self.levels = spec.levels or 0
        self._history: deque[MicroSnapshot] = deque(maxlen=spec.window + 1)
        self._lagged: deque[float] = deque(maxlen=spec.lag + 1)

    def _raw(self, s: MicroSnapshot) -> float:
        kind = self.kind
        history = self._history
        history.append(s)
        if kind == "quoted_spread_bps":
            if not s.has_quote or s.ask + s.bid <= 0:
                return NAN
            return 20000.0 * float(s.ask - s.bid) / float(s.ask + s.bid)
        if kind == "microprice_bps":
            if not s.has_quote or s.ask + s.bid <= 0 or s.bid_size + s.ask_size <= 0:
                return NAN
            numerator = 10000.0 * (float(s.ask - s.bid) * float(s.bid_size - s.ask_size))
            return numerator / (float(s.bid_size + s.ask_size) * float(s.ask + s.bid))
        if kind == "quote_imbalance":
            if not s.has_quote or s.bid_size + s.ask_size <= 0:
                return NAN
            return float(s.bid_size - s.ask_size) / float(s.bid_size + s.ask_size)
        if kind == "depth_imbalance":
            b, a = s.depth[self.levels]
            return NAN if b + a <= 0 else float(b - a) / float(b + a)
        if len(history) <= self.window:
            return NAN
        old = history[0]
        if kind == "mid_return":
            if not (s.has_quote and old.has_quote):
                return NAN
            return log_ratio(s.ask + s.bid, old.ask + old.bid)
        if kind == "order_flow_imbalance":
            if not s.has_quote or s.quote_size_precision is None:
                return NAN
            return float(s.ofi - old.ofi) / float(10**s.quote_size_precision)
        if kind == "trade_imbalance":
            buy, sell = s.buy - old.buy, s.sell - old.sell
            return NAN if buy + sell <= 0 else float(buy - sell) / float(buy + sell)
        if kind == "trade_intensity":
            return float(s.count - old.count) / float(self.window)
        if kind == "vwap_mid_bps":
            volume = s.volume - old.volume
            if volume <= 0 or not s.has_quote or s.ask + s.bid <= 0:
                return NAN
            vwap = float(s.notional - old.notional) / float(volume)
            return 10000.0 * ((2.0 * vwap) / float(s.ask + s.bid) - 1.0)
        if kind == "trade_realized_var":
            return window_sum([history[k].rv for k in range(1, len(history))])
        if kind == "kyle_lambda":
            if s.trade_size_precision is None:
                return NAN
            scale = float(10**s.trade_size_precision)
            xs, ys = [], []
            for k in range(1, len(history)):
                now, before = history[k], history[k - 1]
                xs.append(float((now.buy - now.sell) - (before.buy - before.sell)) / scale)
                if now.last_price is None or before.last_price is None:
                    return NAN
                ys.append(log_ratio(now.last_price, before.last_price))
            return ols_slope(xs, ys)
        raise ConfigError(f"feature kind {kind!r} has no online computation")

    def update(self, snapshot: MicroSnapshot) -> float:
        """Take the instrument's snapshot at a bar close; return the feature's value."""
        raw = self._raw(snapshot)
        if self.lag == 0:
            return raw
        lagged = self._lagged
        lagged.append(raw)
        return lagged[0] if len(lagged) > self.lag else NAN

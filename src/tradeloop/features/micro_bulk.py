"""Microstructure features in bulk: every bar of one instrument at once, from its columnar
events (``MicroData``), equal bit for bit to ``micro.MicroFeature`` updated bar by bar.

Steps (``micro_features``):

1. the last event of each kind at or before every bar's ``ts_init`` (a binary search);
2. cumulative integer sums over the events (order flow, buy and sell volume, count, notional,
   volume), read at those indices: a window of ``w`` bars is the difference of two reads,
   exact;
3. the book replayed once, its best levels summed at each bar close;
4. per-bar sums of squared trade returns, added in trade order;
5. each kind's expression over whole arrays (the same IEEE operations as the online one), or,
   for the two kinds that add floats over a window, the shared helpers of ``micro``.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError
from tradeloop.features.definitions import FeatureSpec
from tradeloop.features.micro import (
    NAN,
    MicroData,
    book_kind,
    depth_sums,
    log_ratio,
    new_book,
    ols_slope,
    window_sum,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_INT64_SAFE: Final = float(2**62)
_LAST: Final = 1 << 7  # model.book.BookFlag.LAST
_UNDECIDED: Final = (0, 4, 7)  # NONE, CLEAR, TRADE rows change no level


def _cumulative(values: I64) -> Any:
    # Exact running sums: int64 when no partial sum can overflow, else Python ints.
    bound = float(np.abs(values.astype(np.float64)).sum()) if len(values) else 0.0
    if bound < _INT64_SAFE:
        return np.cumsum(values, dtype=np.int64)
    return np.cumsum(values.astype(object))


def _read(cumulative: Any, index: I64) -> Any:
    # The cumulative sum through event ``index`` (0 before the first event).
    out = np.zeros(len(index), dtype=cumulative.dtype if len(cumulative) else np.int64)
    known = index >= 0
    if len(cumulative):
        out[known] = cumulative[index[known]]
    return out


class MicroArrays:
    """Per-bar reads of one instrument's events (step 1-4 of the module docstring)."""

    def __init__(self, ts_init: I64, micro: MicroData, levels: tuple[int, ...]) -> None:
        n = len(ts_init)
        self.n = n
        quotes, trades, book = micro.quotes, micro.trades, micro.book
        self.has_quote = np.zeros(n, dtype=bool)
        zeros = np.zeros(n, dtype=np.int64)
        self.bid, self.ask, self.bid_size, self.ask_size, self.ofi = (
            zeros.copy() for _ in range(5)
        )
        self.quote_size_precision: int | None = None
        if quotes is not None and len(quotes):
            q = np.searchsorted(quotes.ts_init, ts_init, "right").astype(np.int64) - 1
            self.has_quote = q >= 0
            qk = np.maximum(q, 0)
            self.bid = np.where(self.has_quote, quotes.bid_price[qk], 0)
            self.ask = np.where(self.has_quote, quotes.ask_price[qk], 0)
            self.bid_size = np.where(self.has_quote, quotes.bid_size[qk], 0)
            self.ask_size = np.where(self.has_quote, quotes.ask_size[qk], 0)
            self.quote_size_precision = quotes.size_precision
            self.ofi = _read(_cumulative(_ofi_terms(quotes)), q)
        self.buy, self.sell, self.count, self.notional, self.volume = (
            zeros.copy() for _ in range(5)
        )
        self.last_price: list[int | None] = [None] * n
        self.rv = [0.0] * n
        self.trade_size_precision: int | None = None
        if trades is not None and len(trades):
            t = np.searchsorted(trades.ts_init, ts_init, "right").astype(np.int64) - 1
            size = trades.size
            self.buy = _read(_cumulative(np.where(trades.aggressor == 1, size, 0)), t)
            self.sell = _read(_cumulative(np.where(trades.aggressor == 2, size, 0)), t)
            self.count = _read(np.arange(1, len(trades) + 1, dtype=np.int64), t)
            self.volume = _read(_cumulative(size), t)
            self.notional = _read(_notional(trades.price, size), t)
            prices = trades.price.tolist()
            self.last_price = [prices[k] if k >= 0 else None for k in t.tolist()]
            self.rv = _bar_rv(prices, np.searchsorted(ts_init, trades.ts_init, "left"), n)
            self.trade_size_precision = trades.size_precision
        self.depth = {m: (zeros.copy(), zeros.copy()) for m in levels}
        if book is not None and len(book) and levels:
            _replay_depth(book, ts_init, levels, self.depth)


def _ofi_terms(quotes: Any) -> I64:
    # e_n of every quote after the first (micro.ofi_term over whole arrays), e_0 = 0.
    bid, ask, bsz, asz = quotes.bid_price, quotes.ask_price, quotes.bid_size, quotes.ask_size
    e = np.zeros(len(bid), dtype=np.int64)
    b, pb, a, pa = bid[1:], bid[:-1], ask[1:], ask[:-1]
    e[1:] = (
        np.where(b >= pb, bsz[1:], 0)
        - np.where(b <= pb, bsz[:-1], 0)
        - np.where(a <= pa, asz[1:], 0)
        + np.where(a >= pa, asz[:-1], 0)
    )
    return e


def _notional(price: I64, size: I64) -> Any:
    # Running sum of price * size raws, exact (Python ints when int64 could overflow).
    bound = float(np.abs(price.astype(np.float64) * size.astype(np.float64)).sum())
    if bound < _INT64_SAFE:
        return np.cumsum(price * size, dtype=np.int64)
    return np.cumsum(price.astype(object) * size.astype(object))


def _bar_rv(prices: list[int], bucket: npt.NDArray[np.intp], n: int) -> list[float]:
    # Squared trade-to-trade log returns added per bar in trade order (micro.MicroState).
    out = [0.0] * n
    buckets = bucket.tolist()
    for i in range(1, len(prices)):
        b = buckets[i]
        if b >= n:
            break
        r = math.log(float(prices[i]) / float(prices[i - 1]))
        out[b] = out[b] + r * r
    return out


def _first_change(book: Any) -> tuple[bool | None, int]:
    # micro.book_kind of the first venue event that changes a level, and its first row
    # (events cut as engine.feed cuts them: after a row flagged LAST, where ts_init changes).
    changes = np.flatnonzero(~np.isin(book.action, _UNDECIDED))
    if not len(changes):
        return None, 0
    first = int(changes[0])
    ends = (book.flags & _LAST) != 0
    ends[:-1] |= book.ts_init[1:] != book.ts_init[:-1]
    ends[-1] = True
    before = np.flatnonzero(ends[:first])
    start = int(before[-1]) + 1 if len(before) else 0
    stop = int(np.flatnonzero(ends[first:])[0]) + first + 1
    return book_kind(book.action[start:stop].tolist(), book.order_id[start:stop].tolist()), start


def _replay_depth(
    book: Any, ts_init: I64, levels: tuple[int, ...], out: dict[int, tuple[I64, I64]]
) -> None:
    # Replay the stream once, summing the best levels after the last row of each bar. The
    # book starts with the venue event that decides its kind (micro.MicroState skips the
    # CLEAR/TRADE/NONE-only events before it, which change nothing in an empty book).
    from tradeloop.data.books.replay import apply_deltas

    is_l3, start = _first_change(book)
    current = None
    if is_l3 is not None:
        current = new_book(book.instrument_id, book.price_precision, book.size_precision, is_l3)
    stops = np.searchsorted(book.ts_init, ts_init, "right").tolist()
    for k, stop in enumerate(stops):
        if current is not None and stop > start:
            apply_deltas(current, book, start=start, stop=stop)
            start = stop
        for m, (b, a) in depth_sums(current, levels).items():
            out[m][0][k], out[m][1][k] = b, a


def _f(values: Any) -> F64:
    return np.asarray(values).astype(np.float64)


def _shift(values: Any, window: int) -> tuple[Any, npt.NDArray[np.bool_]]:
    # values[t - window] aligned with t, and where it exists.
    n = len(values)
    older = np.zeros_like(values)
    exists = np.zeros(n, dtype=bool)
    if n > window:
        older[window:] = values[:-window]
        exists[window:] = True
    return older, exists


def _ratio(numerator: F64, denominator: F64, valid: npt.NDArray[np.bool_]) -> F64:
    out = np.full(len(numerator), NAN)
    out[valid] = numerator[valid] / denominator[valid]
    return out


def micro_feature(spec: FeatureSpec, m: MicroArrays) -> F64:
    """Return ``spec``'s value at every bar (before its lag) from the per-bar reads."""
    kind, w = spec.kind, spec.window
    mid2 = m.ask + m.bid
    quoted = m.has_quote & (mid2 > 0)
    if kind == "quoted_spread_bps":
        return _ratio(20000.0 * _f(m.ask - m.bid), _f(mid2), quoted)
    if kind == "microprice_bps":
        depth = m.bid_size + m.ask_size
        numerator = 10000.0 * (_f(m.ask - m.bid) * _f(m.bid_size - m.ask_size))
        return _ratio(numerator, _f(depth) * _f(mid2), quoted & (depth > 0))
    if kind == "quote_imbalance":
        depth = m.bid_size + m.ask_size
        return _ratio(_f(m.bid_size - m.ask_size), _f(depth), m.has_quote & (depth > 0))
    if kind == "depth_imbalance":
        assert spec.levels is not None
        b, a = m.depth[spec.levels]
        return _ratio(_f(b - a), _f(b + a), (b + a) > 0)
    if kind == "mid_return":
        old_mid2, exists = _shift(mid2, w)
        old_quoted, _ = _shift(m.has_quote, w)
        out = np.full(m.n, NAN)
        for t in np.flatnonzero(exists & m.has_quote & old_quoted).tolist():
            out[t] = log_ratio(int(mid2[t]), int(old_mid2[t]))
        return out
    if kind == "order_flow_imbalance":
        old, exists = _shift(m.ofi, w)
        if m.quote_size_precision is None:
            return np.full(m.n, NAN)
        scale = np.full(m.n, float(10**m.quote_size_precision))
        return _ratio(_f(m.ofi - old), scale, exists & m.has_quote)
    if kind == "trade_imbalance":
        old_buy, exists = _shift(m.buy, w)
        old_sell, _ = _shift(m.sell, w)
        buy, sell = m.buy - old_buy, m.sell - old_sell
        return _ratio(_f(buy - sell), _f(buy + sell), exists & ((buy + sell) > 0))
    if kind == "trade_intensity":
        old, exists = _shift(m.count, w)
        return _ratio(_f(m.count - old), np.full(m.n, float(w)), exists)
    if kind == "vwap_mid_bps":
        old_volume, exists = _shift(m.volume, w)
        old_notional, _ = _shift(m.notional, w)
        volume = m.volume - old_volume
        valid = exists & (volume > 0) & quoted
        vwap = _ratio(_f(m.notional - old_notional), _f(volume), valid)
        out = np.full(m.n, NAN)
        out[valid] = 10000.0 * ((2.0 * vwap[valid]) / _f(mid2)[valid] - 1.0)
        return out
    if kind == "trade_realized_var":
        out = np.full(m.n, NAN)
        for t in range(w, m.n):
            out[t] = window_sum(m.rv[t - w + 1 : t + 1])
        return out
    if kind == "kyle_lambda":
        return _kyle(m, w)
    raise ConfigError(f"feature kind {kind!r} has no bulk computation")


def _kyle(m: MicroArrays, w: int) -> F64:
    out = np.full(m.n, NAN)
    if m.trade_size_precision is None:
        return out
    scale = float(10**m.trade_size_precision)
    signed = (m.buy - m.sell).tolist()
    flow = [NAN] + [float(signed[b] - signed[b - 1]) / scale for b in range(1, m.n)]
    prices = m.last_price
    returns = [NAN]
    for now, before in zip(prices[1:], prices[:-1], strict=True):
        returns.append(NAN if now is None or before is None else log_ratio(now, before))
    missing = [p is None for p in prices]
    for t in range(w, m.n):
        if any(missing[t - w : t + 1]):
            continue
        out[t] = ols_slope(flow[t - w + 1 : t + 1], returns[t - w + 1 : t + 1])
    return out

"""A recorded market replayed on the wall clock, looped so an emulator can run for ever.

The bundled Binance BTCUSDT quotes and trades of 2021-01-08 (``tradeloop.data.bundled``:
``btcusdt_quotes``, ``btcusdt_trades``; 46 s of real data) are merged in time order (a quote
before a trade stamped the same millisecond) into one loop of ``period_ns`` (the recording's
span plus one second). Loop ``n`` replays the recording shifted by ``n`` periods, ``speed``
times faster than recorded, starting at ``origin_ns`` (wall clock); loops before the start
extend the market into the past, so kline and trade history exist from the first request.
The market is a pure function of time: the same origin and speed give the same prints.

Trade ids and depth update ids grow by one per print and per quote, across loops, so clients
that check their continuity (ccxt.pro's order book sync) see a consistent stream. Prices jump
back at every loop boundary: it is the same recording again.

The order book served is the top of book of the quote recording (one level a side, real
prices and sizes): the bundle holds no deeper depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradeloop.data import bundled
from tradeloop.model.instruments import Instrument

_LOOP_ID_BASE = 1_000_000  # loops back in time before trade ids would go negative


@dataclass(frozen=True, slots=True)
class MarketTrade:
    """One print: id, wall-clock time, raws at the instrument's precision, aggressor."""

    trade_id: int
    ts_ns: int
    price_raw: int
    size_raw: int
    is_buyer_maker: bool


@dataclass(frozen=True, slots=True)
class MarketQuote:
    """Best bid and ask (raws) with the depth update id they carry."""

    update_id: int
    ts_ns: int
    bid_raw: int
    bid_size_raw: int
    ask_raw: int
    ask_size_raw: int


class ReplayMarket:
    """Bundled BTCUSDT quotes and trades looped on the wall clock.

    Parameters
    ----------
    origin_ns : wall-clock time at which loop 0 starts.
    speed : replay speed (2.0: the recording plays twice as fast).
    """

    def __init__(self, origin_ns: int, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed {speed} must be positive")
        trades = bundled.load_trades("btcusdt_trades")
        quotes = bundled.load_quotes("btcusdt_quotes")
        self.instrument: Instrument = bundled.instrument("btcusdt_trades")
        self.symbol = "BTCUSDT"
        self.base_asset = "BTC"
        self.quote_asset = "USDT"
        self.price_precision = trades.price_precision
        self.size_precision = trades.size_precision
        start = int(min(trades.ts_event[0], quotes.ts_event[0]))
        end = int(max(trades.ts_event[-1], quotes.ts_event[-1]))
        self.period_ns = end - start + 1_000_000_000
        self.origin_ns = origin_ns
        self.speed = speed
        self._trade_off: npt.NDArray[np.int64] = np.asarray(trades.ts_event, np.int64) - start
        self._trade_px = np.asarray(trades.price, np.int64)
        self._trade_sz = np.asarray(trades.size, np.int64)
        self._trade_maker = np.asarray(trades.aggressor, np.int64) == 2  # seller aggressor
        self._quote_off: npt.NDArray[np.int64] = np.asarray(quotes.ts_event, np.int64) - start
        self._bid = np.asarray(quotes.bid_price, np.int64)
        self._bid_sz = np.asarray(quotes.bid_size, np.int64)
        self._ask = np.asarray(quotes.ask_price, np.int64)
        self._ask_sz = np.asarray(quotes.ask_size, np.int64)
        self._first_trade_id = int(trades.trade_id[0])
        self._trades_per_loop = len(self._trade_off)
        self._quotes_per_loop = len(self._quote_off)

    # -- time mapping ---------------------------------------------------------------------------

    def _wall(self, loop: int, offset_ns: int) -> int:
        return self.origin_ns + int((loop * self.period_ns + offset_ns) / self.speed)

    def _position(self, wall_ns: int) -> tuple[int, int]:
        # (loop, offset in the recording) of a wall-clock time
        elapsed = int((wall_ns - self.origin_ns) * self.speed)
        return elapsed // self.period_ns, elapsed % self.period_ns

    def _trade(self, loop: int, index: int) -> MarketTrade:
        return MarketTrade(
            trade_id=self._first_trade_id + (loop + _LOOP_ID_BASE) * self._trades_per_loop + index,
            ts_ns=self._wall(loop, int(self._trade_off[index])),
            price_raw=int(self._trade_px[index]),
            size_raw=int(self._trade_sz[index]),
            is_buyer_maker=bool(self._trade_maker[index]),
        )

    def _quote(self, loop: int, index: int) -> MarketQuote:
        return MarketQuote(
            update_id=(loop + _LOOP_ID_BASE) * self._quotes_per_loop + index + 1,
            ts_ns=self._wall(loop, int(self._quote_off[index])),
            bid_raw=int(self._bid[index]),
            bid_size_raw=int(self._bid_sz[index]),
            ask_raw=int(self._ask[index]),
            ask_size_raw=int(self._ask_sz[index]),
        )

    # -- queries --------------------------------------------------------------------------------

    def trades_between(
        self, start_ns: int, end_ns: int, limit: int | None = None
    ) -> list[MarketTrade]:
        """Return the prints with ``start_ns < ts <= end_ns`` in time order (the last
        ``limit`` of them when given)."""
        out: list[MarketTrade] = []
        if end_ns <= start_ns:
            return out
        first_loop, first_off = self._position(start_ns)
        last_loop, last_off = self._position(end_ns)
        if limit is not None:  # walk back from the end only as far as needed
            first_needed = last_loop - (limit // self._trades_per_loop) - 1
            if first_needed > first_loop:
                first_loop, first_off = first_needed, -1
        for loop in range(first_loop, last_loop + 1):
            lo = np.searchsorted(self._trade_off, first_off, "right") if loop == first_loop else 0
            hi = (
                np.searchsorted(self._trade_off, last_off, "right")
                if loop == last_loop
                else self._trades_per_loop
            )
            out.extend(self._trade(loop, int(i)) for i in range(int(lo), int(hi)))
        out = [t for t in out if start_ns < t.ts_ns <= end_ns]
        return out if limit is None else out[-limit:] if limit > 0 else []

    def quotes_between(self, start_ns: int, end_ns: int) -> list[MarketQuote]:
        """Return the quotes with ``start_ns < ts <= end_ns`` in time order."""
        out: list[MarketQuote] = []
        if end_ns <= start_ns:
            return out
        first_loop, first_off = self._position(start_ns)
        last_loop, last_off = self._position(end_ns)
        for loop in range(first_loop, last_loop + 1):
            lo = np.searchsorted(self._quote_off, first_off, "right") if loop == first_loop else 0
            hi = (
                np.searchsorted(self._quote_off, last_off, "right")
                if loop == last_loop
                else self._quotes_per_loop
            )
            out.extend(self._quote(loop, int(i)) for i in range(int(lo), int(hi)))
        return [q for q in out if start_ns < q.ts_ns <= end_ns]

    def quote_at(self, wall_ns: int) -> MarketQuote:
        """Return the last quote at or before ``wall_ns``."""
        loop, offset = self._position(wall_ns)
        index = int(np.searchsorted(self._quote_off, offset, "right")) - 1
        if index < 0:
            loop, index = loop - 1, self._quotes_per_loop - 1
        return self._quote(loop, index)

    def _trade_arrays(self, start_ns: int, stop_ns: int) -> tuple[npt.NDArray[np.int64], ...]:
        # times, prices, sizes and buyer-is-maker flags of the prints in [start_ns, stop_ns]
        first_loop = self._position(start_ns)[0]
        last_loop = self._position(stop_ns)[0]
        loops = np.arange(first_loop, last_loop + 1, dtype=np.int64)
        offsets = loops[:, None] * self.period_ns + self._trade_off[None, :]
        times = (self.origin_ns + (offsets / self.speed).astype(np.int64)).ravel()
        prices = np.tile(self._trade_px, len(loops))
        sizes = np.tile(self._trade_sz, len(loops))
        makers = np.tile(self._trade_maker, len(loops)).astype(np.int64)
        keep = (times >= start_ns) & (times <= stop_ns)
        return times[keep], prices[keep], sizes[keep], makers[keep]

    def window_stats(self, start_ns: int, end_ns: int) -> tuple[int, int, int, int, int, int, int]:
        """Return ``(open, high, low, close, volume_raw, quote_volume_raw, trades)`` of the
        prints in ``[start_ns, end_ns]`` (zeros when there are none)."""
        first_loop = self._position(start_ns)[0]
        last_loop = self._position(end_ns)[0]
        if last_loop - first_loop <= 2:
            _, prices, sizes, _ = self._trade_arrays(start_ns, end_ns)
            full = 0
        else:  # whole loops in the middle are the recording again: add them up at once
            head = self._trade_arrays(start_ns, self._wall(first_loop + 1, 0) - 1)
            tail = self._trade_arrays(self._wall(last_loop, 0), end_ns)
            full = last_loop - first_loop - 1
            prices = np.concatenate([head[1], self._trade_px, tail[1]])
            sizes = np.concatenate([head[2], self._trade_sz, tail[2]])
        if len(prices) == 0:
            return 0, 0, 0, 0, 0, 0, 0
        extra = max(full - 1, 0)  # the middle block was put in once
        return (
            int(prices[0]),
            int(prices.max()),
            int(prices.min()),
            int(prices[-1]),
            int(sizes.sum()) + extra * int(self._trade_sz.sum()),
            int((prices * sizes).sum()) + extra * int((self._trade_px * self._trade_sz).sum()),
            len(prices) + extra * self._trades_per_loop,
        )

    def klines(
        self, interval_ns: int, end_ns: int, limit: int, start_ns: int | None = None
    ) -> list[tuple[int, ...]]:
        """Return up to ``limit`` bars ``(open_ns, open, high, low, close, volume_raw,
        quote_volume_raw, trades, taker_buy_volume_raw, taker_buy_quote_volume_raw)`` of
        ``interval_ns``: the last ``limit`` up to the bar holding ``end_ns``, or the first
        ``limit`` from ``start_ns``. Quote volumes have precision ``price_precision +
        size_precision``. Intervals without prints are left out."""
        last_open = end_ns - end_ns % interval_ns
        if start_ns is None:
            first_open = last_open - (limit - 1) * interval_ns
        else:
            first_open = start_ns - start_ns % interval_ns
            last_open = min(last_open, first_open + (limit - 1) * interval_ns)
        stop_ns = min(end_ns, last_open + interval_ns - 1)
        times, prices, sizes, makers = self._trade_arrays(first_open, stop_ns)
        if len(times) == 0:
            return []
        opens = times - times % interval_ns
        starts = np.flatnonzero(np.r_[True, opens[1:] != opens[:-1]])
        ends = np.r_[starts[1:], len(times)]
        highs = np.maximum.reduceat(prices, starts)
        lows = np.minimum.reduceat(prices, starts)
        volumes = np.add.reduceat(sizes, starts)
        quote_volumes = np.add.reduceat(prices * sizes, starts)
        taker_buy = sizes * (1 - makers)
        buy_volumes = np.add.reduceat(taker_buy, starts)
        buy_quote_volumes = np.add.reduceat(prices * taker_buy, starts)
        return [
            (
                int(opens[s]),
                int(prices[s]),
                int(highs[k]),
                int(lows[k]),
                int(prices[e - 1]),
                int(volumes[k]),
                int(quote_volumes[k]),
                int(e - s),
                int(buy_volumes[k]),
                int(buy_quote_volumes[k]),
            )
            for k, (s, e) in enumerate(zip(starts, ends, strict=True))
        ]

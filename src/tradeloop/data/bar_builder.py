"""Bars built from trades, for feeds that stream trades but not the bars a strategy wants.

A ``BarBuilder`` keeps one open bar per interval (``interval_ns``, intervals aligned on the
Unix epoch). A bar exists only for an interval with trades; it closes when the first trade
of a later interval arrives, or when ``on_time`` is told the time has passed the interval's
end plus ``grace_ns`` (trades reach us after they happened). A closed bar's ``ts_event`` is
its interval's end.

Across a reconnect a feed may deliver trades again: a trade id seen before is a duplicate and
is skipped (``duplicates``); a trade older than the last closed bar can no longer be counted
and is skipped (``late``). Neither is lost silently: both are counted. Because the open bar
takes its open and close from the earliest and latest trade time (ties: arrival order) and
closing depends only on the trades' times, feeding a list of trades all at once or in pieces
gives the same bars (``bars_from_trades``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import msgspec

from tradeloop.core.errors import InvalidValueError
from tradeloop.data.columns import BarColumns, TradeColumns
from tradeloop.model.data import Bar


class BarDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A closed bar before it is stamped with ``ts_init``."""

    instrument_id: str
    open_raw: int
    high_raw: int
    low_raw: int
    close_raw: int
    volume_raw: int
    price_precision: int
    volume_precision: int
    ts_event: int
    trades: int

    def to_bar(self, ts_init: int) -> Bar:
        """Return the ``Bar``, stamped ``ts_init``."""
        return Bar(
            self.instrument_id,
            self.open_raw,
            self.high_raw,
            self.low_raw,
            self.close_raw,
            self.volume_raw,
            self.price_precision,
            self.volume_precision,
            self.ts_event,
            ts_init,
        )


class BuilderTrade(msgspec.Struct, frozen=True):
    """A trade as the builder needs it: raw price and size at the builder's precisions."""

    trade_id: str
    price_raw: int
    size_raw: int
    ts_event: int


class _OpenBar:
    __slots__ = ("close", "close_ts", "end", "high", "low", "open", "open_ts", "trades", "volume")

    def __init__(self, trade: BuilderTrade, end: int) -> None:
        self.end = end
        self.open = self.high = self.low = self.close = trade.price_raw
        self.open_ts = self.close_ts = trade.ts_event
        self.volume = trade.size_raw
        self.trades = 1

    def add(self, trade: BuilderTrade) -> None:
        price = trade.price_raw
        if trade.ts_event < self.open_ts:
            self.open, self.open_ts = price, trade.ts_event
        if trade.ts_event >= self.close_ts:
            self.close, self.close_ts = price, trade.ts_event
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += trade.size_raw
        self.trades += 1


class BarBuilder:
    """Bars of one instrument from its trades (module docstring).

    Parameters
    ----------
    instrument_id : the bars' instrument.
    interval_ns : the bar interval in nanoseconds (60_000_000_000: one minute).
    price_precision, size_precision : precisions of the trades' raw prices and sizes.
    grace_ns : how long after an interval's end ``on_time`` waits before closing its bar.
    remember : how many recent trade ids are kept to recognise duplicates.

    Raises
    ------
    InvalidValueError
        If ``interval_ns`` is not positive or ``grace_ns`` is negative.
    """

    def __init__(
        self,
        instrument_id: str,
        interval_ns: int,
        price_precision: int,
        size_precision: int,
        *,
        grace_ns: int = 0,
        remember: int = 100_000,
    ) -> None:
        if interval_ns <= 0:
            raise InvalidValueError(f"bar interval_ns {interval_ns} must be positive")
        if grace_ns < 0:
            raise InvalidValueError(f"bar grace_ns {grace_ns} must not be negative")
        self.instrument_id = instrument_id
        self.interval_ns = interval_ns
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.grace_ns = grace_ns
        self.duplicates = 0
        self.late = 0
        self.closed_until_ns = 0  # end of the last closed bar's interval
        self._open: _OpenBar | None = None
        self._seen: set[str] = set()
        self._order: deque[str] = deque()
        self._remember = remember

    def _is_duplicate(self, trade_id: str) -> bool:
        if trade_id in self._seen:
            return True
        self._seen.add(trade_id)
        self._order.append(trade_id)
        if len(self._order) > self._remember:
            self._seen.discard(self._order.popleft())
        return False

    def _close(self) -> BarDraft:
        bar = self._open
        assert bar is not None
        self._open = None
        self.closed_until_ns = bar.end
        return BarDraft(
            instrument_id=self.instrument_id,
            open_raw=bar.open,
            high_raw=bar.high,
            low_raw=bar.low,
            close_raw=bar.close,
            volume_raw=bar.volume,
            price_precision=self.price_precision,
            volume_precision=self.size_precision,
            ts_event=bar.end,
            trades=bar.trades,
        )

    def on_trade(self, trade: BuilderTrade) -> list[BarDraft]:
        """Add a trade; return the bar it closed (a trade of a later interval), if any."""
        if trade.ts_event < self.closed_until_ns:
            self.late += 1
            return []
        if self._is_duplicate(trade.trade_id):
            self.duplicates += 1
            return []
        end = (trade.ts_event // self.interval_ns + 1) * self.interval_ns
        closed: list[BarDraft] = []
        bar = self._open
        if bar is not None and end > bar.end:
            closed.append(self._close())
            bar = None
        if bar is None:
            self._open = _OpenBar(trade, end)
        elif end == bar.end:
            bar.add(trade)
        else:  # earlier than the open bar, later than the last closed one: its bar is gone
            self.late += 1
        return closed

    def on_time(self, now_ns: int) -> list[BarDraft]:
        """Close the open bar if ``now_ns`` passed its interval's end plus the grace."""
        bar = self._open
        if bar is not None and now_ns >= bar.end + self.grace_ns:
            return [self._close()]
        return []

    def flush(self) -> list[BarDraft]:
        """Close the open bar whatever the time (the end of a feed)."""
        return [self._close()] if self._open is not None else []


def bars_from_trades(
    trades: Iterable[BuilderTrade],
    instrument_id: str,
    interval_ns: int,
    price_precision: int,
    size_precision: int,
) -> list[BarDraft]:
    """Return every bar of ``trades`` (the last one closed by the end of the list)."""
    builder = BarBuilder(instrument_id, interval_ns, price_precision, size_precision)
    bars: list[BarDraft] = []
    for trade in trades:
        bars.extend(builder.on_trade(trade))
    bars.extend(builder.flush())
    return bars


def bar_columns_from_trades(trades: TradeColumns, interval_ns: int) -> BarColumns:
    """Return the bars of ``trades`` bucketed by when they were received (``ts_init``), each
    stamped (``ts_event`` and ``ts_init``) at its interval's end: a bar holds only trades known
    by the time it closes, as a live ``BarBuilder`` closing on the clock would.

    Raises
    ------
    InvalidValueError
        If ``interval_ns`` is not positive.
    """
    rows = zip(
        trades.trade_id.tolist(),
        trades.price.tolist(),
        trades.size.tolist(),
        trades.ts_init.tolist(),
        strict=True,
    )
    drafts = bars_from_trades(
        (BuilderTrade(str(i), p, s, t) for i, p, s, t in rows),
        trades.instrument_id,
        interval_ns,
        trades.price_precision,
        trades.size_precision,
    )
    ts = [d.ts_event for d in drafts]
    return BarColumns(
        trades.instrument_id,
        trades.price_precision,
        trades.size_precision,
        ts,
        ts,
        [d.open_raw for d in drafts],
        [d.high_raw for d in drafts],
        [d.low_raw for d in drafts],
        [d.close_raw for d in drafts],
        [d.volume_raw for d in drafts],
    )

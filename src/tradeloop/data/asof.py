"""The as-of reader: market data as known at the clock's current time, and nothing later.

Every answer is cut at ``clock.timestamp_ns()``: only records with ``ts_init <= now`` come
back. The cut is made by a binary search on ``ts_init`` over columns checked to be sorted,
and the rows returned are copies, so a caller cannot reach a later record through the
arrays it was given. This is the "no look-ahead by construction" rule of the architecture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from tradeloop.core.clock import Clock
from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.data.catalog import Catalog
from tradeloop.data.columns import BarColumns, Columns, QuoteColumns, TradeColumns
from tradeloop.data.kinds import DataKind, kind_of
from tradeloop.model.data import Bar, QuoteTick, TradeTick

Loader = Callable[[DataKind, str], Columns]


class AsOfReader:
    """Bars, quotes and trades as of ``clock``'s time, from in-memory columns or a catalog.

    Parameters
    ----------
    clock : the clock that says what "now" is (a ``TestClock`` in backtests).
    data : column sets to serve, each sorted by ``ts_init`` (one per instrument and kind).
    loader : called once for a (kind, instrument) not in ``data``, e.g. ``Catalog.query``.
    """

    def __init__(
        self, clock: Clock, data: Iterable[Columns] = (), *, loader: Loader | None = None
    ) -> None:
        self._clock = clock
        self._loader = loader
        self._series: dict[tuple[DataKind, str], Columns] = {}
        for columns in data:
            self.add(columns)

    @classmethod
    def from_catalog(cls, catalog: Catalog, clock: Clock) -> AsOfReader:
        """Return a reader that loads each instrument's series from ``catalog`` on first use."""
        return cls(clock, loader=lambda kind, instrument_id: catalog.query(kind, instrument_id))

    def add(self, columns: Columns) -> None:
        """Serve ``columns`` (sorted by ``ts_init``).

        Raises
        ------
        DataIntegrityError
            If the columns are not sorted by ``ts_init``.
        ConfigError
            If data of the same instrument and kind was already added.
        """
        key = (kind_of(columns), columns.instrument_id)
        if key in self._series:
            raise ConfigError(f"as-of reader already holds {key[0].value} of {key[1]}")
        if len(columns) > 1 and bool((np.diff(columns.ts_init) < 0).any()):
            raise DataIntegrityError(
                f"{key[0].value} of {key[1]} are not sorted by ts_init; "
                "validate them before reading as of a time"
            )
        self._series[key] = columns

    @property
    def as_of_ns(self) -> int:
        """Return the time answers are cut at (the clock's current time)."""
        return self._clock.timestamp_ns()

    def _series_for(self, kind: DataKind, instrument_id: str) -> Columns:
        key = (kind, instrument_id)
        series = self._series.get(key)
        if series is None:
            if self._loader is None:
                raise ConfigError(f"as-of reader holds no {kind.value} of {instrument_id}")
            self.add(self._loader(kind, instrument_id))
            series = self._series[key]
        return series

    def _window(
        self, kind: DataKind, instrument_id: str, lookback: int | None, start_ns: int | None
    ) -> Columns:
        if lookback is not None and lookback < 0:
            raise ConfigError(f"lookback {lookback} must not be negative")
        series = self._series_for(kind, instrument_id)
        now = self._clock.timestamp_ns()
        stop = int(np.searchsorted(series.ts_init, now, "right"))
        start = 0 if start_ns is None else int(np.searchsorted(series.ts_init, start_ns, "left"))
        if lookback is not None:
            start = max(start, stop - lookback)
        start = min(start, stop)
        # An index array (not a slice) makes ``take`` copy: no view onto later rows escapes.
        return series.take(np.arange(start, stop, dtype=np.int64))

    def bars(
        self, instrument_id: str, lookback: int | None = None, start_ns: int | None = None
    ) -> BarColumns:
        """Return bars with ``start_ns <= ts_init <= now``, at most the last ``lookback`` of them.

        Raises
        ------
        ConfigError
            If no bars of ``instrument_id`` are available, or ``lookback`` is negative.
        """
        result = self._window(DataKind.BARS, instrument_id, lookback, start_ns)
        assert isinstance(result, BarColumns)
        return result

    def quotes(
        self, instrument_id: str, lookback: int | None = None, start_ns: int | None = None
    ) -> QuoteColumns:
        """Return quotes with ``start_ns <= ts_init <= now``, at most the last ``lookback``."""
        result = self._window(DataKind.QUOTES, instrument_id, lookback, start_ns)
        assert isinstance(result, QuoteColumns)
        return result

    def trades(
        self, instrument_id: str, lookback: int | None = None, start_ns: int | None = None
    ) -> TradeColumns:
        """Return trades with ``start_ns <= ts_init <= now``, at most the last ``lookback``."""
        result = self._window(DataKind.TRADES, instrument_id, lookback, start_ns)
        assert isinstance(result, TradeColumns)
        return result

    def last_bar(self, instrument_id: str) -> Bar | None:
        """Return the latest bar known now, or ``None``."""
        bars = self.bars(instrument_id, lookback=1)
        return bars.bar(0) if len(bars) else None

    def last_quote(self, instrument_id: str) -> QuoteTick | None:
        """Return the latest quote known now, or ``None``."""
        quotes = self.quotes(instrument_id, lookback=1)
        return next(quotes.iter_quotes(), None)

    def last_trade(self, instrument_id: str) -> TradeTick | None:
        """Return the latest trade known now, or ``None``."""
        trades = self.trades(instrument_id, lookback=1)
        return next(trades.iter_trades(), None)

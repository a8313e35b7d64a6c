"""Recorded daily equity bars replayed on the clock as minute bars, looped.

Each bundled dataset (``spy_daily``, ``goog_daily``: real OHLCV, see
``tradeloop.data.bundled``) becomes one symbol. Bar ``k`` of the replay covers the wall-clock
interval ``[origin + k·interval, origin + (k+1)·interval)`` with ``interval = 60 s / speed``,
and holds the recorded bar ``k mod N`` (the recording loops; negative ``k`` give history
before the start). The prices are real daily bars; only their time stamps are the replay's:
one recorded trading day per replay minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradeloop.data import bundled
from tradeloop.model.instruments import Instrument

_MINUTE_NS = 60_000_000_000


@dataclass(frozen=True, slots=True)
class ReplayBar:
    """One replayed bar: its open time, OHLC raws at the symbol's precision, and volume."""

    symbol: str
    open_ns: int
    open_raw: int
    high_raw: int
    low_raw: int
    close_raw: int
    volume: int


class _Series:
    def __init__(self, dataset: str) -> None:
        columns = bundled.load_bars(dataset)
        self.instrument: Instrument = bundled.instrument(dataset)
        self.precision = columns.price_precision
        self.open: npt.NDArray[np.int64] = np.asarray(columns.open, np.int64)
        self.high: npt.NDArray[np.int64] = np.asarray(columns.high, np.int64)
        self.low: npt.NDArray[np.int64] = np.asarray(columns.low, np.int64)
        self.close: npt.NDArray[np.int64] = np.asarray(columns.close, np.int64)
        self.volume: npt.NDArray[np.int64] = np.asarray(columns.volume, np.int64)


class BarsMarket:
    """Minute bars of the bundled daily equity data, looped on the wall clock.

    Parameters
    ----------
    origin_ns : wall-clock time at which bar 0 opens.
    speed : replay speed (2.0: a bar every 30 s).
    datasets : symbol to bundled dataset name.
    """

    def __init__(
        self,
        origin_ns: int,
        speed: float = 1.0,
        datasets: dict[str, str] | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed {speed} must be positive")
        chosen = datasets or {"SPY": "spy_daily", "GOOG": "goog_daily"}
        self.series = {symbol: _Series(name) for symbol, name in chosen.items()}
        self.origin_ns = origin_ns
        self.interval_ns = max(1, int(_MINUTE_NS / speed))

    @property
    def symbols(self) -> list[str]:
        """Return the symbols served, sorted."""
        return sorted(self.series)

    def instrument(self, symbol: str) -> Instrument:
        """Return the instrument of ``symbol`` (its precision and calendar)."""
        return self.series[symbol].instrument

    def precision(self, symbol: str) -> int:
        """Return the price precision of ``symbol``."""
        return self.series[symbol].precision

    def index_at(self, wall_ns: int) -> int:
        """Return the replay index of the bar open at ``wall_ns``."""
        return (wall_ns - self.origin_ns) // self.interval_ns

    def bar(self, symbol: str, index: int) -> ReplayBar:
        """Return replay bar ``index`` of ``symbol``."""
        series = self.series[symbol]
        row = index % len(series.open)
        return ReplayBar(
            symbol=symbol,
            open_ns=self.origin_ns + index * self.interval_ns,
            open_raw=int(series.open[row]),
            high_raw=int(series.high[row]),
            low_raw=int(series.low[row]),
            close_raw=int(series.close[row]),
            volume=int(series.volume[row]),
        )

    def bars(
        self, symbol: str, first: int, last: int, group: int = 1
    ) -> list[tuple[int, int, int, int, int, int, int]]:
        """Return bars ``first..last`` (replay indices, inclusive) aggregated ``group`` at a
        time on multiples of ``group``: ``(open_ns, open, high, low, close, volume, count)``."""
        if last < first:
            return []
        series = self.series[symbol]
        indices = np.arange(first, last + 1, dtype=np.int64)
        rows = indices % len(series.open)
        keys = indices // group
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(indices)]
        highs = np.maximum.reduceat(series.high[rows], starts)
        lows = np.minimum.reduceat(series.low[rows], starts)
        volumes = np.add.reduceat(series.volume[rows], starts)
        opens, closes = series.open[rows], series.close[rows]
        return [
            (
                self.origin_ns + int(keys[s]) * group * self.interval_ns,
                int(opens[s]),
                int(highs[k]),
                int(lows[k]),
                int(closes[e - 1]),
                int(volumes[k]),
                int(e - s),
            )
            for k, (s, e) in enumerate(zip(starts, ends, strict=True))
        ]

"""A causal rolling window of bars per instrument, shared by the pipeline's stages.

It holds only bars that were dispatched, so whatever reads it sees nothing after the clock.
Windows are NumPy ring buffers; reads return copies (oldest first), so a stage cannot alter
another's view.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import pow10
from tradeloop.model.data import Bar

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_FIELDS = ("open", "high", "low", "close", "volume")


class _Window:
    __slots__ = ("count", "index", "ts", "values")

    def __init__(self, capacity: int) -> None:
        self.ts = np.zeros(capacity, dtype=np.int64)
        self.values = np.zeros((len(_FIELDS), capacity), dtype=np.float64)
        self.index = 0
        self.count = 0

    def push(self, ts: int, o: float, h: float, low: float, c: float, v: float) -> None:
        i = self.index
        self.ts[i] = ts
        column = self.values[:, i]
        column[0], column[1], column[2], column[3], column[4] = o, h, low, c, v
        i += 1
        self.index = 0 if i == len(self.ts) else i
        if self.count < len(self.ts):
            self.count += 1

    def order(self, n: int) -> npt.NDArray[np.intp]:
        capacity = len(self.ts)
        start = (self.index - n) % capacity
        return (start + np.arange(n)) % capacity


class BarHistory:
    """The last ``capacity`` bars of every instrument, in dispatch order."""

    def __init__(self, capacity: int = 512) -> None:
        if capacity < 2:
            raise InvalidValueError(f"bar history capacity {capacity} must be at least 2")
        self.capacity = capacity
        self._windows: dict[str, _Window] = {}

    def update(self, bar: Bar) -> None:
        """Append ``bar`` to its instrument's window."""
        window = self._windows.get(bar.instrument_id)
        if window is None:
            window = self._windows[bar.instrument_id] = _Window(self.capacity)
        price_scale = pow10(bar.price_precision)
        window.push(
            bar.ts_init,
            bar.open_raw / price_scale,
            bar.high_raw / price_scale,
            bar.low_raw / price_scale,
            bar.close_raw / price_scale,
            bar.volume_raw / pow10(bar.volume_precision),
        )

    def count(self, instrument_id: str) -> int:
        """Return how many bars of ``instrument_id`` are held (at most ``capacity``)."""
        window = self._windows.get(instrument_id)
        return 0 if window is None else window.count

    def instruments(self) -> list[str]:
        """Return the instruments seen so far, sorted."""
        return sorted(self._windows)

    def _series(self, instrument_id: str, field: int, n: int | None) -> F64:
        window = self._windows.get(instrument_id)
        if window is None:
            return np.empty(0, dtype=np.float64)
        size = window.count if n is None else min(n, window.count)
        return np.asarray(window.values[field, window.order(size)], dtype=np.float64)

    def opens(self, instrument_id: str, n: int | None = None) -> F64:
        """Return the last ``n`` opens (all held when ``n`` is None), oldest first."""
        return self._series(instrument_id, 0, n)

    def highs(self, instrument_id: str, n: int | None = None) -> F64:
        """Return the last ``n`` highs, oldest first."""
        return self._series(instrument_id, 1, n)

    def lows(self, instrument_id: str, n: int | None = None) -> F64:
        """Return the last ``n`` lows, oldest first."""
        return self._series(instrument_id, 2, n)

    def closes(self, instrument_id: str, n: int | None = None) -> F64:
        """Return the last ``n`` closes, oldest first."""
        return self._series(instrument_id, 3, n)

    def volumes(self, instrument_id: str, n: int | None = None) -> F64:
        """Return the last ``n`` volumes, oldest first."""
        return self._series(instrument_id, 4, n)

    def timestamps(self, instrument_id: str, n: int | None = None) -> I64:
        """Return the ``ts_init`` of the last ``n`` bars, oldest first."""
        window = self._windows.get(instrument_id)
        if window is None:
            return np.empty(0, dtype=np.int64)
        size = window.count if n is None else min(n, window.count)
        return window.ts[window.order(size)]

    def last_close(self, instrument_id: str) -> float | None:
        """Return the latest close, or None before the first bar."""
        closes = self.closes(instrument_id, 1)
        return float(closes[0]) if len(closes) else None

    def returns(self, instrument_id: str, n: int) -> F64:
        """Return the last ``n`` simple close-to-close returns (fewer if history is short)."""
        closes = self.closes(instrument_id, n + 1)
        return closes[1:] / closes[:-1] - 1.0

    def aligned_closes(self, instrument_ids: list[str], n: int) -> tuple[I64, F64]:
        """Return the timestamps and closes (rows) of the last ``n`` bars all instruments share.

        Bars are matched by ``ts_init``; a timestamp missing for any instrument is left out.
        """
        if not instrument_ids:
            return np.empty(0, dtype=np.int64), np.empty((0, 0))
        common = self.timestamps(instrument_ids[0])
        for instrument_id in instrument_ids[1:]:
            common = np.intersect1d(common, self.timestamps(instrument_id), assume_unique=True)
        common = common[-n:]
        rows = np.empty((len(common), len(instrument_ids)), dtype=np.float64)
        for column, instrument_id in enumerate(instrument_ids):
            ts = self.timestamps(instrument_id)
            closes = self.closes(instrument_id)
            rows[:, column] = closes[np.searchsorted(ts, common)]
        return common, rows

    def aligned_returns(self, instrument_ids: list[str], n: int) -> F64:
        """Return the last ``n`` common simple returns as a (periods × instruments) matrix."""
        _, closes = self.aligned_closes(instrument_ids, n + 1)
        if len(closes) < 2:
            return np.empty((0, len(instrument_ids)), dtype=np.float64)
        return closes[1:] / closes[:-1] - 1.0

"""Performance of a running node from its equity curve: the annualized Sharpe ratio of its
daily returns (UTC days on the node's clock), as ``analytics.metrics`` defines it.

``DailyCurve.update`` runs on the kernel thread with each snapshot and reads only the points the
portfolio's equity curve gained since the previous call (zero-copy NumPy views of its arrays),
so its cost does not grow with the length of the run.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from tradeloop.analytics.metrics.performance import sharpe_ratio

DAY_NS = 86_400_000_000_000


class DailyCurve:
    """End-of-day equities of a growing equity curve, and their Sharpe ratio."""

    def __init__(self) -> None:
        self._seen = 0
        self._day = -1
        self._last_equity = math.nan
        self.closes: list[float] = []  # equity at the end of each finished day

    def update(self, ts_ns: array[int], equity: array[float]) -> None:
        """Take in the points appended since the previous call (kernel thread)."""
        count = min(len(ts_ns), len(equity))
        if count <= self._seen:
            return
        ts = np.frombuffer(ts_ns, dtype=np.int64, count=count)[self._seen :]
        values = np.frombuffer(equity, dtype=np.float64, count=count)[self._seen :]
        days = ts // DAY_NS
        if self._day < 0:
            self._day = int(days[0])
        # The last point of each day that ended within the new points.
        changes = np.flatnonzero(np.diff(np.concatenate(([self._day], days))))
        for index in changes:
            close = self._last_equity if index == 0 else float(values[index - 1])
            if math.isfinite(close):
                self.closes.append(close)
        self._day = int(days[-1])
        self._last_equity = float(values[-1])
        self._seen = count

    def sharpe(self) -> float | None:
        """Return the annualized Sharpe ratio of the daily returns (the current day counts
        with its latest equity), or None before three days or for a flat curve."""
        closes = [*self.closes, self._last_equity]
        if len(closes) < 3 or not all(math.isfinite(c) and c > 0 for c in closes):
            return None
        series = np.asarray(closes)
        returns = series[1:] / series[:-1] - 1.0
        if float(np.std(returns)) == 0.0:
            return None
        value = sharpe_ratio(returns, periods_per_year=252)
        return value if math.isfinite(value) else None

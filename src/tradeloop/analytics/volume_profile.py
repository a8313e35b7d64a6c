"""Intraday volume profile: the volume to expect at each time of day, from past days only.

VWAP execution sizes its slices by the market volume expected in each slice's interval. The
profile is estimated causally, incrementally, from the volume observed so far (bars or trade
prints):

1. **Buckets.** The day (UTC, 00:00 to 24:00) is cut into ``bucket_ns`` buckets. A volume
   stamped ``ts`` counts in the bucket holding ``ts - 1 ns``: bars are stamped at their close
   and cover ``(close - interval, close]``, so a bar whose interval equals a bucket lands in
   its own bucket (trades, stamped when they happened, are one nanosecond off, which is
   immaterial).
2. **Days.** Each UTC day keeps its volume per bucket and the span of buckets it observed
   (first to last record). A bucket inside a day's span with no record had zero volume; a
   bucket outside it (before the data started, after it ended, or a day that stops early) is
   not observed that day.
3. **Expected volume** of a bucket, as of a time ``t`` = the mean of its volume over the last
   ``lookback_days`` days *before* ``t``'s day that observed it. The current day never
   counts: its later buckets are not known yet, and mixing a partial day in would bias the
   profile (no look-ahead, and no half-day).
4. **Interval volume.** The expected volume of ``(a, b]`` is the integral of the profile,
   flat within each bucket (a partial bucket counts in proportion of its length); intervals
   may cross midnight or span days.

``slice_weights(start, slices, interval)`` returns, for slice ``k``, the expected volume of
``(start + k·interval, start + (k+1)·interval]`` — ``None`` when no past day observed any of
it (the caller then falls back to equal slices, i.e. TWAP). With daily bars every slice is
one whole day: equal weights, as they should be (daily data says nothing about the time of
day).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError

__all__ = ["DAY_NS", "IntradayVolumeProfile"]

DAY_NS = 86_400_000_000_000
"""Nanoseconds in a day."""

_F64 = npt.NDArray[np.float64]


class _Day:
    __slots__ = ("first", "last", "volume")

    def __init__(self, buckets: int, first: int) -> None:
        self.volume = np.zeros(buckets, dtype=np.float64)
        self.first = first
        self.last = first


class IntradayVolumeProfile:
    """Expected volume per time-of-day bucket, estimated from past days (module docstring).

    Parameters
    ----------
    bucket_ns : bucket width; must divide a day (60 s, 5 min, 1 h …).
    lookback_days : how many past days (that observed a bucket) its mean covers.

    Raises
    ------
    InvalidValueError
        If ``bucket_ns`` does not divide a day or ``lookback_days`` is below 1.
    """

    def __init__(self, bucket_ns: int = 300_000_000_000, lookback_days: int = 20) -> None:
        if bucket_ns <= 0 or DAY_NS % bucket_ns:
            raise InvalidValueError(
                f"volume profile bucket_ns {bucket_ns} must be positive and divide a day "
                f"({DAY_NS} ns)"
            )
        if lookback_days < 1:
            raise InvalidValueError(f"volume profile lookback_days {lookback_days} must be >= 1")
        self.bucket_ns = bucket_ns
        self.buckets = DAY_NS // bucket_ns
        self.lookback_days = lookback_days
        self._days: OrderedDict[int, _Day] = OrderedDict()  # UTC day number -> its volumes
        self._last_ts: int | None = None

    @property
    def days(self) -> list[int]:
        """Return the UTC day numbers (``ts // DAY_NS``) held, oldest first."""
        return list(self._days)

    def update(self, ts_ns: int, volume: float) -> None:
        """Add ``volume`` observed at ``ts_ns`` (a bar's close or a trade's time).

        Raises
        ------
        InvalidValueError
            If the volume is negative or not finite, or ``ts_ns`` is before the last update.
        """
        if not (math.isfinite(volume) and volume >= 0):
            raise InvalidValueError(f"volume {volume} at {ts_ns} ns must be finite and >= 0")
        if self._last_ts is not None and ts_ns < self._last_ts:
            raise InvalidValueError(
                f"volume at {ts_ns} ns is before the last one at {self._last_ts} ns: the profile "
                "is updated in time order"
            )
        self._last_ts = ts_ns
        day, bucket = divmod(ts_ns - 1, DAY_NS)
        bucket //= self.bucket_ns
        entry = self._days.get(day)
        if entry is None:
            entry = self._days[day] = _Day(self.buckets, bucket)
            # Keep the current day and the lookback before it.
            while len(self._days) > self.lookback_days + 1:
                self._days.popitem(last=False)
        entry.volume[bucket] += volume
        entry.last = bucket

    def expected(self, as_of_ns: int) -> tuple[_F64, npt.NDArray[np.int64]]:
        """Return (mean volume per bucket, days that observed it) from days before ``as_of_ns``.

        The mean is 0 where no past day observed the bucket.
        """
        today = (as_of_ns - 1) // DAY_NS
        past = [entry for day, entry in self._days.items() if day < today]
        past = past[-self.lookback_days :]
        total = np.zeros(self.buckets, dtype=np.float64)
        seen = np.zeros(self.buckets, dtype=np.int64)
        for entry in past:
            total += entry.volume
            seen[entry.first : entry.last + 1] += 1
        mean = np.divide(total, seen, out=np.zeros_like(total), where=seen > 0)
        return mean, seen

    def interval_volume(self, start_ns: int, end_ns: int, as_of_ns: int) -> float:
        """Return the expected volume of ``(start_ns, end_ns]`` as of ``as_of_ns``."""
        mean, _ = self.expected(as_of_ns)
        return self._between(mean, math.fsum(mean.tolist()), start_ns, end_ns)

    def slice_weights(
        self, start_ns: int, slices: int, interval_ns: int
    ) -> tuple[float, ...] | None:
        """Return the expected volume of each of ``slices`` intervals of ``interval_ns`` after
        ``start_ns`` (slice ``k``: ``(start + k·interval, start + (k+1)·interval]``), as of
        ``start_ns``; ``None`` when past days observed none of it.

        Raises
        ------
        InvalidValueError
            If ``slices`` or ``interval_ns`` is not positive.
        """
        if slices < 1 or interval_ns <= 0:
            raise InvalidValueError(
                f"slice_weights needs slices >= 1 and interval_ns > 0, got {slices}, {interval_ns}"
            )
        mean, seen = self.expected(start_ns)
        if not seen.any():
            return None
        day_total = math.fsum(mean.tolist())
        weights = tuple(
            self._between(
                mean, day_total, start_ns + k * interval_ns, start_ns + (k + 1) * interval_ns
            )
            for k in range(slices)
        )
        if not sum(weights) > 0:
            return None
        return weights

    def _between(self, mean: _F64, day_total: float, start_ns: int, end_ns: int) -> float:
        # Expected volume of (start, end]: whole days, then bucket by bucket (a partial bucket
        # in proportion of its length).
        if end_ns <= start_ns:
            return 0.0
        days, rest = divmod(end_ns - start_ns, DAY_NS)
        parts = [days * day_total] if days else []
        width = self.bucket_ns
        position, end = start_ns, start_ns + rest
        while position < end:
            offset = position % DAY_NS
            bucket = offset // width
            stop = min(position - offset % width + width, end)
            value = float(mean[bucket])
            parts.append(value if stop - position == width else value * (stop - position) / width)
            position = stop
        return math.fsum(parts)

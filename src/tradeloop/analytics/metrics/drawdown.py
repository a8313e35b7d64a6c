"""Drawdowns: the maximum drawdown of a returns series and the spells of an equity curve.

``max_drawdown`` and ``drawdown_series`` take simple returns and follow empyrical: wealth starts
at an anchor before the first return, so a loss in the first period is a drawdown.

``drawdown_spells``, ``worst_drawdown`` and ``longest_drawdown`` take an equity curve (use
``equity_from_returns`` for a returns series) and describe each spell under water:

- the **peak** is the last point at the running maximum before equity falls below it;
- the **trough** is the lowest point of the spell (the first one on ties);
- the **recovery** is the first point back at or above the peak (None while still under water);
- the **duration** runs from the peak to the recovery, or to the last point if not recovered,
  in periods (index difference) and, given timestamps, in days (``ns / 86_400e9``).

quantstats ``drawdown_details`` reports for each spell the first and last points *under water*
and ``days = (last - first).days + 1``; with our indices that is the calendar-day span from
``peak_index + 1`` to ``recovery_index - 1`` (or the last point), plus one.
"""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.analytics.metrics import _checks
from tradeloop.analytics.metrics._checks import F64, I64
from tradeloop.core.time import NANOS_PER_DAY


class Drawdown(msgspec.Struct, frozen=True, kw_only=True):
    """One spell under water: from a peak, through its trough, to the recovery.

    Indices point into the equity curve the spell was found in. ``depth`` is
    ``(trough - peak) / peak``, in [-1, 0). Timestamps and ``duration_days`` are None when
    the curve came without timestamps; ``recovery_index`` and ``ts_recovery`` are None when
    equity had not recovered by the last point, and the duration then runs to the last point.
    """

    depth: float
    peak_index: int
    trough_index: int
    recovery_index: int | None
    duration_periods: int
    ts_peak: int | None = None
    ts_trough: int | None = None
    ts_recovery: int | None = None
    duration_days: float | None = None


def _wealth(returns: F64) -> F64:
    # empyrical's cum_returns(starting_value=100) behind an anchor of 100: (1 + r).cumprod() * 100.
    out = np.empty(len(returns) + 1)
    out[0] = 100.0
    np.multiply(np.cumprod(returns + 1.0), 100.0, out=out[1:])
    return out


def drawdown_series(returns: npt.ArrayLike) -> F64:
    """Return the drawdown after each period, as ``empyrical.drawdown_series``.

    ``(wealth - running_max) / running_max``, wealth compounding from an anchor placed before
    the first return; one value per return, each in [-1, 0].

    Raises
    ------
    InvalidValueError
        If ``returns`` is not one-dimensional.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("drawdown_series", returns, 0)
    wealth = _wealth(r)
    running_max = np.fmax.accumulate(wealth)
    return ((wealth - running_max) / running_max)[1:]


def max_drawdown(returns: npt.ArrayLike) -> float:
    """Return the maximum drawdown, a number in [-1, 0], as ``empyrical.max_drawdown``.

    The minimum of ``drawdown_series``: 0.0 when wealth never falls below a previous high.
    quantstats ``max_drawdown`` of a returns series is the same number (it also anchors wealth
    at 1 before the first period).

    Raises
    ------
    InvalidValueError
        If ``returns`` is empty.
    DataIntegrityError
        If a return is NaN, infinite or below -1.
    """
    r = _checks.as_returns("max_drawdown", returns, 1)
    wealth = _wealth(r)
    running_max = np.fmax.accumulate(wealth)
    return float(np.min((wealth - running_max) / running_max))


class _Spells:
    # Column form of every spell: [start, end) is the run of points strictly under water.
    __slots__ = ("ends", "equity", "relative", "starts", "ts_ns")

    def __init__(self, metric: str, equity: npt.ArrayLike, ts_ns: npt.ArrayLike | None) -> None:
        self.equity = _checks.as_equity(metric, equity, 1)
        self.ts_ns: I64 | None = (
            None if ts_ns is None else _checks.as_timestamps(metric, ts_ns, len(self.equity))
        )
        running_max = np.maximum.accumulate(self.equity)
        self.relative = (self.equity - running_max) / running_max
        under = np.concatenate(([False], self.relative < 0.0, [False]))
        edges = np.flatnonzero(under[1:] != under[:-1])
        self.starts: I64 = edges[0::2]
        self.ends: I64 = edges[1::2]

    def durations(self) -> I64:
        last = len(self.equity) - 1
        return np.where(self.ends <= last, self.ends, last) - (self.starts - 1)

    def build(self, spell: int) -> Drawdown:
        start, end = int(self.starts[spell]), int(self.ends[spell])
        peak = start - 1
        trough = start + int(np.argmin(self.relative[start:end]))
        recovery = end if end < len(self.equity) else None
        last = len(self.equity) - 1 if recovery is None else recovery
        depth = float(self.relative[trough])
        if self.ts_ns is None:
            return Drawdown(
                depth=depth,
                peak_index=peak,
                trough_index=trough,
                recovery_index=recovery,
                duration_periods=last - peak,
            )
        ts = self.ts_ns
        return Drawdown(
            depth=depth,
            peak_index=peak,
            trough_index=trough,
            recovery_index=recovery,
            duration_periods=last - peak,
            ts_peak=int(ts[peak]),
            ts_trough=int(ts[trough]),
            ts_recovery=None if recovery is None else int(ts[recovery]),
            duration_days=int(ts[last] - ts[peak]) / NANOS_PER_DAY,
        )


def drawdown_spells(equity: npt.ArrayLike, ts_ns: npt.ArrayLike | None = None) -> list[Drawdown]:
    """Return every spell under water of an equity curve, in time order.

    Parameters
    ----------
    equity
        Equity (or wealth) at each point; every value above 0.
    ts_ns
        Optional nanosecond timestamps of the points, strictly increasing: fills the ``ts_*``
        fields and ``duration_days``.

    Raises
    ------
    InvalidValueError
        If ``equity`` is empty or ``ts_ns`` does not match it.
    DataIntegrityError
        If an equity value is not a finite number above 0, or timestamps do not increase.
    """
    spells = _Spells("drawdown_spells", equity, ts_ns)
    return [spells.build(index) for index in range(len(spells.starts))]


def worst_drawdown(equity: npt.ArrayLike, ts_ns: npt.ArrayLike | None = None) -> Drawdown | None:
    """Return the deepest spell under water (the first on ties), or None if there is none.

    Its ``depth`` is the maximum drawdown of the curve; ``peak_index``, ``trough_index`` and
    ``recovery_index`` locate it. See ``drawdown_spells`` for the parameters.

    Raises
    ------
    InvalidValueError
        If ``equity`` is empty or ``ts_ns`` does not match it.
    DataIntegrityError
        If an equity value is not a finite number above 0, or timestamps do not increase.
    """
    spells = _Spells("worst_drawdown", equity, ts_ns)
    if not len(spells.starts):
        return None
    trough = int(np.argmin(spells.relative))
    spell = int(np.searchsorted(spells.starts, trough, side="right")) - 1
    return spells.build(spell)


def longest_drawdown(equity: npt.ArrayLike, ts_ns: npt.ArrayLike | None = None) -> Drawdown | None:
    """Return the longest spell under water in periods (the first on ties), or None.

    Its ``duration_periods`` (and ``duration_days`` given timestamps) is the maximum drawdown
    duration of the curve: from the peak to the recovery, or to the last point when equity
    has not recovered. See ``drawdown_spells`` for the parameters.

    Raises
    ------
    InvalidValueError
        If ``equity`` is empty or ``ts_ns`` does not match it.
    DataIntegrityError
        If an equity value is not a finite number above 0, or timestamps do not increase.
    """
    spells = _Spells("longest_drawdown", equity, ts_ns)
    if not len(spells.starts):
        return None
    return spells.build(int(np.argmax(spells.durations())))

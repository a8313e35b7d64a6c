"""What an execution algorithm implies for a trade's expected cost (pure functions).

The cost assessment (``costs.assessment``) charges half the spread, square-root impact,
commission and the delay cost. How much of each a trade pays depends on how it will be
executed, so the assessment takes an ``ExecutionProfile``:

- ``taker_fraction``: the expected share of the quantity executed by marketable orders. Only
  that share pays the half spread and impact; the rest fills passively at its limit price
  (a maker pays neither, as in the simulated venue).
- ``slices``: the number of equal child orders, each in its own bar. Each child pays impact on
  its own size against ADV (``Y σ (Q / (n ADV))^δ``, as the simulated venue charges each fill)
  and its own commission (so a per-fill minimum counts ``n`` times).
- ``delay_ns``: the expected time from the decision to the execution, weighted by quantity;
  the delay cost (``costs.delay``) is charged on it.

``algorithm_profile`` gives the profile of each algorithm of ``execution.algos``, for bar-driven
plans (one slice or check per bar; ``bar_interval_ns`` is the instrument's mean bar spacing
in calendar time, ``delay_ns`` the time from a decision to the next execution, a close to the
next open for daily bars):

=========================================  ======  ======  ===============================
algorithm                                  taker   slices  expected delay
=========================================  ======  ======  ===============================
immediate, sor                             1       1       d
twap, vwap, implementation_shortfall       1       n       d + I (n - 1) / 2
pov                                        1       m       d + I (m + 1) / 2
limit_then_market                          1 - p   1       p (d + max(d, k I)) / 2
                                                           + (1 - p) (k I + d)
iceberg                                    0       1       (d + max(d, I)) / 2
=========================================  ======  ======  ===============================

with ``d`` the delay, ``I`` the bar interval, ``n`` the slices, ``m = ceil(Q / (rate V))`` the
bars POV needs at ``rate`` of the mean bar volume ``V`` (its first child goes after the first
bar), ``k`` the timeout in bars and ``p`` the probability that a limit at the arrival price
fills within ``k`` bars (``limit_fill_probability``). A limit that fills does so between the
next open (``d``) and the end of its ``k``-th bar (``k I``): the midpoint is charged; what is
left goes at market at the open after the timeout. VWAP and implementation shortfall are
costed as equal slices (their profiles weigh slices unequally). An iceberg never converts to
market: the part that does not fill is not traded and not charged.

What the profile leaves out: the adverse selection of passive fills beyond the drift the
delay cost charges (for a price that is a martingale plus the expected alpha, a limit's
expected shortfall is that drift over its expected delay), and the price improvement of a
limit the open gaps through. The realized difference shows in the run's TCA.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError

__all__ = [
    "PROFILED_ALGORITHMS",
    "ExecutionProfile",
    "algorithm_profile",
    "limit_fill_probability",
]

PROFILED_ALGORITHMS = (
    "immediate",
    "twap",
    "vwap",
    "pov",
    "limit_then_market",
    "implementation_shortfall",
    "iceberg",
    "sor",
)


class ExecutionProfile(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """How a trade is expected to be executed, for its cost (see the module docstring).

    Attributes
    ----------
    algorithm : the execution algorithm's name.
    taker_fraction : expected share executed by marketable orders, in [0, 1].
    slices : equal child orders, one per bar, at least 1.
    delay_ns : expected time from the decision to the execution, non-negative.
    fill_probability : for passive algorithms, the estimated probability that the limit fills
        in time (``None`` for the others).
    """

    algorithm: str = "immediate"
    taker_fraction: float = 1.0
    slices: int = 1
    delay_ns: int = 0
    fill_probability: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.taker_fraction) and 0.0 <= self.taker_fraction <= 1.0):
            raise InvalidValueError(f"taker fraction {self.taker_fraction} must be in [0, 1]")
        if self.slices < 1:
            raise InvalidValueError(f"slices {self.slices} must be at least 1")
        if self.delay_ns < 0:
            raise InvalidValueError(f"delay {self.delay_ns} ns must be non-negative")


def limit_fill_probability(
    opens: npt.ArrayLike,
    highs: npt.ArrayLike,
    lows: npt.ArrayLike,
    closes: npt.ArrayLike,
    *,
    is_buy: bool,
    bars: int,
    offset: float = 0.0,
) -> float | None:
    """Return how often a limit at a bar's close filled within the next ``bars`` bars.

    For each bar ``i`` of the series with ``bars`` bars after it, a buy limit at
    ``closes[i] - offset`` fills when a later bar opens at or below it or trades below it
    (a sell: at or above / above), the simulated venue's rule for bars (``limit_fill =
    "through"``: on a tick grid, below means a tick through). Return the fraction of such
    bars, or ``None`` when the series is too short to have one.

    Raises
    ------
    InvalidValueError
        If the arrays differ in length, ``bars`` is below 1 or ``offset`` is negative.
    """
    o, h, lo, c = (np.asarray(a, dtype=np.float64) for a in (opens, highs, lows, closes))
    if not (len(o) == len(h) == len(lo) == len(c)):
        raise InvalidValueError("opens, highs, lows and closes must have the same length")
    if bars < 1:
        raise InvalidValueError(f"bars {bars} must be at least 1")
    if not (math.isfinite(offset) and offset >= 0):
        raise InvalidValueError(f"offset {offset} must be finite and non-negative")
    starts = len(c) - bars
    if starts < 1:
        return None
    filled = np.zeros(starts, dtype=bool)
    for ahead in range(1, bars + 1):
        window = slice(ahead, ahead + starts)
        if is_buy:
            limit = c[:starts] - offset
            filled |= (o[window] <= limit) | (lo[window] < limit)
        else:
            limit = c[:starts] + offset
            filled |= (o[window] >= limit) | (h[window] > limit)
    return float(filled.mean())


def algorithm_profile(
    algorithm: str,
    *,
    delay_ns: int,
    bar_interval_ns: int,
    slices: int = 1,
    timeout_bars: int = 1,
    fill_probability: float | None = None,
    rate: float = 0.1,
    quantity: float = 0.0,
    bar_volume: float = 0.0,
) -> ExecutionProfile:
    """Return the expected execution profile of ``algorithm`` (table in the module docstring).

    ``fill_probability`` (limit_then_market, iceberg) is the estimate of
    ``limit_fill_probability``; ``None`` (no history yet) counts as 0: everything at market
    after the timeout. ``quantity`` and ``bar_volume`` (mean volume per bar) size POV.

    Raises
    ------
    InvalidValueError
        If the algorithm is unknown or a parameter is out of range.
    """
    if algorithm not in PROFILED_ALGORITHMS:
        raise InvalidValueError(
            f"execution algorithm {algorithm!r} is not one of {', '.join(PROFILED_ALGORITHMS)}"
        )
    if delay_ns < 0 or bar_interval_ns < 0:
        raise InvalidValueError(
            f"delay {delay_ns} ns and bar interval {bar_interval_ns} ns must be non-negative"
        )
    if slices < 1 or timeout_bars < 1:
        raise InvalidValueError(
            f"slices {slices} and timeout_bars {timeout_bars} must be at least 1"
        )
    if fill_probability is not None and not 0.0 <= fill_probability <= 1.0:
        raise InvalidValueError(f"fill probability {fill_probability} must be in [0, 1]")
    if algorithm in ("twap", "vwap", "implementation_shortfall"):
        return ExecutionProfile(
            algorithm=algorithm,
            slices=slices,
            delay_ns=round(delay_ns + bar_interval_ns * (slices - 1) / 2),
        )
    if algorithm == "pov":
        if not 0 < rate <= 1:
            raise InvalidValueError(f"pov rate {rate} must be in (0, 1]")
        per_bar = rate * bar_volume
        bars = max(1, math.ceil(quantity / per_bar)) if per_bar > 0 and quantity > 0 else 1
        return ExecutionProfile(
            algorithm=algorithm,
            slices=bars,
            delay_ns=round(delay_ns + bar_interval_ns * (bars + 1) / 2),
        )
    if algorithm in ("limit_then_market", "iceberg"):
        p = 0.0 if fill_probability is None else fill_probability
        window = 1 if algorithm == "iceberg" else timeout_bars
        end = max(delay_ns, window * bar_interval_ns)
        passive_delay = (delay_ns + end) / 2  # a fill between the next open and the timeout
        if algorithm == "iceberg":
            return ExecutionProfile(
                algorithm=algorithm,
                taker_fraction=0.0,
                delay_ns=round(passive_delay),
                fill_probability=p,
            )
        taker_delay = window * bar_interval_ns + delay_ns  # at the open after the timeout
        return ExecutionProfile(
            algorithm=algorithm,
            taker_fraction=1.0 - p,
            delay_ns=round(p * passive_delay + (1 - p) * taker_delay),
            fill_probability=p,
        )
    return ExecutionProfile(algorithm=algorithm, delay_ns=delay_ns)

"""Beta and hedge: rolling OLS and EWMA beta of an instrument to a benchmark, hedge sizes.

Inputs are per-bar *returns* (simple or log, as the caller chooses), the instrument's first
and the benchmark's second, aligned bar by bar. Each estimator has a bulk function over
whole arrays and an incremental class updated one pair of returns at a time, with
bit-identical outputs (architecture invariant 4).

Rolling OLS (``rolling_beta`` / ``RollingBeta``), first valid index ``period - 1``
    Over the last ``period`` pairs: ``beta = Sxy / Sxx`` and ``alpha = mean_y - beta *
    mean_x``, with ``Sxx`` and ``Sxy`` summed two-pass from the window means (no running
    sums, so nothing drifts over long series). Both the bulk function and the class call
    one numba kernel on the window in chronological order; the class keeps a ring buffer
    and recomputes its window each update (O(period)), which is what makes the two equal.
    ``alpha`` is per bar, in the returns' units.

EWMA (``ewma_beta`` / ``EwmaBeta``), first valid index ``min_periods - 1``
    The smoothing factor is ``a = 1 - exp(-ln 2 / halflife)`` or ``a = 2 / (span + 1)``.
    The first pair seeds the means (variance and covariance 0); each later pair updates
    ``dx = x - mean_x``, ``dy = y - mean_y``, ``mean += a * d``,
    ``Sxx = (1 - a) * (Sxx + a * dx * dx)``, ``Sxy = (1 - a) * (Sxy + a * dx * dy)``.
    These are the biased exponentially weighted moments of pandas ``ewm(alpha=a,
    adjust=False)``: the weight of the pair ``k`` bars old is ``a * (1 - a)**k`` and the
    seed keeps ``(1 - a)**(n - 1)``. ``min_periods`` defaults to ``max(2, ceil(2 / a -
    1))``, the equivalent span, rounded up.

Both estimators give NaN (never an infinity) where the benchmark's weighted variance is
within rounding of 0 (a constant benchmark): the slope is undefined there.

**The beta of a series against itself is exactly 1.0, and its alpha exactly 0.0.** Both
recurrences compute ``Sxy`` with the same IEEE operations, in the same order, as ``Sxx``
(``dx * dy`` with ``dy`` bit-equal to ``dx``), so ``Sxy == Sxx`` bit for bit and the ratio
is 1; ``mean_y == mean_x`` likewise, so ``alpha = mean - 1.0 * mean = 0``.

Hedges: ``hedge_units`` converts a beta and a position notional into benchmark units to
short; ``beta_hedge_weight`` gives the benchmark weight that makes a book beta-neutral.
Turning either into a ``Quantity`` is sizing's job (``portfolio.sizing``), so that floats
become quantities in one place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, NamedTuple

import numba
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import DataIntegrityError, InvalidValueError

__all__ = [
    "BetaOutput",
    "EwmaBeta",
    "RollingBeta",
    "beta_hedge_weight",
    "ewma_beta",
    "hedge_units",
    "rolling_beta",
]

F64 = npt.NDArray[np.float64]

_NAN: Final = float("nan")
# A window variance at most this many ulps (squared, per value) of the window's largest
# magnitude is rounding noise of a constant series, not a slope denominator.
_ZERO_VARIANCE_ULPS: Final = 16.0
_EPSILON: Final = float(np.finfo(np.float64).eps)


class BetaOutput(NamedTuple):
    """A beta series and its intercept (alpha per bar), NaN during warm-up."""

    beta: F64
    alpha: F64


# -- kernels (numba, IEEE semantics: no fastmath, so bulk == incremental bit for bit) ------------


@numba.njit(cache=True, fastmath=False, nogil=True)
def _window_ols(
    instrument: F64, benchmark: F64, head: int, period: int
) -> tuple[float, float]:  # pragma: no cover - compiled
    # The window is the ring buffer read from ``head`` (oldest) onwards, ``period`` values.
    sum_x = 0.0
    sum_y = 0.0
    largest = 0.0
    for i in range(period):
        j = head + i
        if j >= period:
            j -= period
        x = benchmark[j]
        sum_x += x
        sum_y += instrument[j]
        if abs(x) > largest:
            largest = abs(x)
    mean_x = sum_x / period
    mean_y = sum_y / period
    sxx = 0.0
    sxy = 0.0
    for i in range(period):
        j = head + i
        if j >= period:
            j -= period
        dx = benchmark[j] - mean_x
        sxx += dx * dx
        sxy += dx * (instrument[j] - mean_y)
    noise = _ZERO_VARIANCE_ULPS * _EPSILON * largest
    if sxx <= period * noise * noise:
        return math.nan, math.nan
    beta = sxy / sxx
    return beta, mean_y - beta * mean_x


@numba.njit(cache=True, fastmath=False, nogil=True)
def _rolling_ols(
    instrument: F64, benchmark: F64, period: int
) -> tuple[F64, F64]:  # pragma: no cover - compiled
    n = len(benchmark)
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    for t in range(period - 1, n):
        lo = t - period + 1
        b, a = _window_ols(instrument[lo : t + 1], benchmark[lo : t + 1], 0, period)
        beta[t] = b
        alpha[t] = a
    return beta, alpha


@numba.njit(cache=True, fastmath=False, nogil=True)
def _ewma_ols(
    instrument: F64, benchmark: F64, smoothing: float, decay: float, min_periods: int
) -> tuple[F64, F64]:  # pragma: no cover - compiled
    n = len(benchmark)
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    if n == 0:
        return beta, alpha
    mean_x = benchmark[0]
    mean_y = instrument[0]
    sxx = 0.0
    sxy = 0.0
    largest = abs(mean_x)
    for t in range(n):
        x = benchmark[t]
        if t > 0:
            dx = x - mean_x
            dy = instrument[t] - mean_y
            mean_x += smoothing * dx
            mean_y += smoothing * dy
            sxx = decay * (sxx + smoothing * dx * dx)
            sxy = decay * (sxy + smoothing * dx * dy)
            if abs(x) > largest:
                largest = abs(x)
        if t + 1 >= min_periods:
            noise = _ZERO_VARIANCE_ULPS * _EPSILON * largest
            if sxx > noise * noise:
                b = sxy / sxx
                beta[t] = b
                alpha[t] = mean_y - b * mean_x
    return beta, alpha


# -- checks ---------------------------------------------------------------------------------------


def _check_period(period: int) -> int:
    if isinstance(period, bool) or not isinstance(period, int | np.integer):
        raise InvalidValueError(f"beta period {period!r} is not an integer number of bars")
    if period < 2:
        raise InvalidValueError(f"beta period {period} is invalid; a slope needs at least 2 bars")
    return int(period)


def _smoothing(
    halflife: float | None, span: float | None, min_periods: int | None
) -> tuple[float, int]:
    if (halflife is None) == (span is None):
        raise InvalidValueError("EWMA beta needs exactly one of halflife or span")
    if halflife is not None:
        if not 0.0 < float(halflife) < math.inf:
            raise InvalidValueError(
                f"EWMA beta halflife {halflife!r} is invalid; it must be a finite number above 0"
            )
        smoothing = 1.0 - math.exp(-math.log(2.0) / float(halflife))
    else:
        assert span is not None
        if not 1.0 <= float(span) < math.inf:
            raise InvalidValueError(
                f"EWMA beta span {span!r} is invalid; it must be a finite number of at least 1"
            )
        smoothing = 2.0 / (float(span) + 1.0)
    if min_periods is None:
        min_periods = max(2, math.ceil(2.0 / smoothing - 1.0 - 1e-9))
    elif isinstance(min_periods, bool) or not isinstance(min_periods, int) or min_periods < 2:
        raise InvalidValueError(
            f"EWMA beta min_periods {min_periods!r} is invalid; it must be an integer >= 2"
        )
    return smoothing, int(min_periods)


def _as_pair(returns: npt.ArrayLike, benchmark_returns: npt.ArrayLike) -> tuple[F64, F64, int]:
    # Return contiguous float64 copies and the index after the joint leading NaNs.
    y = np.ascontiguousarray(returns, dtype=np.float64)
    x = np.ascontiguousarray(benchmark_returns, dtype=np.float64)
    if y.ndim != 1 or x.ndim != 1:
        raise InvalidValueError(
            f"beta inputs have shapes {y.shape} and {x.shape}; both must be one-dimensional"
        )
    if len(y) != len(x):
        raise InvalidValueError(
            f"beta inputs have different lengths: returns {len(y)}, benchmark {len(x)}"
        )
    start = 0
    for series in (y, x):
        missing = np.isnan(series)
        first = len(series) if missing.all() else int(np.argmin(missing))
        start = max(start, first)
    for name, series in (("returns", y), ("benchmark_returns", x)):
        bad = np.flatnonzero(~np.isfinite(series[start:]))
        if bad.size:
            index = start + int(bad[0])
            raise DataIntegrityError(
                f"beta input {name}[{index}] is {series[index]}; only leading NaNs are skipped, "
                "every later return must be a finite number"
            )
    return y, x, start


def _pad(pair: tuple[F64, F64], start: int) -> BetaOutput:
    beta, alpha = pair
    if start == 0:
        return BetaOutput(beta, alpha)
    full_beta = np.full(start + len(beta), np.nan)
    full_alpha = np.full(start + len(alpha), np.nan)
    full_beta[start:] = beta
    full_alpha[start:] = alpha
    return BetaOutput(full_beta, full_alpha)


def _non_finite(estimator: object, instrument_return: float, benchmark_return: float) -> Exception:
    return DataIntegrityError(
        f"{estimator!r} received returns ({instrument_return!r}, {benchmark_return!r}); "
        "beta inputs must be finite numbers"
    )


# -- rolling OLS -----------------------------------------------------------------------------------


def rolling_beta(
    returns: npt.ArrayLike, benchmark_returns: npt.ArrayLike, period: int
) -> BetaOutput:
    """Return the rolling OLS beta and alpha of ``returns`` on ``benchmark_returns``.

    Parameters
    ----------
    returns
        The instrument's per-bar returns (the regressand).
    benchmark_returns
        The benchmark's per-bar returns over the same bars (the regressor).
    period
        Window length in bars, at least 2.

    Returns
    -------
    BetaOutput
        ``beta`` and ``alpha`` (per bar), float64, NaN before index ``period - 1`` counted
        from the first bar where both inputs are numbers, and NaN where the benchmark is
        constant over the window.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 2 or the inputs differ in length or are not one-dimensional.
    DataIntegrityError
        If an input holds a NaN or an infinity after the leading NaNs.
    """
    period = _check_period(period)
    y, x, start = _as_pair(returns, benchmark_returns)
    return _pad(_rolling_ols(y[start:], x[start:], period), start)


class RollingBeta:
    """Incremental rolling OLS beta and alpha; equals ``rolling_beta`` bit for bit.

    Parameters
    ----------
    period
        Window length in bars, at least 2.

    Raises
    ------
    InvalidValueError
        If ``period`` is below 2.
    """

    __slots__ = ("_benchmark", "_head", "_instrument", "alpha", "beta", "count", "period")

    beta: float
    alpha: float
    count: int
    period: int

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._instrument = np.zeros(self.period)
        self._benchmark = np.zeros(self.period)
        self.reset()

    def __repr__(self) -> str:
        return f"RollingBeta(period={self.period})"

    @property
    def initialized(self) -> bool:
        """Return whether a full window has been seen."""
        return self.count >= self.period

    def reset(self) -> None:
        """Forget every input."""
        self.beta = _NAN
        self.alpha = _NAN
        self.count = 0
        self._head = 0
        self._instrument.fill(0.0)
        self._benchmark.fill(0.0)

    def update(self, instrument_return: float, benchmark_return: float) -> None:
        """Add one bar's pair of returns.

        Raises
        ------
        DataIntegrityError
            If either return is NaN or infinite.
        """
        if (
            instrument_return - instrument_return != 0.0
            or benchmark_return - benchmark_return != 0.0
        ):
            raise _non_finite(self, instrument_return, benchmark_return)
        head = self._head
        self._instrument[head] = instrument_return
        self._benchmark[head] = benchmark_return
        head += 1
        if head == self.period:
            head = 0
        self._head = head
        self.count += 1
        if self.count >= self.period:
            # After a write, ``head`` is the oldest slot of a full ring.
            self.beta, self.alpha = _window_ols(
                self._instrument, self._benchmark, head, self.period
            )


# -- EWMA -----------------------------------------------------------------------------------------


def ewma_beta(
    returns: npt.ArrayLike,
    benchmark_returns: npt.ArrayLike,
    *,
    halflife: float | None = None,
    span: float | None = None,
    min_periods: int | None = None,
) -> BetaOutput:
    """Return the exponentially weighted beta and alpha of ``returns`` on ``benchmark_returns``.

    Parameters
    ----------
    returns
        The instrument's per-bar returns.
    benchmark_returns
        The benchmark's per-bar returns over the same bars.
    halflife, span
        Exactly one: the halflife in bars (> 0) or the span (>= 1) of the weights.
    min_periods
        Pairs needed before the first output (>= 2); defaults to the equivalent span
        ``ceil(2 / a - 1)`` (at least 2).

    Returns
    -------
    BetaOutput
        ``beta`` and ``alpha`` (per bar), NaN before index ``min_periods - 1`` counted from
        the first bar where both inputs are numbers.

    Raises
    ------
    InvalidValueError
        If the weighting parameters are missing, both given or out of range, or the inputs
        differ in length or are not one-dimensional.
    DataIntegrityError
        If an input holds a NaN or an infinity after the leading NaNs.
    """
    smoothing, minimum = _smoothing(halflife, span, min_periods)
    y, x, start = _as_pair(returns, benchmark_returns)
    pair = _ewma_ols(y[start:], x[start:], smoothing, 1.0 - smoothing, minimum)
    return _pad(pair, start)


class EwmaBeta:
    """Incremental EWMA beta and alpha; equals ``ewma_beta`` bit for bit.

    Parameters
    ----------
    halflife, span
        Exactly one: the halflife in bars (> 0) or the span (>= 1) of the weights.
    min_periods
        Pairs needed before the first output (>= 2); defaults to the equivalent span.

    Raises
    ------
    InvalidValueError
        If the weighting parameters are missing, both given or out of range.
    """

    __slots__ = (
        "_decay",
        "_largest",
        "_mean_x",
        "_mean_y",
        "_sxx",
        "_sxy",
        "alpha",
        "beta",
        "count",
        "min_periods",
        "smoothing",
    )

    beta: float
    alpha: float
    count: int
    smoothing: float
    min_periods: int

    def __init__(
        self,
        *,
        halflife: float | None = None,
        span: float | None = None,
        min_periods: int | None = None,
    ) -> None:
        self.smoothing, self.min_periods = _smoothing(halflife, span, min_periods)
        self._decay = 1.0 - self.smoothing
        self.reset()

    def __repr__(self) -> str:
        return f"EwmaBeta(smoothing={self.smoothing!r}, min_periods={self.min_periods})"

    @property
    def initialized(self) -> bool:
        """Return whether ``min_periods`` pairs have been seen."""
        return self.count >= self.min_periods

    def reset(self) -> None:
        """Forget every input."""
        self.beta = _NAN
        self.alpha = _NAN
        self.count = 0
        self._mean_x = 0.0
        self._mean_y = 0.0
        self._sxx = 0.0
        self._sxy = 0.0
        self._largest = 0.0

    def update(self, instrument_return: float, benchmark_return: float) -> None:
        """Add one bar's pair of returns.

        Raises
        ------
        DataIntegrityError
            If either return is NaN or infinite.
        """
        if (
            instrument_return - instrument_return != 0.0
            or benchmark_return - benchmark_return != 0.0
        ):
            raise _non_finite(self, instrument_return, benchmark_return)
        x = benchmark_return
        if self.count == 0:
            self._mean_x = x
            self._mean_y = instrument_return
            self._largest = abs(x)
        else:
            smoothing = self.smoothing
            decay = self._decay
            dx = x - self._mean_x
            dy = instrument_return - self._mean_y
            self._mean_x += smoothing * dx
            self._mean_y += smoothing * dy
            self._sxx = decay * (self._sxx + smoothing * dx * dx)
            self._sxy = decay * (self._sxy + smoothing * dx * dy)
            if abs(x) > self._largest:
                self._largest = abs(x)
        self.count += 1
        if self.count >= self.min_periods:
            noise = _ZERO_VARIANCE_ULPS * _EPSILON * self._largest
            if self._sxx > noise * noise:
                beta = self._sxy / self._sxx
                self.beta = beta
                self.alpha = self._mean_y - beta * self._mean_x
            else:
                self.beta = _NAN
                self.alpha = _NAN


# -- hedges ---------------------------------------------------------------------------------------


def _finite(name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise InvalidValueError(f"{name} {value!r} is not a finite number")
    return number


def hedge_units(
    beta: float, notional: float, benchmark_price: float, multiplier: float = 1.0
) -> float:
    """Return the benchmark units to short so that a position is beta-neutral.

    ``units = beta * notional / (benchmark_price * multiplier)``. A positive result is a
    quantity of the benchmark to sell short; a negative one (a short position, or a negative
    beta) is a quantity to buy. Round it to lots with ``portfolio.sizing``, or express the
    hedge as the weight ``-beta * notional / equity``.

    Parameters
    ----------
    beta
        The position's beta to the benchmark.
    notional
        The position's signed notional in the benchmark's quote currency (long > 0).
    benchmark_price
        The benchmark's price, > 0.
    multiplier
        The benchmark's contract multiplier (50 for ES), > 0.

    Returns
    -------
    float
        Signed units of the benchmark to short.

    Raises
    ------
    InvalidValueError
        If a value is NaN or infinite, or the price or multiplier is not above 0.
    """
    beta = _finite("hedge beta", beta)
    notional = _finite("hedge notional", notional)
    price = _finite("benchmark price", benchmark_price)
    contract = _finite("benchmark multiplier", multiplier)
    if price <= 0.0:
        raise InvalidValueError(f"benchmark price {benchmark_price!r} must be above 0")
    if contract <= 0.0:
        raise InvalidValueError(f"benchmark multiplier {multiplier!r} must be above 0")
    return beta * notional / (price * contract)


def beta_hedge_weight(weights: Mapping[str, float], betas: Mapping[str, float]) -> float:
    """Return the benchmark weight that makes a book of ``weights`` beta-neutral.

    The book's beta is ``sum(weight * beta)``; the benchmark's own beta is 1, so the hedge
    weight is minus that sum. Instruments are summed in sorted id order (deterministic).

    Parameters
    ----------
    weights
        Target weight per instrument id (fractions of equity, signed).
    betas
        Beta per instrument id; must cover every id in ``weights``.

    Returns
    -------
    float
        The benchmark's weight (negative for a net-long, positive-beta book).

    Raises
    ------
    InvalidValueError
        If an instrument has no beta, or a weight or beta is NaN or infinite.
    """
    missing = sorted(set(weights) - set(betas))
    if missing:
        raise InvalidValueError(f"beta hedge needs a beta for every weight; missing: {missing}")
    exposure = 0.0
    for instrument_id in sorted(weights):
        weight = _finite(f"weight of {instrument_id}", weights[instrument_id])
        beta = _finite(f"beta of {instrument_id}", betas[instrument_id])
        exposure += weight * beta
    return -exposure

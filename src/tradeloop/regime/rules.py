"""A rule-based trend × volatility regime classifier with the same output as the HMM.

At bar ``t`` (closes ``0..t`` only):

- trend: bull when ``close[t] >= SMA(close, trend_period)[t]``, else bear;
- volatility: high when the realized volatility ``RealizedVolatility(volatility_period)``
  at ``t`` is above at least ``high_volatility_percentile`` of the last
  ``percentile_window`` volatilities, itself included: ``count(v < v[t]) >=
  high_volatility_percentile * percentile_window``. The count is exact, so there is no
  interpolation to differ between the bulk and incremental forms.

The label is one of ``TREND_VOLATILITY_LABELS``; the probabilities are one-hot and the
confidence is 1.0 (rules are certain of their own output). The first estimate is at index
``max(trend_period - 1, volatility_period + percentile_window - 1)``. Rules fit nothing:
``fit_window`` is ``None`` and the model version is a hash of the configuration. The bulk
``classify_trend_volatility`` uses the bulk ``sma`` and ``realized_volatility``, which equal
their incremental classes bit for bit, so it equals ``TrendVolatilityClassifier``.
"""

from __future__ import annotations

import math
from collections import deque

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.analytics import SMA, RealizedVolatility, realized_volatility, sma
from tradeloop.core.errors import ConfigError, DataIntegrityError, InvalidValueError
from tradeloop.core.ids import content_hash
from tradeloop.regime.labels import TREND_VOLATILITY_LABELS
from tradeloop.regime.records import RegimeEstimate, RegimeSeries

__all__ = ["TrendVolatilityClassifier", "TrendVolatilityConfig", "classify_trend_volatility"]

_ONE_HOT: tuple[tuple[float, ...], ...] = tuple(
    tuple(1.0 if i == j else 0.0 for j in range(4)) for i in range(4)
)


class TrendVolatilityConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Configuration of the trend × volatility rules.

    Attributes
    ----------
    trend_period : SMA period of the trend rule (200 bars: the classic long average).
    volatility_period : log returns in the realized-volatility window.
    percentile_window : volatilities the current one is ranked against.
    high_volatility_percentile : rank (0 < p < 1) from which volatility is high.
    annualization_factor : bars per year of the realized volatility.
    model_id : the model's name in every ``RegimeEstimate``.
    """

    trend_period: int = 200
    volatility_period: int = 20
    percentile_window: int = 252
    high_volatility_percentile: float = 0.8
    annualization_factor: float = 252.0
    model_id: str = "trend_volatility_rules"

    def __post_init__(self) -> None:
        for name, value, minimum in (
            ("trend_period", self.trend_period, 1),
            ("volatility_period", self.volatility_period, 2),
            ("percentile_window", self.percentile_window, 2),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(
                    f"trend/volatility {name} {value!r} must be an integer >= {minimum}"
                )
        if not 0.0 < self.high_volatility_percentile < 1.0:
            raise ConfigError(
                f"trend/volatility high_volatility_percentile {self.high_volatility_percentile!r} "
                "must be strictly between 0 and 1"
            )
        if not 0.0 < self.annualization_factor < math.inf:
            raise ConfigError(
                f"trend/volatility annualization_factor {self.annualization_factor!r} must be "
                "a finite number above 0"
            )
        if not self.model_id:
            raise ConfigError("trend/volatility model_id must not be empty")

    @property
    def model_version(self) -> str:
        """Return the content hash of this configuration (the rules' version)."""
        return content_hash(self.model_id, msgspec.json.encode(self))

    @property
    def first_index(self) -> int:
        """Return the index of the first bar with an estimate."""
        return max(self.trend_period - 1, self.volatility_period + self.percentile_window - 1)


def _label_index(is_bull: bool, is_high_volatility: bool) -> int:
    return (2 if is_high_volatility else 0) + (0 if is_bull else 1)


def _estimate(
    config: TrendVolatilityConfig, version: str, ts_ns: int, index: int
) -> RegimeEstimate:
    return RegimeEstimate(
        ts_ns=ts_ns,
        label=TREND_VOLATILITY_LABELS[index],
        labels=TREND_VOLATILITY_LABELS,
        probabilities=_ONE_HOT[index],
        confidence=1.0,
        model_id=config.model_id,
        model_version=version,
        fit_window=None,
    )


class TrendVolatilityClassifier:
    """Incremental trend × volatility classifier; equals ``classify_trend_volatility``.

    Parameters
    ----------
    config
        Periods, window and threshold of the rules.
    """

    __slots__ = ("_last_ts", "_sma", "_volatilities", "_volatility", "config", "model_version")

    def __init__(self, config: TrendVolatilityConfig) -> None:
        self.config = config
        self.model_version = config.model_version
        self._sma = SMA(config.trend_period)
        self._volatility = RealizedVolatility(config.volatility_period, config.annualization_factor)
        self._volatilities: deque[float] = deque(maxlen=config.percentile_window)
        self._last_ts: int | None = None

    def __repr__(self) -> str:
        return f"TrendVolatilityClassifier({self.config!r})"

    @property
    def labels(self) -> tuple[str, ...]:
        """Return the four labels, in probability order."""
        return TREND_VOLATILITY_LABELS

    def reset(self) -> None:
        """Forget every close."""
        self._sma.reset()
        self._volatility.reset()
        self._volatilities.clear()
        self._last_ts = None

    def update(self, ts_ns: int, close: float) -> RegimeEstimate | None:
        """Add one bar's close; return its regime, or ``None`` during the warm-up.

        Raises
        ------
        DataIntegrityError
            If ``ts_ns`` does not increase or ``close`` is not a positive finite number.
        """
        ts_ns = int(ts_ns)
        if self._last_ts is not None and ts_ns <= self._last_ts:
            raise DataIntegrityError(
                f"regime classifier received ts_ns {ts_ns} after {self._last_ts}; "
                "bars must arrive in increasing time"
            )
        self._last_ts = ts_ns
        close = float(close)
        self._volatility.update(close)
        self._sma.update(close)
        if not self._volatility.initialized:
            return None
        current = self._volatility.value
        window = self._volatilities
        window.append(current)
        if len(window) < self.config.percentile_window or not self._sma.initialized:
            return None
        below = 0
        for value in window:
            if value < current:
                below += 1
        is_high = below >= self.config.high_volatility_percentile * self.config.percentile_window
        index = _label_index(close >= self._sma.value, is_high)
        return _estimate(self.config, self.model_version, ts_ns, index)


def classify_trend_volatility(
    close: npt.ArrayLike, ts_ns: npt.ArrayLike, config: TrendVolatilityConfig
) -> RegimeSeries:
    """Return the trend × volatility regime of every bar (see the module docstring).

    Parameters
    ----------
    close
        One-dimensional positive closes, in time order.
    ts_ns
        Their increasing nanosecond timestamps.
    config
        Periods, window and threshold of the rules.

    Returns
    -------
    RegimeSeries
        One-hot probabilities over ``TREND_VOLATILITY_LABELS``; no estimate before
        ``config.first_index``.

    Raises
    ------
    InvalidValueError
        If the inputs are not one-dimensional or differ in length.
    DataIntegrityError
        If a close is not a positive finite number or the timestamps do not increase.
    """
    prices = np.asarray(close, dtype=np.float64)
    times = np.asarray(ts_ns, dtype=np.int64)
    if prices.ndim != 1 or times.ndim != 1 or len(prices) != len(times):
        raise InvalidValueError(
            f"trend/volatility closes {prices.shape} and timestamps {times.shape} do not align"
        )
    if len(times) > 1 and not bool(np.all(times[1:] > times[:-1])):
        raise DataIntegrityError("trend/volatility timestamps are not strictly increasing")
    if not bool(np.all(np.isfinite(prices))) or not bool(np.all(prices > 0.0)):
        raise DataIntegrityError("trend/volatility closes must be positive finite numbers")
    n = len(prices)
    estimates: list[RegimeEstimate | None] = [None] * n
    first = config.first_index
    if n > first:
        average = sma(prices, config.trend_period)
        volatility = realized_volatility(
            prices, config.volatility_period, config.annualization_factor
        )
        width = config.percentile_window
        windows = np.lib.stride_tricks.sliding_window_view(volatility[first - width + 1 :], width)
        below = (windows < windows[:, -1:]).sum(axis=1)
        is_high = below >= config.high_volatility_percentile * width
        is_bull = prices[first:] >= average[first:]
        version = config.model_version
        for offset, (bull, high) in enumerate(zip(is_bull.tolist(), is_high.tolist(), strict=True)):
            i = first + offset
            estimates[i] = _estimate(config, version, int(times[i]), _label_index(bull, high))
    return RegimeSeries.from_estimates(config.model_id, TREND_VOLATILITY_LABELS, times, estimates)

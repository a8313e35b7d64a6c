"""Each feature kind twice: in bulk over arrays (offline) and bar by bar (online).

The two give bit-identical floats: the indicator kinds use ``analytics.indicators``, whose bulk
functions and incremental classes are bit-identical by contract, and the arithmetic around
them (ratios, logs, shifts) is the same IEEE operations in the same order on both sides
(``math.log`` on both, never NumPy's vectorised log, which may round differently). NaN
marks a value that does not exist yet (warm-up, no external value known).

Prices and volumes become floats as the indicators' ``handle_bar`` makes them:
``raw / 10**precision``, correctly rounded.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.indicators import (
    ATR,
    EMA,
    RSI,
    SMA,
    RealizedVolatility,
    ZScore,
    atr,
    ema,
    realized_volatility,
    rsi,
    sma,
    zscore,
)
from tradeloop.core.errors import ConfigError
from tradeloop.features.definitions import FeatureSpec

F64 = npt.NDArray[np.float64]
NAN: Final = float("nan")


class BarArrays:
    """One instrument's bars as float arrays (and ``ts_init``), the input of bulk features."""

    __slots__ = ("close", "high", "low", "ts_event", "ts_init", "volume")

    def __init__(
        self,
        ts_event: npt.NDArray[np.int64],
        ts_init: npt.NDArray[np.int64],
        high: F64,
        low: F64,
        close: F64,
        volume: F64,
    ) -> None:
        self.ts_event, self.ts_init = ts_event, ts_init
        self.high, self.low, self.close, self.volume = high, low, close, volume

    def __len__(self) -> int:
        return len(self.ts_init)

    def head(self, n: int) -> BarArrays:
        """Return the first ``n`` bars (copies): what was known at bar ``n - 1``."""
        return BarArrays(
            self.ts_event[:n].copy(),
            self.ts_init[:n].copy(),
            self.high[:n].copy(),
            self.low[:n].copy(),
            self.close[:n].copy(),
            self.volume[:n].copy(),
        )


def _log_of_ratio(numerator: F64, denominator: F64) -> F64:
    ratio = numerator / denominator
    return np.array([math.log(x) if x == x else NAN for x in ratio.tolist()], dtype=np.float64)


def _lagged_log_return(values: F64, window: int) -> F64:
    out = np.full(len(values), NAN)
    if len(values) > window:
        out[window:] = _log_of_ratio(values[window:], values[:-window])
    return out


def bulk_feature(spec: FeatureSpec, bars: BarArrays, external: F64 | None = None) -> F64:
    """Return ``spec``'s value at every bar (NaN where it has none), ``external`` being the
    as-of values of its external series at each bar (external kinds only)."""
    kind, window = spec.kind, spec.window
    close = bars.close
    n = len(bars)
    if kind == "log_return":
        raw = _lagged_log_return(close, window)
    elif kind == "sma_ratio":
        raw = close / sma(close, window) - 1.0 if n else np.empty(0)
    elif kind == "ema_ratio":
        raw = close / ema(close, window) - 1.0 if n else np.empty(0)
    elif kind == "rsi":
        raw = (rsi(close, window) - 50.0) / 50.0 if n else np.empty(0)
    elif kind == "zscore":
        raw = zscore(close, window) if n else np.empty(0)
    elif kind == "realized_vol":
        raw = realized_volatility(close, window, 1.0) if n else np.empty(0)
    elif kind == "atr_pct":
        raw = atr(bars.high, bars.low, close, window) / close if n else np.empty(0)
    elif kind == "volume_zscore":
        raw = zscore(bars.volume, window) if n else np.empty(0)
    elif kind == "range_pct":
        raw = (bars.high - bars.low) / close
    elif kind in ("external", "external_return"):
        if external is None:
            raise ConfigError(f"feature {spec.feature_name} needs its external series")
        raw = external.copy() if kind == "external" else _lagged_log_return(external, window)
    else:  # FeatureSpec checked the kind
        raise ConfigError(f"feature kind {kind!r} has no computation")
    raw = np.asarray(raw, dtype=np.float64)
    if spec.lag == 0:
        return raw
    out = np.full(n, NAN)
    if n > spec.lag:
        out[spec.lag :] = raw[: n - spec.lag]
    return out


class OnlineFeature:
    """One feature updated bar by bar; ``update`` returns its value at this bar."""

    __slots__ = ("_history", "_indicator", "_lagged", "kind", "lag", "spec", "window")

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec, self.kind, self.window, self.lag = spec, spec.kind, spec.window, spec.lag
        self._indicator: SMA | EMA | RSI | ZScore | RealizedVolatility | ATR | None = None
        kind, window = spec.kind, spec.window
        if kind == "sma_ratio":
            self._indicator = SMA(window)
        elif kind == "ema_ratio":
            self._indicator = EMA(window)
        elif kind == "rsi":
            self._indicator = RSI(window)
        elif kind in ("zscore", "volume_zscore"):
            self._indicator = ZScore(window)
        elif kind == "realized_vol":
            self._indicator = RealizedVolatility(window, 1.0)
        elif kind == "atr_pct":
            self._indicator = ATR(window)
        # the last window + 1 inputs of the lagged-ratio kinds
        self._history: deque[float] = deque(maxlen=window + 1)
        self._lagged: deque[float] = deque(maxlen=spec.lag + 1)

    def _raw(self, high: float, low: float, close: float, volume: float, external: float) -> float:
        kind = self.kind
        indicator = self._indicator
        if kind in ("log_return", "external_return"):
            history = self._history
            history.append(close if kind == "log_return" else external)
            if len(history) <= self.window:
                return NAN
            ratio = history[-1] / history[0]
            return math.log(ratio) if ratio == ratio else NAN
        if kind == "range_pct":
            return (high - low) / close
        if kind == "external":
            return external
        assert indicator is not None
        if isinstance(indicator, ATR):
            indicator.update(high, low, close)
            return indicator.value / close
        indicator.update(volume if kind == "volume_zscore" else close)
        value = indicator.value
        if kind in ("sma_ratio", "ema_ratio"):
            return close / value - 1.0
        if kind == "rsi":
            return (value - 50.0) / 50.0
        return value

    def update(
        self, high: float, low: float, close: float, volume: float, external: float = NAN
    ) -> float:
        """Take one bar (and the external value as of it); return the feature's value."""
        raw = self._raw(high, low, close, volume, external)
        if self.lag == 0:
            return raw
        lagged = self._lagged
        lagged.append(raw)
        return lagged[0] if len(lagged) > self.lag else NAN

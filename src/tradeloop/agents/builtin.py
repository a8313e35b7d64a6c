"""Built-in signal agents: time-series and cross-sectional momentum, mean reversion,
adaptive price levels (breakouts of recent swings) and a volatility filter.

Definitions (daily bars; "σ" is the standard deviation of daily log returns):

- ``TimeSeriesMomentum``: the return from ``lookback`` to ``skip`` bars ago, divided by
  σ·sqrt(lookback - skip) — a t-statistic of the trend (Moskowitz, Ooi & Pedersen 2012
  scale positions by volatility the same way). score = tanh(t / 2), confidence = min(1, |t| / 3).
- ``CrossSectionalMomentum``: the same window's returns ranked across the universe
  (benchmark excluded); score = 2·rank/(n - 1) - 1 (best +1, worst -1), confidence grows
  with the dispersion of returns (Jegadeesh & Titman 1993 rank on 3–12 month returns).
- ``MeanReversion``: z = (close - mean) / std over ``window`` closes; beyond ``entry_z``,
  score = -tanh(z / 2) (fade the deviation), confidence = min(1, |z| / 3); inside, it abstains.
- ``AdaptiveLevels``: resistance and support are the latest confirmed swing high and low (a
  bar whose high/low is the extreme of ``swing`` bars on each side — confirmed only
  ``swing`` bars later, so it never looks ahead). A close beyond a level is a breakout:
  score = ±min(1, distance / ATR), confidence = min(1, 0.5 + distance / (2·ATR)).
- ``VolatilityFilter``: annualized realized vol over ``window`` ranked against its last
  ``history`` values; above the ``threshold`` percentile the score falls linearly to -1
  (a gate: the ensemble scales every score by 1 + filter score).
"""

from __future__ import annotations

import math

import numpy as np

from tradeloop.agents.base import AgentContext, SignalAgent
from tradeloop.analytics.history import BarHistory
from tradeloop.core.errors import InvalidValueError
from tradeloop.model.decisions import Signal


def _check_period(agent: str, name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise InvalidValueError(f"{agent} {name} {value} must be at least {minimum}")


class TimeSeriesMomentum(SignalAgent):
    """Volatility-scaled trailing return (see the module docstring)."""

    version = "1"

    def __init__(self, lookback: int = 252, skip: int = 21, agent_id: str | None = None) -> None:
        super().__init__(agent_id or "ts_momentum")
        _check_period("TimeSeriesMomentum", "lookback", lookback, 2)
        if not 0 <= skip < lookback - 1:
            raise InvalidValueError(f"TimeSeriesMomentum skip {skip} must be in [0, lookback - 1)")
        self.lookback_bars, self.skip = lookback, skip
        self.lookback = lookback + 1

    def score(
        self, instrument_id: str, history: BarHistory, context: AgentContext
    ) -> Signal | None:
        closes = history.closes(instrument_id, self.lookback)
        log_returns = np.diff(np.log(closes))
        window = log_returns[: len(log_returns) - self.skip]
        sigma = float(np.std(log_returns, ddof=1))
        if sigma <= 0.0:
            return None
        trend = float(np.sum(window))
        t_stat = trend / (sigma * math.sqrt(len(window)))
        return self.signal(
            instrument_id,
            math.tanh(t_stat / 2.0),
            min(1.0, abs(t_stat) / 3.0),
            f"{self.lookback_bars}-{self.skip} bar log return {trend:+.2%}, t {t_stat:+.2f}",
        )


class CrossSectionalMomentum(SignalAgent):
    """Rank of trailing returns across the universe (see the module docstring)."""

    version = "1"

    def __init__(self, lookback: int = 126, skip: int = 21, agent_id: str | None = None) -> None:
        super().__init__(agent_id or "xs_momentum")
        _check_period("CrossSectionalMomentum", "lookback", lookback, 2)
        if not 0 <= skip < lookback - 1:
            raise InvalidValueError(
                f"CrossSectionalMomentum skip {skip} must be in [0, lookback - 1)"
            )
        self.lookback_bars, self.skip = lookback, skip
        self.lookback = lookback + 1

    def score_all(self, history: BarHistory, context: AgentContext) -> list[Signal]:
        names = [
            i
            for i in context.universe
            if i != context.benchmark_id and history.count(i) >= self.lookback
        ]
        if len(names) < 2:
            return []
        past = []
        for instrument_id in names:
            closes = history.closes(instrument_id, self.lookback)
            past.append(closes[len(closes) - 1 - self.skip] / closes[0] - 1.0)
        returns = np.array(past)
        ranks = np.argsort(np.argsort(returns, kind="stable"), kind="stable")
        dispersion = float(np.std(returns))
        confidence = min(1.0, dispersion / 0.10)
        return [
            self.signal(
                instrument_id,
                2.0 * float(rank) / (len(names) - 1) - 1.0,
                confidence,
                f"return {r:+.2%} ranks {int(rank) + 1} of {len(names)}",
            )
            for instrument_id, rank, r in zip(names, ranks.tolist(), returns.tolist(), strict=True)
        ]


class MeanReversion(SignalAgent):
    """Fade large deviations from the rolling mean (see the module docstring)."""

    version = "1"

    def __init__(self, window: int = 20, entry_z: float = 1.0, agent_id: str | None = None) -> None:
        super().__init__(agent_id or "mean_reversion")
        _check_period("MeanReversion", "window", window, 3)
        if not entry_z >= 0:
            raise InvalidValueError(f"MeanReversion entry_z {entry_z} must be non-negative")
        self.lookback, self.entry_z = window, entry_z

    def score(
        self, instrument_id: str, history: BarHistory, context: AgentContext
    ) -> Signal | None:
        closes = history.closes(instrument_id, self.lookback)
        std = float(np.std(closes, ddof=0))
        if std <= 0.0:
            return None
        z = (float(closes[-1]) - float(np.mean(closes))) / std
        if abs(z) < self.entry_z:
            return None
        return self.signal(
            instrument_id,
            -math.tanh(z / 2.0),
            min(1.0, abs(z) / 3.0),
            f"{self.lookback}-bar z-score {z:+.2f}",
        )


class AdaptiveLevels(SignalAgent):
    """Breakouts above resistance / below support from recent swings (module docstring)."""

    version = "1"

    def __init__(
        self, swing: int = 5, lookback: int = 120, atr_window: int = 14, agent_id: str | None = None
    ) -> None:
        super().__init__(agent_id or "levels")
        _check_period("AdaptiveLevels", "swing", swing, 1)
        _check_period("AdaptiveLevels", "atr_window", atr_window, 1)
        if lookback < 2 * swing + 2:
            raise InvalidValueError(
                f"AdaptiveLevels lookback {lookback} must be at least 2 * swing + 2"
            )
        self.swing, self.atr_window = swing, atr_window
        self.lookback = max(lookback, atr_window + 1)

    def score(
        self, instrument_id: str, history: BarHistory, context: AgentContext
    ) -> Signal | None:
        highs = history.highs(instrument_id, self.lookback)
        lows = history.lows(instrument_id, self.lookback)
        closes = history.closes(instrument_id, self.lookback)
        k = self.swing
        resistance = support = None
        # A swing at i is confirmed once bars i+1..i+k exist: search the newest confirmed first.
        for i in range(len(highs) - 1 - k, k - 1, -1):
            window_high = highs[i - k : i + k + 1]
            window_low = lows[i - k : i + k + 1]
            if resistance is None and highs[i] == window_high.max():
                resistance = float(highs[i])
            if support is None and lows[i] == window_low.min():
                support = float(lows[i])
            if resistance is not None and support is not None:
                break
        if resistance is None or support is None:
            return None
        prev_close = closes[-self.atr_window - 1 : -1]
        true_range = np.maximum(highs[-self.atr_window :], prev_close) - np.minimum(
            lows[-self.atr_window :], prev_close
        )
        atr = float(np.mean(true_range))
        close = float(closes[-1])
        if atr <= 0.0:
            return None
        if close > resistance:
            distance = (close - resistance) / atr
            return self.signal(
                instrument_id,
                min(1.0, distance),
                min(1.0, 0.5 + distance / 2),
                f"close above resistance {resistance:.4g} by {distance:.2f} ATR",
            )
        if close < support:
            distance = (support - close) / atr
            return self.signal(
                instrument_id,
                -min(1.0, distance),
                min(1.0, 0.5 + distance / 2),
                f"close below support {support:.4g} by {distance:.2f} ATR",
            )
        return None


class VolatilityFilter(SignalAgent):
    """Stand aside when realized volatility is extreme (a gate, see the module docstring)."""

    version = "1"
    is_filter = True

    def __init__(
        self,
        window: int = 20,
        history: int = 252,
        threshold: float = 0.9,
        agent_id: str | None = None,
    ) -> None:
        super().__init__(agent_id or "volatility_filter")
        _check_period("VolatilityFilter", "window", window, 2)
        _check_period("VolatilityFilter", "history", history, window + 1)
        if not 0.0 < threshold < 1.0:
            raise InvalidValueError(f"VolatilityFilter threshold {threshold} must be in (0, 1)")
        self.window, self.history_bars, self.threshold = window, history, threshold
        self.lookback = history + window + 1

    def score(
        self, instrument_id: str, history: BarHistory, context: AgentContext
    ) -> Signal | None:
        log_returns = np.diff(np.log(history.closes(instrument_id, self.lookback)))
        windows = np.lib.stride_tricks.sliding_window_view(log_returns, self.window)
        vols = np.std(windows, axis=1, ddof=1) * math.sqrt(252.0)
        current = float(vols[-1])
        percentile = float(np.mean(vols[:-1] < current))
        excess = (percentile - self.threshold) / (1.0 - self.threshold)
        score = -min(1.0, max(0.0, excess))
        return self.signal(
            instrument_id, score, 1.0, f"realized vol {current:.1%} at percentile {percentile:.0%}"
        )

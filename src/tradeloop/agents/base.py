"""The signal agent API: subclass ``SignalAgent`` and implement ``score``.

An agent looks at the causal bar history and returns, per instrument, a score in [-1, 1]
(negative: expect a fall, positive: a rise) with a confidence in [0, 1] and a one-line
reason, or ``None`` to abstain. It must not keep references to the history's arrays
between calls and must not read anything but its arguments (the engine feeds it causal
data; it never sees a bar after the clock).

Example::

    class Overnight(SignalAgent):
        version = "1"
        lookback = 21

        def score(self, instrument_id, history, context):
            opens, closes = history.opens(instrument_id, 21), history.closes(instrument_id, 21)
            gap = float(np.mean(opens[1:] / closes[:-1] - 1))
            return self.signal(
                instrument_id, np.tanh(gap * 200), min(1.0, abs(gap) * 500), f"mean gap {gap:.4%}"
            )

A broken agent (one that raises or returns an invalid score) is isolated by the host: its
signals are left out with an ``AgentFailed`` event, and after ``max_failures`` in a row it is
disabled; the loop goes on.
"""

from __future__ import annotations

import math
from typing import ClassVar

import msgspec

from tradeloop.analytics.history import BarHistory
from tradeloop.core.errors import InvalidValueError
from tradeloop.model.decisions import Signal


class AgentContext(msgspec.Struct, frozen=True, kw_only=True):
    """What an agent knows besides the history: time, regime, universe, benchmark."""

    ts_ns: int
    regime: str | None
    universe: tuple[str, ...]
    benchmark_id: str | None


class SignalAgent:
    """Base class of signal agents (see the module docstring)."""

    version: ClassVar[str] = "1"
    lookback: int = 20
    is_filter: ClassVar[bool] = False
    """A filter's score is in [-1, 0]: -1 means stand aside; the ensemble uses it as a gate."""

    def __init__(self, agent_id: str | None = None) -> None:
        self.id = agent_id or type(self).__name__

    def score(
        self, instrument_id: str, history: BarHistory, context: AgentContext
    ) -> Signal | None:
        """Return this agent's signal for ``instrument_id``, or ``None`` to abstain."""
        raise NotImplementedError

    def score_all(self, history: BarHistory, context: AgentContext) -> list[Signal]:
        """Return signals for the whole universe (override for cross-sectional agents)."""
        signals = []
        for instrument_id in context.universe:
            if history.count(instrument_id) < self.lookback:
                continue
            signal = self.score(instrument_id, history, context)
            if signal is not None:
                signals.append(signal)
        return signals

    def signal(self, instrument_id: str, score: float, confidence: float, reason: str) -> Signal:
        """Return a checked ``Signal`` of this agent.

        Raises
        ------
        InvalidValueError
            If the score is outside [-1, 1] (or [-1, 0] for a filter) or the confidence outside
            [0, 1], or either is NaN.
        """
        low = -1.0
        high = 0.0 if self.is_filter else 1.0
        if not (math.isfinite(score) and low <= score <= high):
            raise InvalidValueError(
                f"agent {self.id} score {score} for {instrument_id} is outside [{low}, {high}]"
            )
        if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
            raise InvalidValueError(
                f"agent {self.id} confidence {confidence} for {instrument_id} is outside [0, 1]"
            )
        return Signal(self.id, instrument_id, float(score), float(confidence), reason)

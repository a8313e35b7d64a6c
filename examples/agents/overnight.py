"""A signal agent of your own: the mean overnight gap of the last 20 sessions.

A stock that has been opening above the previous close keeps drifting up overnight
(overnight returns persist; Lou, Polk & Skouras 2019). The score is the mean gap times 200,
clipped to [-1, 1]; the confidence grows with how consistent the gaps were.
"""

from __future__ import annotations

import numpy as np

from tradeloop.agents import AgentContext, BarHistory, Signal, SignalAgent


class Overnight(SignalAgent):
    version = "1"  # bump when the code changes: the journal records it with each signal

    def __init__(self, sessions: int = 20, scale: float = 200.0, agent_id: str | None = None):
        super().__init__(agent_id)
        self.sessions, self.scale = sessions, scale
        self.lookback = sessions + 1  # bars of history before the agent is asked

    def score(
        self, instrument_id: str, history: BarHistory, context: AgentContext
    ) -> Signal | None:
        opens = history.opens(instrument_id, self.lookback)
        closes = history.closes(instrument_id, self.lookback)
        gaps = opens[1:] / closes[:-1] - 1.0  # today's open against yesterday's close
        mean = float(gaps.mean())
        if not np.isfinite(mean):
            return None  # abstain
        agreeing = float(np.mean(np.sign(gaps) == np.sign(mean)))
        return self.signal(
            instrument_id,
            max(-1.0, min(1.0, mean * self.scale)),
            agreeing,
            f"mean overnight gap {mean:+.3%} over {self.sessions} sessions",
        )

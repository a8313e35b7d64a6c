"""Agents: the signal agent API, built-in agents, the ensemble and the isolating host."""

from tradeloop.agents.base import AgentContext, SignalAgent
from tradeloop.agents.builtin import (
    AdaptiveLevels,
    CrossSectionalMomentum,
    MeanReversion,
    TimeSeriesMomentum,
    VolatilityFilter,
)
from tradeloop.agents.ensemble import Ensemble, EnsembleConfig, VetoRule
from tradeloop.agents.host import AgentFailure, AgentHost

__all__ = [
    "AdaptiveLevels",
    "AgentContext",
    "AgentFailure",
    "AgentHost",
    "CrossSectionalMomentum",
    "Ensemble",
    "EnsembleConfig",
    "MeanReversion",
    "SignalAgent",
    "TimeSeriesMomentum",
    "VetoRule",
    "VolatilityFilter",
]

"""Agents: the signal agent API, built-in agents, the ensemble and the isolating host.

``BarHistory`` (what an agent reads) and ``Signal`` (what it returns) are re-exported here so
an agent file needs only this package.
"""

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
from tradeloop.analytics.history import BarHistory
from tradeloop.model.decisions import Signal

__all__ = [
    "AdaptiveLevels",
    "AgentContext",
    "AgentFailure",
    "AgentHost",
    "BarHistory",
    "CrossSectionalMomentum",
    "Ensemble",
    "EnsembleConfig",
    "MeanReversion",
    "Signal",
    "SignalAgent",
    "TimeSeriesMomentum",
    "VetoRule",
    "VolatilityFilter",
]

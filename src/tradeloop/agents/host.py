"""Running agents with isolation: a broken agent never takes the loop down."""

from __future__ import annotations

import logging

import msgspec

from tradeloop.agents.base import AgentContext, SignalAgent
from tradeloop.analytics.history import BarHistory
from tradeloop.model.decisions import Signal

log = logging.getLogger("tradeloop.agents")


class AgentFailure(msgspec.Struct, frozen=True):
    """One agent's failure at one rebalance."""

    agent_id: str
    error: str
    is_disabled: bool


class AgentHost:
    """Run every enabled agent; isolate and, after ``max_failures`` in a row, disable failures."""

    def __init__(self, agents: list[SignalAgent], max_failures: int = 3) -> None:
        ids = [a.id for a in agents]
        if len(set(ids)) != len(ids):
            from tradeloop.core.errors import ConfigError

            raise ConfigError(f"agent ids must be unique, got {ids}")
        self.agents = agents
        self.max_failures = max(1, max_failures)
        self._failures: dict[str, int] = dict.fromkeys(ids, 0)
        self.disabled: set[str] = set()

    @property
    def lookback(self) -> int:
        """Return the longest history any agent needs."""
        return max((a.lookback for a in self.agents), default=1)

    def run(
        self, history: BarHistory, context: AgentContext
    ) -> tuple[list[Signal], list[AgentFailure]]:
        """Return every enabled agent's signals, and the failures of this run."""
        signals: list[Signal] = []
        failures: list[AgentFailure] = []
        for agent in self.agents:
            if agent.id in self.disabled:
                continue
            try:
                produced = agent.score_all(history, context)
                for signal in produced:
                    if signal.agent_id != agent.id:
                        raise ValueError(f"signal claims agent {signal.agent_id}")
            except Exception as error:  # the boundary around user-written agent code
                self._failures[agent.id] += 1
                disabled = self._failures[agent.id] >= self.max_failures
                if disabled:
                    self.disabled.add(agent.id)
                message = f"{type(error).__name__}: {error}"
                log.warning(
                    "agent %s failed: %s%s", agent.id, message, " (disabled)" if disabled else ""
                )
                failures.append(AgentFailure(agent.id, message, disabled))
                continue
            self._failures[agent.id] = 0
            signals.extend(produced)
        return signals, failures

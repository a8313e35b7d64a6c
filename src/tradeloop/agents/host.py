"""Running agents with isolation: a broken agent never takes the loop down.

Every signal an agent returns is checked before anything downstream sees it: it must be a
``Signal`` of that agent, for an instrument of the universe (once per instrument), with a
finite score in [-1, 1] ([-1, 0] for a filter) and a finite confidence in [0, 1]. An agent
that raises or returns any invalid signal fails for that rebalance: all its signals are left
out and the failure names the agent, the instrument, the value and the rule it broke
(``AgentFailed`` in the pipeline). After ``max_failures`` failures in a row it is disabled.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import msgspec

from tradeloop.agents.base import AgentContext, SignalAgent
from tradeloop.analytics.history import BarHistory
from tradeloop.core.errors import code_location
from tradeloop.model.data import Bar, QuoteTick, TradeTick
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
        self._bar_errors: dict[str, str] = {}

    def on_bar(self, bar: Bar) -> None:
        """Give ``bar`` to every enabled agent; an error is its failure at the next run."""
        self._deliver("on_bar", bar, "bars")

    def on_quote(self, quote: QuoteTick) -> None:
        """Give ``quote`` to every enabled agent that takes quotes (``market_data``)."""
        self._deliver("on_quote", quote, "quotes")

    def on_trade(self, trade: TradeTick) -> None:
        """Give ``trade`` to every enabled agent that takes trades."""
        self._deliver("on_trade", trade, "trades")

    def on_book(self, record: Any) -> None:
        """Give an order-book record to every enabled agent that takes the book."""
        self._deliver("on_book", record, "book")

    @property
    def market_data(self) -> tuple[str, ...]:
        """Return the event data any agent takes besides bars, sorted."""
        return tuple(sorted({kind for a in self.agents for kind in a.market_data}))

    def _deliver(self, hook: str, record: Any, kind: str) -> None:
        for agent in self.agents:
            if agent.id in self.disabled or agent.id in self._bar_errors:
                continue
            if kind != "bars" and kind not in agent.market_data:
                continue
            try:
                getattr(agent, hook)(record)
            except Exception as error:  # the boundary around user-written agent code
                where = code_location(error, _source_dir(agent))
                self._bar_errors[agent.id] = (
                    f"{hook} of {record.instrument_id}: {type(error).__name__}: {error}"
                    + (f" (at {where})" if where else "")
                )

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
            bar_error = self._bar_errors.pop(agent.id, None)
            if bar_error is not None:
                failures.append(self._fail(agent, bar_error))
                continue
            try:
                produced = list(agent.score_all(history, context))
            except Exception as error:  # the boundary around user-written agent code
                # relative to the agent's own file: the journal stays independent of the cwd
                where = code_location(error, _source_dir(agent))
                failures.append(
                    self._fail(
                        agent,
                        f"{type(error).__name__}: {error}" + (f" (at {where})" if where else ""),
                    )
                )
                continue
            problems = invalid_signals(agent, produced, context.universe)
            if problems:
                failures.append(self._fail(agent, "invalid signals: " + "; ".join(problems)))
                continue
            self._failures[agent.id] = 0
            signals.extend(produced)
        return signals, failures

    def _fail(self, agent: SignalAgent, message: str) -> AgentFailure:
        self._failures[agent.id] += 1
        disabled = self._failures[agent.id] >= self.max_failures
        if disabled:
            self.disabled.add(agent.id)
        log.warning("agent %s failed: %s%s", agent.id, message, " (disabled)" if disabled else "")
        return AgentFailure(agent.id, message, disabled)


def _source_dir(agent: SignalAgent) -> str | None:
    import inspect
    import os

    try:
        source = inspect.getsourcefile(type(agent))
    except TypeError:  # defined interactively
        return None
    return None if source is None else os.path.dirname(os.path.abspath(source))


def invalid_signals(
    agent: SignalAgent, signals: Sequence[object], universe: Sequence[str]
) -> list[str]:
    """Return what is wrong with ``agent``'s ``signals`` (empty when every one is valid).

    Each problem names the agent, the instrument, the value and the rule it broke.
    """
    problems: list[str] = []
    members = set(universe)
    seen: set[str] = set()
    high = 0.0 if agent.is_filter else 1.0
    for signal in signals:
        if not isinstance(signal, Signal):
            problems.append(f"agent {agent.id} returned {type(signal).__name__}, not a Signal")
            continue
        where = f"agent {agent.id} signal for {signal.instrument_id}"
        if signal.agent_id != agent.id:
            problems.append(f"{where} claims agent {signal.agent_id}")
        if signal.instrument_id not in members:
            problems.append(f"{where}: instrument is not in the universe")
        elif signal.instrument_id in seen:
            problems.append(f"{where}: a second signal for the same instrument")
        seen.add(signal.instrument_id)
        if not _within(signal.score, -1.0, high):
            problems.append(
                f"{where}: score {signal.score!r} is not a finite number in [-1, {high:g}]"
            )
        if not _within(signal.confidence, 0.0, 1.0):
            problems.append(
                f"{where}: confidence {signal.confidence!r} is not a finite number in [0, 1]"
            )
    return problems


def _within(value: object, low: float, high: float) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )

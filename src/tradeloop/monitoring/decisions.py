"""What the pipeline decided, for the metrics and the dashboard: the regime and its confidence,
each agent's latest scores, realized vs modelled slippage and the shadow fills' gap to the
venue's quotes.

``DecisionWatcher`` subscribes to decision events (``events.decisions.<Type>``, published by
the pipeline once per rebalance or execution, never per bar) on the kernel thread and keeps
small bounded state; ``summary`` copies it for a snapshot.

- ``RegimeChanged``: the detector's label, confidence and probabilities;
- ``SignalsEmitted``: each agent's latest score and confidence per instrument;
- realized vs modelled slippage: the cost stage's estimate for an instrument in a rebalance
  (``CostAssessed``: its cost without the commission, ``cost_bps - commission_bps``, which is
  what the fill price pays over the arrival price: half spread, impact, delay) is attached to
  the execution planned for it (``ExecutionPlanned``: side, arrival price); when that
  execution completes (``ExecutionCompleted``: average price) the realized slippage is
  ``(average - arrival) / arrival`` (negated for a sell: positive is a cost) and the gap is
  realized minus modelled. The last ``window`` executions give the means;
- shadow mode's ``ShadowFillCompared``: each simulated fill's slippage against the venue's
  quote of that instant (positive: the simulator filled worse than the quote). Their mean
  and root mean square over the last ``window`` fills are the tracking error of the
  simulated (backtest) execution against the live market.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

from tradeloop.bus.bus import MessageBus
from tradeloop.model.decisions import (
    CostAssessed,
    ExecutionCompleted,
    ExecutionPlanned,
    RegimeChanged,
    SignalsEmitted,
)
from tradeloop.model.events import ShadowFillCompared

_MAX_OPEN = 1_000  # executions waiting for completion (the oldest are dropped beyond it)


def _mean(values: deque[float]) -> float | None:
    return sum(values) / len(values) if values else None


class DecisionWatcher:
    """Follow the pipeline's decisions (module docstring)."""

    def __init__(self, window: int = 50) -> None:
        self.window = window
        self.regimes: dict[str, dict[str, Any]] = {}
        self.agent_scores: dict[str, dict[str, tuple[float, float]]] = {}
        self.failed_agents: tuple[str, ...] = ()
        self._modelled: dict[tuple[str, str], float] = {}
        self._open: dict[str, tuple[str, float, float | None]] = {}
        self.realized: deque[float] = deque(maxlen=window)
        self.modelled: deque[float] = deque(maxlen=window)
        self.gaps: deque[float] = deque(maxlen=window)
        self.executions_compared = 0
        self.shadow_gaps: deque[float] = deque(maxlen=window)
        self.shadow_fills = 0
        self._handlers: dict[str, Callable[[Any], None]] = {
            "events.decisions.RegimeChanged": self.on_regime,
            "events.decisions.SignalsEmitted": self.on_signals,
            "events.decisions.CostAssessed": self.on_costs,
            "events.decisions.ExecutionPlanned": self.on_planned,
            "events.decisions.ExecutionCompleted": self.on_completed,
            "events.decisions.ShadowFillCompared": self.on_shadow_fill,
        }

    def attach(self, bus: MessageBus) -> None:
        """Subscribe to the decision topics (kernel thread)."""
        for topic, handler in self._handlers.items():
            # The cost assessment first: the pipeline plans the executions inside its own
            # handler of it, so a later subscriber would hear ExecutionPlanned before it.
            first = handler == self.on_costs
            bus.subscribe(topic, handler, priority=1_000 if first else -1_000)

    def detach(self, bus: MessageBus) -> None:
        """Unsubscribe (kernel thread)."""
        for topic, handler in self._handlers.items():
            bus.unsubscribe(topic, handler)

    def on_regime(self, event: RegimeChanged) -> None:
        """Keep the detector's current regime."""
        self.regimes[event.detector_id] = {
            "label": event.label,
            "confidence": event.confidence,
            "probabilities": dict(sorted(event.probabilities.items())),
            "model_version": event.model_version,
        }

    def on_signals(self, event: SignalsEmitted) -> None:
        """Keep each agent's latest scores (an agent without signals this time keeps none)."""
        scores: dict[str, dict[str, tuple[float, float]]] = {}
        for signal in event.signals:
            scores.setdefault(signal.agent_id, {})[signal.instrument_id] = (
                signal.score,
                signal.confidence,
            )
        for agent in event.agent_versions:
            scores.setdefault(agent, {})
        self.agent_scores = scores
        self.failed_agents = tuple(event.failed_agents)

    def on_costs(self, event: CostAssessed) -> None:
        """Keep the modelled slippage (cost without commission) of each instrument traded."""
        self._modelled = {
            (event.rebalance_id, record.instrument_id): (record.cost_bps - record.commission_bps)
            / 1e4
            for record in event.assessments
            if record.quantity_out
        }

    def on_planned(self, event: ExecutionPlanned) -> None:
        """Attach the modelled slippage to the execution of its instrument."""
        modelled = self._modelled.get((event.rebalance_id, event.instrument_id))
        sign = -1.0 if event.side.upper().startswith("S") else 1.0
        self._open[event.parent_order_id] = (event.instrument_id, sign, modelled)
        while len(self._open) > _MAX_OPEN:
            del self._open[next(iter(self._open))]

    def on_completed(self, event: ExecutionCompleted) -> None:
        """Compare a completed execution's slippage with the model's."""
        planned = self._open.pop(event.parent_order_id, None)
        if planned is None or event.average_price is None or not event.arrival_price > 0:
            return
        _, sign, modelled = planned
        realized = sign * (event.average_price - event.arrival_price) / event.arrival_price
        if not math.isfinite(realized):
            return
        self.realized.append(realized)
        if modelled is not None:
            self.modelled.append(modelled)
            self.gaps.append(realized - modelled)
            self.executions_compared += 1

    def on_shadow_fill(self, event: ShadowFillCompared) -> None:
        """Keep a simulated fill's slippage against the venue's quote."""
        if event.slippage_vs_quote_bps is None:
            return
        self.shadow_gaps.append(event.slippage_vs_quote_bps / 1e4)
        self.shadow_fills += 1

    def summary(self) -> dict[str, Any]:
        """Return a copy of what it follows, for a snapshot (kernel thread)."""
        shadow = list(self.shadow_gaps)
        return {
            "regimes": {k: dict(v) for k, v in sorted(self.regimes.items())},
            "agent_scores": {
                agent: {
                    instrument: {"score": score, "confidence": confidence}
                    for instrument, (score, confidence) in sorted(by_instrument.items())
                }
                for agent, by_instrument in sorted(self.agent_scores.items())
            },
            "failed_agents": list(self.failed_agents),
            "slippage": {
                "realized_ratio": _mean(self.realized),
                "modelled_ratio": _mean(self.modelled),
                "model_gap_ratio": _mean(self.gaps),
                "executions_compared": self.executions_compared,
            },
            "shadow": {
                "fill_gap_ratio": sum(shadow) / len(shadow) if shadow else None,
                "tracking_error_ratio": (
                    math.sqrt(sum(g * g for g in shadow) / len(shadow)) if shadow else None
                ),
                "fills_compared": self.shadow_fills,
            },
        }

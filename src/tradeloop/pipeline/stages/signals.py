"""The signal and ensemble stages: run the agents on ``BetasEstimated`` (``SignalsEmitted``,
``AgentFailed``) and combine their signals (``EnsembleScored``)."""

from __future__ import annotations

from tradeloop.agents.base import AgentContext
from tradeloop.agents.ensemble import Ensemble
from tradeloop.agents.host import AgentHost
from tradeloop.model.decisions import (
    AgentFailed,
    BetasEstimated,
    EnsembleScored,
    ModelFallback,
    RegimeChanged,
    SignalsEmitted,
)
from tradeloop.model.events import AlertRaised
from tradeloop.pipeline.stages.host import Host


class SignalStage:
    """Run the agents on ``BetasEstimated``; publish ``SignalsEmitted`` (and ``AgentFailed``)."""

    def __init__(self, host: Host, agents: AgentHost) -> None:
        self.host, self.agents = host, agents
        self.regime: str | None = None  # the label of the last ``RegimeChanged``
        host.subscribe_decisions(RegimeChanged, self.on_regime)
        host.subscribe_decisions(BetasEstimated, self.on_betas)

    def on_regime(self, event: RegimeChanged) -> None:
        """Remember the regime the agents are told about."""
        self.regime = event.label

    def on_betas(self, event: BetasEstimated) -> None:
        """Score the universe for the rebalance ``event`` started."""
        config = self.host.config
        now = self.host.now_ns()
        context = AgentContext(
            ts_ns=now,
            regime=self.regime,
            universe=tuple(config.universe),
            benchmark_id=config.benchmark,
        )
        signals, failures = self.agents.run(self.host.history, context)
        for agent in self.agents.agents:
            for decision in agent.drain_events(event.rebalance_id, now):
                self.host.publish(decision)
                if isinstance(decision, ModelFallback):
                    self.host.publish(
                        AlertRaised(
                            severity="warning",
                            source=f"agent.{decision.agent_id}",
                            message=(
                                f"model {decision.model} v{decision.model_version} fell back "
                                f"to {decision.action} on {decision.instrument_id} "
                                f"({decision.reason}: {decision.detail})"
                            ),
                            ts_event=now,
                            ts_init=now,
                        )
                    )
        for failure in failures:
            self.host.publish(
                AgentFailed(
                    rebalance_id=event.rebalance_id,
                    agent_id=failure.agent_id,
                    error=failure.error,
                    is_disabled=failure.is_disabled,
                    ts_event=now,
                    ts_init=now,
                )
            )
        self.host.publish(
            SignalsEmitted(
                rebalance_id=event.rebalance_id,
                regime=self.regime,
                signals=tuple(signals),
                failed_agents=tuple(f.agent_id for f in failures),
                agent_versions={a.id: a.agent_version for a in self.agents.agents},
                ts_event=now,
                ts_init=now,
            )
        )


class EnsembleStage:
    """Combine the signals (``EnsembleScored``)."""

    def __init__(self, host: Host, ensemble: Ensemble) -> None:
        self.host, self.ensemble = host, ensemble
        host.subscribe_decisions(SignalsEmitted, self.on_signals)

    def on_signals(self, event: SignalsEmitted) -> None:
        """Combine one rebalance's signals."""
        universe = [i for i in self.host.config.universe if i != self.host.config.benchmark]
        scores = self.ensemble.combine(event.signals, event.regime, universe)
        now = self.host.now_ns()
        self.host.publish(
            EnsembleScored(
                rebalance_id=event.rebalance_id,
                regime=event.regime,
                weights=self.ensemble.weights_for(event.regime),
                scores=tuple(scores),
                model_version=self.ensemble.model_version,
                ts_event=now,
                ts_init=now,
            )
        )

"""The pipeline's stages as components on the bus, one module per stage.

Each stage subscribes to the decision event of the stage before it and publishes its own
(journaled), all within one rebalance:

    BetasEstimated → SignalsEmitted → EnsembleScored → TargetsProposed → RiskReviewed
    → CostAssessed → ExecutionPlanned (→ child orders, ExecutionProgressed, ExecutionCompleted)

``RegimeChanged`` / ``RegimeModelFitted`` come from the regime stage (``regime``) as bars
arrive; the risk stage also acts between rebalances (portfolio limits on every step,
stop-loss and trailing rules on every bar) through ``RiskLimitBreached`` and immediate exits.

Stages know each other only through events: a stage that needs an earlier decision keeps
what its event said (the target stage the betas of ``BetasEstimated`` and the label of
``RegimeChanged``; the cost stage the targets of ``TargetsProposed``; the risk stage the
working plans of ``ExecutionPlanned`` / ``ExecutionCompleted``), and the risk stage's exits
reach the execution stage as commands through the host (``ExitPosition``,
``CancelExecutions``), each behind a journaled ``RiskLimitBreached``. Dispatch is synchronous
and depth-first, so a stage that remembers an event of the rebalance must subscribe to it
before the stage that continues the chain (``Pipeline.on_start`` builds them in that
order; a stage wired the other way raises ``InvariantViolation`` instead of acting on stale
state).

The stages hold no order or position state of their own: they read the account through
the host (the ``Pipeline`` strategy) and act only through it.
"""

from tradeloop.pipeline.stages.beta import BetaStage
from tradeloop.pipeline.stages.costs import CostStage
from tradeloop.pipeline.stages.execution import ExecutionStage
from tradeloop.pipeline.stages.host import (
    CancelExecutions,
    CommandRouter,
    ExitPosition,
    Host,
    daily_sigma,
)
from tradeloop.pipeline.stages.regime import RegimeStage
from tradeloop.pipeline.stages.risk import RiskStage
from tradeloop.pipeline.stages.signals import EnsembleStage, SignalStage
from tradeloop.pipeline.stages.targets import TargetStage

__all__ = [
    "BetaStage",
    "CancelExecutions",
    "CommandRouter",
    "CostStage",
    "EnsembleStage",
    "ExecutionStage",
    "ExitPosition",
    "Host",
    "RegimeStage",
    "RiskStage",
    "SignalStage",
    "TargetStage",
    "daily_sigma",
]

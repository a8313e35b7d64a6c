"""The multi-agent pipeline as a strategy: data → beta/hedge → regime → agents → ensemble →
portfolio → risk review → cost assessment → execution, every decision journaled.

To the engine it is one strategy (one id for its orders); inside, the stages are components
that talk through decision events on the bus (``pipeline.stages``). A rebalance starts on the
step (every ``rebalance_every`` instants, once the history is long enough) and runs the whole
chain synchronously; risk also acts on every step and bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradeloop.agents.base import SignalAgent
from tradeloop.agents.builtin import (
    AdaptiveLevels,
    CrossSectionalMomentum,
    MeanReversion,
    TimeSeriesMomentum,
    VolatilityFilter,
)
from tradeloop.agents.ensemble import Ensemble
from tradeloop.agents.host import AgentHost
from tradeloop.analytics.history import BarHistory
from tradeloop.core.errors import ConfigError, code_location
from tradeloop.core.plugins import load_class
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.decisions import CapacityEstimated
from tradeloop.model.enums import TradingState
from tradeloop.model.events import Event, OrderEvent, TradingStateChanged
from tradeloop.models.agent import LightGBMAgent, LinearAgent, ModelAgent
from tradeloop.pipeline.config import AGENT_TYPES, MODEL_AGENT_TYPES, AgentSpec, PipelineConfig
from tradeloop.pipeline.stages import (
    BetaStage,
    CancelExecutions,
    CommandRouter,
    CostStage,
    EnsembleStage,
    ExecutionStage,
    ExitPosition,
    RegimeStage,
    RiskStage,
    SignalStage,
    TargetStage,
)
from tradeloop.strategy.base import RunInputs, Strategy

_BUILTIN_AGENTS: dict[str, type[SignalAgent]] = {
    "ts_momentum": TimeSeriesMomentum,
    "xs_momentum": CrossSectionalMomentum,
    "mean_reversion": MeanReversion,
    "levels": AdaptiveLevels,
    "volatility_filter": VolatilityFilter,
    "lightgbm": LightGBMAgent,
    "linear": LinearAgent,
}


def build_agent(
    spec: AgentSpec, allowed_modules: list[str], base_dir: Path | None = None
) -> SignalAgent:
    """Return the agent ``spec`` describes.

    ``spec.type`` is a built-in name, ``package.module:Class`` (``package`` in
    ``allowed_modules``, or ``tradeloop``) or ``path/to/file.py:Class`` (relative to
    ``base_dir``, the config's directory), loaded by ``core.plugins.load_class`` as strategies
    are.

    Raises
    ------
    ConfigError
        If the type is unknown, not allowed, cannot be loaded or is not a ``SignalAgent``,
        or the agent cannot be built from its params.
    """
    cls: type[SignalAgent] | None = _BUILTIN_AGENTS.get(spec.type)
    if cls is None:
        if ":" not in spec.type:
            raise ConfigError(
                f"agent type {spec.type!r} is neither a built-in "
                f"({', '.join((*AGENT_TYPES, *MODEL_AGENT_TYPES))}) "
                "nor module:Class or path/to/file.py:Class"
            )
        cls = load_class(
            spec.type,
            SignalAgent,
            kind="agent",
            allowed=allowed_modules,
            allow_hint="allow_agent_modules",
            base_dir=base_dir,
        )
    params = dict(spec.params)
    if spec.id is not None:
        params["agent_id"] = spec.id
    try:
        agent = cls(**params)
    except TypeError as error:
        raise ConfigError(f"agent {spec.type} params {spec.params}: {error}") from None
    except Exception as error:  # the agent's own constructor: name it, at startup
        location = code_location(error)
        raise ConfigError(
            f"agent {spec.type} could not be built: {type(error).__name__}: {error}"
            + (f" (at {location})" if location else "")
        ) from error
    return agent


class Pipeline(Strategy):
    """The multi-agent pipeline (see the module docstring and ``PipelineConfig``)."""

    Config = PipelineConfig
    _agents: list[SignalAgent] | None = None  # built by ``load_plugins``

    def required_instruments(self) -> list[str]:
        """Return the universe, the benchmark and the regime instrument (checked at startup)."""
        config: PipelineConfig = self.config
        named = [*config.universe, config.benchmark, config.regime.instrument]
        return sorted({i for i in named if i is not None})

    def load_plugins(self, base_dir: Path) -> list[type[Any]]:
        """Build the agents (user agents load here, relative to ``base_dir``) and return
        their classes (see ``Strategy.load_plugins``)."""
        config: PipelineConfig = self.config
        agents: list[SignalAgent] = []
        for index, spec in enumerate(config.agents):
            try:
                agents.append(build_agent(spec, config.allow_agent_modules, base_dir))
            except ConfigError as error:
                raise ConfigError(f"agents[{index}]: {error}") from error
        self._agents = agents
        return [type(agent) for agent in agents]

    def check_run(self, run: RunInputs) -> None:
        """Let each agent check and load what it needs from the run (a model agent its model
        and the run's features)."""
        for index, agent in enumerate(self._agents or []):
            try:
                agent.check_run(run)
            except ConfigError as error:
                raise ConfigError(f"agents[{index}]: {error}") from error

    def drift_sources(self) -> list[ModelAgent]:
        """Return the model agents whose model was registered with a drift reference
        (monitoring compares their live features and predictions with it)."""
        return [
            agent
            for agent in self._agents or []
            if isinstance(agent, ModelAgent) and agent.drift_reference is not None
        ]

    def on_start(self) -> None:
        """Build the stages, subscribe to the universe's bars and to the steps."""
        config: PipelineConfig = self.config
        self.history = BarHistory(config.history_bars)
        self._instrument_ids = list(config.universe)
        if config.benchmark is not None and config.benchmark not in self._instrument_ids:
            self._instrument_ids.append(config.benchmark)
        for instrument_id in self._instrument_ids:
            self.subscribe_bars(instrument_id)
        self.subscribe_steps()
        # The agents the engine loaded at startup; a pipeline started without the engine's
        # startup builds them now (user agents only by module or absolute file path).
        agents = self._agents
        if agents is None:
            agents = [build_agent(spec, config.allow_agent_modules) for spec in config.agents]
        self.agent_host = AgentHost(agents, config.max_agent_failures)
        # Agents that read quotes, trades or the book (a model's microstructure features)
        # take them for the universe, as the kernel delivers them in every mode.
        subscribe = {
            "quotes": self.subscribe_quotes,
            "trades": self.subscribe_trades,
            "book": self.subscribe_book,
        }
        for kind in self.agent_host.market_data:
            for instrument_id in config.universe:
                subscribe[kind](instrument_id)
        ensemble = Ensemble(
            config.ensemble, [a.id for a in agents], [a.id for a in agents if a.is_filter]
        )
        self.warmup_bars = max(
            self.agent_host.lookback, config.construction.lookback + 1, config.beta.window + 1
        )
        if self.warmup_bars > config.history_bars:
            raise ConfigError(
                f"pipeline history_bars {config.history_bars} is shorter than the "
                f"{self.warmup_bars} bars the agents, beta and covariance need"
            )
        # Stages talk only through events (and the risk stage's commands). A stage that keeps
        # an event of the rebalance subscribes before the stage that continues the chain:
        # the target stage before the signal stage (BetasEstimated), the cost stage before
        # the risk stage (TargetsProposed).
        self._commands = CommandRouter()
        self.regime_stage = RegimeStage(self)
        self.beta_stage = BetaStage(self)
        self.target_stage = TargetStage(self)
        self.signal_stage = SignalStage(self, self.agent_host)
        self.ensemble_stage = EnsembleStage(self, ensemble)
        self.execution_stage = ExecutionStage(self)
        self.cost_stage = CostStage(self)
        self.risk_stage = RiskStage(self)
        self.steps = 0
        self._warm_step: int | None = None
        self.rebalances = 0
        self.capacity: CapacityEstimated | None = None

    def on_stop(self) -> None:
        """Publish each traded instrument's tradability and the strategy's capacity."""
        self.capacity = self.cost_stage.estimate_capacity()
        if self.capacity is not None:
            self.publish(self.capacity)

    def run_summary(self) -> dict[str, Any]:
        """Return the capacity estimate and the tradability per instrument (if anything
        traded)."""
        estimate = self.capacity
        if estimate is None:
            return {}
        return {
            "capacity": {
                "capital": estimate.capacity_capital,
                "equity": estimate.equity,
                "rebalances": estimate.rebalances,
                "basis": estimate.basis,
            },
            "tradability": {
                row.instrument_id: {
                    field: getattr(row, field)
                    for field in row.__struct_fields__
                    if field != "instrument_id"
                }
                for row in estimate.instruments
            },
        }

    # -- the host protocol for the stages ----------------------------------------------------------

    def subscribe_decisions(self, event_type: type[Event], handler: Any) -> None:
        """Subscribe ``handler`` to one decision event type."""
        self.ctx.subscribe(f"events.decisions.{event_type.__name__}", handler)

    def send(self, command: ExitPosition | CancelExecutions) -> None:
        """Deliver a stage's command to the stage that carries it out (risk → execution)."""
        self._commands.send(command)

    def subscribe_commands(self, command_type: type[Any], handler: Any) -> None:
        """Subscribe ``handler`` to one command type."""
        self._commands.subscribe(command_type, handler)

    def now_ns(self) -> int:
        """Return the engine time."""
        return self.clock.timestamp_ns()

    def equity_value(self) -> float:
        """Return the account equity as a float."""
        return self.equity.as_float()

    def cash_value(self) -> float:
        """Return the account cash as a float."""
        return self.cash.as_float()

    def held_raw(self, instrument_id: str) -> int:
        """Return the signed position (raw at the instrument's size precision)."""
        position = self.position(instrument_id)
        return 0 if position is None else position.signed_raw

    def held_qty(self, instrument_id: str) -> float:
        """Return the signed position as a float."""
        position = self.position(instrument_id)
        return 0.0 if position is None else position.signed_qty

    def average_entry(self, instrument_id: str) -> float:
        """Return the average entry price of the position (0 when flat)."""
        position = self.position(instrument_id)
        return 0.0 if position is None else position.avg_px_open

    # -- events -----------------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Record the bar; update the regime; drive algorithms; apply in-trade risk rules."""
        self.history.update(bar)
        self.agent_host.on_bar(bar)
        self.regime_stage.on_bar(bar)
        self.execution_stage.on_bar(bar)
        self.risk_stage.on_bar(bar)

    def on_quote(self, quote: QuoteTick) -> None:
        """Pass the quote to the agents that take quotes."""
        self.agent_host.on_quote(quote)

    def on_trade(self, trade: TradeTick) -> None:
        """Pass the trade to the agents that take trades."""
        self.agent_host.on_trade(trade)

    def on_book(self, record: Any) -> None:
        """Pass the order-book record to the agents that take the book."""
        self.agent_host.on_book(record)

    def on_order_event(self, event: OrderEvent) -> None:
        """Pass child order events to their execution algorithm."""
        self.execution_stage.on_order_event(event)

    def kill(self, reason: str) -> None:
        """Engage the kill switch now: halt trading and flatten every position.

        Call it from strategy code (or a subclass's hook) with the reason; the same happens
        when anything sets the engine's trading state to HALTED (the kernel's
        ``set_trading_state``, a monitoring rule, an operator).
        """
        self.risk_stage.kill(reason)

    def on_trading_state_changed(self, event: TradingStateChanged) -> None:
        """Follow the kernel's trading state (its portfolio limits, an operator, a monitor):
        HALTED engages the kill switch (flatten); leaving HALTED releases it; REDUCING and
        ACTIVE are what the risk review applies to the next changes."""
        stage = self.risk_stage
        before = stage.reviewer.state
        if event.state is before:
            return  # the pipeline's own change
        if event.state is TradingState.HALTED:
            stage.kill(event.reason, is_external=True)
            return
        if before is TradingState.HALTED:
            stage.resume()
        stage.reviewer.state = event.state

    def on_step(self, ts_ns: int) -> None:
        """Retry a kill's leftover liquidations; rebalance every ``rebalance_every`` steps,
        from the first step at which every instrument of the universe has ``warmup_bars``
        bars."""
        self.steps += 1
        self.risk_stage.on_step(ts_ns)
        config: PipelineConfig = self.config
        if self._warm_step is None:
            if not all(self.history.count(i) >= self.warmup_bars for i in config.universe):
                return
            self._warm_step = self.steps  # the first rebalance is on the first warm step
        if (self.steps - self._warm_step) % config.rebalance_every:
            return
        self.rebalances += 1
        self.beta_stage.run(f"R-{self.rebalances}")

"""Decision events of the pipeline: every stage publishes what it decided and why.

data → beta/hedge → regime → signal agents → ensemble → portfolio targets → risk review →
cost assessment → execution plan → orders. Each event carries the ``rebalance_id`` of the
decision cycle it belongs to (``R-<n>``) and orders are tagged with it, so a trade can be
traced back through every stage (``tradeloop explain``).

Amounts in decisions are floats (analytics); the orders they lead to are exact.
"""

from __future__ import annotations

import msgspec

from tradeloop.model.events import Event


class BetaEstimate(msgspec.Struct, frozen=True, gc=False):
    """The beta of one instrument to the benchmark and the hedge it implies."""

    instrument_id: str
    beta: float
    alpha: float
    hedge_ratio: float
    observations: int


class BetasEstimated(Event, frozen=True, kw_only=True):
    """Betas of every instrument to ``benchmark_id`` at a rebalance."""

    rebalance_id: str
    benchmark_id: str
    method: str
    window: int
    estimates: tuple[BetaEstimate, ...]


class RegimeModelFitted(Event, frozen=True, kw_only=True):
    """A regime model was (re)fitted on an explicit window, never on data after ``fit_end_ns``."""

    detector_id: str
    model_version: str
    fit_start_ns: int
    fit_end_ns: int
    observations: int
    score: float
    labels: tuple[str, ...]


class RegimeChanged(Event, frozen=True, kw_only=True):
    """The detected regime changed (published on change only)."""

    detector_id: str
    model_version: str
    label: str
    previous_label: str | None
    probabilities: dict[str, float]
    confidence: float


class Signal(msgspec.Struct, frozen=True, gc=False):
    """One agent's view of one instrument: a score in [-1, 1], a confidence in [0, 1], why."""

    agent_id: str
    instrument_id: str
    score: float
    confidence: float
    reason: str


class SignalsEmitted(Event, frozen=True, kw_only=True):
    """Every signal of every agent at a rebalance (agents that failed are listed apart).

    ``agent_versions`` maps each agent id to its version: the class's version and a hash of
    its parameters (``agents.SignalAgent.agent_version``).
    """

    rebalance_id: str
    regime: str | None
    signals: tuple[Signal, ...]
    failed_agents: tuple[str, ...] = ()
    agent_versions: dict[str, str] = msgspec.field(default_factory=dict)


class AgentFailed(Event, frozen=True, kw_only=True):
    """A signal agent raised; it was isolated (skipped, or disabled after repeated errors)."""

    rebalance_id: str
    agent_id: str
    error: str
    is_disabled: bool


class EnsembleScore(msgspec.Struct, frozen=True, gc=False):
    """The combined score of one instrument and each agent's weighted contribution."""

    instrument_id: str
    score: float
    confidence: float
    contributions: dict[str, float]
    vetoes: tuple[str, ...]


class EnsembleScored(Event, frozen=True, kw_only=True):
    """The ensemble's scores at a rebalance, with the weights it used for the regime.

    ``model_version`` identifies the ensemble model (its weights table and rules).
    """

    rebalance_id: str
    regime: str | None
    weights: dict[str, float]
    scores: tuple[EnsembleScore, ...]
    model_version: str | None = None


class TargetPosition(msgspec.Struct, frozen=True, gc=False):
    """Target of one instrument: weight, quantity, and the change from the current position.

    ``expected_alpha_bps`` is the expected gross return of the change over the holding
    horizon (from the ensemble score), which the cost assessment weighs against costs.
    """

    instrument_id: str
    weight: float
    target_qty: float
    current_qty: float
    delta_qty: float
    reference_price: float
    expected_alpha_bps: float
    is_hedge: bool = False


class TargetsProposed(Event, frozen=True, kw_only=True):
    """Portfolio construction's targets (after the regime multiplier and lot rounding).

    ``model_version`` identifies the construction model (a hash of its settings).
    """

    rebalance_id: str
    method: str
    regime: str | None
    regime_multiplier: float
    equity: float
    gross_exposure: float
    net_exposure: float
    turnover: float
    targets: tuple[TargetPosition, ...]
    reasons: tuple[str, ...] = ()
    model_version: str | None = None


class RiskDecision(msgspec.Struct, frozen=True, gc=False):
    """Risk's verdict on one proposed change: approved, resized or denied, with reasons."""

    instrument_id: str
    decision: str
    requested_qty: float
    approved_qty: float
    reasons: tuple[str, ...]


class RiskReviewed(Event, frozen=True, kw_only=True):
    """Risk review of a rebalance's changes. No order reaches a venue without passing here."""

    rebalance_id: str
    decisions: tuple[RiskDecision, ...]
    trading_state: str


class RiskLimitBreached(Event, frozen=True, kw_only=True):
    """A portfolio or position limit was hit and what risk did about it.

    ``decision_id`` (``risk-<n>``) is also the rebalance tag of the exit orders it caused.
    """

    rule: str
    instrument_id: str | None
    value: float
    limit: float
    action: str
    decision_id: str | None = None


class CostDecisionRecord(msgspec.Struct, frozen=True, gc=False):
    """The cost assessment of one change: costs by kind, gross and net alpha, the decision.

    ``algorithm`` is the execution algorithm the change was costed with (and is executed
    with); ``taker_fraction`` the share expected to execute at market (paying the half spread
    and impact), ``expected_delay_ns`` the expected time from the decision to the execution
    (the delay cost's). Journals written before these fields decode with ``""``, 1 and 0.
    """

    instrument_id: str
    decision: str
    quantity_in: float
    quantity_out: float
    gross_alpha_bps: float
    cost_bps: float
    net_alpha_bps: float
    commission_bps: float
    spread_bps: float
    impact_bps: float
    delay_bps: float
    reason: str
    algorithm: str = ""
    taker_fraction: float = 1.0
    expected_delay_ns: int = 0


class CostAssessed(Event, frozen=True, kw_only=True):
    """Cost assessment of a rebalance: trades whose expected net alpha is negative are
    skipped or shrunk, with the reason recorded."""

    rebalance_id: str
    assessments: tuple[CostDecisionRecord, ...]


class ExecutionPlanned(Event, frozen=True, kw_only=True):
    """How one change will be executed: the algorithm, its schedule and the parent order id.

    ``weights`` are the slices' relative sizes when the schedule is not equal (VWAP: the
    expected volume of each slice's interval); empty: equal slices or a single order.
    """

    rebalance_id: str
    instrument_id: str
    algorithm: str
    side: str
    quantity: float
    parent_order_id: str
    start_ns: int
    end_ns: int
    slices: int
    arrival_price: float
    reason: str
    weights: tuple[float, ...] = ()


class ExecutionProgressed(Event, frozen=True, kw_only=True):
    """An execution algorithm sent or finished a child order."""

    parent_order_id: str
    instrument_id: str
    algorithm: str
    filled_qty: float
    remaining_qty: float
    child_orders: int
    note: str


class ExecutionCompleted(Event, frozen=True, kw_only=True):
    """An execution algorithm finished (filled, canceled, expired or converted)."""

    parent_order_id: str
    instrument_id: str
    algorithm: str
    filled_qty: float
    average_price: float | None
    arrival_price: float
    outcome: str


class InstrumentCapacity(msgspec.Struct, frozen=True, gc=False):
    """Tradability and capacity of one instrument, as the pipeline traded it.

    The typical trade is the mean of the run's traded changes in the instrument
    (``trades``): ``typical_trade_notional``, and as a fraction of the equity at the time
    ``trade_fraction_of_capital``; ``gross_alpha_bps`` is their notional-weighted expected
    gross alpha (reductions and hedge trades expect none). At market inputs as of the end of
    the run: ``cost_bps`` and ``net_alpha_bps`` of the typical trade (with the execution
    algorithm it gets), its ``participation`` of ADV, ``max_notional_within_alpha`` (the
    largest trade whose cost stays within its alpha; ``None``: unbounded) and
    ``capacity_capital`` (the capital at which the typical trade's net alpha reaches zero;
    ``None`` when unbounded or when the trades carry no alpha, see ``note``). The last two
    give passive fills no credit: at scale a limit's fill cannot be counted on.
    """

    instrument_id: str
    trades: int
    typical_trade_notional: float
    trade_fraction_of_capital: float
    gross_alpha_bps: float
    cost_bps: float
    net_alpha_bps: float
    participation: float
    max_notional_within_alpha: float | None
    capacity_capital: float | None
    note: str = ""


class CapacityEstimated(Event, frozen=True, kw_only=True):
    """At the end of a run: the capital at which the strategy's expected net alpha reaches
    zero (``capacity_capital``; ``None``: unbounded), and each instrument's tradability.

    ``equity`` is the run's final equity, for comparison; ``basis`` says which inputs were
    used.
    """

    capacity_capital: float | None
    equity: float
    rebalances: int
    instruments: tuple[InstrumentCapacity, ...]
    basis: str


class FeatureContribution(msgspec.Struct, frozen=True, gc=False):
    """One feature's value at a model decision and how much it moved the prediction (its
    SHAP value for tree models, ``coef * standardized value`` for linear ones)."""

    feature: str
    value: float
    contribution: float


class ModelPredicted(Event, frozen=True, kw_only=True):
    """A model agent's prediction for one instrument at a rebalance: which model and version
    (with the artifact's and the feature set's hashes), the prediction, the score it became,
    and every feature's value and contribution (``bias`` + contributions = prediction)."""

    rebalance_id: str
    agent_id: str
    instrument_id: str
    model: str
    model_version: str
    artifact_hash: str
    feature_hash: str
    prediction: float
    score: float
    bias: float
    contributions: tuple[FeatureContribution, ...]


class ModelFallback(Event, frozen=True, kw_only=True):
    """A model agent could not decide for an instrument (``reason``: ``error``, ``timeout``,
    ``nan_output``, ``missing_feature``, ``not_loaded``; a served policy also
    ``observation_mismatch``); the instrument goes to the safe
    position ``action`` (``flat``, ``hold``, ``reduce``): ``position_fraction`` of the
    current position (0, 1, or the configured fraction)."""

    rebalance_id: str
    agent_id: str
    instrument_id: str
    model: str
    model_version: str
    reason: str
    detail: str
    action: str
    position_fraction: float


class ModelFitted(Event, frozen=True, kw_only=True):
    """A model agent refitted its registered model walk-forward on an explicit window: rows
    stamped in ``[fit_start_ns, fit_end_ns]`` whose label ended by ``fit_end_ns``, nothing
    later. ``model_version`` is the version it predicts with from now on
    (``<registered version>+wf<n>``)."""

    rebalance_id: str
    agent_id: str
    model: str
    model_version: str
    base_version: str
    fit_start_ns: int
    fit_end_ns: int
    rows: int


class PolicyActed(Event, frozen=True, kw_only=True):
    """A served RL policy decided for its instrument (``rl.serve.ServedPolicy``): what it
    observed (the features and its position's weight, by name, as the environment built
    them), the value of each action (logits, or Q-values for DQN), the action taken and the
    target weight it means; ``contributions``: each observed number's integrated-gradients
    attribution of the chosen action's value from the all-zero observation, whose value is
    ``baseline`` (``baseline`` + contributions ≈ the chosen action's value).
    ``rebalance_id`` is the decision id (``policy-<n>``) its order is tagged with;
    ``agent_id`` the strategy's id."""

    rebalance_id: str
    agent_id: str
    instrument_id: str
    model: str
    model_version: str
    artifact_hash: str
    observation_hash: str
    observation: dict[str, float]
    action_values: tuple[float, ...]
    probabilities: tuple[float, ...]
    action: int
    target_weight: float
    baseline: float = 0.0
    contributions: tuple[FeatureContribution, ...] = ()

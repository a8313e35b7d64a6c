"""Configuration of the pipeline strategy: one section per stage, strict and documented.

Defaults are a reasonable daily-equity setup; every field can be set in the run config's
``[strategies.params]`` (see ``examples/pipeline_demo.toml``).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from tradeloop.agents.ensemble import EnsembleConfig
from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.costs.almgren_chriss import almgren_chriss_kappa, almgren_chriss_rule_of_thumb
from tradeloop.costs.assessment import CostAssessmentConfig
from tradeloop.execution.algos import ALGORITHMS
from tradeloop.regime.changes import RegimeChangeConfig
from tradeloop.regime.hmm import GaussianHMMConfig
from tradeloop.regime.rules import TrendVolatilityConfig
from tradeloop.regime.walk_forward import WalkForwardConfig
from tradeloop.risk.review import RiskReviewConfig
from tradeloop.strategy.base import StrategyConfig

AGENT_TYPES = ("ts_momentum", "xs_momentum", "mean_reversion", "levels", "volatility_filter")
MODEL_AGENT_TYPES = ("lightgbm", "linear")
"""Agents that run a registered model (``models.agent``); not in the default agent list."""
PIPELINE_ALGORITHMS = tuple(name for name in ALGORITHMS if name != "sor")
"""Execution algorithms a pipeline plan can use (``sor`` needs venues: ``ExecutionSchedule``)."""
METHODS = ("inverse_vol", "vol_target", "risk_parity", "min_variance", "mean_variance")


class AgentSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One signal agent: a built-in ``type`` (see ``AGENT_TYPES``), ``path/to/file.py:Class``
    (a file relative to the config's directory) or ``module:Class`` whose top-level package is
    listed in ``allow_agent_modules`` (or is ``tradeloop``); ``params`` go to its
    constructor."""

    type: str
    id: str | None = None
    params: dict[str, Any] = {}


class BetaSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Beta to the benchmark: rolling OLS over ``window`` returns or EWMA (``halflife``).

    With ``hedge``, the targets include a benchmark position of -Σ βᵢ·wᵢ (beta-neutral).
    """

    method: str = "ols"
    window: int = 120
    halflife: float = 60.0
    hedge: bool = False

    def __post_init__(self) -> None:
        if self.method not in ("ols", "ewma"):
            raise ConfigError(f"beta method {self.method!r} is not ols or ewma")
        if self.window < 10:
            raise ConfigError(f"beta window {self.window} must be at least 10 returns")


class RegimeSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Regime detection on ``instrument`` (default: the benchmark).

    ``detector``: ``"hmm"`` (Gaussian HMM on return and volatility, refitted walk-forward on
    explicit windows, causal forward filter), ``"rules"`` (trend vs a long SMA and volatility
    percentile) or ``"none"``. ``multipliers`` maps regime labels to sizing multipliers in
    [0, 1] (a label not listed keeps 1). ``agent_weights`` lives in the ensemble section.
    """

    detector: str = "hmm"
    instrument: str | None = None
    volatility_period: int = 20
    hmm: GaussianHMMConfig = GaussianHMMConfig(n_states=2, n_iter=50)
    walk_forward: WalkForwardConfig = WalkForwardConfig(
        refit_every_bars=63, window_bars=750, min_fit_bars=250, filter_warmup_bars=250
    )
    rules: TrendVolatilityConfig = TrendVolatilityConfig()
    change: RegimeChangeConfig = RegimeChangeConfig(min_dwell_bars=3)
    multipliers: dict[str, float] = {}

    def __post_init__(self) -> None:
        if self.detector not in ("hmm", "rules", "none"):
            raise ConfigError(f"regime detector {self.detector!r} is not hmm, rules or none")


class ConstructionSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """From ensemble scores to target weights.

    ``method``: ``inverse_vol`` (wᵢ ∝ sᵢ·cᵢ/σᵢ, scaled so full-conviction scores use
    ``max_gross_exposure``), ``vol_target`` (the same, rescaled to ``target_volatility``),
    ``risk_parity`` (equal risk contributions among the names with a score, signed and scaled
    by conviction), ``min_variance`` (long-only, among positive scores) or ``mean_variance``
    (μ = s·c·``alpha_bps_per_score``, ``risk_aversion``). Constraints: ``max_weight`` per name,
    gross and net exposure, ``max_turnover`` per rebalance. ``alpha_bps_per_score`` is the
    expected gross return (bps over the rebalance horizon) of a score of 1 at confidence 1,
    which the cost assessment weighs against costs. Names with |score| below
    ``min_abs_score`` get no position.
    """

    method: str = "inverse_vol"
    lookback: int = 126
    shrinkage: bool = True
    target_volatility: float = 0.12
    max_weight: float = 0.25
    allow_short: bool = False
    max_gross_exposure: float = 1.0
    min_net_exposure: float = 0.0
    max_net_exposure: float = 1.0
    max_turnover: float | None = None
    risk_aversion: float = 5.0
    alpha_bps_per_score: float = 150.0
    min_abs_score: float = 0.05
    min_trade_notional: float = 500.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"construction method {self.method!r} is not one of {', '.join(METHODS)}"
            )
        if self.lookback < 20:
            raise ConfigError(f"construction lookback {self.lookback} must be at least 20 returns")


class CostSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Cost assessment of each change that adds exposure.

    ``spread_bps`` is the full quoted spread per instrument (``default_spread_bps`` for the
    rest); σ and ADV come from the last ``adv_window`` bars; ``delay_ns`` is the expected time
    from decision to execution (a daily decision at the close executes at the next open).
    Each change is costed with the execution algorithm it will get
    (``pipeline.algorithm_choice``): a passive limit's fill probability and the bar spacing
    come from the last ``fill_window`` bars.
    """

    assessment: CostAssessmentConfig = CostAssessmentConfig()
    spread_bps: dict[str, float] = {}
    default_spread_bps: float = 4.0
    adv_window: int = 20
    delay_ns: int = 63_000_000_000_000  # 17.5 h: close to next open
    fill_window: int = 60

    def __post_init__(self) -> None:
        spreads = [("default_spread_bps", self.default_spread_bps)] + [
            (f"spread_bps[{key!r}]", value) for key, value in sorted(self.spread_bps.items())
        ]
        for name, value in spreads:
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"costs {name} {value} must be finite and >= 0")
        if self.adv_window < 2 or self.fill_window < 2:
            raise ConfigError(
                f"costs adv_window {self.adv_window} and fill_window {self.fill_window} must be "
                "at least 2 bars"
            )
        if self.delay_ns < 0:
            raise ConfigError(f"costs delay_ns {self.delay_ns} must be >= 0")


class ExecutionSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How approved changes become orders.

    Changes up to ``large_participation`` of ADV use ``algorithm``; larger ones use
    ``large_algorithm`` (spreading the order over ``slices`` bars). ``timeout_bars`` and
    ``offset_ticks`` set limit-then-market; ``rate`` sets POV; ``implementation_shortfall``
    follows the Almgren–Chriss trajectory over ``slices`` bars spanning ``horizon_days``, with
    coefficients from Almgren's rule of thumb (spread and ADV) and ``risk_aversion``;
    ``iceberg`` shows ``display_fraction`` of the order at a time at the arrival price.
    ``vwap`` sizes its ``slices`` (one per bar) by the intraday volume profile of the last
    ``volume_profile_days`` days in ``volume_bucket_ns`` buckets of time of day
    (``analytics.volume_profile``), from past bars only; equal slices until a past day exists.
    """

    algorithm: str = "immediate"
    large_algorithm: str = "twap"
    large_participation: float = 0.02
    slices: int = 3
    rate: float = 0.1
    timeout_bars: int = 1
    offset_ticks: int = 0
    risk_aversion: float = 1e-6
    horizon_days: float = 3.0
    display_fraction: float = 0.2
    volume_bucket_ns: int = 300_000_000_000
    volume_profile_days: int = 20

    def __post_init__(self) -> None:
        # Every plan the pipeline can make is checked here, at startup: an algorithm or a
        # setting it would reject mid-session is a config error now.
        for name, value in (
            ("algorithm", self.algorithm),
            ("large_algorithm", self.large_algorithm),
        ):
            if value == "sor":
                raise ConfigError(
                    f"execution {name} 'sor' routes over several venues, which the pipeline's "
                    "plans do not name: use the ExecutionSchedule strategy to route orders"
                )
            if value not in PIPELINE_ALGORITHMS:
                raise ConfigError(
                    f"execution {name} {value!r} is not one of {', '.join(PIPELINE_ALGORITHMS)}"
                )
        if self.slices < 1 or self.timeout_bars < 1:
            raise ConfigError(
                f"execution slices {self.slices} and timeout_bars {self.timeout_bars} must be "
                "at least 1"
            )
        if not 0 < self.rate <= 1:
            raise ConfigError(f"execution rate {self.rate} must be in (0, 1]")
        if not 0 < self.display_fraction <= 1:
            raise ConfigError(
                f"execution display_fraction {self.display_fraction} must be in (0, 1]"
            )
        if not (math.isfinite(self.large_participation) and self.large_participation >= 0):
            raise ConfigError(
                f"execution large_participation {self.large_participation} must be finite and >= 0"
            )
        if not (math.isfinite(self.risk_aversion) and self.risk_aversion >= 0):
            raise ConfigError(
                f"execution risk_aversion {self.risk_aversion} must be finite and >= 0"
            )
        if not (math.isfinite(self.horizon_days) and self.horizon_days > 0):
            raise ConfigError(f"execution horizon_days {self.horizon_days} must be positive")
        if "implementation_shortfall" in (self.algorithm, self.large_algorithm):
            # The rule-of-thumb coefficients scale with the spread and ADV alike (eta = 10
            # gamma), so whether the trajectory exists depends on the slices' length only.
            model = almgren_chriss_rule_of_thumb(1.0, 1.0, self.risk_aversion)
            try:
                almgren_chriss_kappa(self.horizon_days, self.slices, 1.0, model)
            except InvalidValueError as error:
                raise ConfigError(
                    f"execution implementation_shortfall over horizon_days {self.horizon_days} "
                    f"in {self.slices} slices has no Almgren-Chriss trajectory with the "
                    f"rule-of-thumb coefficients: {error}; use more slices or a shorter horizon"
                ) from None
        if self.offset_ticks < 0:
            raise ConfigError(f"execution offset_ticks {self.offset_ticks} must be >= 0")
        day = 86_400_000_000_000
        if self.volume_bucket_ns <= 0 or day % self.volume_bucket_ns:
            raise ConfigError(
                f"execution volume_bucket_ns {self.volume_bucket_ns} must be positive and "
                f"divide a day ({day} ns)"
            )
        if self.volume_profile_days < 1:
            raise ConfigError(
                f"execution volume_profile_days {self.volume_profile_days} must be at least 1"
            )


class PipelineConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole pipeline (see each section)."""

    universe: list[str]
    benchmark: str | None = None
    rebalance_every: int = 5
    history_bars: int = 400
    agents: list[AgentSpec] = msgspec.field(
        default_factory=lambda: [AgentSpec(type=name) for name in AGENT_TYPES]
    )
    allow_agent_modules: list[str] = msgspec.field(default_factory=list)
    max_agent_failures: int = 3
    ensemble: EnsembleConfig = EnsembleConfig()
    regime: RegimeSpec = RegimeSpec()
    beta: BetaSpec = BetaSpec()
    construction: ConstructionSpec = ConstructionSpec()
    risk: RiskReviewConfig = RiskReviewConfig()
    costs: CostSpec = CostSpec()
    execution: ExecutionSpec = ExecutionSpec()

    def __post_init__(self) -> None:
        if not self.universe:
            raise ConfigError("pipeline universe is empty")
        if len(set(self.universe)) != len(self.universe):
            raise ConfigError(f"pipeline universe has duplicates: {self.universe}")
        if self.rebalance_every < 1:
            raise ConfigError(f"pipeline rebalance_every {self.rebalance_every} must be at least 1")
        if self.beta.hedge and self.benchmark is None:
            raise ConfigError("a beta hedge needs a benchmark")
        if "implementation_shortfall" in (self.execution.algorithm, self.execution.large_algorithm):
            # Its Almgren-Chriss coefficients are scaled by the spread (rule of thumb).
            costs = self.costs
            zero = [f"spread_bps[{k!r}]" for k, v in sorted(costs.spread_bps.items()) if v <= 0]
            if costs.default_spread_bps <= 0:
                zero.insert(0, "default_spread_bps")
            if zero:
                raise ConfigError(
                    f"execution implementation_shortfall scales its Almgren-Chriss "
                    f"coefficients by the spread: costs {', '.join(zero)} must be positive"
                )

"""A registered RL policy served as a strategy (``class = "tradeloop.rl:ServedPolicy"``): it
builds the environment's observation online and maps its action to a target as the
environment does, in any mode — with the model fallback whenever it cannot decide.

Why a strategy and not a pipeline signal agent: the policy observes its own position and its
action *is* a target weight, executed at once with a market order; a pipeline agent emits a
score that the ensemble, the portfolio construction and the turnover limit turn into
someone else's target, which is not what the policy was trained to control.

Startup (``check_run``, before anything runs; each problem is one ``ConfigError``):

1. the run has ``[features]``; the model (name, version: a number, ``latest``, ``staging``
   or ``production``) is in the registry under the store and is an ``rl`` model;
2. the artifact's SHA-256 is the one registered, and it loads as a policy;
3. every feature the policy was trained on is in the run's feature set, and the run's
   observation (``policy.observation_hash``: feature definitions, names, the position's
   weight) hashes as the one the policy was trained on.

In the loop (``on_bar``), steps of a decision:

1. update the online features with the bar (the computation materialization and the
   environment use); before the first bar with every feature (the warm-up) nothing happens,
   as in the environment; then every ``decision_every`` bars (the card's) a decision;
2. build the observation (``trading.PolicyTrading.observation``);
3. fall back when a feature has no value (``missing_feature``), the observation is not the
   policy's (``observation_mismatch``: its size or hash), inference raises (``error``) or
   takes longer than ``timeout_ms`` (``timeout``, off by default: it makes a run depend on
   the machine's speed), or the action values are not finite (``nan_output``): a
   ``ModelFallback`` and an ``AlertRaised`` are journaled and the position goes to the safe
   position (``flat``: 0; ``hold``: unchanged; ``reduce``: ``1 - reduce_fraction`` of it);
4. otherwise journal ``PolicyActed`` (model, version, hashes, observation, action values,
   action, target weight, and each observed number's integrated-gradients attribution of
   the chosen action's value: ``MlpPolicy.attributions``) and send the order that moves
   the position to the action's target weight (``trading.PolicyTrading.move_to_weight``),
   tagged ``rebalance:policy-<n>`` so that ``tradeloop explain`` finds the decision.
"""

from __future__ import annotations

import concurrent.futures
import math
from pathlib import Path
from typing import Any, Final, cast

import numpy as np

from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.model.data import Bar
from tradeloop.model.decisions import FeatureContribution, ModelFallback, PolicyActed
from tradeloop.model.events import AlertRaised
from tradeloop.models.registry import ModelCard, ModelRegistry
from tradeloop.rl.policy import MlpPolicy, observation_hash, observation_names
from tradeloop.rl.register import KIND
from tradeloop.rl.trading import PolicyTrading
from tradeloop.strategy.base import RunInputs, StrategyConfig

FALLBACKS: Final = ("flat", "hold", "reduce")


class ServedPolicy(PolicyTrading):
    """A registered policy trading one instrument (see the module docstring)."""

    class Config(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
        """``model``, ``version``: which registered policy; ``store``: the registry's
        directory (default: the run's ``[features] store``); ``fallback``: ``flat``, ``hold``
        or ``reduce`` (by ``reduce_fraction``); ``timeout_ms``: inference time limit (off)."""

        instrument_id: str
        model: str
        version: int | str = "production"
        store: str | None = None
        fallback: str = "flat"
        reduce_fraction: float = 0.5
        timeout_ms: float | None = None

        def __post_init__(self) -> None:
            if self.fallback not in FALLBACKS:
                raise ConfigError(
                    f"fallback {self.fallback!r} is not one of {', '.join(FALLBACKS)}"
                )
            if not 0.0 <= self.reduce_fraction < 1.0:
                raise ConfigError(f"reduce_fraction {self.reduce_fraction} must be in [0, 1)")
            if self.timeout_ms is not None and not self.timeout_ms > 0:
                raise ConfigError(f"timeout_ms {self.timeout_ms} must be > 0")

    card: ModelCard | None = None
    policy: Any = None  # MlpPolicy; anything with ``act`` and ``document`` serves (tests)
    expected_observation_hash: str = ""

    def required_instruments(self) -> list[str]:
        """Return the traded instrument."""
        return [self.config.instrument_id]

    def check_run(self, run: RunInputs) -> None:
        """Load the policy and check it against the run (module docstring)."""
        super().check_run(run)
        config, features = self.config, self.features
        where = f"strategy {self.id} (policy {config.model})"
        registry = ModelRegistry(Path(config.store or features.store))
        card = registry.card(config.model, config.version)
        if card.kind != KIND:
            raise ConfigError(
                f"{where}: v{card.version} is a {card.kind} model, not an RL policy; serve it "
                f"with the pipeline's {card.kind} agent"
            )
        try:
            policy = MlpPolicy.from_bytes(registry.artifact(card))
        except TradeloopError as error:
            raise ConfigError(f"{where}: {error}") from None
        provided = features.feature_names
        missing = [name for name in card.feature_names if name not in provided]
        if missing:
            raise ConfigError(
                f"{where} v{card.version} needs features the run does not provide: "
                f"{', '.join(missing)} (the run's feature set {features.name} has "
                f"{', '.join(provided)})"
            )
        expected = observation_hash(features)
        if card.observation_hash != expected or policy.document.observation_hash != expected:
            raise ConfigError(
                f"{where} v{card.version} was trained on the observation "
                f"{card.observation_hash[:16]} ({', '.join(policy.document.observation_names)}); "
                f"the run's [features] {features.name} make {expected[:16]} "
                f"({', '.join(observation_names(features))}): "
                "the policy would see other inputs than it learned from"
            )
        self.card, self.policy, self.expected_observation_hash = card, policy, expected

    # -- the loop --------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe to the instrument's bars; build the online features."""
        self.online = self.start_features()
        self.subscribe_bars(self.config.instrument_id)
        self.bars = self.decisions = 0
        self.is_warm = False
        self.bar_error: str | None = None
        self.counts: dict[str, int] = {}
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._running: concurrent.futures.Future[Any] | None = None

    def on_stop(self) -> None:
        """Let go of the inference thread, if a timeout started one."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def run_summary(self) -> dict[str, Any]:
        """Return the decisions, the actions taken and the fallbacks, by kind."""
        card = self.card
        return {
            "model": self.config.model,
            "model_version": "" if card is None else str(card.version),
            "decisions": self.decisions,
            "counts": dict(sorted(self.counts.items())),
        }

    def on_bar(self, bar: Bar) -> None:
        """Update the features; at a decision bar, decide (module docstring)."""
        try:
            row = self.online.update(bar)
        except Exception as error:  # bad data for one bar: every later decision falls back
            self.bar_error = f"features of {bar.instrument_id}: {type(error).__name__}: {error}"
            row = ()
        self.bars += 1
        if not self.is_warm:
            if not row or not all(math.isfinite(v) for v in row):
                return
            self.is_warm = True
        if self.card is None or self.bars % int(self.card.params.get("decision_every", 1)):
            return
        self.decide(row, bar.close_raw / 10**bar.price_precision)

    def decide(self, row: tuple[float, ...], price: float) -> None:
        """Take one decision on the features ``row`` at ``price`` (module docstring)."""
        card, policy = self.card, self.policy
        assert card is not None
        self.decisions += 1
        ts_ns = self.clock.timestamp_ns()
        decision_id = f"policy-{self.decisions}"
        names = card.feature_names
        if self.bar_error is not None:
            self._fall_back(decision_id, ts_ns, "error", self.bar_error)
            return
        if len(row) != len(names) or not all(math.isfinite(v) for v in row):
            absent = [n for n, v in zip(names, row, strict=False) if not math.isfinite(v)]
            self._fall_back(
                decision_id,
                ts_ns,
                "missing_feature",
                f"no value for {', '.join(absent or names)}",
            )
            return
        observation = self.observation(self.config.instrument_id, row, price)
        document = policy.document
        if document.observation_hash != self.expected_observation_hash or len(observation) != len(
            document.observation_names
        ):
            self._fall_back(
                decision_id,
                ts_ns,
                "observation_mismatch",
                f"observation {self.expected_observation_hash[:16]} of {len(observation)} "
                f"numbers; the policy observes {document.observation_hash[:16]} of "
                f"{len(document.observation_names)}",
            )
            return
        try:
            action, values = self._act(observation)
        except (TimeoutError, concurrent.futures.TimeoutError) as error:
            self._fall_back(
                decision_id,
                ts_ns,
                "timeout",
                f"inference over {self.config.timeout_ms:g} ms: {error}",
            )
            return
        except Exception as error:  # the policy's own failure: fall back, never crash
            self._fall_back(decision_id, ts_ns, "error", f"{type(error).__name__}: {error}")
            return
        values = np.asarray(values, dtype=np.float64)
        if not np.isfinite(values).all() or not 0 <= action < len(document.actions):
            self._fall_back(
                decision_id, ts_ns, "nan_output", f"action {action}, values {values.tolist()}"
            )
            return
        weight = float(document.actions[action])
        probabilities = policy.probabilities(values) if hasattr(policy, "probabilities") else None
        baseline, parts = 0.0, cast(tuple[FeatureContribution, ...], ())
        try:  # which observed numbers moved the chosen action (explain); never a failure
            baseline, attributed = policy.attributions(observation, action)
            parts = tuple(
                FeatureContribution(name, float(value), float(part))
                for name, value, part in zip(
                    document.observation_names, observation, attributed, strict=True
                )
            )
        except Exception:  # a policy without attributions (a test's fake): the decision stands
            parts = ()
        self.counts[f"action_{action}"] = self.counts.get(f"action_{action}", 0) + 1
        self.publish(
            PolicyActed(
                rebalance_id=decision_id,
                agent_id=self.id,
                instrument_id=self.config.instrument_id,
                model=card.name,
                model_version=str(card.version),
                artifact_hash=card.artifact_hash,
                observation_hash=card.observation_hash,
                observation={
                    n: float(v)
                    for n, v in zip(document.observation_names, observation, strict=True)
                },
                action_values=tuple(float(v) for v in values),
                probabilities=() if probabilities is None else tuple(map(float, probabilities)),
                action=action,
                target_weight=weight,
                baseline=float(baseline),
                contributions=parts,
                ts_event=ts_ns,
                ts_init=ts_ns,
            )
        )
        self.move_to_weight(self.config.instrument_id, weight, price, (f"rebalance:{decision_id}",))

    def _act(self, observation: np.ndarray[Any, Any]) -> tuple[int, Any]:
        if self.config.timeout_ms is None:
            return self.policy.act(observation)  # type: ignore[no-any-return]
        if self._running is not None and not self._running.done():
            raise TimeoutError("the previous inference is still running")
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, f"policy-{self.id}")
        self._running = self._pool.submit(self.policy.act, observation)
        return self._running.result(timeout=self.config.timeout_ms / 1000.0)  # type: ignore[no-any-return]

    def _fall_back(self, decision_id: str, ts_ns: int, reason: str, detail: str) -> None:
        card, config = self.card, self.config
        assert card is not None
        fraction = {"flat": 0.0, "hold": 1.0, "reduce": 1.0 - config.reduce_fraction}[
            config.fallback
        ]
        self.counts[f"fallback_{reason}"] = self.counts.get(f"fallback_{reason}", 0) + 1
        self.publish(
            ModelFallback(
                rebalance_id=decision_id,
                agent_id=self.id,
                instrument_id=config.instrument_id,
                model=card.name,
                model_version=str(card.version),
                reason=reason,
                detail=detail,
                action=config.fallback,
                position_fraction=fraction,
                ts_event=ts_ns,
                ts_init=ts_ns,
            )
        )
        self.publish(
            AlertRaised(
                severity="warning",
                source=f"strategy.{self.id}",
                message=(
                    f"policy {card.name} v{card.version} fell back to {config.fallback} on "
                    f"{config.instrument_id} ({reason}: {detail})"
                ),
                ts_event=ts_ns,
                ts_init=ts_ns,
            )
        )
        if config.fallback != "hold":
            held = self.held(config.instrument_id)
            self.move_to_quantity(
                config.instrument_id, held * fraction, (f"rebalance:{decision_id}",)
            )

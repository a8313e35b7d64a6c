"""Combining agents' signals into one score per instrument.

For each instrument, over the directional agents that gave a signal (weights ``w`` from
the config, chosen by regime when ``regime_weights`` has the current regime):

    score      = Σ w·c·s / Σ w·c          (confidence-weighted mean of the scores;
                                          Σ w·s / Σ w when Σ w·c < 1e-12)
    confidence = Σ w·c / Σ w              (abstaining agents lower it)

so the ensemble of one agent is that agent. Filters (``is_filter`` agents, score in
[-1, 0]) gate the result: score × Π(1 + s_filter). Veto rules then set the score to 0
(or only its long or short side) when an agent's score crosses a threshold; each veto is
recorded with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.ids import content_hash
from tradeloop.model.decisions import EnsembleScore, Signal

_MIN_MASS = 1e-12


class VetoRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Zero the ensemble score when ``agent``'s score is below ``below`` or above ``above``.

    ``side`` limits the veto: ``"both"`` (default), ``"long"`` (only positive scores are
    vetoed) or ``"short"``.
    """

    agent: str
    below: float | None = None
    above: float | None = None
    side: str = "both"

    def __post_init__(self) -> None:
        if self.below is None and self.above is None:
            raise ConfigError(f"veto rule on {self.agent} needs a below or above threshold")
        if self.side not in ("both", "long", "short"):
            raise ConfigError(f"veto rule side {self.side!r} is not both, long or short")

    def triggered_by(self, score: float) -> bool:
        """Return whether an agent score of ``score`` triggers this rule."""
        return (self.below is not None and score < self.below) or (
            self.above is not None and score > self.above
        )


class EnsembleConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Weights per agent id (default 1 each), per-regime overrides, veto rules."""

    weights: dict[str, float] = {}
    regime_weights: dict[str, dict[str, float]] = {}
    vetoes: list[VetoRule] = []
    min_confidence: float = 0.0

    def __post_init__(self) -> None:
        for table in (self.weights, *self.regime_weights.values()):
            for agent, weight in table.items():
                if not weight >= 0:
                    raise ConfigError(
                        f"ensemble weight of {agent} is {weight}; weights must be non-negative"
                    )


class Ensemble:
    """Combine signals (see the module docstring)."""

    def __init__(
        self, config: EnsembleConfig, agent_ids: Iterable[str], filter_ids: Iterable[str] = ()
    ) -> None:
        self.config = config
        self.agent_ids = sorted(agent_ids)
        self.filter_ids = frozenset(filter_ids)
        content = msgspec.json.encode(
            {"config": config, "agents": self.agent_ids, "filters": sorted(self.filter_ids)},
            order="sorted",
        )
        self.model_version = "ensemble-" + content_hash(content)
        """The ensemble model's version: a hash of its weights table, veto rules, minimum
        confidence and agents (``EnsembleScored.model_version``)."""

    def weights_for(self, regime: str | None) -> dict[str, float]:
        """Return the weight of every agent in ``regime``."""
        table = self.config.regime_weights.get(regime or "", self.config.weights)
        return {
            agent: float(table.get(agent, self.config.weights.get(agent, 1.0)))
            for agent in self.agent_ids
        }

    def combine(
        self, signals: Iterable[Signal], regime: str | None, universe: Iterable[str]
    ) -> list[EnsembleScore]:
        """Return one score per instrument of ``universe`` that has at least one signal."""
        weights = self.weights_for(regime)
        by_instrument: dict[str, list[Signal]] = {}
        for signal in signals:
            by_instrument.setdefault(signal.instrument_id, []).append(signal)
        directional_weight = sum(w for a, w in weights.items() if a not in self.filter_ids)
        scores = []
        for instrument_id in sorted(set(universe)):
            found = sorted(by_instrument.get(instrument_id, []), key=lambda s: s.agent_id)
            if not found:
                continue
            numerator = mass = plain = plain_weight = 0.0
            contributions: dict[str, float] = {}
            gate = 1.0
            for signal in found:
                weight = weights.get(signal.agent_id, 0.0)
                if signal.agent_id in self.filter_ids:
                    if weight > 0:
                        gate *= 1.0 + signal.score
                    continue
                numerator += weight * signal.confidence * signal.score
                mass += weight * signal.confidence
                plain += weight * signal.score
                plain_weight += weight
            # Below 1e-12 the weighted sums underflow: treat it as no confidence at all.
            confident = mass >= _MIN_MASS
            if confident:
                score = numerator / mass
            else:
                score = plain / plain_weight if plain_weight > 0 else 0.0
            confidence = mass / directional_weight if directional_weight > 0 else 0.0
            for signal in found:
                if signal.agent_id not in self.filter_ids and mass > 0:
                    share = (
                        weights.get(signal.agent_id, 0.0) * signal.confidence * signal.score / mass
                    )
                    contributions[signal.agent_id] = share * gate
            score *= gate
            vetoes: list[str] = []
            agent_scores = {s.agent_id: s.score for s in found}
            for rule in self.config.vetoes:
                value = agent_scores.get(rule.agent)
                if value is None or not rule.triggered_by(value):
                    continue
                if (
                    rule.side == "both"
                    or (rule.side == "long" and score > 0)
                    or (rule.side == "short" and score < 0)
                ):
                    vetoes.append(f"{rule.agent} score {value:+.2f} vetoes {rule.side}")
                    score = 0.0
            if confidence < self.config.min_confidence:
                vetoes.append(f"confidence {confidence:.2f} below {self.config.min_confidence:.2f}")
                score = 0.0
            if vetoes:
                contributions = dict.fromkeys(contributions, 0.0)
            scores.append(
                EnsembleScore(
                    instrument_id,
                    max(-1.0, min(1.0, score)),
                    confidence,
                    contributions,
                    tuple(vetoes),
                )
            )
        return scores

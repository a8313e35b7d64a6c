"""Register a trained policy in the model registry, beside the supervised models.

The card of a policy (``kind = "rl"``, artifact ``policy.json``: ``policy.MlpPolicy``) holds
what the registry holds for every model — the artifact's SHA-256, the feature set's name,
definitions and hash, the training window (the environment's first and last bar), each
instrument's data hash, the config hash, the code version — plus the observation's hash
(``policy.observation_hash``), and as metrics the learning curve's summary: the episodes, the
first and last episode rewards and the mean of the last five (each the log growth of equity
over an episode, costs included). ``rows`` is the number of timesteps trained; the parameters
are the algorithm's, the actions' target weights, ``decision_every`` and the whole curve.

``train_and_register`` trains (``train.train_policy``), exports (``export.export_sb3``) and
registers in one call; ``register_policy`` registers a policy made otherwise (a test's fixed
weights).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tradeloop.core.errors import ConfigError
from tradeloop.models.registry import ModelCard, ModelRegistry
from tradeloop.models.spec import ModelSpec
from tradeloop.rl.policy import MlpPolicy, observation_hash

ARTIFACT = "policy.json"
KIND = "rl"


def curve_metrics(curve: list[tuple[int, float]]) -> dict[str, float]:
    """Return the learning curve's summary (module docstring); empty without an episode."""
    if not curve:
        return {"episodes": 0.0}
    rewards = [reward for _, reward in curve]
    last = rewards[-5:]
    return {
        "episodes": float(len(rewards)),
        "first_episode_reward": rewards[0],
        "last_episode_reward": rewards[-1],
        "mean_last_5_episode_reward": math.fsum(last) / len(last),
    }


def _environment(config_path: Path) -> tuple[Any, Any]:
    # The environment's run (prepared as a backtest prepares it) and its policy strategy.
    from tradeloop.config.loader import load_config
    from tradeloop.engine.runner import prepare_run
    from tradeloop.rl.env import KernelEnv

    config = load_config(config_path)
    prepared = prepare_run(config, config_path.parent)
    return prepared, KernelEnv._policy(prepared)


def _span(
    name: str, prepared: Any, instrument_id: str, start_ns: int | None, end_ns: int | None
) -> tuple[int, int]:
    # The first and last bar of the environment's data, inside the training window.
    from tradeloop.core.time import ns_to_iso

    sources = prepared.sources
    stamps = [s.columns.ts_init for s in sources if s.columns.instrument_id == instrument_id]
    if not stamps or not len(stamps[0]):
        raise ConfigError(f"policy {name}: the environment has no data for {instrument_id}")
    first, last = int(stamps[0][0]), int(stamps[0][-1])
    if (start_ns is not None and first < start_ns) or (end_ns is not None and last > end_ns):
        raise ConfigError(
            f"policy {name}: the environment's data runs {ns_to_iso(first)} → {ns_to_iso(last)}, "
            "outside the model's train_start/train_end: cut the [[data]] to the training window "
            "(an episode would learn from bars after it)"
        )
    return first, last


def register_policy(
    registry: ModelRegistry,
    name: str,
    policy: MlpPolicy,
    config_path: str | Path,
    *,
    curve: list[tuple[int, float]] | None = None,
    timesteps: int = 0,
    params: dict[str, Any] | None = None,
    train_start_ns: int | None = None,
    train_end_ns: int | None = None,
) -> ModelCard:
    """Register ``policy``, trained on the environment of ``config_path``, as a new version
    of ``name`` (in staging).

    Raises
    ------
    ConfigError
        If the policy does not observe that environment's observation or does not mean its
        actions, or the environment's data reaches outside ``[train_start_ns, train_end_ns]``.
    """
    path = Path(config_path)
    prepared, strategy = _environment(path)
    features = prepared.config.features
    document = policy.document
    if document.observation_hash != observation_hash(features):
        raise ConfigError(
            f"policy {name}: its observation {document.observation_hash[:16]} is not the "
            f"environment's {observation_hash(features)[:16]} ({path})"
        )
    actions = [float(a) for a in strategy.config.actions]
    if document.actions != actions or document.decision_every != strategy.config.decision_every:
        raise ConfigError(
            f"policy {name}: actions {document.actions} every {document.decision_every} bars; "
            f"the environment's are {actions} every {strategy.config.decision_every}"
        )
    instrument_id = strategy.config.instrument_id
    first, last = _span(name, prepared, instrument_id, train_start_ns, train_end_ns)
    card = ModelCard(
        name=name,
        version=0,
        kind=KIND,
        artifact=ARTIFACT,
        artifact_hash="",
        feature_set=features.name,
        feature_hash=features.definition_hash(),
        feature_names=features.feature_names,
        definitions={"definitions": features.definitions, "external": features.external},
        label=None,
        instruments=[instrument_id],
        fit_start_ns=first,
        fit_end_ns=last,
        rows=timesteps,
        data_hashes={s.columns.instrument_id: s.content_hash for s in prepared.sources},
        metrics=curve_metrics(curve or []),
        params={
            "algorithm": document.algorithm,
            "actions": actions,
            "decision_every": document.decision_every,
            "curve": [[step, reward] for step, reward in curve or []],
            **(params or {}),
        },
        label_scale=1.0,
        config_hash=prepared.config_hash,
        code_version=prepared.code_version,
        observation_hash=document.observation_hash,
    )
    return registry.register(card, policy.to_bytes())


def train_spec(
    config_path: str | Path, spec: ModelSpec, store: str | Path | None = None
) -> tuple[ModelCard, list[tuple[int, float]]]:
    """Train and register the ``[[models]]`` entry ``spec`` (``kind = "rl"``) on the
    environment of ``config_path``: ``params`` holds ``timesteps`` (required), ``algorithm``
    (``PPO``, ``A2C`` or ``DQN``; default PPO) and the algorithm's options (``n_steps`` …);
    ``seed`` is the spec's; the environment's data must lie in ``[train_start, train_end]``.

    Raises
    ------
    ConfigError
        If the spec is not an RL spec or its parameters are not usable.
    """
    from tradeloop.rl.train import ALGORITHMS

    if spec.kind != KIND:
        raise ConfigError(f"model {spec.name}: kind {spec.kind!r} is not {KIND!r}")
    options = dict(spec.params)
    timesteps = options.pop("timesteps", None)
    algorithm = options.pop("algorithm", "PPO")
    if not isinstance(timesteps, int) or isinstance(timesteps, bool) or timesteps < 1:
        raise ConfigError(
            f"model {spec.name}: params.timesteps {timesteps!r} must be a whole number >= 1"
        )
    if algorithm not in ALGORITHMS:
        raise ConfigError(
            f"model {spec.name}: params.algorithm {algorithm!r} is not one of "
            f"{', '.join(ALGORITHMS)}"
        )
    return train_and_register(
        config_path,
        spec.name,
        timesteps,
        store=store,
        algorithm=algorithm,
        seed=spec.seed,
        train_start_ns=spec.train_start_ns if spec.train_start is not None else None,
        train_end_ns=spec.train_end_ns,
        **options,
    )


def train_and_register(
    config_path: str | Path,
    name: str,
    timesteps: int,
    *,
    store: str | Path | None = None,
    algorithm: str = "PPO",
    seed: int = 0,
    train_start_ns: int | None = None,
    train_end_ns: int | None = None,
    **algorithm_options: Any,
) -> tuple[ModelCard, list[tuple[int, float]]]:
    """Train ``algorithm`` on the environment of ``config_path`` for ``timesteps``, export
    its policy and register it as a new version of ``name`` in the registry under ``store``
    (default: the config's ``[features] store``). Return the card and the learning curve.

    Raises
    ------
    ConfigError
        If the rl extra is missing, or as ``train_policy`` and ``register_policy`` raise.
    """
    from tradeloop.rl.export import export_sb3
    from tradeloop.rl.train import train_policy

    path = Path(config_path)
    prepared, strategy = _environment(path)  # before training: a bad window fails fast
    features = prepared.config.features
    _span(name, prepared, strategy.config.instrument_id, train_start_ns, train_end_ns)
    model, curve = train_policy(
        path, timesteps, algorithm=algorithm, seed=seed, **algorithm_options
    )
    policy = export_sb3(
        model, features, list(strategy.config.actions), strategy.config.decision_every
    )
    root = Path(store) if store is not None else Path(features.store)
    card = register_policy(
        ModelRegistry(root),
        name,
        policy,
        path,
        curve=curve,
        timesteps=timesteps,
        params={"seed": seed, "timesteps": timesteps, **algorithm_options},
        train_start_ns=train_start_ns,
        train_end_ns=train_end_ns,
    )
    return card, curve

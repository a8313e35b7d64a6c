"""A registered policy served as a strategy (no PyTorch needed): a backtest takes, decision
for decision, the actions and observations of the environment's episode driven by the same
policy; each way it can fail to decide falls back to the configured safe position with a
journaled ModelFallback; a tampered artifact or another observation stops the run at
startup; explain shows the decision."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

import tradeloop.rl
from tradeloop.config.loader import load_config
from tradeloop.core.errors import ConfigError
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal.replay import read_rows
from tradeloop.model.decisions import ModelFallback, PolicyActed
from tradeloop.model.events import AlertRaised, OrderFilled, PositionChanged
from tradeloop.models.registry import ModelRegistry
from tradeloop.rl.policy import MlpPolicy, policy_document
from tradeloop.rl.register import register_policy
from tradeloop.rl.serve import ServedPolicy

from .test_env import short_config  # noqa: F401 (fixture)

ORCL = "ORCL.XNAS"


def fixed_policy(features: Any, seed: int = 7) -> MlpPolicy:
    # Fixed random weights, scaled to the features' sizes so that every action is taken.
    rng = np.random.default_rng(seed)
    scale = np.array([40.0, 15.0, 2.0, 40.0, 8.0, 1.5])
    hidden = rng.normal(size=(8, 6)) * scale
    return MlpPolicy(
        policy_document(
            algorithm="fixed",
            activation="tanh",
            output="logits",
            features=features,
            actions=[-0.9, 0.0, 0.9],
            decision_every=1,
            layers=[(hidden, rng.normal(size=8)), (rng.normal(size=(3, 8)) * 2, np.zeros(3))],
        )
    )


@pytest.fixture(scope="module")
def served(short_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    # The environment's config with the served policy as its strategy, and the policy
    # registered in a store of its own.
    root = tmp_path_factory.mktemp("served")
    features = load_config(short_config).features
    policy = fixed_policy(features)
    register_policy(ModelRegistry(root / "store"), "tiny", policy, short_config, curve=[(64, 0.1)])
    text = short_config.read_text()
    text = text[: text.index("[[strategies]]")] + (
        '[[strategies]]\nclass = "tradeloop.rl:ServedPolicy"\nid = "policy"\n\n'
        f'[strategies.params]\ninstrument_id = "{ORCL}"\nmodel = "tiny"\n'
        f'version = "latest"\nstore = "{root / "store"}"\n'
    )
    text = text.split("\n[[models]]")[0]
    text = text.replace("[run]\n", f'[run]\noutput_dir = "{root / "runs"}"\n', 1)
    path = root / "served.toml"
    path.write_text(text)
    return path


def backtest(path: Path, change: Any = None, **params: Any) -> tuple[RunResult, Any]:
    config = load_config(path)
    if params:
        [section] = config.strategies
        merged = {**section.params, **params}
        config = msgspec.structs.replace(
            config, strategies=[msgspec.structs.replace(section, params=merged)]
        )
    prepared = prepare_run(config, path.parent)
    [strategy] = prepared.strategies
    if change is not None:
        change(strategy)
    return run_backtest(prepared), strategy


def records(result: RunResult, kind: type) -> list[Any]:
    return [r.record for r in read_rows(result.journal_path) if isinstance(r.record, kind)]


@pytest.fixture(scope="module")
def parity_run(served: Path) -> tuple[RunResult, Any]:
    return backtest(served)


def test_a_backtest_of_the_served_policy_takes_the_environments_decisions_step_by_step(
    short_config: Path,  # noqa: F811
    served: Path,
    parity_run: tuple[RunResult, Any],
) -> None:
    result, strategy = parity_run
    policy = strategy.policy
    env = tradeloop.rl.make_env(short_config)
    observation, info = env.reset(seed=0)
    observations, actions = [], []
    while True:
        action, _ = policy.act(observation)
        observations.append(observation)
        actions.append(action)
        observation, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    env.close()
    decisions = records(result, PolicyActed)
    assert [d.action for d in decisions] == actions
    assert len(set(actions)) == 3
    assert len(actions) > 300
    for decision, seen in zip(decisions, observations, strict=True):
        assert np.array(list(decision.observation.values()), dtype=np.float32).tolist() == (
            seen.tolist()
        )
    assert [d.target_weight for d in decisions] == [[-0.9, 0.0, 0.9][a] for a in actions]
    assert strategy.equity.as_float() == info["equity"]  # the same orders, the same fills
    assert {(d.model, d.model_version) for d in decisions} == {("tiny", "1")}
    assert records(result, ModelFallback) == []


def test_explain_shows_the_policys_observation_and_action(
    served: Path, parity_run: tuple[RunResult, Any]
) -> None:
    from tradeloop.reports.explain import explain_trade
    from tradeloop.reports.run import RunInputs

    result, strategy = parity_run
    fill = records(result, OrderFilled)[3]
    explanation = explain_trade(RunInputs(result.run_dir, served.parent), fill.client_order_id)
    [models] = [s for s in explanation.sections if s.title == "models"]
    assert "policy tiny v1 chose action" in models.lines[0]
    assert "= baseline" in models.lines[1]  # then each observed number's attribution
    names = sorted(line.split()[0] for line in models.lines[2:])
    assert names == sorted([*strategy.features.feature_names, "position_weight"])
    [decision] = [
        d for d in records(result, PolicyActed) if d.rebalance_id == explanation.rebalance_id
    ]
    total = decision.baseline + sum(c.contribution for c in decision.contributions)
    assert total == pytest.approx(decision.action_values[decision.action], abs=0.05)


class Failing:
    """The served policy until decision ``after``, then failing as ``mode`` says."""

    def __init__(self, policy: MlpPolicy, mode: str, after: int) -> None:
        self.policy, self.mode, self.after, self.calls = policy, mode, after, 0
        self.release = threading.Event()
        other = msgspec.structs.replace(policy.document, observation_hash="0" * 64)
        self.swapped = MlpPolicy(other)

    @property
    def document(self) -> Any:
        swapped = self.mode == "observation_mismatch" and self.calls >= self.after
        return self.swapped.document if swapped else self.policy.document

    def probabilities(self, values: Any) -> Any:
        return self.policy.probabilities(values)

    def act(self, observation: Any) -> tuple[int, Any]:
        self.calls += 1
        if self.calls <= self.after or self.mode in ("observation_mismatch", "missing_feature"):
            return self.policy.act(observation)
        if self.mode == "error":
            raise RuntimeError("corrupt weights")
        if self.mode == "nan_output":
            return 0, np.array([np.nan, 0.0, 1.0])
        self.release.wait(30.0)  # timeout: blocks past the budget, until the test ends
        return self.policy.act(observation)


class Gappy:
    """Online features that lose a value from bar ``after`` on (a feed that stopped)."""

    def __init__(self, online: Any, after: int) -> None:
        self.online, self.after, self.bars = online, after, 0

    def update(self, bar: Any) -> tuple[float, ...]:
        row = self.online.update(bar)
        self.bars += 1
        return row if self.bars < self.after else (*row[:-1], float("nan"))


@pytest.mark.parametrize(
    ("reason", "fallback", "fraction"),
    [
        ("error", "flat", 0.0),
        ("timeout", "hold", 1.0),
        ("nan_output", "reduce", 0.75),
        ("missing_feature", "flat", 0.0),
        ("observation_mismatch", "reduce", 0.75),
    ],
)
def test_a_decision_the_policy_cannot_take_is_a_journaled_fallback_to_the_safe_position(
    served: Path, reason: str, fallback: str, fraction: float
) -> None:
    after = 40
    failing: list[Failing] = []

    def inject(strategy: ServedPolicy) -> None:
        failing.append(Failing(strategy.policy, reason, after))
        strategy.policy = failing[0]
        if reason == "missing_feature":
            start = strategy.start_features
            strategy.start_features = lambda: Gappy(start(), 70 + after)  # type: ignore[method-assign]

    params: dict[str, Any] = {"fallback": fallback, "reduce_fraction": 0.25}
    if reason == "timeout":
        params["timeout_ms"] = 500.0  # generous: only the blocked inference may exceed it
    try:
        result, strategy = backtest(served, inject, **params)
    finally:
        if failing:
            failing[0].release.set()
    acted, fell = records(result, PolicyActed), records(result, ModelFallback)
    alerts = [a for a in records(result, AlertRaised) if a.source == "strategy.policy"]
    assert len(acted) >= 35
    assert fell
    assert len(alerts) == len(fell)
    assert {(f.reason, f.action, f.position_fraction) for f in fell} == {
        (reason, fallback, fraction)
    }
    assert {(f.model, f.model_version, f.instrument_id) for f in fell} == {("tiny", "1", ORCL)}
    # Every decision after the failure fell back; the position went to the safe one.
    first = fell[0]
    assert all(a.ts_init < first.ts_init for a in acted)
    changes = records(result, PositionChanged)
    before = [c.signed_qty_raw for c in changes if c.ts_init <= first.ts_init][-1]
    fills = [f for f in records(result, OrderFilled) if f.ts_init > first.ts_init]
    held = strategy.position(ORCL).signed_raw
    assert before != 0  # the policy held a position when it failed
    if fallback == "hold":
        assert fills == []
        assert held == before
    elif fallback == "flat":
        assert [f.last_qty.raw for f in fills] == [abs(before)]
        assert held == 0
    else:  # reduce: to 0.75 of the position at each fallback (the order rounded down)
        assert fills[0].last_qty.raw == abs(before) // 4
        assert 0 <= held * np.sign(before) < abs(before) - abs(before) // 4 * 3
    assert strategy.run_summary()["counts"][f"fallback_{reason}"] == len(fell)


def test_a_tampered_artifact_or_another_observation_stops_the_run_at_startup(
    served: Path, tmp_path: Path
) -> None:
    import shutil

    text = served.read_text()
    store = Path(text.split('store = "')[1].split('"')[0])
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    moved = text.replace(str(store), str(copy))

    def start(text: str) -> None:
        path = tmp_path / "run.toml"
        path.write_text(text)
        prepare_run(load_config(path), tmp_path)

    start(moved)  # the copy serves as the original does
    # The same names, another definition: the SMA over 20 bars named as the trained one.
    other = moved.replace(
        'kind = "sma_ratio"\nwindow = 50', 'kind = "sma_ratio"\nname = "sma_ratio_50"\nwindow = 20'
    )
    with pytest.raises(ConfigError, match=r"trained on the observation .* the policy would see"):
        start(other)
    fewer = moved.replace('[[features.definitions]]\nkind = "sma_ratio"\nwindow = 50\n', "")
    with pytest.raises(ConfigError, match="needs features the run does not provide: sma_ratio_50"):
        start(fewer)
    with pytest.raises(ConfigError, match="model 'nope' is not in the registry"):
        start(moved.replace('model = "tiny"', 'model = "nope"'))
    artifact = copy / "models" / "tiny" / "1" / "policy.json"
    artifact.write_bytes(
        artifact.read_bytes().replace(b'"algorithm":"fixed"', b'"algorithm":"fixes"')
    )
    with pytest.raises(ConfigError, match=r"policy tiny.*SHA-256 .* nothing runs with it"):
        start(moved)


def test_registering_checks_the_policy_against_the_environment(
    short_config: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    registry = ModelRegistry(tmp_path)
    features = load_config(short_config).features
    document = fixed_policy(features).document
    other = MlpPolicy(msgspec.structs.replace(document, observation_hash="0" * 64))
    with pytest.raises(ConfigError, match="is not the environment's"):
        register_policy(registry, "p", other, short_config)
    shorter = MlpPolicy(msgspec.structs.replace(document, actions=[-1.0, 0.0, 1.0]))
    with pytest.raises(ConfigError, match="the environment's are"):
        register_policy(registry, "p", shorter, short_config)
    with pytest.raises(ConfigError, match="outside the model's train_start/train_end"):
        register_policy(
            registry, "p", fixed_policy(features), short_config, train_end_ns=1_200_000_000 * 10**9
        )
    card = register_policy(registry, "p", fixed_policy(features), short_config, curve=[(5, 0.5)])
    assert (card.kind, card.version, card.artifact, card.instruments) == (
        "rl",
        1,
        "policy.json",
        [ORCL],
    )
    assert card.observation_hash == tradeloop.rl.observation_hash(features)
    assert card.metrics["last_episode_reward"] == 0.5
    assert registry.stage_of("p", 1) == "staging"

"""The NumPy policy: its forward pass on fixed weights computed by hand, its artifact (the
same weights give the same bytes; a broken document is refused), the observation's hash,
and — with the rl extra — the export of SB3's PPO, A2C and DQN policies acting as SB3's own
deterministic ``predict``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.features import FeatureSetConfig, FeatureSpec
from tradeloop.rl.policy import MlpPolicy, observation_hash, observation_names, policy_document

from .test_env import short_config  # noqa: F401 (fixture)

FEATURES = FeatureSetConfig(
    name="tiny", definitions=[FeatureSpec(kind="log_return"), FeatureSpec(kind="rsi", window=5)]
)
HIDDEN = [[0.5, -1.0, 2.0], [0.25, 0.0, -0.75]]  # 2 units x 3 inputs
HIDDEN_BIAS = [0.1, -0.2]
OUT = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]  # 3 actions x 2 units
OUT_BIAS = [0.0, 0.05, 0.3]


def tiny(activation: str = "tanh", output: str = "logits") -> MlpPolicy:
    return MlpPolicy(
        policy_document(
            algorithm="fixed",
            activation=activation,
            output=output,
            features=FEATURES,
            actions=[-1.0, 0.0, 1.0],
            decision_every=1,
            layers=[(HIDDEN, HIDDEN_BIAS), (OUT, OUT_BIAS)],
        )
    )


def by_hand(x: list[float], activation: str) -> list[float]:
    act = math.tanh if activation == "tanh" else (lambda v: max(v, 0.0))
    hidden = [
        act(sum(w * v for w, v in zip(row, x, strict=True)) + b)
        for row, b in zip(HIDDEN, HIDDEN_BIAS, strict=True)
    ]
    return [
        sum(w * h for w, h in zip(row, hidden, strict=True)) + b
        for row, b in zip(OUT, OUT_BIAS, strict=True)
    ]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_forward_pass_is_the_networks_arithmetic(activation: str) -> None:
    policy = tiny(activation)
    for x in ([0.01, -0.3, 0.5], [-0.2, 0.9, -0.1], [0.0, 0.0, 0.0]):
        x32 = [float(v) for v in np.array(x, dtype=np.float32)]  # what the policy observes
        expected = by_hand(x32, activation)
        action, values = policy.act(x)
        assert values.tolist() == pytest.approx(expected, abs=1e-15)
        assert action == int(np.argmax(expected))
    probabilities = policy.probabilities(np.array([1.0, 2.0, 3.0]))
    assert probabilities is not None
    assert probabilities.sum() == pytest.approx(1.0)
    assert tiny(output="q_values").probabilities(np.array([1.0, 2.0, 3.0])) is None


def test_an_observation_of_another_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="observes 3 numbers"):
        tiny().act([0.1, 0.2])


def test_the_artifact_round_trips_and_depends_only_on_the_weights() -> None:
    first, second = tiny().to_bytes(), tiny().to_bytes()
    assert first == second
    loaded = MlpPolicy.from_bytes(first)
    assert loaded.to_bytes() == first
    assert loaded.act([0.3, -0.1, 0.2])[1].tolist() == tiny().act([0.3, -0.1, 0.2])[1].tolist()
    assert tiny("relu").to_bytes() != first


def test_a_broken_artifact_is_refused() -> None:
    with pytest.raises(DataIntegrityError, match="not a policy document"):
        MlpPolicy.from_bytes(b'{"format": 1}')
    document = tiny().document
    with pytest.raises(DataIntegrityError, match="takes 3 inputs"):
        MlpPolicy(policy_document(**_args(document), layers=[(OUT, OUT_BIAS)]))
    with pytest.raises(DataIntegrityError, match="2 outputs for 3 actions"):
        MlpPolicy(policy_document(**_args(document), layers=[(HIDDEN, HIDDEN_BIAS)]))
    with pytest.raises(DataIntegrityError, match="must be finite"):
        policy_document(**_args(document), layers=[([[float("nan")] * 3], [0.0])])


def _args(document: object) -> dict[str, object]:
    return {
        "algorithm": "fixed",
        "activation": "tanh",
        "output": "logits",
        "features": FEATURES,
        "actions": [-1.0, 0.0, 1.0],
        "decision_every": 1,
    }


def test_the_observation_hash_follows_the_feature_definitions() -> None:
    assert observation_names(FEATURES) == ["log_return_1", "rsi_5", "position_weight"]
    renamed = FeatureSetConfig(name="other", definitions=FEATURES.definitions)
    assert observation_hash(renamed) == observation_hash(FEATURES)  # the name is cosmetic
    longer = FeatureSetConfig(
        name="tiny", definitions=[FeatureSpec(kind="log_return"), FeatureSpec(kind="rsi", window=7)]
    )
    assert observation_hash(longer) != observation_hash(FEATURES)


@pytest.mark.parametrize("algorithm", ["PPO", "A2C", "DQN"])
def test_an_exported_sb3_policy_acts_as_sb3s_predict(
    algorithm: str,
    short_config: Path,  # noqa: F811
) -> None:
    sb3 = pytest.importorskip("stable_baselines3")
    torch = pytest.importorskip("torch")
    import tradeloop.rl
    from tradeloop.config.loader import load_config
    from tradeloop.rl.export import export_sb3

    features = load_config(short_config).features
    assert features is not None
    env = tradeloop.rl.make_env(short_config)
    model = getattr(sb3, algorithm)("MlpPolicy", env, seed=5, device="cpu")
    policy = export_sb3(model, features, [-0.9, 0.0, 0.9])
    assert policy.document.observation_hash == observation_hash(features)
    rng = np.random.default_rng(11)
    observations = (rng.normal(size=(500, 6)) * [0.02, 0.05, 0.4, 0.02, 0.1, 0.6]).astype(
        np.float32
    )
    expected, _ = model.predict(observations, deterministic=True)
    with torch.no_grad():
        tensor = torch.as_tensor(observations)
        if algorithm == "DQN":
            reference = model.q_net(tensor).numpy()
        else:
            reference = model.policy.get_distribution(tensor).distribution.probs.numpy()
    agreed = 0
    for observation, action, row in zip(observations, expected, reference, strict=True):
        ours, values = policy.act(observation)
        mine = values if algorithm == "DQN" else policy.probabilities(values)
        assert mine is not None
        np.testing.assert_allclose(mine, row, rtol=1e-5, atol=1e-6)
        top = np.sort(row)[-2:]
        if top[1] - top[0] > 1e-5:  # not a tie within float32's rounding
            assert ours == int(action)
            agreed += 1
    assert agreed > 450
    env.close()


def test_an_unknown_network_is_not_exported(short_config: Path) -> None:  # noqa: F811
    sb3 = pytest.importorskip("stable_baselines3")
    import tradeloop.rl
    from tradeloop.config.loader import load_config
    from tradeloop.rl.export import export_sb3

    features = load_config(short_config).features
    assert features is not None
    env = tradeloop.rl.make_env(short_config)
    model = sb3.PPO("MlpPolicy", env, seed=5, device="cpu")
    with pytest.raises(ConfigError, match="2 actions"):
        export_sb3(model, features, [0.0, 1.0])
    env.close()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_attributions_add_up_to_the_actions_value_less_the_baseline(activation: str) -> None:
    rng = np.random.default_rng(3)
    policy = MlpPolicy(
        policy_document(
            **{**_args(None), "activation": activation},
            layers=[
                (rng.normal(size=(16, 3)), rng.normal(size=16)),
                (rng.normal(size=(16, 16)) * 0.5, rng.normal(size=16)),
                (rng.normal(size=(3, 16)), rng.normal(size=3)),
            ],
        )
    )
    for x in rng.normal(size=(20, 3)) * 0.5:
        action, values = policy.act(x)
        baseline, parts = policy.attributions(x, action, steps=4096)
        assert baseline == pytest.approx(policy.values(np.zeros(3))[action])
        # Completeness, up to the midpoint rule's error (largest at ReLU's kinks).
        assert baseline + parts.sum() == pytest.approx(values[action], abs=1e-3)
        assert parts.shape == (3,)


def test_a_one_layer_policys_attributions_are_its_weights_times_the_inputs_exactly() -> None:
    policy = MlpPolicy(
        policy_document(**_args(None), layers=[(np.array(OUT) @ np.array(HIDDEN), OUT_BIAS)])
    )
    x = np.array([0.25, -0.5, 2.0], dtype=np.float32)
    for action in range(3):
        baseline, parts = policy.attributions(x, action)
        weights = (np.array(OUT) @ np.array(HIDDEN))[action]
        assert parts.tolist() == (weights * x.astype(np.float64)).tolist()
        assert baseline == OUT_BIAS[action]

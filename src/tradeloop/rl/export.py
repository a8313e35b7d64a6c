"""Export a trained stable-baselines3 policy to ``policy.MlpPolicy`` (needs the ``rl`` extra).

What is exported is what SB3's deterministic ``predict`` evaluates for a ``Box`` observation
and a ``Discrete`` action space:

- PPO and A2C (``ActorCriticPolicy``): the flattened observation through
  ``mlp_extractor.policy_net`` (Linear and activation layers) and ``action_net``: the
  logits, whose argmax is the action (the value network is training-only and left out);
- DQN: ``q_net.q_net``: the Q-values, whose argmax is the action.

Anything else (another features extractor, normalized observations, a recurrent or
continuous-action policy) is refused rather than exported approximately.
"""

from __future__ import annotations

from typing import Any

from tradeloop.core.errors import ConfigError
from tradeloop.features.definitions import FeatureSetConfig
from tradeloop.rl.policy import MlpPolicy, policy_document


def _layers(modules: list[Any], where: str) -> tuple[str, list[tuple[Any, Any]]]:
    # Linear, activation, Linear, activation, …, Linear: the activation after every layer
    # but the last, one kind throughout.
    import torch

    names = {torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}
    layers: list[tuple[Any, Any]] = []
    activations: set[str] = set()
    expect_linear = True
    for module in modules:
        if expect_linear and isinstance(module, torch.nn.Linear):
            weight, bias = module.weight.detach().cpu().numpy(), module.bias.detach().cpu().numpy()
            layers.append((weight, bias))
        elif not expect_linear and type(module) in names:
            activations.add(names[type(module)])
        else:
            raise ConfigError(
                f"{where}: cannot export a {type(module).__name__} at this place (the export "
                "takes Linear layers with Tanh or ReLU between them)"
            )
        expect_linear = not expect_linear
    if expect_linear or not layers or len(activations) > 1:
        raise ConfigError(f"{where}: the network is not Linear, activation, …, Linear")
    return (activations.pop() if activations else "tanh"), layers


def export_sb3(
    model: Any, features: FeatureSetConfig, actions: list[float], decision_every: int = 1
) -> MlpPolicy:
    """Return the NumPy policy that acts as ``model``'s deterministic ``predict``.

    Raises
    ------
    ConfigError
        If the model is not an MLP policy this export knows (module docstring), or its
        observation or action space does not fit ``features`` and ``actions``.
    """
    from stable_baselines3 import A2C, DQN, PPO
    from stable_baselines3.common.torch_layers import FlattenExtractor

    algorithm = type(model).__name__
    policy = model.policy
    where = f"{algorithm} policy"
    size = len(features.feature_names) + 1
    if model.observation_space.shape != (size,):
        raise ConfigError(
            f"{where} observes {model.observation_space.shape}; the features and the position "
            f"make {size} numbers"
        )
    if getattr(model.action_space, "n", None) != len(actions):
        raise ConfigError(f"{where} has action space {model.action_space}; {len(actions)} actions")
    if isinstance(model, PPO | A2C):
        extractors = [policy.features_extractor, getattr(policy, "pi_features_extractor", None)]
        modules = [*policy.mlp_extractor.policy_net, policy.action_net]
        output = "logits"
    elif isinstance(model, DQN):
        extractors = [policy.q_net.features_extractor]
        modules = list(policy.q_net.q_net)
        output = "q_values"
    else:
        raise ConfigError(f"{where}: only PPO, A2C and DQN policies are exported")
    if not all(e is None or type(e) is FlattenExtractor for e in extractors):
        raise ConfigError(f"{where}: only the flatten features extractor is exported")
    activation, layers = _layers(modules, where)
    return MlpPolicy(
        policy_document(
            algorithm=algorithm,
            activation=activation,
            output=output,
            features=features,
            actions=actions,
            decision_every=decision_every,
            layers=layers,
        )
    )

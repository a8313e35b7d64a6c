"""Training a policy on the environment with stable-baselines3 (the ``tradeloop[rl]`` extra:
``uv sync --extra rl``; PyTorch CPU).

``train_policy`` runs PPO (or A2C, DQN) on ``make_env(config_path)`` for ``timesteps``
steps with a seed, and returns the model and the learning curve: each finished episode's
total reward (the log growth of equity over the episode) with the timestep it ended at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradeloop.core.errors import ConfigError
from tradeloop.rl.env import make_env

ALGORITHMS = ("PPO", "A2C", "DQN")


def _sb3() -> Any:
    try:
        import stable_baselines3
    except ImportError:
        raise ConfigError(
            "training a policy needs stable-baselines3 and PyTorch: install the rl extra "
            "(uv sync --extra rl, or pip install 'tradeloop[rl]')"
        ) from None
    return stable_baselines3


def train_policy(
    config_path: str | Path,
    timesteps: int,
    *,
    algorithm: str = "PPO",
    seed: int = 0,
    max_steps: int | None = None,
    **algorithm_options: Any,
) -> tuple[Any, list[tuple[int, float]]]:
    """Train ``algorithm`` on the environment of ``config_path``.

    Returns
    -------
    (model, curve)
        The trained stable-baselines3 model and ``(timestep, episode reward)`` per finished
        episode.

    Raises
    ------
    ConfigError
        If the rl extra is missing or ``algorithm`` is unknown.
    """
    sb3 = _sb3()
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    from stable_baselines3.common.monitor import Monitor

    env = Monitor(make_env(config_path, max_steps))
    model = getattr(sb3, algorithm)("MlpPolicy", env, seed=seed, device="cpu", **algorithm_options)
    model.learn(total_timesteps=timesteps)
    ends = 0
    curve = []
    for length, reward in zip(env.get_episode_lengths(), env.get_episode_rewards(), strict=True):
        ends += length
        curve.append((ends, float(reward)))
    env.close()
    return model, curve

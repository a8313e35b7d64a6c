"""The gymnasium environment over the kernel: it passes gymnasium's env_checker, an episode
is deterministic, its rewards add up to the equity's log change through the simulated venue
(costs included), and the bundled example config builds."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import tradeloop.rl
from tradeloop.core.errors import ConfigError

EXAMPLE = Path(__file__).parents[3] / "examples" / "models" / "rl_env.toml"


@pytest.fixture(scope="module")
def short_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = EXAMPLE.read_text().replace('start = "2005-01-01"', 'start = "2007-06-01"')
    path = tmp_path_factory.mktemp("rl") / "rl.toml"
    path.write_text(text)
    return path


def test_the_environment_passes_gymnasiums_checker(short_config: Path) -> None:
    env = tradeloop.rl.make_env(short_config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded features; no render modes
        check_env(env, skip_render_check=True)
    env.close()


def run(env: tradeloop.rl.KernelEnv, actions: list[int]) -> tuple[list[float], dict[str, float]]:
    env.reset(seed=0)
    rewards, info = [], {}
    for step in range(10_000):
        _, reward, terminated, truncated, info = env.step(actions[step % len(actions)])
        rewards.append(reward)
        if terminated or truncated:
            break
    return rewards, info


def test_an_episode_is_deterministic_and_its_rewards_are_the_equitys_log_change(
    short_config: Path,
) -> None:
    env = tradeloop.rl.make_env(short_config)
    pattern = [2, 2, 2, 0, 0, 1, 2]
    first, info = run(env, pattern)
    second, _ = run(env, pattern)
    assert first == second
    assert len(first) > 300
    assert math.fsum(first) == pytest.approx(math.log(info["equity"] / 100_000), abs=1e-9)
    flat, flat_info = run(env, [1])
    assert flat_info["equity"] == 100_000  # no trade, no cost
    assert set(flat) == {0.0}
    env.close()


def test_truncation_and_bad_actions(short_config: Path) -> None:
    env = tradeloop.rl.make_env(short_config, max_steps=5)
    observation, _ = env.reset()
    assert observation.dtype == np.float32
    assert observation.shape == env.observation_space.shape
    for _ in range(4):
        assert env.step(2)[3] is False
    assert env.step(2)[3] is True
    with pytest.raises(ConfigError, match="not in Discrete"):
        env.step(7)
    env.reset()  # a waiting kernel is stopped and a new episode starts
    env.close()

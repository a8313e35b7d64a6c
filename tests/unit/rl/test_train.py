"""A short PPO run on the environment (needs the rl extra; skipped without it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradeloop.rl.train import train_policy

from .test_env import short_config  # noqa: F401 (fixture)

pytest.importorskip("stable_baselines3")
pytestmark = pytest.mark.slow


def test_a_short_ppo_run_trains_and_its_policy_acts_on_the_environment(
    short_config: Path,  # noqa: F811
) -> None:
    model, curve = train_policy(
        short_config, 256, seed=3, max_steps=64, n_steps=64, batch_size=32, n_epochs=1
    )
    assert [t for t, _ in curve] == [64, 128, 192, 256]  # four truncated episodes
    assert all(np.isfinite(r) for _, r in curve)
    action, _ = model.predict(np.zeros(6, dtype=np.float32), deterministic=True)
    assert int(action) in (0, 1, 2)

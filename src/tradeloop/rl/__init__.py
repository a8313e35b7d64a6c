"""Reinforcement learning on tradeloop's own simulator: ``make_env(config_path)`` returns a
gymnasium environment whose steps run the kernel (``rl.env``); a trained policy is exported
to NumPy (``rl.policy``, ``rl.export``), registered (``rl.register``) and served as a
strategy with the model fallback (``rl.serve``: ``class = "tradeloop.rl:ServedPolicy"``)."""

from tradeloop.rl.env import KernelEnv, PolicyStrategy, make_env
from tradeloop.rl.policy import MlpPolicy, observation_hash
from tradeloop.rl.register import register_policy, train_and_register
from tradeloop.rl.serve import ServedPolicy

__all__ = [
    "KernelEnv",
    "MlpPolicy",
    "PolicyStrategy",
    "ServedPolicy",
    "make_env",
    "observation_hash",
    "register_policy",
    "train_and_register",
]

"""Reinforcement learning on tradeloop's own simulator: ``make_env(config_path)`` returns a
gymnasium environment whose steps run the kernel (see ``rl.env``)."""

from tradeloop.rl.env import KernelEnv, PolicyStrategy, make_env

__all__ = ["KernelEnv", "PolicyStrategy", "make_env"]

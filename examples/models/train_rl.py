"""Train a PPO policy on tradeloop's simulator and plot its learning curve.

Needs the rl extra (stable-baselines3, PyTorch CPU):

    uv sync --extra rl
    uv run python examples/models/train_rl.py --timesteps 20000
    uv run python examples/models/train_rl.py --register ppo-orcl   # and register the policy

Each episode is ORCL's daily bars 2005-2008 through the simulated venue and the risk engine
(examples/models/rl_env.toml); an episode's reward is the log growth of equity, costs
included. The curve is written beside this file (rl_learning_curve.png) with the
buy-and-hold and flat episodes for reference. With ``--register NAME`` the trained policy is
exported to NumPy and registered (the config's [features] store, or ``--store``), to be served
by ``examples/models/rl_agent.toml`` — as ``tradeloop models train
examples/models/rl_env.toml`` does from the config's ``[[models]]`` entry.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import tradeloop.rl
from tradeloop.rl.train import train_policy

HERE = Path(__file__).parent
CONFIG = HERE / "rl_env.toml"


def constant_episode(action: int) -> float:
    env = tradeloop.rl.make_env(CONFIG)
    env.reset(seed=0)
    total = 0.0
    while True:
        _, reward, terminated, truncated, _ = env.step(action)
        total += reward
        if terminated or truncated:
            env.close()
            return total


def register(model: object, curve: list[tuple[int, float]], args: argparse.Namespace) -> None:
    from tradeloop.config.loader import load_config
    from tradeloop.models.registry import ModelRegistry
    from tradeloop.rl.export import export_sb3
    from tradeloop.rl.register import register_policy

    config = load_config(CONFIG)
    features = config.features
    assert features is not None
    [strategy] = config.strategies
    policy = export_sb3(model, features, strategy.params["actions"])
    store = args.store or Path(features.store)
    card = register_policy(
        ModelRegistry(store),
        args.register,
        policy,
        CONFIG,
        curve=curve,
        timesteps=args.timesteps,
        params={"seed": args.seed, "timesteps": args.timesteps, "n_steps": 1024},
    )
    print(
        f"registered {card.name} v{card.version} in {store} (artifact "
        f"{card.artifact_hash[:12]}, observation {card.observation_hash[:12]})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=HERE / "rl_learning_curve.png")
    parser.add_argument("--register", metavar="NAME", help="register the policy as NAME")
    parser.add_argument("--store", type=Path, default=None, help="the registry's directory")
    args = parser.parse_args()
    model, curve = train_policy(CONFIG, args.timesteps, seed=args.seed, n_steps=1024)
    if args.register:
        register(model, curve, args)
    long_only, flat = constant_episode(2), constant_episode(1)
    for step, reward in curve:
        print(
            f"episode ending at step {step:>7,}: reward {reward:+.4f} "
            f"(equity x{math.exp(reward):.3f})"
        )
    print(f"reference: long 90 % all along {long_only:+.4f}, flat {flat:+.4f}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    axis.plot([s for s, _ in curve], [r for _, r in curve], marker="o", label="PPO episode")
    axis.axhline(long_only, color="green", linestyle="--", label="long 90 % (reference)")
    axis.axhline(flat, color="grey", linestyle=":", label="flat")
    axis.set_xlabel("timesteps")
    axis.set_ylabel("episode reward: log equity growth")
    axis.set_title("PPO on ORCL daily 2005-2008 through tradeloop's simulated venue")
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.output, dpi=100)
    print(f"learning curve: {args.output}")


if __name__ == "__main__":
    main()

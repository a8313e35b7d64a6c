"""A gymnasium environment whose steps run tradeloop's kernel: the simulated venue (its fill
model, spread, commission, impact), the risk engine and the portfolio, on the run config's
market data.

Steps of an episode:

1. ``reset`` prepares the run (``engine.runner.prepare_run``: data, instruments, the
   strategy) and starts its kernel on a thread of its own with an in-memory journal; the
   ``PolicyStrategy`` of the config updates the run's ``[features]`` bar by bar and, at the
   first bar where every feature has a value, hands the observation to the environment and
   waits.
2. ``step(action)`` hands the action back: the strategy sends the market order that moves the
   position to the action's target weight (through risk, to the simulated venue) and the
   kernel runs on to the next decision bar, whose observation and reward come back.
3. The episode ends when the data runs out (``terminated``) or after ``max_steps``
   (``truncated``); ``reset`` or ``close`` stop a kernel still waiting.

Only one side runs at a time (a strict hand-off), so an episode is as deterministic as a
backtest: the same config and actions give the same observations and rewards. The
observation is the instrument's features and the position's weight; the reward is the log
change of equity between decisions (costs included: they are in the equity).
"""

from __future__ import annotations

import math
import queue
import threading
from pathlib import Path
from typing import Any

import gymnasium
import msgspec
import numpy as np

from tradeloop.core.errors import ConfigError
from tradeloop.model.data import Bar
from tradeloop.rl.trading import PolicyTrading
from tradeloop.strategy.base import StrategyConfig


class _Aborted(BaseException):
    """Raised in the kernel thread to end an episode the environment no longer wants."""


class _Bridge:
    def __init__(self) -> None:
        self.to_env: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.to_kernel: queue.Queue[Any] = queue.Queue()


ABORT = object()


class PolicyStrategy(PolicyTrading):
    """The strategy an RL policy drives: one instrument, a target weight per action."""

    class Config(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
        """``actions``: the target weights (fractions of equity) the discrete actions mean;
        ``decision_every``: bars between decisions."""

        instrument_id: str
        actions: list[float] = msgspec.field(default_factory=lambda: [-1.0, 0.0, 1.0])
        decision_every: int = 1

        def __post_init__(self) -> None:
            if not self.actions or any(not -2.0 <= a <= 2.0 for a in self.actions):
                raise ConfigError(f"actions {self.actions} must be weights within [-2, 2]")
            if self.decision_every < 1:
                raise ConfigError(f"decision_every {self.decision_every} must be >= 1")

    bridge: _Bridge | None = None

    def required_instruments(self) -> list[str]:
        """Return the traded instrument."""
        return [self.config.instrument_id]

    def on_start(self) -> None:
        """Subscribe to the instrument's bars; build the online features."""
        self.online = self.start_features()
        self.subscribe_bars(self.config.instrument_id)
        self.bars = 0
        self.last_equity: float | None = None
        self.last_observation: np.ndarray[Any, Any] | None = None

    def on_bar(self, bar: Bar) -> None:
        """Update the features; at a decision bar, hand over and act on the answer."""
        row = self.online.update(bar)
        self.bars += 1
        if self.bridge is None or not all(math.isfinite(v) for v in row):
            return
        if self.bars % self.config.decision_every:
            return
        price = bar.close_raw / 10**bar.price_precision
        equity = self.equity.as_float()
        reward = 0.0 if self.last_equity is None else math.log(equity / self.last_equity)
        self.last_equity = equity
        self.last_observation = self.observation(self.config.instrument_id, row, price)
        self.bridge.to_env.put(("observation", (self.last_observation, reward)))
        action = self.bridge.to_kernel.get()
        if action is ABORT:
            raise _Aborted
        self.act(int(action), price)

    def act(self, action: int, price: float) -> None:
        """Send the market order that moves the position to the action's target weight."""
        self.move_to_weight(self.config.instrument_id, self.config.actions[action], price)

    def final_reward(self) -> float:
        """Return the log change of equity since the last decision (the episode's end)."""
        if self.last_equity is None:
            return 0.0
        return math.log(self.equity.as_float() / self.last_equity)


class KernelEnv(gymnasium.Env[np.ndarray[Any, Any], int]):
    """The environment (see the module docstring). Build it with ``make_env``."""

    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium declares it on the instance)

    def __init__(self, config_path: str | Path, max_steps: int | None = None) -> None:
        from tradeloop.config.loader import load_config
        from tradeloop.engine.runner import prepare_run

        self.config_path = Path(config_path)
        self.config = load_config(self.config_path)
        self.max_steps = max_steps
        prepared = prepare_run(self.config, self.config_path.parent)
        strategy = self._policy(prepared)
        width = len(strategy.features.feature_names) + 1
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (width,), np.float32)
        self.actions = len(strategy.config.actions)
        self.action_space = gymnasium.spaces.Discrete(self.actions)  # type: ignore[assignment]
        self._thread: threading.Thread | None = None
        self._bridge: _Bridge | None = None
        self._strategy: PolicyStrategy | None = None
        self._steps = 0
        self._last: np.ndarray[Any, Any] = np.zeros(width, dtype=np.float32)

    @staticmethod
    def _policy(prepared: Any) -> PolicyStrategy:
        policies = [s for s in prepared.strategies if isinstance(s, PolicyStrategy)]
        if len(policies) != 1 or len(prepared.strategies) != 1:
            raise ConfigError(
                "an RL environment's config has exactly one strategy, "
                'class = "tradeloop.rl.env:PolicyStrategy"'
            )
        return policies[0]

    def _stop(self) -> None:
        if self._thread is not None and self._bridge is not None:
            if self._thread.is_alive():
                self._bridge.to_kernel.put(ABORT)
            self._thread.join()
        self._thread = self._bridge = None

    def _receive(self) -> tuple[str, Any]:
        assert self._bridge is not None
        kind, payload = self._bridge.to_env.get()
        if kind == "error":
            raise payload
        return kind, payload

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray[Any, Any], dict[str, Any]]:
        """Start a new episode on a fresh kernel; return the first observation."""
        from tradeloop.core.clock import TestClock
        from tradeloop.engine.feed import merge
        from tradeloop.engine.runner import build_kernel, prepare_run
        from tradeloop.journal.store import MemoryJournal

        super().reset(seed=seed)
        self._stop()
        prepared = prepare_run(self.config, self.config_path.parent)
        strategy = self._policy(prepared)
        bridge = _Bridge()
        strategy.bridge = bridge
        kernel = build_kernel(prepared, TestClock(), MemoryJournal(prepared.manifest("backtest")))
        records = merge([s.columns for s in prepared.sources])

        def run() -> None:
            try:
                kernel.start()
                kernel.run_backtest(records)
                bridge.to_env.put(("done", strategy.final_reward()))
            except _Aborted:
                pass
            except BaseException as error:  # a kernel error surfaces in step()
                bridge.to_env.put(("error", error))

        self._bridge, self._strategy, self._steps = bridge, strategy, 0
        self._thread = threading.Thread(target=run, name="tradeloop-rl-kernel", daemon=True)
        self._thread.start()
        kind, payload = self._receive()
        if kind != "observation":
            raise ConfigError(
                "the episode ended before its first decision: the data is shorter than the "
                "features' warm-up"
            )
        self._last = payload[0]
        return self._last, {"equity": strategy.equity.as_float()}

    def step(self, action: int) -> tuple[np.ndarray[Any, Any], float, bool, bool, dict[str, Any]]:
        """Act, run the kernel to the next decision; return (obs, reward, terminated,
        truncated, info)."""
        if self._bridge is None or self._strategy is None:
            raise ConfigError("step() before reset()")
        if not self.action_space.contains(action):
            raise ConfigError(f"action {action!r} is not in {self.action_space}")
        self._bridge.to_kernel.put(int(action))
        kind, payload = self._receive()
        self._steps += 1
        info = {"equity": self._strategy.equity.as_float(), "steps": self._steps}
        if kind == "done":
            if self._thread is not None:
                self._thread.join()
            self._thread = self._bridge = None
            return self._last, float(payload), True, False, info
        self._last, reward = payload
        truncated = self.max_steps is not None and self._steps >= self.max_steps
        return self._last, float(reward), False, truncated, info

    def close(self) -> None:
        """Stop a kernel still waiting for an action."""
        self._stop()


def make_env(config_path: str | Path, max_steps: int | None = None) -> KernelEnv:
    """Return the gymnasium environment of the run config at ``config_path``."""
    return KernelEnv(config_path, max_steps)

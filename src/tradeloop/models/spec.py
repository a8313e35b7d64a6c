"""The run config's ``[[models]]`` tables: what ``tradeloop models train`` fits and registers."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.time import parse_time

MODEL_KINDS: Final = ("lightgbm", "linear", "rl")


class ModelSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One model to train on the run's feature set (``[features]``) and its label.

    Attributes
    ----------
    name : the registry name (letters, digits, ``-`` and ``_``).
    kind : ``lightgbm`` (gradient-boosted trees), ``linear`` (ridge regression baseline) or
        ``rl`` (a policy trained on the config's RL environment, ``rl.register.train_spec``:
        ``params`` = ``algorithm``, ``timesteps`` and the algorithm's options).
    instruments : whose rows it trains on (default: every instrument with bars).
    train_start, train_end : the training window (ISO dates/times); rows whose label reads
        past ``train_end`` are left out, so nothing after the window reaches the model.
    cv_folds, embargo_bars : purged k-fold cross-validation with an embargo after each test
        fold (``models.cv``).
    params : the estimator's parameters (LightGBM's names; ``alpha`` for the ridge).
    seed : the estimator's seed.
    """

    name: str
    kind: str = "lightgbm"
    instruments: list[str] = []
    train_start: str | None = None
    train_end: str
    cv_folds: int = 5
    embargo_bars: int = 5
    params: dict[str, Any] = {}
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ConfigError(
                f"model name {self.name!r} must be letters, digits, '-' and '_' (it names a "
                "registry directory)"
            )
        if self.kind not in MODEL_KINDS:
            raise ConfigError(
                f"model {self.name}: kind {self.kind!r} is not one of {', '.join(MODEL_KINDS)}"
            )
        if self.cv_folds < 2:
            raise ConfigError(f"model {self.name}: cv_folds {self.cv_folds} must be at least 2")
        if self.embargo_bars < 0:
            raise ConfigError(f"model {self.name}: embargo_bars must be >= 0")
        if self.train_start is not None and self.train_start_ns >= self.train_end_ns:
            raise ConfigError(
                f"model {self.name}: train_start {self.train_start} is not before "
                f"train_end {self.train_end}"
            )

    @property
    def train_start_ns(self) -> int:
        """Return ``train_start`` in ns (0: from the first row)."""
        return 0 if self.train_start is None else parse_time(self.train_start)

    @property
    def train_end_ns(self) -> int:
        """Return ``train_end`` in ns."""
        return parse_time(self.train_end)

"""The estimators behind model agents: LightGBM gradient-boosted trees and a ridge-regression
baseline, each with per-feature contributions for one prediction.

Both regress the label on the features. ``contributions(row)`` returns one number per
feature and a bias that sum to the prediction: TreeSHAP values for LightGBM
(``pred_contrib=True``), ``coef * standardized value`` for the ridge. Training is
deterministic: LightGBM runs single-threaded with ``deterministic=True`` and the seed.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError

F64 = npt.NDArray[np.float64]

LIGHTGBM_DEFAULTS: Final[dict[str, Any]] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_boost_round": 200,
}


class Estimator(Protocol):
    """What a model agent needs of a trained model."""

    kind: str

    def fit(self, features: F64, label: F64) -> None: ...
    def predict(self, row: F64) -> float: ...
    def contributions(self, row: F64) -> tuple[F64, float]: ...
    def to_bytes(self) -> bytes: ...


class LightGBMModel:
    """Gradient-boosted trees (LightGBM), one prediction per row."""

    kind = "lightgbm"
    artifact = "model.txt"

    def __init__(self, params: dict[str, Any] | None = None, seed: int = 0) -> None:
        merged = {**LIGHTGBM_DEFAULTS, **(params or {})}
        self.rounds = int(merged.pop("num_boost_round"))
        self.params = {
            **merged,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbosity": -1,
        }
        self.booster: Any = None

    def fit(self, features: F64, label: F64) -> None:
        """Train on ``features`` (rows × features) and ``label``."""
        import lightgbm

        dataset = lightgbm.Dataset(features, label=label, params={"verbosity": -1})
        try:
            self.booster = lightgbm.train(self.params, dataset, num_boost_round=self.rounds)
        except lightgbm.basic.LightGBMError as error:
            raise ConfigError(f"LightGBM could not train with {self.params}: {error}") from None

    def predict(self, row: F64) -> float:
        """Return the prediction for one row."""
        return float(self.booster.predict(row.reshape(1, -1), num_threads=1)[0])

    def contributions(self, row: F64) -> tuple[F64, float]:
        """Return the TreeSHAP contribution of each feature and the bias (expected value)."""
        out = self.booster.predict(row.reshape(1, -1), pred_contrib=True, num_threads=1)[0]
        return np.asarray(out[:-1], dtype=np.float64), float(out[-1])

    def to_bytes(self) -> bytes:
        """Return the model as LightGBM's text format."""
        return str(self.booster.model_to_string()).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LightGBMModel:
        """Load a model ``to_bytes`` wrote."""
        import lightgbm

        model = cls()
        model.booster = lightgbm.Booster(model_str=data.decode())
        return model


class _LinearState(msgspec.Struct, frozen=True):
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    alpha: float


class LinearModel:
    """Ridge regression on standardized features (the baseline)."""

    kind = "linear"
    artifact = "model.json"

    def __init__(self, params: dict[str, Any] | None = None, seed: int = 0) -> None:
        params = dict(params or {})
        self.alpha = float(params.pop("alpha", 1.0))
        if params:
            raise ConfigError(f"linear model parameters {sorted(params)} are unknown (alpha only)")
        if not self.alpha >= 0:
            raise ConfigError(f"linear model alpha {self.alpha} must be >= 0")
        self.mean: F64 = np.empty(0)
        self.scale: F64 = np.empty(0)
        self.coef: F64 = np.empty(0)
        self.intercept = 0.0

    def fit(self, features: F64, label: F64) -> None:
        """Solve the ridge normal equations on standardized features."""
        self.mean = np.asarray(features.mean(axis=0), dtype=np.float64)
        scale = np.asarray(features.std(axis=0), dtype=np.float64)
        self.scale = np.where(scale > 0, scale, 1.0)
        z = (features - self.mean) / self.scale
        self.intercept = float(label.mean())
        gram = z.T @ z + self.alpha * np.eye(z.shape[1])
        self.coef = np.asarray(np.linalg.solve(gram, z.T @ (label - self.intercept)), np.float64)

    def contributions(self, row: F64) -> tuple[F64, float]:
        """Return ``coef * standardized value`` per feature and the intercept."""
        return self.coef * ((row - self.mean) / self.scale), self.intercept

    def predict(self, row: F64) -> float:
        """Return the prediction for one row."""
        parts, bias = self.contributions(row)
        return float(bias + parts.sum())

    def to_bytes(self) -> bytes:
        """Return the model as JSON."""
        state = _LinearState(
            self.mean.tolist(), self.scale.tolist(), self.coef.tolist(), self.intercept, self.alpha
        )
        return msgspec.json.encode(state)

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearModel:
        """Load a model ``to_bytes`` wrote."""
        state = msgspec.json.decode(data, type=_LinearState)
        model = cls({"alpha": state.alpha})
        model.mean, model.scale = np.array(state.mean), np.array(state.scale)
        model.coef, model.intercept = np.array(state.coef), state.intercept
        return model


def make_estimator(kind: str, params: dict[str, Any], seed: int) -> LightGBMModel | LinearModel:
    """Return an untrained estimator of ``kind``."""
    if kind == "lightgbm":
        return LightGBMModel(params, seed)
    if kind == "linear":
        return LinearModel(params, seed)
    raise ConfigError(f"model kind {kind!r} is not lightgbm or linear")


def load_estimator(kind: str, data: bytes) -> LightGBMModel | LinearModel:
    """Return the trained estimator stored as ``data``."""
    if kind == "lightgbm":
        return LightGBMModel.from_bytes(data)
    if kind == "linear":
        return LinearModel.from_bytes(data)
    raise ConfigError(f"model kind {kind!r} is not lightgbm or linear")

"""Models in the loop: the registry, trainers (LightGBM, linear baseline), purged
cross-validation and the model signal agents with their safe fallback.

- ``spec``: the run config's ``[[models]]`` (``ModelSpec``);
- ``registry``: versions, artifacts with content hashes, cards, stages (``ModelRegistry``);
- ``estimators``: ``LightGBMModel`` and ``LinearModel`` with per-feature contributions;
- ``dataset``: training rows cut to explicit windows, ``purged_kfold``;
- ``train``: cross-validation, final fit, registration (``train_model``);
- ``agent``: the pipeline's ``lightgbm`` and ``linear`` agent types (``ModelAgent``).
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from tradeloop.models.agent import FALLBACKS, LightGBMAgent, LinearAgent, ModelAgent
    from tradeloop.models.dataset import TrainingSet, purged_kfold
    from tradeloop.models.estimators import (
        LightGBMModel,
        LinearModel,
        load_estimator,
        make_estimator,
    )
    from tradeloop.models.registry import STAGES, DriftReference, ModelCard, ModelRegistry
    from tradeloop.models.spec import MODEL_KINDS, ModelSpec
    from tradeloop.models.train import cross_validate, fold_metrics, train_model

# Loaded on first use: the run config names these packages' config types, and a run without
# features or models must not pay for Parquet, LightGBM or SciPy at start-up.
_LAZY = {
    "DriftReference": "tradeloop.models.registry",
    "FALLBACKS": "tradeloop.models.agent",
    "LightGBMAgent": "tradeloop.models.agent",
    "LightGBMModel": "tradeloop.models.estimators",
    "LinearAgent": "tradeloop.models.agent",
    "LinearModel": "tradeloop.models.estimators",
    "MODEL_KINDS": "tradeloop.models.spec",
    "ModelAgent": "tradeloop.models.agent",
    "ModelCard": "tradeloop.models.registry",
    "ModelRegistry": "tradeloop.models.registry",
    "ModelSpec": "tradeloop.models.spec",
    "STAGES": "tradeloop.models.registry",
    "TrainingSet": "tradeloop.models.dataset",
    "cross_validate": "tradeloop.models.train",
    "fold_metrics": "tradeloop.models.train",
    "load_estimator": "tradeloop.models.estimators",
    "make_estimator": "tradeloop.models.estimators",
    "purged_kfold": "tradeloop.models.dataset",
    "train_model": "tradeloop.models.train",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.models has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "FALLBACKS",
    "MODEL_KINDS",
    "STAGES",
    "DriftReference",
    "LightGBMAgent",
    "LightGBMModel",
    "LinearAgent",
    "LinearModel",
    "ModelAgent",
    "ModelCard",
    "ModelRegistry",
    "ModelSpec",
    "TrainingSet",
    "cross_validate",
    "fold_metrics",
    "load_estimator",
    "make_estimator",
    "purged_kfold",
    "train_model",
]

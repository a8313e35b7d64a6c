"""Models in the loop: the registry, trainers (LightGBM, linear baseline), purged
cross-validation and the model signal agents with their safe fallback.

- ``spec``: the run config's ``[[models]]`` (``ModelSpec``);
- ``registry``: versions, artifacts with content hashes, cards, stages (``ModelRegistry``);
- ``estimators``: ``LightGBMModel`` and ``LinearModel`` with per-feature contributions;
- ``dataset``: training rows cut to explicit windows, ``purged_kfold``;
- ``train``: cross-validation, final fit, registration (``train_model``);
- ``agent``: the pipeline's ``lightgbm`` and ``linear`` agent types (``ModelAgent``).
"""

from tradeloop.models.agent import FALLBACKS, LightGBMAgent, LinearAgent, ModelAgent
from tradeloop.models.dataset import TrainingSet, purged_kfold
from tradeloop.models.estimators import LightGBMModel, LinearModel, load_estimator, make_estimator
from tradeloop.models.registry import STAGES, ModelCard, ModelRegistry
from tradeloop.models.spec import MODEL_KINDS, ModelSpec
from tradeloop.models.train import cross_validate, fold_metrics, train_model

__all__ = [
    "FALLBACKS",
    "MODEL_KINDS",
    "STAGES",
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

"""Training a registered model: window, purged cross-validation, final fit, registration.

Steps of ``train_model``:

1. Stack the model's instruments' materialized rows (``TrainingSet.from_tables``) and cut
   them to the training window (``window(train_start, train_end)``: no label past the end).
2. Purged k-fold cross-validation with an embargo (``purged_kfold``): per fold, fit on the
   allowed rows, predict the test fold; the metrics are the folds' means (information
   coefficient, rank IC, hit rate of the sign, RMSE).
3. Fit on the whole window and register the artifact with its card (content hash, window,
   feature-set hash and definitions, data hashes, metrics) in staging, and the window's
   distribution of each feature and of the in-sample prediction (``DriftReference``: deciles,
   counts and a bounded sorted sample, ``analytics.drift``), which live values are compared
   with for drift.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.drift import build_reference
from tradeloop.core.errors import ConfigError
from tradeloop.features.definitions import FeatureSetConfig
from tradeloop.features.store import FeatureTable
from tradeloop.models.dataset import TrainingSet, purged_kfold
from tradeloop.models.estimators import make_estimator
from tradeloop.models.registry import DriftReference, ModelCard, ModelRegistry
from tradeloop.models.spec import ModelSpec

F64 = npt.NDArray[np.float64]

MIN_ROWS = 100


def _ranks(values: F64) -> F64:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks


def _correlation(a: F64, b: F64) -> float:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def fold_metrics(prediction: F64, label: F64) -> dict[str, float]:
    """Return IC, rank IC, hit rate (sign agreement where the label is not 0) and RMSE."""
    moving = label != 0
    hits = np.sign(prediction[moving]) == np.sign(label[moving])
    return {
        "ic": _correlation(prediction, label),
        "rank_ic": _correlation(_ranks(prediction), _ranks(label)),
        "hit_rate": float(hits.mean()) if hits.size else 0.0,
        "rmse": float(np.sqrt(np.mean((prediction - label) ** 2))),
    }


def cross_validate(spec: ModelSpec, rows: TrainingSet) -> dict[str, float]:
    """Return the purged, embargoed cross-validation metrics (fold means) of ``spec``."""
    per_fold: list[dict[str, float]] = []
    for train, test in purged_kfold(
        rows.ts_ns, rows.label_end_ns, spec.cv_folds, spec.embargo_bars
    ):
        if train.sum() < MIN_ROWS or not test.any():
            continue
        estimator = make_estimator(spec.kind, spec.params, spec.seed)
        estimator.fit(rows.features[train], rows.label[train])
        prediction = np.array([estimator.predict(r) for r in rows.features[test]])
        per_fold.append(fold_metrics(prediction, rows.label[test]))
    if not per_fold:
        raise ConfigError(
            f"model {spec.name}: no cross-validation fold has {MIN_ROWS} training rows; "
            "widen the window or use fewer folds"
        )
    metrics = {f"cv_{k}": float(np.mean([f[k] for f in per_fold])) for k in per_fold[0]}
    metrics["cv_folds"] = float(len(per_fold))
    return metrics


def train_model(
    spec: ModelSpec,
    features: FeatureSetConfig,
    tables: Mapping[str, FeatureTable],
    data_hashes: Mapping[str, str],
    registry: ModelRegistry,
    *,
    config_hash: str,
    code_version: str,
) -> ModelCard:
    """Train ``spec`` on ``tables`` (see the module docstring) and register it.

    Raises
    ------
    ConfigError
        If the window holds fewer than ``MIN_ROWS`` rows or cross-validation cannot run.
    """
    names = features.feature_names
    rows = TrainingSet.from_tables(tables, names).window(spec.train_start_ns, spec.train_end_ns)
    if len(rows) < MIN_ROWS:
        raise ConfigError(
            f"model {spec.name}: {len(rows)} rows with every feature and a label between "
            f"{spec.train_start or 'the start'} and {spec.train_end}; it needs {MIN_ROWS}"
        )
    metrics = cross_validate(spec, rows)
    estimator = make_estimator(spec.kind, spec.params, spec.seed)
    estimator.fit(rows.features, rows.label)
    in_sample = np.array([estimator.predict(r) for r in rows.features])
    metrics.update(fold_metrics(in_sample, rows.label))
    drift = DriftReference(
        features={n: build_reference(rows.features[:, k]) for k, n in enumerate(names)},
        prediction=build_reference(in_sample),
    )
    metrics = {k if k.startswith("cv_") else f"in_sample_{k}": v for k, v in metrics.items()}
    card = ModelCard(
        name=spec.name,
        version=0,
        kind=spec.kind,
        artifact=estimator.artifact,
        artifact_hash="",
        feature_set=features.name,
        feature_hash=features.definition_hash(),
        feature_names=names,
        definitions={"definitions": features.definitions, "external": features.external},
        label=features.label,
        instruments=sorted(tables),
        fit_start_ns=int(rows.ts_ns[0]),
        fit_end_ns=int(rows.ts_ns[-1]),
        rows=len(rows),
        data_hashes=dict(sorted(data_hashes.items())),
        metrics=metrics,
        params=spec.params,
        label_scale=float(rows.label.std()) or 1.0,
        config_hash=config_hash,
        code_version=code_version,
    )
    return registry.register(card, estimator.to_bytes(), drift)

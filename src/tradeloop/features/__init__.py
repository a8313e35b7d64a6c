"""Feature store: declared features computed the same way offline and online.

- ``definitions``: ``FeatureSetConfig`` (the run config's ``[features]``), ``FeatureSpec``
  (kind, window, lag), ``LabelSpec``, ``ExternalSeriesSpec``; the definition hash.
- ``compute`` / ``frame``: every kind in bulk and bar by bar, bit-identical; the causality
  probe that refuses a feature reading the future.
- ``micro`` / ``micro_bulk``: features of quotes, trades and the order book sampled at each
  bar's close (events with ``ts_init`` at or before the bar's), online and in bulk.
- ``external``: timestamped series joined as of each bar's ``ts_init``.
- ``labels``: forward returns and the triple barrier (offline only).
- ``store``: materialization to Parquet stamped with the definition and data hashes.
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from tradeloop.features.compute import BarArrays, OnlineFeature, bulk_feature
    from tradeloop.features.definitions import (
        KINDS,
        LABEL_KINDS,
        MICRO_KINDS,
        ExternalSeriesSpec,
        FeatureSetConfig,
        FeatureSpec,
        LabelSpec,
    )
    from tradeloop.features.external import ExternalSeries, load_external
    from tradeloop.features.frame import (
        OnlineFeatures,
        bar_arrays,
        check_causal,
        compute_features,
        register_kind,
        unregister_kind,
    )
    from tradeloop.features.labels import compute_label
    from tradeloop.features.micro import MicroData, MicroFeature, MicroSnapshot, MicroState
    from tradeloop.features.store import (
        FeatureTable,
        MaterializedFile,
        data_hash,
        feature_dir,
        materialize,
        read_features,
    )

# Loaded on first use: the run config names these packages' config types, and a run without
# features or models must not pay for Parquet, LightGBM or SciPy at start-up.
_LAZY = {
    "BarArrays": "tradeloop.features.compute",
    "ExternalSeries": "tradeloop.features.external",
    "ExternalSeriesSpec": "tradeloop.features.definitions",
    "FeatureSetConfig": "tradeloop.features.definitions",
    "FeatureSpec": "tradeloop.features.definitions",
    "FeatureTable": "tradeloop.features.store",
    "KINDS": "tradeloop.features.definitions",
    "LABEL_KINDS": "tradeloop.features.definitions",
    "LabelSpec": "tradeloop.features.definitions",
    "MICRO_KINDS": "tradeloop.features.definitions",
    "MicroData": "tradeloop.features.micro",
    "MicroFeature": "tradeloop.features.micro",
    "MicroSnapshot": "tradeloop.features.micro",
    "MicroState": "tradeloop.features.micro",
    "MaterializedFile": "tradeloop.features.store",
    "OnlineFeature": "tradeloop.features.compute",
    "OnlineFeatures": "tradeloop.features.frame",
    "bar_arrays": "tradeloop.features.frame",
    "bulk_feature": "tradeloop.features.compute",
    "check_causal": "tradeloop.features.frame",
    "compute_features": "tradeloop.features.frame",
    "compute_label": "tradeloop.features.labels",
    "data_hash": "tradeloop.features.store",
    "feature_dir": "tradeloop.features.store",
    "load_external": "tradeloop.features.external",
    "materialize": "tradeloop.features.store",
    "read_features": "tradeloop.features.store",
    "register_kind": "tradeloop.features.frame",
    "unregister_kind": "tradeloop.features.frame",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.features has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "KINDS",
    "LABEL_KINDS",
    "MICRO_KINDS",
    "BarArrays",
    "ExternalSeries",
    "ExternalSeriesSpec",
    "FeatureSetConfig",
    "FeatureSpec",
    "FeatureTable",
    "LabelSpec",
    "MaterializedFile",
    "MicroData",
    "MicroFeature",
    "MicroSnapshot",
    "MicroState",
    "OnlineFeature",
    "OnlineFeatures",
    "bar_arrays",
    "bulk_feature",
    "check_causal",
    "compute_features",
    "compute_label",
    "data_hash",
    "feature_dir",
    "load_external",
    "materialize",
    "read_features",
    "register_kind",
    "unregister_kind",
]

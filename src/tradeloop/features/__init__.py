"""Feature store: declared features computed the same way offline and online.

- ``definitions``: ``FeatureSetConfig`` (the run config's ``[features]``), ``FeatureSpec``
  (kind, window, lag), ``LabelSpec``, ``ExternalSeriesSpec``; the definition hash.
- ``compute`` / ``frame``: every kind in bulk and bar by bar, bit-identical; the causality
  probe that refuses a feature reading the future.
- ``external``: timestamped series joined as of each bar's ``ts_init``.
- ``labels``: forward returns and the triple barrier (offline only).
- ``store``: materialization to Parquet stamped with the definition and data hashes.
"""

from tradeloop.features.compute import BarArrays, OnlineFeature, bulk_feature
from tradeloop.features.definitions import (
    KINDS,
    LABEL_KINDS,
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
from tradeloop.features.store import (
    FeatureTable,
    MaterializedFile,
    data_hash,
    feature_dir,
    materialize,
    read_features,
)

__all__ = [
    "KINDS",
    "LABEL_KINDS",
    "BarArrays",
    "ExternalSeries",
    "ExternalSeriesSpec",
    "FeatureSetConfig",
    "FeatureSpec",
    "FeatureTable",
    "LabelSpec",
    "MaterializedFile",
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

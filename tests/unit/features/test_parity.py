"""Online features equal materialized features bit for bit on bundled real data (ORCL daily
bars with SPY as an external series), every kind, lags included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradeloop.data import bundled
from tradeloop.features import (
    ExternalSeriesSpec,
    FeatureSetConfig,
    FeatureSpec,
    LabelSpec,
    OnlineFeatures,
    bar_arrays,
    load_external,
    materialize,
    read_features,
)
from tradeloop.features.store import data_hash

ALL_KINDS = FeatureSetConfig(
    name="parity",
    definitions=[
        FeatureSpec(kind="log_return", window=1),
        FeatureSpec(kind="log_return", window=5, lag=2),
        FeatureSpec(kind="sma_ratio", window=20),
        FeatureSpec(kind="ema_ratio", window=10, lag=1),
        FeatureSpec(kind="rsi", window=14),
        FeatureSpec(kind="zscore", window=20),
        FeatureSpec(kind="realized_vol", window=20),
        FeatureSpec(kind="atr_pct", window=14),
        FeatureSpec(kind="volume_zscore", window=20),
        FeatureSpec(kind="range_pct"),
        FeatureSpec(kind="external", source="spy", column="close", lag=1),
        FeatureSpec(kind="external_return", source="spy", column="close", window=5),
    ],
    label=LabelSpec(kind="triple_barrier", horizon=5),
    external=[ExternalSeriesSpec(name="spy", dataset="spy_daily", publication_delay_s=60.0)],
)


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all((a.view(np.int64) == b.view(np.int64)) | both_nan))


def test_online_features_equal_the_materialized_file_bit_for_bit(tmp_path: Path) -> None:
    columns = bundled.load_bars("orcl_daily")
    arrays = bar_arrays(columns)
    spy = load_external(ALL_KINDS.external[0], tmp_path)
    [written] = materialize(
        ALL_KINDS, tmp_path, {columns.instrument_id: (arrays, "h")}, {"spy": spy}
    )
    assert written.is_new
    assert written.rows == len(columns) == 5036
    table = read_features(ALL_KINDS, tmp_path, columns.instrument_id, data_hash("h", arrays))

    online = OnlineFeatures(ALL_KINDS, {"spy": spy})
    rows = np.array([online.update(bar) for bar in columns.iter_bars()])
    for index, name in enumerate(ALL_KINDS.feature_names):
        offline = table.features[name]
        # real values, not a NaN column (SPY starts in 1999, ORCL in 1995)
        assert np.isfinite(offline).sum() > 3_700, name
        assert bits_equal(rows[:, index], offline), name
    # Rewriting the same definitions over the same data changes nothing.
    [again] = materialize(ALL_KINDS, tmp_path, {columns.instrument_id: (arrays, "h")}, {"spy": spy})
    assert not again.is_new
    assert again.content_hash == written.content_hash


def test_reading_with_other_definitions_is_refused(tmp_path: Path) -> None:
    columns = bundled.load_bars("orcl_daily")
    arrays = bar_arrays(columns)
    config = FeatureSetConfig(name="small", definitions=[FeatureSpec(kind="log_return")])
    materialize(config, tmp_path, {columns.instrument_id: (arrays, "h")}, {})
    changed = FeatureSetConfig(name="small", definitions=[FeatureSpec(kind="log_return", lag=1)])
    assert changed.definition_hash() != config.definition_hash()
    with pytest.raises(Exception, match="run `tradeloop features materialize CONFIG` first"):
        read_features(changed, tmp_path, columns.instrument_id, data_hash("h", arrays))

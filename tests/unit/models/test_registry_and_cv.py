"""The registry (versions, stages, content hashes) and purged, embargoed cross-validation
(no training row's label overlaps a test fold; the embargo holds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.analytics.drift import build_reference
from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.models.dataset import TrainingSet, purged_kfold
from tradeloop.models.registry import DriftReference, ModelRegistry

from .test_agent_fallback import card


def test_versions_count_up_and_promotion_moves_the_stage(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    first = registry.register(card(), b"one")
    second = registry.register(card(), b"two")
    assert (first.version, second.version) == (1, 2)
    assert registry.stages("m") == {"staging": 2}
    registry.promote("m", 1)
    assert registry.stages("m") == {"production": 1, "staging": 2}
    registry.promote("m", 2)
    assert registry.stages("m") == {"production": 2}  # one stage per version; v1 archived
    assert registry.stage_of("m", 1) == "none"
    assert registry.resolve("m", "latest") == 2
    assert registry.artifact(registry.card("m", "production")) == b"two"
    with pytest.raises(ConfigError, match="no version in staging"):
        registry.resolve("m", "staging")
    with pytest.raises(ConfigError, match="model 'x' is not in the registry"):
        registry.resolve("x", "latest")


def test_an_artifact_changed_after_registration_is_refused(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    registered = registry.register(card(), b"weights")
    (tmp_path / "models" / "m" / "1" / "model.json").write_bytes(b"weightz")
    with pytest.raises(DataIntegrityError, match="changed after registration"):
        registry.artifact(registered)


def test_the_drift_reference_is_stored_with_its_hash_and_a_changed_one_is_refused(
    tmp_path: Path,
) -> None:
    registry = ModelRegistry(tmp_path)
    reference = DriftReference(
        features={"rsi_14": build_reference(np.linspace(0, 100, 300))},
        prediction=build_reference(np.linspace(-0.01, 0.01, 300)),
    )
    without = registry.register(card(), b"weights")
    assert without.drift_hash == ""
    assert registry.drift_reference(without) is None
    registered = registry.register(card(), b"weights", reference)
    assert len(registered.drift_hash) == 64
    assert registry.drift_reference(registry.card("m", 2)) == reference
    path = tmp_path / "models" / "m" / "2" / "drift.json"
    path.write_bytes(path.read_bytes().replace(b"rsi_14", b"rsi_15"))
    with pytest.raises(DataIntegrityError, match=r"drift reference .* changed after registration"):
        registry.drift_reference(registered)


@settings(max_examples=60, deadline=None)
@given(
    stamps=st.integers(min_value=12, max_value=80),
    horizon=st.integers(min_value=1, max_value=6),
    folds=st.integers(min_value=2, max_value=5),
    embargo=st.integers(min_value=0, max_value=4),
)
def test_no_training_label_overlaps_the_test_fold_and_the_embargo_holds(
    stamps: int, horizon: int, folds: int, embargo: int
) -> None:
    ts = np.repeat(np.arange(stamps, dtype=np.int64) * 10, 2)  # two instruments per stamp
    label_end = np.minimum(ts + horizon * 10, (stamps - 1) * 10)
    for train, test in purged_kfold(ts, label_end, folds, embargo):
        assert not (train & test).any()
        first, last = ts[test].min(), ts[test].max()
        test_label_end = label_end[test].max()
        # a training label never reads into the test fold, nor starts inside its labels
        overlaps = (label_end[train] >= first) & (ts[train] <= test_label_end)
        assert not overlaps.any()
        after = np.unique(ts[ts > last])[:embargo]
        assert not np.isin(ts[train], after).any()


def test_a_window_keeps_only_rows_whose_label_ended_inside_it() -> None:
    ts = np.array([0, 10, 20, 30], dtype=np.int64)
    rows = TrainingSet(np.zeros((4, 1)), np.zeros(4), ts, ts + 15, np.array(["A"] * 4), ["f"])
    assert rows.window(0, 30).ts_ns.tolist() == [0, 10]  # 20 + 15 and 30 + 15 read past 30

"""No look-ahead: a leaky feature is refused (by its declaration or by the causality probe),
an external value is seen only from its own ts_init, labels read the future and only the
future."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.data import bundled
from tradeloop.features import (
    BarArrays,
    ExternalSeriesSpec,
    FeatureSetConfig,
    FeatureSpec,
    LabelSpec,
    OnlineFeature,
    bar_arrays,
    compute_label,
    load_external,
    materialize,
    register_kind,
    unregister_kind,
)


def test_a_label_kind_declared_as_a_feature_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"forward_return is a label kind .* may not see the future"
    ):
        FeatureSpec(kind="forward_return", window=5)


def test_a_negative_lag_is_refused_as_look_ahead() -> None:
    with pytest.raises(ConfigError, match=r"lag -1 would read bar t-1 ahead of t .look-ahead."):
        FeatureSpec(kind="log_return", lag=-1)


def test_a_feature_named_like_the_label_column_is_refused() -> None:
    with pytest.raises(ConfigError, match="reserved"):
        FeatureSpec(kind="log_return", name="label")


@pytest.fixture
def leaky_kind() -> Iterator[str]:
    # Tomorrow's return, disguised as a custom kind: the probe must catch it.
    def bulk(spec: FeatureSpec, bars: BarArrays, external: np.ndarray | None) -> np.ndarray:
        out = np.full(len(bars), np.nan)
        out[:-1] = bars.close[1:] / bars.close[:-1] - 1.0
        return out

    register_kind("tomorrow", "a leak", bulk, OnlineFeature)
    yield "tomorrow"
    unregister_kind("tomorrow")


def test_a_custom_feature_that_reads_the_next_bar_is_refused_and_nothing_written(
    tmp_path: Path, leaky_kind: str
) -> None:
    columns = bundled.load_bars("goog_daily")
    config = FeatureSetConfig(
        name="leaky",
        definitions=[FeatureSpec(kind="log_return"), FeatureSpec(kind=leaky_kind)],
    )
    with pytest.raises(
        ConfigError, match=r"feature tomorrow_1 is not causal: .* .look-ahead.; it is refused"
    ):
        materialize(config, tmp_path, {columns.instrument_id: (bar_arrays(columns), "h")}, {})
    assert not (tmp_path / "features").exists()


def test_an_external_value_is_seen_from_its_ts_init_not_its_timestamp(tmp_path: Path) -> None:
    # A funding-rate-like series: each value stamped at 00:00 but published at 00:00:05.
    path = tmp_path / "funding.csv"
    path.write_text(
        "ts_event,published,rate\n"
        "2024-01-01T00:00:00Z,2024-01-01T00:00:05Z,0.0001\n"
        "2024-01-01T08:00:00Z,2024-01-01T08:00:05Z,0.0003\n"
    )
    spec = ExternalSeriesSpec(name="funding", path=str(path), ts_init_column="published")
    series = load_external(spec, tmp_path)
    at = np.array(
        [
            1704067200_000000000 - 1,  # before anything
            1704067200_000000000,  # the first value's timestamp: not published yet
            1704067205_000000000,  # published
            1704096000_000000000,  # the second's timestamp: still the first
            1704096005_000000000,
        ],
        dtype=np.int64,
    )
    bulk = series.asof_many("rate", at)
    assert np.isnan(bulk[:2]).all()
    assert bulk[2:].tolist() == [0.0001, 0.0001, 0.0003]
    assert [series.asof("rate", int(t)) for t in at[2:]] == [0.0001, 0.0001, 0.0003]
    delayed = load_external(
        ExternalSeriesSpec(name="f", path=str(path), publication_delay_s=10.0), tmp_path
    )
    assert math.isnan(delayed.asof("rate", 1704067205_000000000))


def test_a_source_that_publishes_before_its_timestamp_is_bad_data(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("ts_event,published,x\n2024-01-01T00:00:10Z,2024-01-01T00:00:05Z,1\n")
    spec = ExternalSeriesSpec(name="bad", path=str(path), ts_init_column="published")
    with pytest.raises(Exception, match="ts_init before the value's own time"):
        load_external(spec, tmp_path)


def test_labels_read_the_bars_after_t_and_end_where_they_stopped_reading() -> None:
    close = np.array([100.0, 101.0, 103.0, 99.0, 98.0, 104.0, 110.0])
    ts = np.arange(len(close), dtype=np.int64) * 10
    bars = BarArrays(ts, ts, close, close, close, np.ones(len(close)))
    label, end = compute_label(LabelSpec(kind="forward_return", horizon=2), bars)
    assert label[0] == math.log(103.0 / 100.0)
    assert end[0] == 20
    assert np.isnan(label[-2:]).all()
    assert (end[-2:] == -1).all()
    barrier = LabelSpec(kind="triple_barrier", horizon=3, upper=1.0, lower=1.0, vol_window=2)
    label, end = compute_label(barrier, bars)
    # at t=2 (sigma from the returns 100->101->103) the fall to 99 at t=3 crosses the lower one
    assert label[2] == -1.0
    assert end[2] == 30
    assert np.isnan(label[:2]).all()  # no volatility estimate yet

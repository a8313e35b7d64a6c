"""The trend × volatility rules: same output shape as the HMM, bulk equals incremental."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.regime import (
    BEAR_HIGH_VOLATILITY,
    BULL_HIGH_VOLATILITY,
    BULL_LOW_VOLATILITY,
    TREND_VOLATILITY_LABELS,
    TrendVolatilityClassifier,
    TrendVolatilityConfig,
    classify_trend_volatility,
)

CONFIG = TrendVolatilityConfig(
    trend_period=50, volatility_period=10, percentile_window=100, high_volatility_percentile=0.8
)


def test_bulk_rules_equal_the_incremental_classifier_on_spy(spy):
    close, ts = spy.close[:1500], spy.ts_ns[:1500]
    series = classify_trend_volatility(close, ts, CONFIG)
    classifier = TrendVolatilityClassifier(CONFIG)
    estimates = [classifier.update(int(t), float(c)) for t, c in zip(ts, close, strict=True)]
    assert [series.estimate(i) for i in range(len(series))] == estimates
    assert estimates[CONFIG.first_index - 1] is None
    assert estimates[CONFIG.first_index] is not None


def test_rules_output_one_hot_probabilities_over_the_four_labels(spy):
    series = classify_trend_volatility(spy.close[:400], spy.ts_ns[:400], CONFIG)
    estimate = series.estimate(399)
    assert estimate is not None
    assert estimate.labels == TREND_VOLATILITY_LABELS
    assert sorted(estimate.probabilities) == [0.0, 0.0, 0.0, 1.0]
    assert estimate.confidence == 1.0
    assert estimate.fit_window is None
    assert estimate.model_version == CONFIG.model_version


def test_a_calm_uptrend_after_turbulence_is_bull_low_and_a_crash_is_bear_high_volatility():
    # The volatility rule is relative: calm is calm compared with the percentile window, so
    # the window (200 bars) reaches back into a turbulent stretch.
    config = TrendVolatilityConfig(
        trend_period=50, volatility_period=10, percentile_window=200, high_volatility_percentile=0.8
    )
    rng = np.random.default_rng(4)
    steps = np.concatenate(
        [
            0.02 * rng.standard_normal(150),
            0.002 + 0.002 * rng.standard_normal(150),
            -0.01 + 0.04 * rng.standard_normal(30),
        ]
    )
    close = 100.0 * np.exp(np.cumsum(steps))
    series = classify_trend_volatility(close, np.arange(len(close), dtype=np.int64), config)
    assert series.label_at(299) == BULL_LOW_VOLATILITY
    assert series.label_at(len(close) - 1) == BEAR_HIGH_VOLATILITY


def test_rules_mark_the_2008_and_2020_crashes_on_spy_as_high_volatility(spy):
    # With the default 252-bar percentile window the rule is relative: by late December 2008
    # the window is full of crash volatilities, so the test stops at November.
    series = classify_trend_volatility(spy.close, spy.ts_ns, TrendVolatilityConfig())
    for start, end, expected in (
        ("2008-10-01", "2008-11-30", {BEAR_HIGH_VOLATILITY}),
        ("2020-03-01", "2020-03-31", {BEAR_HIGH_VOLATILITY, BULL_HIGH_VOLATILITY}),
    ):
        days = np.flatnonzero((spy.dates >= start) & (spy.dates <= end))
        assert {series.label_at(int(i)) for i in days} <= expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"trend_period": 0}, "trend_period"),
        ({"volatility_period": 1}, "volatility_period"),
        ({"high_volatility_percentile": 1.0}, "strictly between"),
    ],
)
def test_invalid_rule_config_is_a_config_error(fields, message):
    with pytest.raises(ConfigError, match=message):
        TrendVolatilityConfig(**fields)

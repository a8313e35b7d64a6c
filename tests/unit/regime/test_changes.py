"""Publish on change only, with a minimum dwell and a confidence threshold (hysteresis)."""

from __future__ import annotations

import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.regime import (
    HIGH_VOLATILITY,
    LOW_VOLATILITY,
    RegimeChangeConfig,
    RegimeChangeFilter,
    RegimeEstimate,
)

LABELS = (LOW_VOLATILITY, HIGH_VOLATILITY)


def estimate(ts_ns: int, probability_high: float) -> RegimeEstimate:
    probabilities = (1.0 - probability_high, probability_high)
    best = 1 if probability_high > 0.5 else 0
    return RegimeEstimate(
        ts_ns=ts_ns,
        label=LABELS[best],
        labels=LABELS,
        probabilities=probabilities,
        confidence=probabilities[best],
        model_id="test",
        model_version="v1",
        fit_window=None,
    )


def published(change_filter: RegimeChangeFilter, probabilities_high: list[float]) -> list[int]:
    out = []
    for ts, probability in enumerate(probabilities_high):
        if change_filter.update(estimate(ts, probability)) is not None:
            out.append(ts)
    return out


def test_without_hysteresis_every_change_is_published_and_repeats_are_not():
    change_filter = RegimeChangeFilter(RegimeChangeConfig())
    assert published(change_filter, [0.1, 0.2, 0.9, 0.8, 0.3, 0.7]) == [0, 2, 4, 5]


def test_a_minimum_dwell_ignores_a_one_bar_flip_and_publishes_a_lasting_change():
    change_filter = RegimeChangeFilter(RegimeChangeConfig(min_dwell_bars=3))
    flips = [0.1, 0.9, 0.1, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9]
    assert published(change_filter, flips) == [0, 8]
    assert change_filter.current is not None
    assert change_filter.current.label == HIGH_VOLATILITY


def test_a_switch_needs_the_minimum_confidence_on_every_dwell_bar():
    change_filter = RegimeChangeFilter(RegimeChangeConfig(min_dwell_bars=2, min_confidence=0.8))
    assert published(change_filter, [0.05, 0.9, 0.7, 0.9, 0.85]) == [0, 4]


def test_the_first_regime_waits_for_the_minimum_confidence():
    change_filter = RegimeChangeFilter(RegimeChangeConfig(min_confidence=0.9))
    assert published(change_filter, [0.3, 0.5, 0.05]) == [2]


def test_invalid_change_config_is_a_config_error():
    with pytest.raises(ConfigError, match="min_dwell_bars"):
        RegimeChangeConfig(min_dwell_bars=0)
    with pytest.raises(ConfigError, match="min_confidence"):
        RegimeChangeConfig(min_confidence=1.5)

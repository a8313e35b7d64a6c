"""Regime records check their invariants; multipliers are validated against the labels."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.regime import (
    TREND_VOLATILITY_LABELS,
    FitWindow,
    RegimeEstimate,
    RegimeMultipliers,
    RegimeSeries,
    hmm_state_labels,
)

LABELS = hmm_state_labels(3)


def make_estimate(
    ts_ns: int, probabilities: tuple[float, ...], **overrides: object
) -> RegimeEstimate:
    best = int(np.argmax(probabilities))
    fields: dict[str, object] = {
        "ts_ns": ts_ns,
        "label": LABELS[best],
        "labels": LABELS,
        "probabilities": probabilities,
        "confidence": probabilities[best],
        "model_id": "hmm",
        "model_version": "abc",
        "fit_window": FitWindow(0, 10, 11),
    }
    fields.update(overrides)
    return RegimeEstimate(**fields)  # type: ignore[arg-type]


def test_an_estimate_whose_label_is_not_the_most_probable_is_rejected():
    with pytest.raises(InvalidValueError, match="most probable"):
        make_estimate(1, (0.2, 0.5, 0.3), label=LABELS[0])
    with pytest.raises(InvalidValueError, match="sum to"):
        make_estimate(1, (0.2, 0.5, 0.5))
    with pytest.raises(InvalidValueError, match="align"):
        make_estimate(1, (0.5, 0.5))


def test_a_fit_window_that_ends_before_it_starts_is_rejected():
    with pytest.raises(InvalidValueError, match="before it starts"):
        FitWindow(10, 5, 3)


def test_regime_series_round_trips_per_bar_estimates():
    estimates = [None, make_estimate(2, (0.7, 0.2, 0.1)), make_estimate(3, (0.1, 0.1, 0.8))]
    series = RegimeSeries.from_estimates("hmm", LABELS, [1, 2, 3], estimates)
    assert [series.estimate(i) for i in range(3)] == estimates
    assert series.label_at(0) is None
    assert series.label_at(2) == LABELS[2]
    assert estimates[1] is not None
    assert estimates[1].probability_of(LABELS[1]) == 0.2


def test_multipliers_must_cover_exactly_the_detector_labels_within_the_cap():
    with pytest.raises(ConfigError, match="missing"):
        RegimeMultipliers(LABELS, {LABELS[0]: 1.0})
    with pytest.raises(ConfigError, match="unknown"):
        RegimeMultipliers(LABELS, {**dict.fromkeys(LABELS, 1.0), "crash": 0.0})
    with pytest.raises(ConfigError, match="outside"):
        RegimeMultipliers(LABELS, dict.fromkeys(LABELS, 1.5))
    assert RegimeMultipliers(LABELS, dict.fromkeys(LABELS, 1.5), max_multiplier=2.0)


def test_multiplier_for_a_label_and_the_probability_weighted_multiplier():
    multipliers = RegimeMultipliers(LABELS, dict(zip(LABELS, (1.0, 0.6, 0.2), strict=True)))
    assert multipliers.multiplier_for(LABELS[2]) == 0.2
    estimate = make_estimate(1, (0.5, 0.25, 0.25))
    assert multipliers.expected_multiplier(estimate) == pytest.approx(0.5 + 0.15 + 0.05)
    with pytest.raises(InvalidValueError, match="no multiplier"):
        multipliers.multiplier_for("crash")
    rules = RegimeMultipliers(TREND_VOLATILITY_LABELS, dict.fromkeys(TREND_VOLATILITY_LABELS, 1.0))
    with pytest.raises(InvalidValueError, match="differ"):
        rules.expected_multiplier(estimate)

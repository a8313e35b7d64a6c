"""Walk-forward HMM regimes: refit schedule, recorded windows, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.regime import (
    GaussianHMMRegimeModel,
    WalkForwardConfig,
    WalkForwardHMMDetector,
    walk_forward_regimes,
)

SCHEDULE = WalkForwardConfig(
    refit_every_bars=60, window_bars=200, min_fit_bars=120, filter_warmup_bars=50
)


def test_refits_follow_the_schedule_and_each_fit_window_is_recorded(switching, fast_hmm):
    data = switching
    series, fits = walk_forward_regimes(
        GaussianHMMRegimeModel(fast_hmm), SCHEDULE, data.features[:400], data.ts_ns[:400]
    )
    first_valid = 10  # the features' warm-up rows
    first_fit = first_valid + SCHEDULE.min_fit_bars - 1
    fit_ends = [first_fit + k * SCHEDULE.refit_every_bars for k in range(len(fits))]
    assert fit_ends[-1] + SCHEDULE.refit_every_bars > 399 >= fit_ends[-1]
    for fit, end in zip(fits, fit_ends, strict=True):
        start = max(first_valid, end - SCHEDULE.window_bars + 1)
        assert fit.fit_window.fit_end_ns == int(data.ts_ns[end])
        assert fit.fit_window.fit_start_ns == int(data.ts_ns[start])
        assert fit.fit_window.n_rows == end - start + 1
    assert (series.label_index[:first_fit] == -1).all()
    assert (series.label_index[first_fit:] >= 0).all()
    for i in range(first_fit, 400):
        estimate = series.estimate(i)
        assert estimate is not None
        assert estimate.fit_window is not None
        assert estimate.fit_window.fit_end_ns <= estimate.ts_ns


def test_each_walk_forward_fit_equals_a_direct_fit_on_its_recorded_window(switching, fast_hmm):
    model = GaussianHMMRegimeModel(fast_hmm)
    _, fits = walk_forward_regimes(model, SCHEDULE, switching.features[:320], switching.ts_ns[:320])
    for fit in fits:
        direct = model.fit(
            switching.features,
            switching.ts_ns,
            fit.fit_window.fit_start_ns,
            fit.fit_window.fit_end_ns,
        )
        assert direct.model_version == fit.model_version
        assert direct.means.tobytes() == fit.means.tobytes()
        assert direct.transmat.tobytes() == fit.transmat.tobytes()


def test_walk_forward_estimates_up_to_t_ignore_every_row_after_t(switching, fast_hmm):
    model = GaussianHMMRegimeModel(fast_hmm)
    cut = 300
    baseline, _ = walk_forward_regimes(model, SCHEDULE, switching.features, switching.ts_ns)
    changed = switching.features.copy()
    changed[cut + 1 :] = changed[cut + 1 :][::-1] * 4.0
    other, _ = walk_forward_regimes(model, SCHEDULE, changed, switching.ts_ns)
    assert baseline.probabilities[: cut + 1].tobytes() == other.probabilities[: cut + 1].tobytes()
    assert baseline.label_index[: cut + 1].tobytes() == other.label_index[: cut + 1].tobytes()


def test_expanding_window_starts_every_fit_at_the_first_valid_row(switching, fast_hmm):
    schedule = WalkForwardConfig(
        refit_every_bars=100, window_bars=None, min_fit_bars=100, filter_warmup_bars=40
    )
    detector = WalkForwardHMMDetector(GaussianHMMRegimeModel(fast_hmm), schedule)
    estimates = [
        detector.update(ts, row)
        for ts, row in zip(
            switching.ts_ns[:330].tolist(), switching.features[:330].tolist(), strict=True
        )
    ]
    assert len(detector.fits) == 3
    assert {fit.fit_window.fit_start_ns for fit in detector.fits} == {int(switching.ts_ns[10])}
    assert [fit.fit_window.n_rows for fit in detector.fits] == [100, 200, 300]
    series, _ = walk_forward_regimes(
        GaussianHMMRegimeModel(fast_hmm), schedule, switching.features[:330], switching.ts_ns[:330]
    )
    assert [series.estimate(i) for i in range(330)] == estimates


def test_detector_rejects_time_going_backwards_and_a_nan_after_the_warm_up(switching, fast_hmm):
    detector = WalkForwardHMMDetector(GaussianHMMRegimeModel(fast_hmm), SCHEDULE)
    assert detector.update(10, [np.nan, np.nan]) is None
    detector.update(11, [0.01, -2.0])
    with pytest.raises(DataIntegrityError, match="increasing"):
        detector.update(11, [0.01, -2.0])
    with pytest.raises(DataIntegrityError, match="after the warm-up"):
        detector.update(12, [np.nan, -2.0])


def test_a_schedule_that_can_never_fit_is_a_config_error():
    with pytest.raises(ConfigError, match="never happen"):
        WalkForwardConfig(window_bars=100, min_fit_bars=200)
    with pytest.raises(ConfigError, match="refit_every_bars"):
        WalkForwardConfig(refit_every_bars=0)

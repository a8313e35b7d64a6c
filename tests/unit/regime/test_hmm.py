"""The Gaussian HMM regime model: explicit fit windows, causal filtering, stable labels.

No look-ahead (architecture invariant 4) is checked two ways: a fit with end T is
bit-identical whatever rows follow T, and the filtered probability at t is bit-identical
whatever rows follow t. The filter itself is checked against hmmlearn: the last row of
forward-backward smoothing equals the forward (filtered) probability at that row.
"""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from tradeloop.core.errors import ConfigError, DataIntegrityError, InvalidValueError
from tradeloop.regime import (
    HIGH_VOLATILITY,
    LOW_VOLATILITY,
    FittedGaussianHMM,
    GaussianHMMConfig,
    GaussianHMMRegimeModel,
    RegimeFitError,
    hmm_state_labels,
    regime_features,
)

FIT_END = 399


def fitted_arrays(model: FittedGaussianHMM) -> list[np.ndarray]:
    return [
        model.center,
        model.scale,
        model.startprob,
        model.transmat,
        model.means,
        model.covariances,
        model.prior,
    ]


def assert_same_model(first: FittedGaussianHMM, second: FittedGaussianHMM) -> None:
    for a, b in zip(fitted_arrays(first), fitted_arrays(second), strict=True):
        assert a.tobytes() == b.tobytes()
    assert first.model_version == second.model_version
    assert first.fit_window == second.fit_window
    assert first.labels == second.labels


def test_fit_with_end_t_is_bit_identical_whatever_rows_follow_t(switching, fast_hmm):
    model = GaussianHMMRegimeModel(fast_hmm)
    ts = switching.ts_ns
    truncated = model.fit(
        switching.features[: FIT_END + 1], ts[: FIT_END + 1], int(ts[0]), int(ts[FIT_END])
    )
    garbage = switching.features.copy()
    garbage[FIT_END + 1 :] = 1e6  # huge, absurd values after T
    garbage[FIT_END + 1 :: 7, 0] = -3e5
    for features in (switching.features, garbage):
        full = model.fit(features, ts, int(ts[0]), int(ts[FIT_END]))
        assert_same_model(truncated, full)
        probabilities = full.filter(features[: FIT_END + 1])
        expected = truncated.filter(switching.features[: FIT_END + 1])
        assert probabilities.tobytes() == expected.tobytes()


def test_filtered_probability_at_t_does_not_change_when_later_rows_change(switching, fast_hmm):
    fitted = GaussianHMMRegimeModel(fast_hmm).fit(
        switching.features, switching.ts_ns, int(switching.ts_ns[0]), int(switching.ts_ns[FIT_END])
    )
    baseline = fitted.filter(switching.features)
    rng = np.random.default_rng(5)
    for t in (15, 200, 450, 598):
        changed = switching.features.copy()
        changed[t + 1 :] += rng.normal(0.0, 3.0, size=changed[t + 1 :].shape)
        assert fitted.filter(changed)[: t + 1].tobytes() == baseline[: t + 1].tobytes()
        assert fitted.filter(switching.features[: t + 1]).tobytes() == baseline[: t + 1].tobytes()


def test_forward_filter_equals_hmmlearn_smoothing_on_the_last_row_of_each_prefix(
    switching, fast_hmm
):
    from hmmlearn.hmm import GaussianHMM

    fitted = GaussianHMMRegimeModel(fast_hmm).fit(
        switching.features, switching.ts_ns, int(switching.ts_ns[0]), int(switching.ts_ns[FIT_END])
    )
    probabilities = fitted.filter(switching.features)
    first = int(np.argmax(~np.isnan(probabilities[:, 0])))
    reference = GaussianHMM(n_components=2, covariance_type="full")
    reference.startprob_ = fitted.prior
    reference.transmat_ = fitted.transmat
    reference.means_ = fitted.means
    reference.covars_ = fitted.covariances
    standardized = (switching.features[first:] - fitted.center) / fitted.scale
    for t in (0, 1, 50, 300, len(standardized) - 1):
        smoothed_last = reference.predict_proba(standardized[: t + 1])[-1]
        np.testing.assert_allclose(probabilities[first + t], smoothed_last, rtol=1e-9, atol=1e-12)


def test_bulk_filter_equals_the_incremental_forward_filter_bit_for_bit(switching, fast_hmm):
    fitted = GaussianHMMRegimeModel(fast_hmm).fit(
        switching.features, switching.ts_ns, int(switching.ts_ns[0]), int(switching.ts_ns[FIT_END])
    )
    bulk = fitted.filter(switching.features)
    forward = fitted.forward_filter()
    for i, row in enumerate(switching.features.tolist()):
        if np.isnan(row).any():
            assert np.isnan(bulk[i]).all()
            continue
        assert forward.update(row) == tuple(bulk[i].tolist())


def test_high_volatility_state_finds_the_turbulent_bars_of_the_synthetic_series(
    switching, fast_hmm
):
    fitted = GaussianHMMRegimeModel(fast_hmm).fit(
        switching.features, switching.ts_ns, int(switching.ts_ns[0]), int(switching.ts_ns[FIT_END])
    )
    series = fitted.series(switching.features, switching.ts_ns)
    labels = [series.label_at(i) for i in range(len(series))]
    valid = [i for i, label in enumerate(labels) if label is not None]
    hits = [(labels[i] == HIGH_VOLATILITY) == switching.is_turbulent[i] for i in valid]
    assert np.mean(hits) > 0.9
    assert fitted.labels == (LOW_VOLATILITY, HIGH_VOLATILITY)
    assert fitted.state_means[0, 1] < fitted.state_means[1, 1]


def test_labels_are_stable_when_refitted_on_a_shifted_window(switching, fast_hmm):
    model = GaussianHMMRegimeModel(fast_hmm)
    ts = switching.ts_ns
    early = model.fit(switching.features, ts, int(ts[0]), int(ts[FIT_END]))
    late = model.fit(switching.features, ts, int(ts[150]), int(ts[549]))
    early_labels = np.nan_to_num(early.filter(switching.features), nan=-1.0).argmax(axis=1)
    late_labels = np.nan_to_num(late.filter(switching.features), nan=-1.0).argmax(axis=1)
    overlap = slice(150, 400)
    assert np.mean(early_labels[overlap] == late_labels[overlap]) > 0.95
    assert early.model_version != late.model_version


def test_labels_do_not_depend_on_the_seed_that_numbers_hmmlearn_states(switching, fast_hmm):
    ts = switching.ts_ns
    fits = [
        GaussianHMMRegimeModel(msgspec.structs.replace(fast_hmm, seed=seed)).fit(
            switching.features, ts, int(ts[0]), int(ts[FIT_END])
        )
        for seed in range(4)
    ]
    label_rows = [
        np.nan_to_num(f.filter(switching.features), nan=-1.0).argmax(axis=1) for f in fits
    ]
    for other in label_rows[1:]:
        assert np.mean(other == label_rows[0]) > 0.97


def test_refit_with_the_same_window_and_seed_gives_the_same_version(switching, fast_hmm):
    model = GaussianHMMRegimeModel(fast_hmm)
    ts = switching.ts_ns
    first = model.fit(switching.features, ts, int(ts[0]), int(ts[FIT_END]))
    second = model.fit(switching.features, ts, int(ts[0]), int(ts[FIT_END]))
    assert_same_model(first, second)
    assert first.fit_window.fit_start_ns == int(ts[0])
    assert first.fit_window.fit_end_ns == int(ts[FIT_END])
    assert first.fit_window.n_rows == FIT_END + 1 - 10  # 10 warm-up rows of the features


@pytest.mark.parametrize("n_states", [3, 4])
def test_three_and_four_state_models_name_their_states_by_volatility_then_trend(
    n_states, fast_hmm, make_switching
):
    data = make_switching(500, seed=2)
    config = msgspec.structs.replace(fast_hmm, n_states=n_states, covariance_type="diag")
    fitted = GaussianHMMRegimeModel(config).fit(
        data.features, data.ts_ns, int(data.ts_ns[0]), int(data.ts_ns[-1])
    )
    assert fitted.labels == hmm_state_labels(n_states)
    volatility = fitted.state_means[:, 1]
    returns = fitted.state_means[:, 0]
    if n_states == 3:
        assert list(volatility) == sorted(volatility)
    else:
        assert max(volatility[:2]) <= min(volatility[2:])
        assert returns[0] >= returns[1]
        assert returns[2] >= returns[3]


def test_high_volatility_regime_covers_2008_q4_and_march_2020_on_spy(spy):
    # A sanity check, not a benchmark: fitted on 2005-2019 only, the causal filter puts the
    # 2008 crash (in sample) and the March 2020 crash (out of sample) in the high-volatility
    # regime.
    features = regime_features(spy.close, 20)
    fit_end = int(spy.ts_ns[np.flatnonzero(spy.dates <= "2019-12-31")[-1]])
    config = GaussianHMMConfig(n_states=3, n_iter=40, seed=7)
    fitted = GaussianHMMRegimeModel(config).fit(features, spy.ts_ns, int(spy.ts_ns[0]), fit_end)
    series = fitted.series(features, spy.ts_ns)
    labels = np.array([series.label_at(i) for i in range(len(series))], dtype=object)
    for start, end in (("2008-10-01", "2008-12-31"), ("2020-03-01", "2020-03-31")):
        days = (spy.dates >= start) & (spy.dates <= end)
        assert np.mean(labels[days] == HIGH_VOLATILITY) >= 0.9, (start, end)
    calm = (spy.dates >= "2017-01-01") & (spy.dates <= "2017-12-31")
    assert np.mean(labels[calm] == HIGH_VOLATILITY) < 0.05


def test_fit_rejects_a_window_with_too_few_rows(switching, fast_hmm):
    model = GaussianHMMRegimeModel(fast_hmm)
    ts = switching.ts_ns
    with pytest.raises(InvalidValueError, match="needs at least 60"):
        model.fit(switching.features, ts, int(ts[0]), int(ts[40]))
    with pytest.raises(InvalidValueError, match="before"):
        model.fit(switching.features, ts, int(ts[10]), int(ts[0]))


def test_fit_rejects_a_nan_after_the_warm_up(switching, fast_hmm):
    features = switching.features.copy()
    features[200, 1] = np.nan
    ts = switching.ts_ns
    with pytest.raises(DataIntegrityError, match="row 200"):
        GaussianHMMRegimeModel(fast_hmm).fit(features, ts, int(ts[0]), int(ts[FIT_END]))


def test_fit_rejects_a_constant_feature_column(switching, fast_hmm):
    features = switching.features.copy()
    features[:, 1] = 0.5
    ts = switching.ts_ns
    with pytest.raises(RegimeFitError, match="column 1 is constant"):
        GaussianHMMRegimeModel(fast_hmm).fit(features, ts, int(ts[0]), int(ts[FIT_END]))


def test_filter_rejects_a_row_with_the_wrong_width_or_a_nan(switching, fast_hmm):
    fitted = GaussianHMMRegimeModel(fast_hmm).fit(
        switching.features, switching.ts_ns, int(switching.ts_ns[0]), int(switching.ts_ns[FIT_END])
    )
    forward = fitted.forward_filter()
    with pytest.raises(InvalidValueError, match="2"):
        forward.update([0.1])
    with pytest.raises(DataIntegrityError):
        forward.update([0.1, float("nan")])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n_states": 5}, "n_states 5"),
        ({"covariance_type": "banded"}, "covariance_type"),
        ({"n_iter": 0}, "n_iter"),
        ({"tol": 0.0}, "tol"),
        ({"volatility_column": 0}, "return column"),
        ({"min_fit_rows": 3, "n_states": 2}, "min_fit_rows"),
    ],
)
def test_invalid_hmm_config_is_a_config_error(fields, message):
    with pytest.raises(ConfigError, match=message):
        GaussianHMMConfig(**fields)

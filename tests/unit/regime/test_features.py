"""Regime features: causal, bulk equals incremental, values as documented."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core.errors import DataIntegrityError
from tradeloop.regime import MIN_VOLATILITY, RegimeFeatureBuilder, regime_features

log_steps = st.lists(
    st.floats(min_value=-0.2, max_value=0.2, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=80,
)


@settings(max_examples=80, deadline=None)
@given(log_steps, st.integers(min_value=2, max_value=10), st.booleans())
def test_bulk_features_equal_the_incremental_builder_bit_for_bit(steps, period, log_volatility):
    close = 50.0 * np.exp(np.cumsum(steps))
    bulk = regime_features(close, period, log_volatility=log_volatility)
    builder = RegimeFeatureBuilder(period, log_volatility=log_volatility)
    for i, price in enumerate(close.tolist()):
        row = builder.update(price)
        if row is None:
            assert np.isnan(bulk[i]).all()
        else:
            assert row == tuple(bulk[i].tolist())


def test_features_are_the_log_return_and_the_log_of_the_annualized_sample_volatility(spy):
    close = spy.close[:300]
    features = regime_features(close, 20)
    assert np.isnan(features[:20]).all()
    assert not np.isnan(features[20:]).any()
    log_returns = np.diff(np.log(close))
    np.testing.assert_allclose(features[20:, 0], log_returns[19:], rtol=0.0, atol=1e-15)
    t = 150
    window = log_returns[t - 20 : t]
    expected = math.log(np.std(window, ddof=1) * math.sqrt(252.0))
    assert features[t, 1] == pytest.approx(expected, rel=1e-10)


def test_a_row_does_not_change_when_later_closes_change(spy):
    close = spy.close[:200].copy()
    baseline = regime_features(close, 20)
    close[120:] *= 3.0
    assert regime_features(close, 20)[:120].tobytes() == baseline[:120].tobytes()


def test_constant_prices_give_the_floored_volatility_not_minus_infinity():
    features = regime_features(np.full(30, 10.0), 5)
    assert features[10, 1] == math.log(MIN_VOLATILITY)
    assert features[10, 0] == 0.0


def test_a_non_positive_close_is_a_data_error():
    with pytest.raises(DataIntegrityError):
        regime_features([10.0, 11.0, 0.0, 12.0], 2)

"""Running sums stay accurate on long series: WMA and the rolling variance are rebuilt from
the window every ``8 * period`` outputs, so their error does not grow with the length."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tradeloop.analytics import indicators as ind

LENGTH = 200_000


def walk() -> np.ndarray:
    rng = np.random.default_rng(99)
    return 50_000.0 + np.cumsum(rng.normal(0.0, 25.0, LENGTH))


def test_wma_stays_within_1e_12_of_the_direct_weighted_mean_over_200k_values():
    values = walk()
    period = 30
    weights = np.arange(1, period + 1, dtype=np.float64)
    direct = sliding_window_view(values, period) @ weights / weights.sum()
    np.testing.assert_allclose(ind.wma(values, period)[period - 1 :], direct, rtol=1e-12)


def test_bollinger_std_stays_within_1e_10_of_the_two_pass_std_over_200k_values():
    values = walk()
    period = 20
    bands = ind.bollinger_bands(values, period, 1.0)
    direct_std = sliding_window_view(values, period).std(axis=1)
    np.testing.assert_allclose((bands.upper - bands.middle)[period - 1 :], direct_std, rtol=1e-10)


def test_realized_volatility_matches_the_sample_std_of_log_returns_over_200k_values():
    prices = walk()
    period = 60
    returns = np.log(prices[1:] / prices[:-1])
    direct = sliding_window_view(returns, period).std(axis=1, ddof=1) * np.sqrt(252.0)
    np.testing.assert_allclose(ind.realized_volatility(prices, period)[period:], direct, rtol=1e-9)

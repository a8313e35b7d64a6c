"""Bulk indicators against TA-Lib on real daily data: identical NaN warm-up, values within 1e-9.

TA-Lib is run with its defaults (classic RSI, unstable period 0, SMA smoothing for STOCH).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import talib

from tradeloop.analytics import indicators as ind

RELATIVE_TOLERANCE = 1e-9


def assert_matches_talib(
    ours: npt.ArrayLike, reference: npt.ArrayLike, atol: float = 1e-12
) -> None:
    ours = np.asarray(ours)
    reference = np.asarray(reference)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference), "NaN warm-up differs")
    np.testing.assert_allclose(ours, reference, rtol=RELATIVE_TOLERANCE, atol=atol, equal_nan=True)


@pytest.mark.parametrize("period", [1, 2, 5, 30])
def test_sma_matches_talib_sma(daily, period):
    assert_matches_talib(ind.sma(daily.close, period), talib.SMA(daily.close, period))


@pytest.mark.parametrize("period", [1, 2, 10, 30])
def test_ema_seeded_with_sma_matches_talib_ema(daily, period):
    assert_matches_talib(ind.ema(daily.close, period), talib.EMA(daily.close, period))


@pytest.mark.parametrize("period", [1, 2, 10, 30])
def test_wma_matches_talib_wma(daily, period):
    assert_matches_talib(ind.wma(daily.close, period), talib.WMA(daily.close, period))


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_matches_talib_rsi(daily, period):
    assert_matches_talib(ind.rsi(daily.close, period), talib.RSI(daily.close, period))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 4, 1)])
def test_macd_lines_match_talib_macd_including_its_fast_ema_alignment(daily, fast, slow, signal):
    ours = ind.macd(daily.close, fast, slow, signal)
    line, signal_line, histogram = talib.MACD(daily.close, fast, slow, signal)
    assert_matches_talib(ours.macd, line)
    assert_matches_talib(ours.signal, signal_line)
    assert_matches_talib(ours.histogram, histogram)


def test_macd_first_valid_index_is_33_for_12_26_9(daily):
    line = ind.macd(daily.close).macd
    assert int(np.argmax(~np.isnan(line))) == 33


@pytest.mark.parametrize(("period", "num_std"), [(20, 2.0), (10, 1.5), (5, 0.0)])
def test_bollinger_bands_match_talib_bbands_with_population_std(daily, period, num_std):
    ours = ind.bollinger_bands(daily.close, period, num_std)
    upper, middle, lower = talib.BBANDS(daily.close, period, num_std, num_std, 0)
    assert_matches_talib(ours.middle, middle)
    assert_matches_talib(ours.upper, upper)
    assert_matches_talib(ours.lower, lower)


@pytest.mark.parametrize(("fastk", "slowk", "slowd"), [(5, 3, 3), (14, 3, 3), (1, 1, 1), (9, 4, 2)])
def test_stochastic_matches_talib_stoch_with_sma_smoothing(daily, fastk, slowk, slowd):
    ours = ind.stochastic(daily.high, daily.low, daily.close, fastk, slowk, slowd)
    k, d = talib.STOCH(daily.high, daily.low, daily.close, fastk, slowk, 0, slowd, 0)
    assert_matches_talib(ours.k, k)
    assert_matches_talib(ours.d, d)


@pytest.mark.parametrize(("fastk", "fastd"), [(5, 3), (14, 3), (1, 1)])
def test_stochastic_fast_matches_talib_stochf(daily, fastk, fastd):
    ours = ind.stochastic_fast(daily.high, daily.low, daily.close, fastk, fastd)
    k, d = talib.STOCHF(daily.high, daily.low, daily.close, fastk, fastd, 0)
    assert_matches_talib(ours.k, k)
    assert_matches_talib(ours.d, d)


@pytest.mark.parametrize("period", [1, 2, 14, 30])
def test_atr_matches_talib_atr(daily, period):
    assert_matches_talib(
        ind.atr(daily.high, daily.low, daily.close, period),
        talib.ATR(daily.high, daily.low, daily.close, period),
    )


@pytest.mark.parametrize("period", [2, 5, 14, 30])
def test_adx_and_directional_indicators_match_talib(daily, period):
    ours = ind.adx(daily.high, daily.low, daily.close, period)
    assert_matches_talib(ours.adx, talib.ADX(daily.high, daily.low, daily.close, period))
    assert_matches_talib(ours.plus_di, talib.PLUS_DI(daily.high, daily.low, daily.close, period))
    assert_matches_talib(ours.minus_di, talib.MINUS_DI(daily.high, daily.low, daily.close, period))


@pytest.mark.parametrize("ddof", [0, 1])
def test_realized_volatility_equals_talib_stddev_of_log_returns_annualized(daily, ddof):
    period = 20
    log_returns = np.log(daily.close[1:] / daily.close[:-1])
    population_std = talib.STDDEV(log_returns, period, 1.0)
    bessel = np.sqrt(period / (period - ddof))
    reference = np.concatenate([[np.nan], population_std * bessel * np.sqrt(252.0)])
    ours = ind.realized_volatility(daily.close, period, annualization_factor=252.0, ddof=ddof)
    assert_matches_talib(ours, reference)


def test_zscore_equals_distance_from_talib_sma_in_talib_stddevs(daily):
    period = 20
    reference = (daily.close - talib.SMA(daily.close, period)) / talib.STDDEV(
        daily.close, period, 1.0
    )
    assert_matches_talib(ind.zscore(daily.close, period), reference, atol=1e-9)


def test_leading_nans_are_skipped_as_talib_does(daily):
    close = daily.close.copy()
    high = daily.high.copy()
    close[:7] = np.nan
    high[:3] = np.nan
    assert_matches_talib(ind.sma(close, 10), talib.SMA(close, 10))
    assert_matches_talib(ind.rsi(close, 14), talib.RSI(close, 14))
    assert_matches_talib(ind.macd(close).signal, talib.MACD(close)[1])
    assert_matches_talib(ind.atr(high, daily.low, close, 14), talib.ATR(high, daily.low, close, 14))


def test_chained_bulk_indicators_skip_the_inner_warm_up_like_talib(daily):
    inner = ind.rsi(daily.close, 14)
    assert_matches_talib(ind.ema(inner, 9), talib.EMA(talib.RSI(daily.close, 14), 9))

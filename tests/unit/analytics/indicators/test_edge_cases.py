"""Invalid parameters and inputs, and the degenerate series where a ratio is 0/0."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import talib

from tradeloop.analytics import indicators as ind
from tradeloop.core.errors import DataIntegrityError, InvalidValueError

CONSTANT = np.full(60, 42.25)
RISING = np.arange(60, dtype=np.float64) + 1.0


@pytest.mark.parametrize(
    ("build", "indicator", "name"),
    [
        (lambda p: ind.SMA(p), "SMA", "period"),
        (lambda p: ind.EMA(p), "EMA", "period"),
        (lambda p: ind.WMA(p), "WMA", "period"),
        (lambda p: ind.RSI(p), "RSI", "period"),
        (lambda p: ind.ATR(p), "ATR", "period"),
        (lambda p: ind.ADX(p), "ADX", "period"),
        (lambda p: ind.BollingerBands(p), "BollingerBands", "period"),
        (lambda p: ind.MACD(p, 26, 9), "MACD", "fast_period"),
        (lambda p: ind.MACD(12, 26, p), "MACD", "signal_period"),
        (lambda p: ind.Stochastic(p), "Stochastic", "fastk_period"),
        (lambda p: ind.StochasticFast(5, p), "StochasticFast", "fastd_period"),
        (lambda p: ind.sma(RISING, p), "SMA", "period"),
        (lambda p: ind.ema(RISING, p), "EMA", "period"),
        (lambda p: ind.wma(RISING, p), "WMA", "period"),
        (lambda p: ind.rsi(RISING, p), "RSI", "period"),
        (lambda p: ind.atr(RISING, RISING, RISING, p), "ATR", "period"),
        (lambda p: ind.adx(RISING, RISING, RISING, p), "ADX", "period"),
        (lambda p: ind.bollinger_bands(RISING, p), "BollingerBands", "period"),
        (lambda p: ind.macd(RISING, 12, 26, p), "MACD", "signal_period"),
        (lambda p: ind.stochastic(RISING, RISING, RISING, 5, p), "Stochastic", "slowk_period"),
        (lambda p: ind.sma_raw(np.array([1, 2]), 2, p), "sma_raw", "period"),
    ],
)
@pytest.mark.parametrize("period", [0, -3])
def test_period_below_one_is_rejected_naming_indicator_value_and_rule(
    build, indicator, name, period
):
    with pytest.raises(InvalidValueError) as raised:
        build(period)
    message = str(raised.value)
    assert f"{indicator} {name} {period} is invalid" in message
    assert "must be at least 1" in message


@pytest.mark.parametrize(
    "build",
    [
        lambda p: ind.ZScore(p),
        lambda p: ind.RealizedVolatility(p),
        lambda p: ind.zscore(RISING, p),
        lambda p: ind.realized_volatility(RISING, p),
    ],
)
def test_window_statistics_need_a_period_of_at_least_two(build):
    with pytest.raises(
        InvalidValueError, match="period 1 is invalid; the period must be at least 2"
    ):
        build(1)


@pytest.mark.parametrize("period", [2.5, True, "14", None])
def test_non_integer_period_is_rejected(period):
    with pytest.raises(InvalidValueError, match="is not an integer"):
        ind.SMA(period)


def test_macd_fast_period_not_below_slow_period_is_rejected():
    with pytest.raises(InvalidValueError, match="MACD fast_period 26 is not below slow_period 26"):
        ind.MACD(26, 26, 9)
    with pytest.raises(InvalidValueError, match="fast_period 30 is not below slow_period 26"):
        ind.macd(RISING, 30, 26, 9)


@pytest.mark.parametrize("ddof", [2, -1, 0.5])
def test_ddof_other_than_0_or_1_is_rejected(ddof):
    with pytest.raises(InvalidValueError, match="ddof must be 0 or 1"):
        ind.ZScore(10, ddof)


@pytest.mark.parametrize("factor", [0.0, -252.0, float("nan"), float("inf")])
def test_realized_volatility_rejects_non_positive_or_non_finite_annualization(factor):
    with pytest.raises(InvalidValueError, match="annualization_factor"):
        ind.RealizedVolatility(20, factor)


@pytest.mark.parametrize("num_std", [-1.0, float("nan"), float("inf")])
def test_bollinger_bands_reject_negative_or_non_finite_width(num_std):
    with pytest.raises(InvalidValueError, match="num_std"):
        ind.BollingerBands(20, num_std)


def test_unknown_bar_field_is_rejected():
    with pytest.raises(InvalidValueError, match="EMA field 'vwap' is unknown"):
        ind.EMA(10, field="vwap")  # type: ignore[arg-type]


SINGLE_INPUT: list[Callable[[], Any]] = [
    lambda: ind.SMA(3),
    lambda: ind.EMA(3),
    lambda: ind.WMA(3),
    lambda: ind.RSI(3),
    lambda: ind.MACD(2, 3, 2),
    lambda: ind.BollingerBands(3),
    lambda: ind.ZScore(3),
    lambda: ind.RealizedVolatility(3),
]
HLC_INPUT: list[Callable[[], Any]] = [
    lambda: ind.ATR(3),
    lambda: ind.ADX(3),
    lambda: ind.Stochastic(3),
    lambda: ind.StochasticFast(3),
]


@pytest.mark.parametrize("make", SINGLE_INPUT)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_input_to_incremental_raises_naming_the_indicator(make, bad):
    indicator = make()
    indicator.update(10.0)
    with pytest.raises(DataIntegrityError, match=r"received .*; indicator inputs must be finite"):
        indicator.update(bad)
    assert indicator.count == 1


@pytest.mark.parametrize("make", HLC_INPUT)
def test_non_finite_high_low_or_close_to_incremental_raises(make):
    indicator = make()
    for bar in [(float("nan"), 1.0, 1.0), (1.0, float("inf"), 1.0), (1.0, 1.0, float("nan"))]:
        with pytest.raises(
            DataIntegrityError, match=repr(indicator).replace("(", r"\(").replace(")", r"\)")
        ):
            indicator.update(*bar)


def test_nan_after_the_first_number_raises_in_bulk_with_its_index():
    values = RISING.copy()
    values[17] = np.nan
    with pytest.raises(DataIntegrityError, match=r"RSI input values\[17\] is nan"):
        ind.rsi(values, 14)


def test_leading_infinity_is_not_skipped():
    values = RISING.copy()
    values[0] = np.inf
    with pytest.raises(DataIntegrityError, match=r"values\[0\] is inf"):
        ind.sma(values, 3)


def test_all_nan_input_gives_all_nan_output():
    assert np.isnan(ind.ema(np.full(10, np.nan), 3)).all()


def test_high_low_close_of_different_lengths_are_rejected():
    with pytest.raises(InvalidValueError, match="ADX inputs have different lengths"):
        ind.adx(RISING, RISING[:-1], RISING)


def test_two_dimensional_values_are_rejected():
    with pytest.raises(InvalidValueError, match="one-dimensional"):
        ind.sma(np.ones((3, 3)), 2)


def test_series_shorter_than_the_warm_up_give_all_nan():
    short = RISING[:5]
    assert np.isnan(ind.sma(short, 6)).all()
    assert np.isnan(ind.rsi(short, 5)).all()
    assert np.isnan(ind.macd(short).histogram).all()
    assert np.isnan(ind.adx(short, short, short, 3).adx).all()
    assert ind.sma(np.empty(0), 3).shape == (0,)


def test_rsi_of_constant_series_is_50_where_talib_returns_0():
    ours = ind.rsi(CONSTANT, 14)
    assert (ours[14:] == 50.0).all()
    assert (talib.RSI(CONSTANT, 14)[14:] == 0.0).all()


def test_rsi_is_100_with_gains_only_and_0_with_losses_only():
    assert (ind.rsi(RISING, 14)[14:] == 100.0).all()
    assert (ind.rsi(RISING[::-1].copy(), 14)[14:] == 0.0).all()


def test_stochastic_of_flat_range_is_50_where_talib_returns_0():
    slow = ind.stochastic(CONSTANT, CONSTANT, CONSTANT)
    assert (slow.k[8:] == 50.0).all()
    assert (slow.d[8:] == 50.0).all()
    assert (talib.STOCH(CONSTANT, CONSTANT, CONSTANT)[0][8:] == 0.0).all()


def test_zscore_is_exactly_0_when_the_window_std_is_0():
    values = np.concatenate([np.linspace(1.0, 9.0, 30) ** 1.5, np.full(30, 0.1)])
    z = ind.zscore(values, 10)
    assert (z[39:] == 0.0).all()
    incremental = ind.ZScore(10)
    for value in values:
        incremental.update(value)
    assert incremental.value == 0.0


def test_bollinger_bands_collapse_onto_the_middle_for_a_constant_window():
    bands = ind.bollinger_bands(np.concatenate([RISING, CONSTANT]), 20)
    tail = slice(len(RISING) + 19, None)
    assert (bands.upper[tail] == bands.middle[tail]).all()
    assert (bands.lower[tail] == bands.middle[tail]).all()


def test_realized_volatility_of_a_constant_price_is_exactly_0():
    assert (ind.realized_volatility(CONSTANT, 20)[20:] == 0.0).all()


@pytest.mark.parametrize("price", [0.0, -1.0])
def test_realized_volatility_rejects_non_positive_prices(price):
    prices = CONSTANT.copy()
    prices[5] = price
    with pytest.raises(
        DataIntegrityError, match=r"prices\[5\] .* log returns need positive prices"
    ):
        ind.realized_volatility(prices, 3)
    incremental = ind.RealizedVolatility(3)
    with pytest.raises(DataIntegrityError, match="log returns need positive prices"):
        incremental.update(price)


def test_adx_and_directional_indicators_of_a_constant_series_are_0_as_talib():
    ours = ind.adx(CONSTANT, CONSTANT, CONSTANT, 14)
    assert (ours.adx[27:] == 0.0).all()
    assert (ours.plus_di[14:] == 0.0).all()
    assert (ours.minus_di[14:] == 0.0).all()
    np.testing.assert_array_equal(ours.adx, talib.ADX(CONSTANT, CONSTANT, CONSTANT, 14))


def test_indicators_scale_free_on_sub_cent_prices_like_talib():
    rng = np.random.default_rng(7)
    close = 1e-8 * (100.0 + np.cumsum(rng.normal(size=200)))
    high, low = close * 1.01, close * 0.99
    np.testing.assert_allclose(ind.rsi(close, 14), talib.RSI(close, 14), rtol=1e-9)
    np.testing.assert_allclose(
        ind.adx(high, low, close).adx, talib.ADX(high, low, close), rtol=1e-9
    )
    np.testing.assert_allclose(
        ind.bollinger_bands(close).upper, talib.BBANDS(close, 20)[0], rtol=1e-9
    )

"""First valid index, ``initialized``, ``count`` and ``reset`` of every indicator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tradeloop.analytics import indicators as ind

rng = np.random.default_rng(11)
CLOSE = 100.0 + np.cumsum(rng.normal(size=120))
HIGH = CLOSE + 1.0
LOW = CLOSE - 1.0


def first_valid(series: np.ndarray) -> int:
    return int(np.argmax(~np.isnan(series)))


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (lambda: ind.sma(CLOSE, 20), 19),
        (lambda: ind.ema(CLOSE, 20), 19),
        (lambda: ind.wma(CLOSE, 20), 19),
        (lambda: ind.rsi(CLOSE, 14), 14),
        (lambda: ind.atr(HIGH, LOW, CLOSE, 14), 14),
        (lambda: ind.macd(CLOSE).macd, 33),
        (lambda: ind.macd(CLOSE).signal, 33),
        (lambda: ind.macd(CLOSE, 5, 10, 4).histogram, 12),
        (lambda: ind.bollinger_bands(CLOSE, 20).upper, 19),
        (lambda: ind.stochastic(HIGH, LOW, CLOSE).k, 8),
        (lambda: ind.stochastic(HIGH, LOW, CLOSE, 14, 3, 3).d, 17),
        (lambda: ind.stochastic_fast(HIGH, LOW, CLOSE).k, 6),
        (lambda: ind.adx(HIGH, LOW, CLOSE, 14).adx, 27),
        (lambda: ind.adx(HIGH, LOW, CLOSE, 14).plus_di, 14),
        (lambda: ind.adx(HIGH, LOW, CLOSE, 14).minus_di, 14),
        (lambda: ind.zscore(CLOSE, 20), 19),
        (lambda: ind.realized_volatility(CLOSE, 20), 20),
    ],
    ids=[
        "sma",
        "ema",
        "wma",
        "rsi",
        "atr",
        "macd_line",
        "macd_signal",
        "macd_5_10_4",
        "bollinger",
        "stochastic_k",
        "stochastic_14_3_3_d",
        "stochastic_fast_k",
        "adx",
        "plus_di",
        "minus_di",
        "zscore",
        "realized_volatility",
    ],
)
def test_first_valid_index_is_the_documented_lookback(series, expected):
    values = series()
    assert first_valid(values) == expected
    assert not np.isnan(values[expected:]).any()


INCREMENTAL: list[tuple[Callable[[], Any], int, bool]] = [
    (lambda: ind.SMA(20), 19, False),
    (lambda: ind.EMA(20), 19, False),
    (lambda: ind.WMA(20), 19, False),
    (lambda: ind.RSI(14), 14, False),
    (lambda: ind.MACD(), 33, False),
    (lambda: ind.BollingerBands(20), 19, False),
    (lambda: ind.ZScore(20), 19, False),
    (lambda: ind.RealizedVolatility(20), 20, False),
    (lambda: ind.ATR(14), 14, True),
    (lambda: ind.ADX(14), 27, True),
    (lambda: ind.Stochastic(), 8, True),
    (lambda: ind.StochasticFast(), 6, True),
]


def step(indicator: Any, index: int, is_hlc: bool) -> None:
    if is_hlc:
        indicator.update(HIGH[index], LOW[index], CLOSE[index])
    else:
        indicator.update(CLOSE[index])


@pytest.mark.parametrize(("make", "first", "is_hlc"), INCREMENTAL)
def test_initialized_turns_true_with_the_first_value_and_count_counts_inputs(make, first, is_hlc):
    indicator = make()
    assert not indicator.initialized
    assert np.isnan(indicator.value)
    for index in range(first):
        step(indicator, index, is_hlc)
        assert not indicator.initialized
        assert np.isnan(indicator.value)
    step(indicator, first, is_hlc)
    assert indicator.initialized
    assert not np.isnan(indicator.value)
    assert indicator.count == first + 1


@pytest.mark.parametrize(("make", "first", "is_hlc"), INCREMENTAL)
def test_reset_replays_to_identical_values(make, first, is_hlc):
    indicator = make()
    runs = []
    for _ in range(2):
        values = []
        for index in range(len(CLOSE)):
            step(indicator, index, is_hlc)
            values.append(indicator.value)
        runs.append(np.array(values))
        indicator.reset()
        assert indicator.count == 0
        assert not indicator.initialized
        assert np.isnan(indicator.value)
    assert np.array_equal(runs[0], runs[1], equal_nan=True)


def test_directional_indicators_are_available_before_the_adx():
    adx = ind.ADX(14)
    for index in range(15):
        step(adx, index, True)
    assert not adx.initialized
    assert not np.isnan(adx.plus_di)
    assert not np.isnan(adx.minus_di)

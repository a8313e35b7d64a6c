"""The public API of ``tradeloop.analytics`` and ``tradeloop.analytics.indicators``."""

from __future__ import annotations

import inspect

import pytest

import tradeloop.analytics
import tradeloop.analytics.indicators as indicators
from tradeloop.analytics.indicators import BarIndicator
from tradeloop.data.columns import BarColumns


def public_names(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }


def test_indicators_all_lists_exactly_the_public_names():
    assert set(indicators.__all__) == public_names(indicators)
    assert len(indicators.__all__) == len(set(indicators.__all__))


def test_analytics_reexports_the_indicators_and_resolves_every_lazy_name():
    for name in tradeloop.analytics.__all__:
        getattr(tradeloop.analytics, name)  # lazy names (metrics, TCA) load on first use
    assert set(tradeloop.analytics.__all__) == public_names(tradeloop.analytics)
    assert set(indicators.__all__) <= set(tradeloop.analytics.__all__)
    for name in indicators.__all__:
        assert getattr(tradeloop.analytics, name) is getattr(indicators, name)


INCREMENTAL_CLASSES = [
    indicators.SMA(3),
    indicators.EMA(3),
    indicators.WMA(3),
    indicators.RSI(3),
    indicators.MACD(2, 3, 2),
    indicators.BollingerBands(3),
    indicators.ZScore(3),
    indicators.RealizedVolatility(3),
    indicators.ATR(3),
    indicators.ADX(3),
    indicators.Stochastic(3),
    indicators.StochasticFast(3),
]


@pytest.mark.parametrize("indicator", INCREMENTAL_CLASSES, ids=repr)
def test_every_incremental_class_is_a_bar_indicator_with_slots(indicator):
    typed: BarIndicator = indicator
    columns = BarColumns.from_floats(
        "TEST", 2, 0, range(8), *([[10.0, 11, 12, 11, 13, 14, 12, 15]] * 4), [0] * 8
    )
    for bar in columns.iter_bars():
        typed.handle_bar(bar)
    assert typed.count == 8
    assert typed.initialized
    assert not hasattr(indicator, "__dict__")

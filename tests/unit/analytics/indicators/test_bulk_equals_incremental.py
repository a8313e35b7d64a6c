"""Bulk functions equal their incremental classes exactly: same floats, NaN at the same bars.

Architecture invariant 4 (an indicator computed in bulk equals the same indicator updated
bar by bar), checked with Hypothesis on random finite series and on long random walks that
cross many rebuilds of the running sums.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.analytics import indicators as ind
from tradeloop.data.columns import BarColumns

F64 = npt.NDArray[np.float64]

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
series = st.lists(finite, max_size=160)
# Consistent bars only (low <= close <= high), as validation guarantees: a close outside its
# bar's range can push %K past any float (Hypothesis found close 496277 over a 1e-301 range).
hlc_bar = st.tuples(finite, finite, finite).map(lambda t: (max(t), min(t), sorted(t)[1]))
hlc_series = st.lists(hlc_bar, max_size=160)
small_period = st.integers(min_value=1, max_value=12)

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None)


def assert_identical(bulk: F64, incremental: F64) -> None:
    assert bulk.shape == incremental.shape
    assert np.array_equal(bulk, incremental, equal_nan=True), np.flatnonzero(
        ~((bulk == incremental) | (np.isnan(bulk) & np.isnan(incremental)))
    )


def feed(indicator: Any, inputs: Sequence[Any], attributes: Sequence[str]) -> list[F64]:
    """Update ``indicator`` with each input and record ``attributes`` after every update."""
    recorded: list[list[float]] = [[] for _ in attributes]
    for item in inputs:
        if isinstance(item, tuple):
            indicator.update(*item)
        else:
            indicator.update(item)
        for column, name in zip(recorded, attributes, strict=True):
            column.append(getattr(indicator, name))
    return [np.array(column, dtype=np.float64) for column in recorded]


def check_single_input(
    bulk: Callable[[F64], Any], make: Callable[[], Any], values: list[float], lines: Sequence[str]
) -> None:
    array = np.array(values, dtype=np.float64)
    result = bulk(array)
    bulk_lines = list(result) if isinstance(result, tuple) else [result]
    for bulk_line, incremental_line in zip(bulk_lines, feed(make(), values, lines), strict=True):
        assert_identical(bulk_line, incremental_line)


def check_hlc(
    bulk: Callable[[F64, F64, F64], Any],
    make: Callable[[], Any],
    bars: list[tuple[float, float, float]],
    lines: Sequence[str],
) -> None:
    table = np.array(bars, dtype=np.float64).reshape(-1, 3)
    high, low, close = (np.ascontiguousarray(table[:, column]) for column in range(3))
    result = bulk(high, low, close)
    bulk_lines = list(result) if isinstance(result, tuple) else [result]
    for bulk_line, incremental_line in zip(bulk_lines, feed(make(), bars, lines), strict=True):
        assert_identical(bulk_line, incremental_line)


@PROPERTY_SETTINGS
@given(values=series, period=small_period)
def test_sma_bulk_equals_incremental(values, period):
    check_single_input(lambda x: ind.sma(x, period), lambda: ind.SMA(period), values, ["value"])


@PROPERTY_SETTINGS
@given(values=series, period=small_period)
def test_ema_bulk_equals_incremental(values, period):
    check_single_input(lambda x: ind.ema(x, period), lambda: ind.EMA(period), values, ["value"])


@PROPERTY_SETTINGS
@given(values=series, period=small_period)
def test_wma_bulk_equals_incremental_across_running_sum_rebuilds(values, period):
    check_single_input(lambda x: ind.wma(x, period), lambda: ind.WMA(period), values, ["value"])


@PROPERTY_SETTINGS
@given(values=series, period=small_period)
def test_rsi_bulk_equals_incremental(values, period):
    check_single_input(lambda x: ind.rsi(x, period), lambda: ind.RSI(period), values, ["value"])


@PROPERTY_SETTINGS
@given(
    values=series,
    fast=st.integers(min_value=1, max_value=6),
    extra=st.integers(min_value=1, max_value=8),
    signal=st.integers(min_value=1, max_value=6),
)
def test_macd_bulk_equals_incremental(values, fast, extra, signal):
    slow = fast + extra
    check_single_input(
        lambda x: ind.macd(x, fast, slow, signal),
        lambda: ind.MACD(fast, slow, signal),
        values,
        ["value", "signal", "histogram"],
    )


@PROPERTY_SETTINGS
@given(values=series, period=small_period, num_std=st.floats(min_value=0.0, max_value=4.0))
def test_bollinger_bands_bulk_equals_incremental(values, period, num_std):
    check_single_input(
        lambda x: ind.bollinger_bands(x, period, num_std),
        lambda: ind.BollingerBands(period, num_std),
        values,
        ["middle", "upper", "lower"],
    )


@PROPERTY_SETTINGS
@given(values=series, period=st.integers(min_value=2, max_value=12), ddof=st.sampled_from([0, 1]))
def test_zscore_bulk_equals_incremental(values, period, ddof):
    check_single_input(
        lambda x: ind.zscore(x, period, ddof), lambda: ind.ZScore(period, ddof), values, ["value"]
    )


@PROPERTY_SETTINGS
@given(
    prices=st.lists(positive, max_size=160),
    period=st.integers(min_value=2, max_value=12),
    ddof=st.sampled_from([0, 1]),
    factor=st.sampled_from([1.0, 252.0, 365.0]),
)
def test_realized_volatility_bulk_equals_incremental(prices, period, ddof, factor):
    check_single_input(
        lambda x: ind.realized_volatility(x, period, factor, ddof),
        lambda: ind.RealizedVolatility(period, factor, ddof),
        prices,
        ["value"],
    )


@PROPERTY_SETTINGS
@given(bars=hlc_series, period=small_period)
def test_atr_bulk_equals_incremental(bars, period):
    check_hlc(lambda h, lo, c: ind.atr(h, lo, c, period), lambda: ind.ATR(period), bars, ["value"])


@PROPERTY_SETTINGS
@given(bars=hlc_series, period=small_period)
def test_adx_bulk_equals_incremental(bars, period):
    check_hlc(
        lambda h, lo, c: ind.adx(h, lo, c, period),
        lambda: ind.ADX(period),
        bars,
        ["value", "plus_di", "minus_di"],
    )


@PROPERTY_SETTINGS
@given(
    bars=hlc_series,
    fastk=st.integers(min_value=1, max_value=8),
    slowk=st.integers(min_value=1, max_value=4),
    slowd=st.integers(min_value=1, max_value=4),
)
def test_stochastic_bulk_equals_incremental(bars, fastk, slowk, slowd):
    check_hlc(
        lambda h, lo, c: ind.stochastic(h, lo, c, fastk, slowk, slowd),
        lambda: ind.Stochastic(fastk, slowk, slowd),
        bars,
        ["k", "d"],
    )


@PROPERTY_SETTINGS
@given(
    bars=hlc_series,
    fastk=st.integers(min_value=1, max_value=8),
    fastd=st.integers(min_value=1, max_value=4),
)
def test_stochastic_fast_bulk_equals_incremental(bars, fastk, fastd):
    check_hlc(
        lambda h, lo, c: ind.stochastic_fast(h, lo, c, fastk, fastd),
        lambda: ind.StochasticFast(fastk, fastd),
        bars,
        ["k", "d"],
    )


@PROPERTY_SETTINGS
@given(
    raws=st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=120),
    precision=st.integers(min_value=0, max_value=8),
    period=small_period,
)
def test_sma_raw_bulk_equals_sma_handle_bar_on_random_integer_prices(raws, precision, period):
    columns = BarColumns(
        "TEST",
        precision,
        0,
        range(len(raws)),
        range(len(raws)),
        raws,
        raws,
        raws,
        raws,
        [0] * len(raws),
    )
    sma = ind.SMA(period)
    incremental = []
    for bar in columns.iter_bars():
        sma.handle_bar(bar)
        incremental.append(sma.value)
    assert_identical(
        ind.sma_raw(np.array(raws, dtype=np.int64), precision, period), np.array(incremental)
    )


@PROPERTY_SETTINGS
@given(
    raws=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=80),
    precision=st.integers(min_value=0, max_value=6),
)
def test_handle_bar_equals_bulk_on_float_prices_of_the_same_bars(raws, precision):
    columns = BarColumns(
        "TEST",
        precision,
        0,
        range(len(raws)),
        range(len(raws)),
        raws,
        raws,
        raws,
        raws,
        [0] * len(raws),
    )
    closes = columns.as_float("close")
    indicators: list[tuple[Any, F64]] = [
        (ind.EMA(3), ind.ema(closes, 3)),
        (ind.RSI(3), ind.rsi(closes, 3)),
        (ind.ATR(3), ind.atr(closes, closes, closes, 3)),
        (ind.ZScore(3), ind.zscore(closes, 3)),
    ]
    for indicator, bulk in indicators:
        values = []
        for bar in columns.iter_bars():
            indicator.handle_bar(bar)
            values.append(indicator.value)
        assert_identical(bulk, np.array(values))


LONG_WALK = 30_000


@pytest.fixture(scope="module")
def long_walk() -> tuple[F64, F64, F64]:
    rng = np.random.default_rng(20060102)
    close = 1000.0 + np.cumsum(rng.normal(0.0, 3.0, LONG_WALK))
    high = close + rng.uniform(0.0, 5.0, LONG_WALK)
    low = close - rng.uniform(0.0, 5.0, LONG_WALK)
    return high, low, close


@pytest.mark.parametrize(
    ("bulk", "make", "lines"),
    [
        (lambda x: ind.sma(x, 20), lambda: ind.SMA(20), ["value"]),
        (lambda x: ind.wma(x, 7), lambda: ind.WMA(7), ["value"]),
        (lambda x: ind.bollinger_bands(x, 20), ind.BollingerBands, ["middle", "upper", "lower"]),
        (lambda x: ind.zscore(x, 5, 1), lambda: ind.ZScore(5, 1), ["value"]),
        (lambda x: ind.realized_volatility(x, 10), lambda: ind.RealizedVolatility(10), ["value"]),
        (ind.macd, ind.MACD, ["value", "signal", "histogram"]),
    ],
    ids=["sma", "wma", "bollinger", "zscore", "realized_volatility", "macd"],
)
def test_bulk_equals_incremental_over_a_long_random_walk(long_walk, bulk, make, lines):
    close = long_walk[2]
    check_single_input(bulk, make, close.tolist(), lines)


def test_hlc_bulk_equals_incremental_over_a_long_random_walk(long_walk):
    bars = list(zip(*(column.tolist() for column in long_walk), strict=True))
    high, low, close = long_walk
    check_hlc(lambda h, lo, c: ind.adx(h, lo, c), ind.ADX, bars, ["value", "plus_di", "minus_di"])
    check_hlc(
        lambda h, lo, c: ind.stochastic(h, lo, c, 14), lambda: ind.Stochastic(14), bars, ["k", "d"]
    )
    assert np.isfinite(ind.atr(high, low, close)[14:]).all()

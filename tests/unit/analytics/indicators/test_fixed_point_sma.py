"""The exact SMA of fixed-point prices: ``SMA.handle_bar`` and ``sma_raw``."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.analytics import indicators as ind
from tradeloop.core.errors import InvalidValueError
from tradeloop.data.columns import BarColumns


def bars_of(closes: list[int], precision: int) -> BarColumns:
    n = len(closes)
    return BarColumns(
        "TEST", precision, 0, range(n), range(n), closes, closes, closes, closes, [0] * n
    )


def sma_of_bars(columns: BarColumns, period: int) -> list[float]:
    sma = ind.SMA(period)
    values = []
    for bar in columns.iter_bars():
        sma.handle_bar(bar)
        values.append(sma.value)
    return values


def test_handle_bar_ties_exactly_when_decimal_means_tie_where_float_sums_do_not():
    # 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1 in floats; both means are exactly 0.2
    rising, falling = [10, 20, 30], [30, 20, 10]
    assert ind.sma(np.array([0.1, 0.2, 0.3]), 3)[-1] != ind.sma(np.array([0.3, 0.2, 0.1]), 3)[-1]
    assert sma_of_bars(bars_of(rising, 2), 3)[-1] == sma_of_bars(bars_of(falling, 2), 3)[-1] == 0.2


def test_handle_bar_ties_across_instruments_with_different_precisions():
    # means 2.0005 at precision 4 and 2.0005 at precision 3 (written with different raws)
    fine = sma_of_bars(bars_of([20000, 20010], 4), 2)[-1]
    coarse = sma_of_bars(bars_of([2000, 2001], 3), 2)[-1]
    assert fine == coarse == 2.0005


def test_handle_bar_value_is_the_correctly_rounded_decimal_mean():
    closes = [123456789, 987654321, 555555555]
    value = sma_of_bars(bars_of(closes, 7), 3)[-1]
    assert value == sum(closes) / (3 * 10**7)


def test_sma_raw_equals_handle_bar_when_sums_exceed_two_to_the_53():
    # raws near 1e17 at precision 16: the bulk path falls back to exact Python integers
    closes = [10**17 + 3, 10**17 - 7, 10**17 + 11, 2 * 10**17 + 1]
    bulk = ind.sma_raw(np.array(closes, dtype=np.int64), 16, 2)
    assert np.array_equal(bulk, np.array(sma_of_bars(bars_of(closes, 16), 2)), equal_nan=True)
    assert bulk[-1] == (10**17 + 11 + 2 * 10**17 + 1) / (2 * 10**16)


def test_sma_raw_reads_bar_columns_directly():
    columns = BarColumns.from_floats(
        "TEST",
        2,
        0,
        range(5),
        [1, 2, 3, 4, 5],
        [1, 2, 3, 4, 5],
        [1, 2, 3, 4, 5],
        [1.01, 2.02, 3.03, 4.04, 5.05],
        [0] * 5,
    )
    assert ind.sma_raw(columns.close, columns.price_precision, 2)[-1] == (404 + 505) / 200


def test_handle_bar_rescales_exactly_when_a_bar_has_more_decimals():
    sma = ind.SMA(3)
    for bar in bars_of([101, 102], 2).iter_bars():
        sma.handle_bar(bar)
    for bar in bars_of([10305], 4).iter_bars():
        sma.handle_bar(bar)
    assert sma.value == (10100 + 10200 + 10305) / 30000
    for bar in bars_of([104], 2).iter_bars():
        sma.handle_bar(bar)
    assert sma.value == (10200 + 10305 + 10400) / 30000


def test_handle_bar_reads_the_chosen_field():
    n = 3
    columns = BarColumns(
        "TEST", 0, 0, range(n), range(n), [1, 1, 1], [9, 10, 11], [0, 0, 0], [5, 5, 5], [0] * n
    )
    sma = ind.SMA(3, field="high")
    for bar in columns.iter_bars():
        sma.handle_bar(bar)
    assert sma.value == 10.0


def test_sma_fed_floats_rejects_bars_until_reset():
    sma = ind.SMA(2)
    sma.update(1.0)
    bar = bars_of([100], 2).bar(0)
    with pytest.raises(InvalidValueError, match=r"SMA\(period=2\) was fed floats"):
        sma.handle_bar(bar)
    sma.reset()
    sma.handle_bar(bar)
    assert sma.count == 1


def test_sma_fed_bars_rejects_floats_until_reset():
    sma = ind.SMA(2)
    sma.handle_bar(bars_of([100], 2).bar(0))
    with pytest.raises(InvalidValueError, match="fixed-point bars"):
        sma.update(1.0)
    sma.reset()
    sma.update(1.0)
    assert sma.count == 1


@pytest.mark.parametrize("raw", [np.array([1.5, 2.5]), np.array([[1, 2]])])
def test_sma_raw_rejects_non_integer_or_two_dimensional_raws(raw):
    with pytest.raises(InvalidValueError, match="sma_raw raw"):
        ind.sma_raw(raw, 2, 1)


@pytest.mark.parametrize("precision", [-1, 17])
def test_sma_raw_rejects_precision_outside_0_to_16(precision):
    with pytest.raises(InvalidValueError, match=f"sma_raw precision {precision} is invalid"):
        ind.sma_raw(np.array([1, 2]), precision, 1)

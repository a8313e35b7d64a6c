"""Our indicators against the values backtrader publishes in its own indicator tests.

The expected strings are backtrader's ``chkvals`` (github.com/mementum/backtrader,
``tests/test_ind_*.py``), computed on ``2006-day-001.txt``. Backtrader formats each value
with ``'%f'`` and checks three bars: the last one, the first one with a value (its
``chkmin``, the minimum period, counted from 1) and the one halfway between, counted back
from the end with floor division: for 255 bars and minimum period ``m`` the 0-based indices
are ``254``, ``m - 1`` and ``254 + (m - 255) // 2``.

Where backtrader's definition differs from TA-Lib's (which we follow), the test shows that
the difference is the seed and that it has decayed by the last bar:

- MACD: backtrader seeds the fast EMA on the first 12 values, TA-Lib (and we) on the 12
  values that end at bar 25, where the slow EMA is seeded.
- ADX/DI (backtrader's DirectionalMovement, lines adx, adxr, +DI, -DI): backtrader seeds
  Wilder's averages of +DM, -DM and TR with the mean of bars 1..14; TA-Lib with the sum of
  bars 1..13 smoothed once more at bar 14.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tradeloop.analytics import indicators as ind

F64 = npt.NDArray[np.float64]


def checkpoints(length: int, minimum_period: int) -> list[int]:
    last = length - 1
    return [last, minimum_period - 1, last + (minimum_period - length) // 2]


def formatted(series: F64, minimum_period: int) -> list[str]:
    return ["%f" % series[i] for i in checkpoints(len(series), minimum_period)]  # noqa: UP031


def test_checkpoints_follow_backtrader_rule_for_255_bars():
    assert checkpoints(255, 30) == [254, 29, 141]
    assert checkpoints(255, 34) == [254, 33, 143]


def test_sma_30_reproduces_backtrader_published_values(index_2006):
    values = ind.sma(index_2006.close, 30)
    assert formatted(values, 30) == ["4063.463000", "3644.444667", "3554.693333"]


def test_ema_30_reproduces_backtrader_published_values(index_2006):
    values = ind.ema(index_2006.close, 30)
    assert formatted(values, 30) == ["4070.115719", "3644.444667", "3581.728712"]


def test_wma_30_reproduces_backtrader_published_values(index_2006):
    values = ind.wma(index_2006.close, 30)
    assert formatted(values, 30) == ["4076.212366", "3655.193634", "3576.228000"]


def test_rsi_14_reproduces_backtrader_published_values(index_2006):
    values = ind.rsi(index_2006.close, 14)
    assert formatted(values, 15) == ["57.644284", "41.630968", "53.352553"]


def test_atr_14_reproduces_backtrader_published_values(index_2006):
    d = index_2006
    values = ind.atr(d.high, d.low, d.close, 14)
    assert formatted(values, 15) == ["35.866308", "34.264286", "54.329064"]


def test_bollinger_bands_20_2_reproduce_backtrader_published_values(index_2006):
    bands = ind.bollinger_bands(index_2006.close, 20, 2.0)
    assert formatted(bands.middle, 20) == ["4065.884000", "3621.185000", "3582.895500"]
    assert formatted(bands.upper, 20) == ["4190.782310", "3712.008864", "3709.453081"]
    assert formatted(bands.lower, 20) == ["3940.985690", "3530.361136", "3456.337919"]


def test_slow_stochastic_14_3_3_reproduces_backtrader_published_values(index_2006):
    d = index_2006
    slow = ind.stochastic(d.high, d.low, d.close, 14, 3, 3)
    assert formatted(slow.k, 18) == ["88.667626", "21.409626", "63.796187"]
    assert formatted(slow.d, 18) == ["82.845850", "15.710059", "77.642219"]


def test_fast_stochastic_reproduces_backtrader_stochastic_full_values(index_2006):
    # StochasticFull lines: raw %K, %D (= slow %K), slow %D
    d = index_2006
    fast = ind.stochastic_fast(d.high, d.low, d.close, 14, 3)
    slow = ind.stochastic(d.high, d.low, d.close, 14, 3, 3)
    assert formatted(fast.k, 18) == ["83.541267", "36.818395", "41.769503"]
    assert formatted(fast.d, 18) == ["88.667626", "21.409626", "63.796187"]
    assert formatted(slow.d, 18) == ["82.845850", "15.710059", "77.642219"]


MACD_PUBLISHED = {
    "macd": ["25.821368", "32.469404", "1.772445"],
    "signal": ["21.977853", "26.469735", "-2.845646"],
    "histogram": ["3.843516", "5.999669", "4.618090"],
}


@pytest.mark.parametrize("line", ["macd", "signal", "histogram"])
def test_macd_matches_backtrader_at_last_bar_once_seed_difference_has_decayed(index_2006, line):
    ours = getattr(ind.macd(index_2006.close), line)
    last, _, middle = checkpoints(len(ours), 34)
    assert "%f" % ours[last] == MACD_PUBLISHED[line][0]  # noqa: UP031
    assert ours[middle] == pytest.approx(float(MACD_PUBLISHED[line][2]), abs=2e-6)


def test_macd_first_value_differs_from_backtrader_because_talib_aligns_the_fast_ema_seed(
    index_2006,
):
    close = index_2006.close
    ours = ind.macd(close)
    assert "%f" % ours.macd[33] == "26.924653"  # noqa: UP031
    # backtrader's construction, two EMAs each seeded on its own first values, reproduces
    # every published value: the definitions differ only in the fast EMA's seed
    line = ind.ema(close, 12) - ind.ema(close, 26)
    signal = ind.ema(line, 9)
    assert formatted(line, 34) == MACD_PUBLISHED["macd"]
    assert formatted(signal, 34) == MACD_PUBLISHED["signal"]
    assert formatted(line - signal, 34) == MACD_PUBLISHED["histogram"]


DM_PUBLISHED = {
    "adx": ["15.302485", "31.674648", "15.961767"],
    "adxr": ["18.839142", "26.946536", "18.161738"],
    "plus_di": ["28.809535", "30.460124", "31.386311"],
    "minus_di": ["24.638772", "18.914537", "21.564611"],
}


def adx_rating(adx_values: F64, period: int) -> F64:
    # backtrader's ADXR: mean of the ADX and the ADX `period` bars earlier
    lagged = np.concatenate([np.full(period, np.nan), adx_values[:-period]])
    return (adx_values + lagged) / 2


def textbook_wilder_dm(high: F64, low: F64, close: F64, period: int) -> dict[str, F64]:
    # Wilder's averages seeded with the plain mean of their first `period` values
    def smoothed(values: F64, start: int) -> F64:
        out = np.full(len(values), np.nan)
        current = values[start : start + period].mean()
        out[start + period - 1] = current
        for t in range(start + period, len(values)):
            current = (current * (period - 1) + values[t]) / period
            out[t] = current
        return out

    up = np.concatenate([[np.nan], high[1:] - high[:-1]])
    down = np.concatenate([[np.nan], low[:-1] - low[1:]])
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    true_range = np.concatenate(
        [[np.nan], np.maximum(high[1:], close[:-1]) - np.minimum(low[1:], close[:-1])]
    )
    plus_di = 100 * smoothed(plus_dm, 1) / smoothed(true_range, 1)
    minus_di = 100 * smoothed(minus_dm, 1) / smoothed(true_range, 1)
    dx = 100 * np.abs(plus_di - minus_di) / (plus_di + minus_di)
    adx_values = smoothed(dx, period)
    return {
        "adx": adx_values,
        "adxr": adx_rating(adx_values, period),
        "plus_di": plus_di,
        "minus_di": minus_di,
    }


def test_adx_matches_backtrader_at_last_bar_once_seed_difference_has_decayed(index_2006):
    d = index_2006
    ours = ind.adx(d.high, d.low, d.close, 14)
    lines = {
        "adx": ours.adx,
        "adxr": adx_rating(ours.adx, 14),
        "plus_di": ours.plus_di,
        "minus_di": ours.minus_di,
    }
    for name, values in lines.items():
        assert values[254] == pytest.approx(float(DM_PUBLISHED[name][0]), abs=2e-6), name


def test_adx_early_values_differ_from_backtrader_because_talib_seeds_with_period_minus_one_bars(
    index_2006,
):
    d = index_2006
    ours = ind.adx(d.high, d.low, d.close, 14)
    assert "%f" % ours.adx[41] == "32.553426"  # noqa: UP031
    assert DM_PUBLISHED["adx"][1] == "31.674648"
    # the textbook seed (mean of bars 1..14) reproduces every published backtrader value
    textbook = textbook_wilder_dm(d.high, d.low, d.close, 14)
    for name, values in textbook.items():
        assert formatted(values, 42) == DM_PUBLISHED[name], name

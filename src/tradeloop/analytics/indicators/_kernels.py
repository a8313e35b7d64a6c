"""Numba kernels of the bulk indicator functions.

Every kernel mirrors, operation for operation, the ``update`` method of its incremental
class (moving.py, oscillators.py, volatility.py, trend.py); change both together. Inputs are
validated by the public wrappers: contiguous 1-D float64 (int64 for ``sma_int``), finite,
equal lengths, valid periods. Outputs are NaN during the warm-up.

The recurrences follow TA-Lib's classic algorithms (unstable period 0) and its order of
operations, so the outputs also agree with TA-Lib to the last bit or nearly so.
"""

from __future__ import annotations

import math

import numpy as np

from tradeloop.analytics.indicators._base import F64, I64, NEUTRAL, RESEED_FACTOR, njit_kernel


@njit_kernel
def sma(values: F64, period: int) -> F64:
    # TA-Lib's running sum: keep the sum of the last period-1 values between outputs.
    n = len(values)
    out = np.full(n, np.nan)
    partial = 0.0
    for t in range(min(period - 1, n)):
        partial += values[t]
    for t in range(period - 1, n):
        total = partial + values[t]
        out[t] = total / period
        partial = total - values[t - period + 1]
    return out


@njit_kernel
def sma_int(raw: I64, period: int, denominator: float) -> F64:
    # Exact int64 sums; the caller guarantees |sum| <= 2**53 and denominator <= 2**53, so both
    # convert to float exactly and the one division is correctly rounded, as Python's int / int.
    n = len(raw)
    out = np.full(n, np.nan)
    partial = 0
    for t in range(min(period - 1, n)):
        partial += raw[t]
    for t in range(period - 1, n):
        total = partial + raw[t]
        out[t] = float(total) / denominator
        partial = total - raw[t - period + 1]
    return out


@njit_kernel
def ema(values: F64, period: int) -> F64:
    n = len(values)
    out = np.full(n, np.nan)
    if n < period:
        return out
    k = 2.0 / (period + 1)
    seed = 0.0
    for t in range(period):
        seed += values[t]
    current = seed / period
    out[period - 1] = current
    for t in range(period, n):
        current = (values[t] - current) * k + current
        out[t] = current
    return out


@njit_kernel
def wma(values: F64, period: int, divider: float) -> F64:
    # weighted sum = periodic rebuild + running update: sum += n*x; sum -= plain window sum.
    n = len(values)
    out = np.full(n, np.nan)
    if period == 1:
        for t in range(n):
            out[t] = values[t]
        return out
    weighted = 0.0
    plain = 0.0
    for t in range(min(period - 1, n)):
        plain += values[t]
        weighted += values[t] * (t + 1)
    trailing = 0.0
    countdown = RESEED_FACTOR * period
    for t in range(period - 1, n):
        x = values[t]
        plain += x
        plain -= trailing
        weighted += x * period
        countdown -= 1
        if countdown <= 0:
            countdown = RESEED_FACTOR * period
            plain = 0.0
            weighted = 0.0
            for j in range(period):
                v = values[t - period + 1 + j]
                plain += v
                weighted += v * (j + 1)
        trailing = values[t - period + 1]
        out[t] = weighted / divider
        weighted -= plain
    return out


@njit_kernel
def rsi(values: F64, period: int) -> F64:
    n = len(values)
    out = np.full(n, np.nan)
    if n <= period:
        return out
    previous = values[0]
    gain = 0.0
    loss = 0.0
    for t in range(1, period + 1):
        change = values[t] - previous
        previous = values[t]
        if change < 0.0:
            loss -= change
        else:
            gain += change
    loss /= period
    gain /= period
    total = gain + loss
    out[period] = 100.0 * (gain / total) if total != 0.0 else NEUTRAL
    for t in range(period + 1, n):
        change = values[t] - previous
        previous = values[t]
        loss *= period - 1
        gain *= period - 1
        if change < 0.0:
            loss -= change
        else:
            gain += change
        loss /= period
        gain /= period
        total = gain + loss
        out[t] = 100.0 * (gain / total) if total != 0.0 else NEUTRAL
    return out


@njit_kernel
def macd(
    values: F64, fast_period: int, slow_period: int, signal_period: int
) -> tuple[F64, F64, F64]:
    # TA-Lib alignment: the fast EMA is seeded on the fast_period values that end where the
    # slow seed ends, so both EMAs start at index slow_period - 1.
    n = len(values)
    line_out = np.full(n, np.nan)
    signal_out = np.full(n, np.nan)
    histogram_out = np.full(n, np.nan)
    first = slow_period + signal_period - 2
    if n <= first:
        return line_out, signal_out, histogram_out
    k_fast = 2.0 / (fast_period + 1)
    k_slow = 2.0 / (slow_period + 1)
    k_signal = 2.0 / (signal_period + 1)
    slow_sum = 0.0
    fast_sum = 0.0
    for t in range(slow_period):
        slow_sum += values[t]
        if t >= slow_period - fast_period:
            fast_sum += values[t]
    slow = slow_sum / slow_period
    fast = fast_sum / fast_period
    signal_sum = fast - slow
    for t in range(slow_period, first + 1):
        fast = (values[t] - fast) * k_fast + fast
        slow = (values[t] - slow) * k_slow + slow
        signal_sum += fast - slow
    line = fast - slow
    signal = signal_sum / signal_period
    line_out[first] = line
    signal_out[first] = signal
    histogram_out[first] = line - signal
    for t in range(first + 1, n):
        fast = (values[t] - fast) * k_fast + fast
        slow = (values[t] - slow) * k_slow + slow
        line = fast - slow
        signal = (line - signal) * k_signal + signal
        line_out[t] = line
        signal_out[t] = signal
        histogram_out[t] = line - signal
    return line_out, signal_out, histogram_out


@njit_kernel
def rolling_moments(values: F64, period: int) -> tuple[F64, F64]:
    # Window mean and M2 (sum of squared deviations from it). The window sum is kept as
    # deviations from an anchor (a value of the window), rebuilt with M2 by two passes over
    # the window at the first window and every RESEED_FACTOR * period outputs; in between
    # sum += (x - anchor) - (old - anchor) and M2 += (x - old) * ((x - mean) + (old -
    # previous mean)), clamped at 0. Small sums keep the mean accurate, and M2's error
    # depends on the mean's. When the last `period` values are equal the state is exact:
    # anchor = mean = x, sum = M2 = 0.
    n = len(values)
    mean_out = np.full(n, np.nan)
    m2_out = np.full(n, np.nan)
    anchor = 0.0
    window_sum = 0.0
    m2 = 0.0
    previous_mean = 0.0
    run = 0
    last = np.nan
    since_reseed = 0
    reseed_interval = RESEED_FACTOR * period
    for t in range(n):
        x = values[t]
        if x == last:
            run += 1
        else:
            run = 1
            last = x
        if t < period - 1:
            continue
        reseed = t == period - 1
        if not reseed:
            since_reseed += 1
            reseed = since_reseed == reseed_interval
        if reseed:
            since_reseed = 0
            anchor = x
            window_sum = 0.0
            for j in range(t - period + 1, t + 1):
                window_sum += values[j] - anchor
            mean = anchor + window_sum / period
            m2 = 0.0
            for j in range(t - period + 1, t + 1):
                deviation = values[j] - mean
                m2 += deviation * deviation
        else:
            old = values[t - period]
            window_sum = (window_sum + (x - anchor)) - (old - anchor)
            mean = anchor + window_sum / period
            m2 = m2 + (x - old) * ((x - mean) + (old - previous_mean))
            if m2 < 0.0:
                m2 = 0.0
        if run >= period:
            anchor = x
            window_sum = 0.0
            mean = x
            m2 = 0.0
        mean_out[t] = mean
        m2_out[t] = m2
        previous_mean = mean
    return mean_out, m2_out


@njit_kernel
def bollinger_bands(values: F64, period: int, num_std: float) -> tuple[F64, F64, F64]:
    mean, m2 = rolling_moments(values, period)
    n = len(values)
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    for t in range(period - 1, n):
        width = num_std * math.sqrt(m2[t] / period)
        upper[t] = mean[t] + width
        lower[t] = mean[t] - width
    return mean, upper, lower


@njit_kernel
def zscore(values: F64, period: int, ddof: int) -> F64:
    mean, m2 = rolling_moments(values, period)
    n = len(values)
    out = np.full(n, np.nan)
    for t in range(period - 1, n):
        if m2[t] == 0.0:
            out[t] = 0.0
        else:
            out[t] = (values[t] - mean[t]) / math.sqrt(m2[t] / (period - ddof))
    return out


@njit_kernel
def log_returns(prices: F64) -> F64:
    n = len(prices)
    out = np.empty(max(n - 1, 0))
    for t in range(1, n):
        out[t - 1] = math.log(prices[t] / prices[t - 1])
    return out


@njit_kernel
def realized_volatility(prices: F64, period: int, ddof: int, scale: float) -> F64:
    n = len(prices)
    out = np.full(n, np.nan)
    if n < 2:
        return out
    returns = log_returns(prices)
    _, m2 = rolling_moments(returns, period)
    for t in range(period - 1, n - 1):
        out[t + 1] = math.sqrt(m2[t] / (period - ddof)) * scale
    return out


@njit_kernel
def _true_range(high: float, low: float, previous_close: float) -> float:
    greatest = high - low
    candidate = abs(previous_close - high)
    if candidate > greatest:
        greatest = candidate
    candidate = abs(previous_close - low)
    if candidate > greatest:
        greatest = candidate
    return greatest


@njit_kernel
def atr(high: F64, low: F64, close: F64, period: int) -> F64:
    n = len(close)
    out = np.full(n, np.nan)
    if n <= period:
        return out
    seed = 0.0
    for t in range(1, period + 1):
        seed += _true_range(high[t], low[t], close[t - 1])
    current = seed / period
    out[period] = current
    for t in range(period + 1, n):
        current = (current * (period - 1) + _true_range(high[t], low[t], close[t - 1])) / period
        out[t] = current
    return out


@njit_kernel
def stochastic_raw_k(high: F64, low: F64, close: F64, period: int) -> F64:
    # Raw %K = (close - lowest low) / ((highest high - lowest low) / 100); extremes tracked with
    # their index and rescanned only when they leave the window.
    n = len(close)
    out = np.full(n, np.nan)
    lowest = 0.0
    highest = 0.0
    lowest_at = -1
    highest_at = -1
    for t in range(period - 1, n):
        trailing = t - period + 1
        if lowest_at < trailing:
            lowest_at = trailing
            lowest = low[trailing]
            for j in range(trailing + 1, t + 1):
                if low[j] < lowest:
                    lowest_at = j
                    lowest = low[j]
        elif low[t] <= lowest:
            lowest_at = t
            lowest = low[t]
        if highest_at < trailing:
            highest_at = trailing
            highest = high[trailing]
            for j in range(trailing + 1, t + 1):
                if high[j] > highest:
                    highest_at = j
                    highest = high[j]
        elif high[t] >= highest:
            highest_at = t
            highest = high[t]
        diff = (highest - lowest) / 100.0
        out[t] = (close[t] - lowest) / diff if diff != 0.0 else NEUTRAL
    return out


@njit_kernel
def _sma_from(values: F64, start: int, period: int) -> F64:
    # SMA of values[start:], placed back at its positions (NaN before start + period - 1)
    out = np.full(len(values), np.nan)
    out[start:] = sma(values[start:], period)
    return out


@njit_kernel
def stochastic(
    high: F64, low: F64, close: F64, fastk_period: int, slowk_period: int, slowd_period: int
) -> tuple[F64, F64]:
    raw_k = stochastic_raw_k(high, low, close, fastk_period)
    slow_k = _sma_from(raw_k, fastk_period - 1, slowk_period)
    slow_d = _sma_from(slow_k, fastk_period + slowk_period - 2, slowd_period)
    first = fastk_period + slowk_period + slowd_period - 3
    slow_k[: min(first, len(slow_k))] = np.nan
    return slow_k, slow_d


@njit_kernel
def stochastic_fast(
    high: F64, low: F64, close: F64, fastk_period: int, fastd_period: int
) -> tuple[F64, F64]:
    fast_k = stochastic_raw_k(high, low, close, fastk_period)
    fast_d = _sma_from(fast_k, fastk_period - 1, fastd_period)
    first = fastk_period + fastd_period - 2
    fast_k[: min(first, len(fast_k))] = np.nan
    return fast_k, fast_d


@njit_kernel
def adx(high: F64, low: F64, close: F64, period: int) -> tuple[F64, F64, F64]:
    # TA-Lib's ADX/PLUS_DI/MINUS_DI: raw sums of +DM, -DM and TR over bars 1..period-1, then
    # Wilder smoothing S -= S/period; S += new (TR: S - S/period + new) from bar `period`.
    # DX is skipped when TR or +DI + -DI is exactly 0; the first ADX (bar 2*period - 1) is the
    # mean of the DX of bars period..2*period-1, then ADX = (ADX*(period-1) + DX) / period.
    n = len(close)
    adx_out = np.full(n, np.nan)
    plus_out = np.full(n, np.nan)
    minus_out = np.full(n, np.nan)
    if n == 0:
        return adx_out, plus_out, minus_out
    previous_high = high[0]
    previous_low = low[0]
    previous_close = close[0]
    plus_dm = 0.0
    minus_dm = 0.0
    true_range = 0.0
    sum_dx = 0.0
    current_adx = 0.0
    for t in range(1, n):
        up = high[t] - previous_high
        down = previous_low - low[t]
        previous_high = high[t]
        previous_low = low[t]
        bar_range = _true_range(high[t], low[t], previous_close)
        previous_close = close[t]
        if t < period:
            if down > 0.0 and up < down:
                minus_dm += down
            elif up > 0.0 and up > down:
                plus_dm += up
            true_range += bar_range
            continue
        minus_dm -= minus_dm / period
        plus_dm -= plus_dm / period
        if down > 0.0 and up < down:
            minus_dm += down
        elif up > 0.0 and up > down:
            plus_dm += up
        true_range = true_range - true_range / period + bar_range
        has_dx = False
        dx = 0.0
        if true_range != 0.0:
            minus_di = 100.0 * (minus_dm / true_range)
            plus_di = 100.0 * (plus_dm / true_range)
            di_sum = minus_di + plus_di
            if di_sum != 0.0:
                has_dx = True
                dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
        else:
            minus_di = 0.0
            plus_di = 0.0
        plus_out[t] = plus_di
        minus_out[t] = minus_di
        if t < 2 * period - 1:
            if has_dx:
                sum_dx += dx
        elif t == 2 * period - 1:
            if has_dx:
                sum_dx += dx
            current_adx = sum_dx / period
            adx_out[t] = current_adx
        else:
            if has_dx:
                current_adx = (current_adx * (period - 1) + dx) / period
            adx_out[t] = current_adx
    return adx_out, plus_out, minus_out

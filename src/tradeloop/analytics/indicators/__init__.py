"""Technical indicators: a bulk NumPy function and an incremental class for each.

The bulk function (``sma(values, period)``) runs a numba kernel over whole arrays, for
research and for preparing features; the class (``SMA(period)``) is updated one value or one
``Bar`` at a time in the event loop. Both give bit-identical floats, NaN during the same
warm-up (architecture invariant 4: bulk equals incremental). Definitions and warm-ups are
TA-Lib's (unstable period 0); each module's docstring gives the first valid index and every
place where we differ from TA-Lib or backtrader.

- ``moving``: SMA (and the exact fixed-point ``sma_raw``), EMA, WMA
- ``oscillators``: RSI, MACD, Stochastic, StochasticFast
- ``volatility``: ATR, BollingerBands, ZScore, RealizedVolatility
- ``trend``: ADX with +DI and -DI
"""

from tradeloop.analytics.indicators._base import BarIndicator, PriceField
from tradeloop.analytics.indicators.moving import EMA, SMA, WMA, ema, sma, sma_raw, wma
from tradeloop.analytics.indicators.oscillators import (
    MACD,
    RSI,
    MACDOutput,
    Stochastic,
    StochasticFast,
    StochasticOutput,
    macd,
    rsi,
    stochastic,
    stochastic_fast,
)
from tradeloop.analytics.indicators.trend import ADX, ADXOutput, adx
from tradeloop.analytics.indicators.volatility import (
    ATR,
    BollingerBands,
    BollingerBandsOutput,
    RealizedVolatility,
    ZScore,
    atr,
    bollinger_bands,
    realized_volatility,
    zscore,
)

__all__ = [
    "ADX",
    "ATR",
    "EMA",
    "MACD",
    "RSI",
    "SMA",
    "WMA",
    "ADXOutput",
    "BarIndicator",
    "BollingerBands",
    "BollingerBandsOutput",
    "MACDOutput",
    "PriceField",
    "RealizedVolatility",
    "Stochastic",
    "StochasticFast",
    "StochasticOutput",
    "ZScore",
    "adx",
    "atr",
    "bollinger_bands",
    "ema",
    "macd",
    "realized_volatility",
    "rsi",
    "sma",
    "sma_raw",
    "stochastic",
    "stochastic_fast",
    "wma",
    "zscore",
]

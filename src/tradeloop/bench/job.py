"""The canonical benchmark job of ``docs/benchmark-job.md``: its data, generated in-process.

``make_bars(n, seed)`` follows ``peers/gen_data.py`` step for step (same generator, same
draws, same rounding), so the closes equal the peers' to the last decimal; the prices are
then stored as exact int64 raws at 4 decimals (tick 0.0001).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tradeloop.core.fixed import MONEY_PRECISION
from tradeloop.data.columns import BarColumns, floats_to_raw
from tradeloop.model.enums import InstrumentKind
from tradeloop.model.instruments import Instrument
from tradeloop.risk.engine import RiskConfig

SIGMA = 0.0008
P0 = 100.0
START_NS = 1_577_836_800_000_000_000  # 2020-01-01T00:00:00Z
MINUTE_NS = 60_000_000_000
PRICE_PRECISION = 4
FAST, SLOW = 10, 30
QUANTITY = "10"
COMMISSION_BPS = 10.0  # 0.1 % of notional
STARTING_CASH = "1000000"
MAX_ORDER_NOTIONAL = "100000"  # risk limits the job never reaches (10 units of a ~100 price)
MAX_ORDER_QUANTITY = "1000"
MULTI_SYMBOLS = 100
MULTI_BARS = 10_000
MULTI_FIRST_SEED = 1000

assert MONEY_PRECISION >= PRICE_PRECISION


def instrument(symbol: str) -> Instrument:
    """Return the job's instrument: tick 0.0001, whole units, USD, trades around the clock."""
    return Instrument(
        id=f"{symbol}.SIM",
        kind=InstrumentKind.CRYPTO_SPOT,
        quote_currency="USD",
        base_currency="BTC",
        price_precision=PRICE_PRECISION,
        size_precision=0,
    )


def make_bars(n: int, seed: int, symbol: str = "S000") -> BarColumns:
    """Return ``n`` one-minute bars of the job's seeded random walk as exact columns."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, SIGMA, n)
    close = np.round(P0 * np.exp(np.cumsum(returns)), 4)
    del returns
    open_ = np.empty(n)
    open_[0] = round(P0, 4)
    open_[1:] = close[:-1]
    wick_hi = np.abs(rng.normal(0.0, SIGMA / 2, n))
    wick_lo = np.abs(rng.normal(0.0, SIGMA / 2, n))
    top = np.maximum(open_, close)
    high = np.maximum(np.round(top * (1 + wick_hi), 4), top)
    del top, wick_hi
    bottom = np.minimum(open_, close)
    low = np.minimum(np.round(bottom * (1 - wick_lo), 4), bottom)
    del bottom, wick_lo
    volume = np.maximum(1, np.round(rng.lognormal(7.0, 1.0, n))).astype(np.int64)
    ts = START_NS + np.arange(n, dtype=np.int64) * MINUTE_NS
    p = PRICE_PRECISION
    return BarColumns(
        f"{symbol}.SIM",
        p,
        0,
        ts,
        ts,
        floats_to_raw(open_, p, "open"),
        floats_to_raw(high, p, "high"),
        floats_to_raw(low, p, "low"),
        floats_to_raw(close, p, "close"),
        volume,
    )


def make_multi() -> list[BarColumns]:
    """Return the multi-asset set: 100 symbols S000..S099 × 10,000 bars, seeds 1000..1099."""
    return [make_bars(MULTI_BARS, MULTI_FIRST_SEED + i, f"S{i:03d}") for i in range(MULTI_SYMBOLS)]


def exact_ties(columns: BarColumns) -> int:
    """Return how many bars have SMA(10) == SMA(30) exactly (in decimal)."""
    close = columns.close.astype(np.int64)
    cumsum = np.concatenate(([0], np.cumsum(close)))
    fast = cumsum[FAST:] - cumsum[:-FAST]
    slow = cumsum[SLOW:] - cumsum[:-SLOW]
    # fast/10 == slow/30  <=>  3 * fast == slow (aligned on the bars where both exist)
    return int(np.sum(3 * fast[SLOW - FAST :] == slow))


def risk_config(instrument_ids: Iterable[str]) -> RiskConfig:
    """Return the job's risk limits: every pre-trade check runs, none ever binds."""
    return RiskConfig(
        max_order_notional=MAX_ORDER_NOTIONAL,
        max_order_quantity=dict.fromkeys(instrument_ids, MAX_ORDER_QUANTITY),
    )

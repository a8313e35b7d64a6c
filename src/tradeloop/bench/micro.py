"""The microstructure features' speed, for ``tradeloop bench models`` (key ``micro``).

On a Binance diff-depth recording (book deltas, bookTicker quotes and trades; one-second bars
built from the trades), every microstructure kind plus windows and lags (16 features):

- **online**: the events fed one by one as the kernel delivers them (nanoseconds per order-book
  venue event, per quote and per trade) and the bar close (microseconds per bar: the snapshot,
  the book's best levels summed and every feature's value);
- **bulk**: the same features over the whole recording at once, alone and as materialization
  computes them with the causality probe (events per second).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tradeloop.data.bar_builder import bar_columns_from_trades
from tradeloop.data.books.binance import read_binance_depth
from tradeloop.engine.feed import merge
from tradeloop.features import FeatureSetConfig, FeatureSpec, MicroData, OnlineFeatures
from tradeloop.features.frame import bar_arrays, check_causal, compute_features
from tradeloop.model.data import Bar, QuoteTick, TradeTick


def micro_features() -> FeatureSetConfig:
    """Return the benchmark's microstructure feature set (every kind, 16 features)."""
    return FeatureSetConfig(
        name="bench-micro",
        definitions=[
            FeatureSpec(kind="quoted_spread_bps"),
            FeatureSpec(kind="microprice_bps"),
            FeatureSpec(kind="quote_imbalance"),
            FeatureSpec(kind="mid_return", window=5),
            FeatureSpec(kind="order_flow_imbalance", window=1),
            FeatureSpec(kind="order_flow_imbalance", window=10),
            FeatureSpec(kind="depth_imbalance", levels=1),
            FeatureSpec(kind="depth_imbalance", levels=10),
            FeatureSpec(kind="depth_imbalance", levels=50),
            FeatureSpec(kind="trade_imbalance", window=5),
            FeatureSpec(kind="trade_intensity", window=5),
            FeatureSpec(kind="vwap_mid_bps", window=5),
            FeatureSpec(kind="trade_realized_var", window=10),
            FeatureSpec(kind="kyle_lambda", window=20),
            FeatureSpec(kind="kyle_lambda", window=10, lag=1),
            FeatureSpec(kind="log_return", window=5),
        ],
    )


def bench_micro(path: Path, bar_seconds: int = 1, repeat: int = 3) -> dict[str, Any]:
    """Return the microstructure figures on the recording at ``path`` (module docstring);
    each timing is the fastest of ``repeat`` runs."""
    feed = read_binance_depth(path, instrument_id="BTCUSDT.BINANCE")
    bars = bar_columns_from_trades(feed.trades, bar_seconds * 1_000_000_000)
    config = micro_features()
    records = list(merge([feed.deltas, feed.quotes, feed.trades, bars]))
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    clock = time.perf_counter
    for _ in range(repeat):
        online = OnlineFeatures(config, {})
        spent = dict.fromkeys(("book", "quote", "trade", "bar"), 0.0)
        seen = dict.fromkeys(spent, 0)
        for record in records:
            started = clock()
            if isinstance(record, Bar):
                online.update(record)
                kind = "bar"
            elif isinstance(record, QuoteTick):
                online.on_quote(record)
                kind = "quote"
            elif isinstance(record, TradeTick):
                online.on_trade(record)
                kind = "trade"
            else:
                online.on_book(record)
                kind = "book"
            spent[kind] += clock() - started
            seen[kind] += 1
        for kind, seconds in spent.items():
            best[kind] = min(best.get(kind, seconds), seconds)
        counts = seen
    micro = MicroData(feed.quotes, feed.trades, feed.deltas)
    arrays = bar_arrays(bars)
    bulk_s = probe_s = float("inf")
    for _ in range(repeat):
        started = clock()
        values = compute_features(config, arrays, {}, micro)
        bulk_s = min(bulk_s, clock() - started)
        started = clock()
        check_causal(config, arrays, {}, values, micro=micro)
        probe_s = min(probe_s, clock() - started)
    events = len(feed.deltas) + len(feed.quotes) + len(feed.trades)
    return {
        "file": path.name,
        "features": len(config.definitions),
        "bars": len(bars),
        "bar_seconds": bar_seconds,
        "book_deltas": len(feed.deltas),
        "book_events": counts["book"],
        "quotes": counts["quote"],
        "trades": counts["trade"],
        "online": {
            "ns_per_book_event": round(best["book"] / counts["book"] * 1e9, 1),
            "ns_per_book_delta": round(best["book"] / len(feed.deltas) * 1e9, 1),
            "ns_per_quote": round(best["quote"] / counts["quote"] * 1e9, 1),
            "ns_per_trade": round(best["trade"] / counts["trade"] * 1e9, 1),
            "us_per_bar": round(best["bar"] / counts["bar"] * 1e6, 2),
            "ns_per_feature_value": round(
                best["bar"] / (counts["bar"] * len(config.definitions)) * 1e9, 1
            ),
            "seconds": round(sum(best.values()), 4),
        },
        "bulk": {
            "seconds": round(bulk_s, 4),
            "events_per_s": round(events / bulk_s),
            "with_causality_probe_seconds": round(bulk_s + probe_s, 4),
        },
    }

"""``tradeloop bench models``: the feature store's and the model agents' speed.

- **online features**: 100 instruments × 50 features (every bar kind, windows 1–100, lags),
  updated bar by bar from real daily bars (the bundled datasets, cycled over the instruments):
  microseconds per instrument-bar and milliseconds per step of all 100 instruments;
- **materialization**: the same set in bulk, with the causality probe, written to Parquet:
  rows and feature values per second;
- **inference**: a 500-tree LightGBM (31 leaves) trained on the materialized rows of the five
  bundled daily datasets, one row per decision: p50 / p99 latency of the prediction alone and
  with its TreeSHAP contributions (what a model agent does per instrument), the ridge
  baseline's, and an RL policy's served in NumPy (``rl.policy.MlpPolicy``, SB3's default
  shape: 51 inputs, 2 × 64 tanh units, 3 actions; ``rl_policy``);
- **micro**: the microstructure features (quotes, trades, book) on a Binance recording, online
  per event and per bar, and in bulk (``bench.micro``);
- **drift**: what drift detection costs the loop: appending each bar's feature row to the
  model agent's bounded live window (ns per instrument-bar), and one scheduled computation of
  PSI and KS for all 50 features and the prediction over a 500-value window against the
  training window's references (ms; it runs every ``[drift] interval_s``, not per bar).

Run it beside ``tradeloop bench pipeline`` (per-stage milliseconds per rebalance): a model
agent's time per rebalance is its inference latency times the instruments scored.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from tradeloop.analytics.drift import build_reference, drift
from tradeloop.data import bundled
from tradeloop.data.columns import BarColumns
from tradeloop.features import (
    FeatureSetConfig,
    FeatureSpec,
    OnlineFeatures,
    bar_arrays,
    materialize,
)
from tradeloop.features.store import data_hash, read_features
from tradeloop.models.dataset import TrainingSet
from tradeloop.models.estimators import LightGBMModel, LinearModel

DATASETS = ("orcl_daily", "nvda_daily", "yhoo_daily", "goog_daily", "spy_daily")


def fifty_features() -> FeatureSetConfig:
    """Return the benchmark's 50-feature set."""
    specs = [FeatureSpec(kind="log_return", window=w) for w in (1, 2, 3, 5, 10, 20, 40, 60)]
    for kind, windows in (
        ("sma_ratio", (5, 10, 20, 50, 100)),
        ("ema_ratio", (5, 10, 20, 50, 100)),
        ("rsi", (5, 9, 14, 21, 30)),
        ("zscore", (5, 10, 20, 50, 100)),
        ("realized_vol", (5, 10, 20, 40, 60)),
        ("atr_pct", (5, 10, 14, 20, 30)),
        ("volume_zscore", (5, 10, 20, 50)),
    ):
        specs += [FeatureSpec(kind=kind, window=w) for w in windows]
    specs.append(FeatureSpec(kind="range_pct"))
    specs += [FeatureSpec(kind="log_return", window=1, lag=k) for k in range(1, 8)]
    return FeatureSetConfig(name="bench-50", definitions=specs)


def _universe(instruments: int, bars: int) -> dict[str, BarColumns]:
    # Real bars, renamed: instrument k gets dataset k % 5's first ``bars`` bars.
    out: dict[str, BarColumns] = {}
    for k in range(instruments):
        source = bundled.load_bars(DATASETS[k % len(DATASETS)])
        n = min(bars, len(source))
        out[f"I{k:03d}.BENCH"] = BarColumns(
            f"I{k:03d}.BENCH",
            source.price_precision,
            source.volume_precision,
            source.ts_event[:n],
            source.ts_init[:n],
            source.open[:n],
            source.high[:n],
            source.low[:n],
            source.close[:n],
            source.volume[:n],
        )
    return out


def _percentiles(seconds: list[float]) -> dict[str, float]:
    values = np.array(seconds) * 1e6
    return {
        "p50_us": round(float(np.percentile(values, 50)), 2),
        "p99_us": round(float(np.percentile(values, 99)), 2),
        "max_us": round(float(values.max()), 2),
    }


def _policy(config: FeatureSetConfig) -> Any:
    # An RL policy of SB3's default MlpPolicy shape (the features and the position -> 64 -> 64
    # -> 3 actions, tanh) with seeded weights, served by NumPy as rl.serve serves one.
    from tradeloop.rl.policy import MlpPolicy, policy_document

    rng = np.random.default_rng(0)
    width = len(config.definitions) + 1
    shapes = [(64, width), (64, 64), (3, 64)]
    return MlpPolicy(
        policy_document(
            algorithm="bench",
            activation="tanh",
            output="logits",
            features=config,
            actions=[-1.0, 0.0, 1.0],
            decision_every=1,
            layers=[(rng.normal(size=s) * 0.1, np.zeros(s[0])) for s in shapes],
        )
    )


def bench_models(
    instruments: int = 100,
    bars: int = 1_000,
    decisions: int = 2_000,
    micro_file: Path | None = None,
) -> dict[str, Any]:
    """Return the benchmark's figures (module docstring); ``micro`` needs a Binance
    diff-depth recording (``micro_file``), else says it was skipped."""
    config = fifty_features()
    universe = _universe(instruments, bars)
    record: dict[str, Any] = {
        "instruments": instruments,
        "features": len(config.definitions),
        "bars_per_instrument": bars,
    }
    # -- online: one step = one bar of every instrument ------------------------------------------
    online = OnlineFeatures(config, {})
    streams = {iid: list(columns.iter_bars()) for iid, columns in universe.items()}
    steps = min(len(s) for s in streams.values())
    started = time.perf_counter()
    for step in range(steps):
        for bars_of in streams.values():
            online.update(bars_of[step])
    online_s = time.perf_counter() - started
    updates = steps * len(streams)
    record["online"] = {
        "instrument_bars": updates,
        "seconds": round(online_s, 3),
        "us_per_instrument_bar": round(online_s / updates * 1e6, 2),
        "ns_per_feature_value": round(online_s / (updates * len(config.definitions)) * 1e9, 1),
        "ms_per_step": round(online_s / steps * 1e3, 3),
    }
    # -- materialization ---------------------------------------------------------------------------
    arrays = {iid: (bar_arrays(c), f"bench-{iid}") for iid, c in universe.items()}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        files = materialize(config, root, arrays, {})
        materialize_s = time.perf_counter() - started
        rows = sum(f.rows for f in files)
        record["materialization"] = {
            "rows": rows,
            "seconds": round(materialize_s, 3),
            "rows_per_s": round(rows / materialize_s),
            "feature_values_per_s": round(rows * len(config.definitions) / materialize_s),
            "includes": "bulk features, causality probe (4 prefixes), labels, Parquet write",
        }
        # -- inference: train on the five distinct series
        tables = {
            iid: read_features(config, root, iid, data_hash(arrays[iid][1], arrays[iid][0]))
            for iid in list(universe)[: len(DATASETS)]
        }
    rows_set = TrainingSet.from_tables(tables, config.feature_names)
    lgbm = LightGBMModel({"num_boost_round": 500, "num_leaves": 31, "min_data_in_leaf": 20})
    started = time.perf_counter()
    lgbm.fit(rows_set.features, rows_set.label)
    train_s = time.perf_counter() - started
    linear = LinearModel({"alpha": 1.0})
    linear.fit(rows_set.features, rows_set.label)
    sample = rows_set.features[np.linspace(0, len(rows_set) - 1, decisions).astype(int)]
    policy = _policy(config)
    timings: dict[str, list[float]] = {
        "lgbm_predict": [],
        "lgbm_predict_and_shap": [],
        "linear": [],
        "rl_policy": [],
    }
    for row in sample:
        started = time.perf_counter()
        lgbm.predict(row)
        timings["lgbm_predict"].append(time.perf_counter() - started)
        started = time.perf_counter()
        lgbm.predict(row)
        lgbm.contributions(row)
        timings["lgbm_predict_and_shap"].append(time.perf_counter() - started)
        started = time.perf_counter()
        linear.predict(row)
        linear.contributions(row)
        timings["linear"].append(time.perf_counter() - started)
        observation = np.append(row, 0.0).astype(np.float32)
        started = time.perf_counter()
        policy.act(observation)
        timings["rl_policy"].append(time.perf_counter() - started)
    record["inference"] = {
        "trees": 500,
        "train_rows": len(rows_set),
        "train_seconds": round(train_s, 3),
        "decisions": decisions,
        **{name: _percentiles(values) for name, values in timings.items()},
        "goal_p99_us": 1000.0,
    }
    if micro_file is None:
        record["micro"] = {"skipped": "no Binance diff-depth recording (outside a checkout)"}
    else:
        from tradeloop.bench.micro import bench_micro

        record["micro"] = bench_micro(micro_file)
    record["drift"] = _bench_drift(rows_set.features, lgbm, streams, online)
    record["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    return record


def _bench_drift(
    features: np.ndarray[Any, Any], model: LightGBMModel, streams: dict[str, list[Any]], online: Any
) -> dict[str, Any]:
    # The per-bar part: the agent appends the row it computed to a deque(maxlen=window).
    window = 500
    rows = [online.latest(iid) for iid in streams]
    live: deque[tuple[float, ...]] = deque(maxlen=window)
    appends = 200_000
    started = time.perf_counter()
    for k in range(appends):
        live.append(rows[k % len(rows)])
    append_ns = (time.perf_counter() - started) / appends * 1e9
    # The scheduled part: PSI and KS of every feature and of the prediction.
    references = [build_reference(features[:, j]) for j in range(features.shape[1])]
    predictions = np.array([model.predict(r) for r in features[:window]])
    prediction_reference = build_reference(predictions)
    recent = features[-window:]
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        matrix = np.array(recent)
        for j, reference in enumerate(references):
            drift(reference, matrix[:, j])
        drift(prediction_reference, predictions)
        timings.append(time.perf_counter() - started)
    return {
        "window": window,
        "series": len(references) + 1,
        "append_ns_per_bar": round(append_ns, 1),
        "ms_per_computation": round(float(np.median(timings)) * 1e3, 3),
    }

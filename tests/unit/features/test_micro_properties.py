"""Property: for any stream of quotes, trades and bars (ties at a bar's instant, empty windows,
locked quotes, sides without size, trades without an aggressor), the microstructure features
online equal the bulk ones bit for bit. And feature sets without the newer ``levels`` field
keep the definition hash their materialized files and models carry."""

from __future__ import annotations

import hashlib

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.engine.feed import merge
from tradeloop.features import (
    FeatureSetConfig,
    FeatureSpec,
    MicroData,
    OnlineFeatures,
    bar_arrays,
    compute_features,
)
from tradeloop.features.definitions import FEATURE_CODE_VERSION
from tradeloop.model.data import Bar, QuoteTick, TradeTick

IID = "X.SIM"
CONFIG = FeatureSetConfig(
    name="prop",
    definitions=[
        FeatureSpec(kind="quoted_spread_bps"),
        FeatureSpec(kind="microprice_bps", lag=1),
        FeatureSpec(kind="quote_imbalance"),
        FeatureSpec(kind="mid_return", window=2),
        FeatureSpec(kind="order_flow_imbalance", window=1),
        FeatureSpec(kind="order_flow_imbalance", window=3, lag=2),
        FeatureSpec(kind="trade_imbalance", window=2),
        FeatureSpec(kind="trade_intensity", window=3),
        FeatureSpec(kind="vwap_mid_bps", window=1),
        FeatureSpec(kind="trade_realized_var", window=2),
        FeatureSpec(kind="kyle_lambda", window=3),
    ],
)

times = st.integers(min_value=0, max_value=40).map(lambda t: t * 10)
quotes = st.lists(
    st.tuples(
        times,
        st.integers(90, 100),
        st.integers(0, 3),
        st.integers(0, 5),
        st.integers(0, 5),
    ),
    max_size=40,
)
trades = st.lists(
    st.tuples(times, st.integers(90, 110), st.integers(1, 5), st.integers(0, 2)), max_size=40
)
bar_times = st.lists(st.integers(1, 40).map(lambda t: t * 10), min_size=1, max_size=12, unique=True)


@settings(max_examples=60, deadline=None)
@given(quotes=quotes, trades=trades, bar_ts=bar_times)
def test_online_equals_bulk_for_any_quote_and_trade_stream(
    quotes: list[tuple[int, int, int, int, int]],
    trades: list[tuple[int, int, int, int]],
    bar_ts: list[int],
) -> None:
    quotes = sorted(quotes, key=lambda q: q[0])
    trades = sorted(trades, key=lambda t: t[0])
    ts = sorted(bar_ts)
    bars = BarColumns(IID, 0, 0, ts, ts, *([[100] * len(ts)] * 4), [1] * len(ts))
    q = QuoteColumns(
        IID,
        0,
        0,
        [x[0] for x in quotes],
        [x[0] for x in quotes],
        [x[1] for x in quotes],
        [x[1] + x[2] for x in quotes],
        [x[3] for x in quotes],
        [x[4] for x in quotes],
    )
    t = TradeColumns(
        IID,
        0,
        0,
        [x[0] for x in trades],
        [x[0] for x in trades],
        [x[1] for x in trades],
        [x[2] for x in trades],
        [x[3] for x in trades],
        [str(k) for k in range(len(trades))],
    )
    bulk = compute_features(CONFIG, bar_arrays(bars), {}, MicroData(quotes=q, trades=t))
    online = OnlineFeatures(CONFIG, {})
    rows = []
    for record in merge([q, t, bars]):
        if type(record) is Bar:
            rows.append(online.update(record))
        elif type(record) is QuoteTick:
            online.on_quote(record)
        elif type(record) is TradeTick:
            online.on_trade(record)
    values = np.array(rows, dtype=np.float64).reshape(len(ts), len(CONFIG.definitions))
    for j, name in enumerate(CONFIG.feature_names):
        a, b = bulk[name], values[:, j]
        same = (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))
        assert same.all(), (name, a.tolist(), b.tolist())


def test_a_feature_set_without_levels_keeps_its_version_1_hash() -> None:
    config = FeatureSetConfig(
        name="v1",
        definitions=[FeatureSpec(kind="log_return", window=5), FeatureSpec(kind="rsi", window=14)],
    )
    # The identity as version 1 encoded it: each definition's six fields, no ``levels``.
    fields = ("kind", "window", "lag", "source", "column", "name")
    identity = {
        "definitions": [{f: getattr(d, f) for f in fields} for d in config.definitions],
        "external": [],
        "version": FEATURE_CODE_VERSION,
    }
    expected = hashlib.sha256(msgspec.json.encode(identity, order="sorted")).hexdigest()
    assert config.definition_hash() == expected
    with_levels = FeatureSetConfig(
        name="v1", definitions=[*config.definitions, FeatureSpec(kind="depth_imbalance", levels=5)]
    )
    other = FeatureSetConfig(
        name="v1", definitions=[*config.definitions, FeatureSpec(kind="depth_imbalance", levels=6)]
    )
    assert with_levels.definition_hash() != other.definition_hash()

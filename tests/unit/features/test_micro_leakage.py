"""Microstructure features are point in time: an event counts at a bar only when its ts_init
is at or before the bar's (the same cut online and in bulk), no setting can move the cut
later, and a custom kind that reads events after the close is refused before anything is
written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.engine.feed import merge
from tradeloop.features import (
    BarArrays,
    FeatureSetConfig,
    FeatureSpec,
    MicroData,
    MicroFeature,
    OnlineFeatures,
    bar_arrays,
    compute_features,
    materialize,
    register_kind,
    unregister_kind,
)
from tradeloop.model.data import Bar, QuoteTick, TradeTick

SECOND = 1_000_000_000
IID = "TEST.SIM"
T0 = 1_700_000_000 * SECOND


def _bars(n: int) -> BarColumns:
    ts = [T0 + (k + 1) * SECOND for k in range(n)]
    prices = [10_000 + k for k in range(n)]
    return BarColumns(IID, 2, 0, ts, ts, prices, prices, prices, prices, [1] * n)


def _trades(stamps: list[int], sides: list[int]) -> TradeColumns:
    n = len(stamps)
    return TradeColumns(
        IID,
        2,
        0,
        stamps,
        stamps,
        [10_000 + k for k in range(n)],
        [1] * n,
        sides,
        [str(k) for k in range(n)],
    )


def _quotes(stamps: list[int], bid_sizes: list[int]) -> QuoteColumns:
    n = len(stamps)
    return QuoteColumns(IID, 2, 0, stamps, stamps, [9_999] * n, [10_001] * n, bid_sizes, [1] * n)


def _online(config: FeatureSetConfig, micro: MicroData, bars: BarColumns) -> np.ndarray:
    online = OnlineFeatures(config, {})
    rows = []
    sources = [s for s in (micro.quotes, micro.trades) if s is not None]
    for record in merge([*sources, bars]):
        if type(record) is Bar:
            rows.append(online.update(record))
        elif type(record) is QuoteTick:
            online.on_quote(record)
        elif type(record) is TradeTick:
            online.on_trade(record)
    return np.array(rows)


def test_an_event_stamped_at_the_close_counts_and_one_a_nanosecond_later_does_not() -> None:
    bars = _bars(3)
    close = int(bars.ts_init[1])
    # A buy exactly at bar 1's close, a sell one nanosecond later (bar 2's), a quote at the
    # close with bid size 3 and one a nanosecond later with bid size 1.
    micro = MicroData(
        trades=_trades([close, close + 1], [1, 2]),
        quotes=_quotes([close, close + 1], [3, 1]),
    )
    config = FeatureSetConfig(
        name="cut",
        definitions=[
            FeatureSpec(kind="trade_imbalance", window=1),
            FeatureSpec(kind="quote_imbalance"),
        ],
    )
    bulk = compute_features(config, bar_arrays(bars), {}, micro)
    assert bulk["trade_imbalance_1"].tolist()[1:] == [1.0, -1.0]
    assert bulk["quote_imbalance_1"].tolist()[1:] == [0.5, 0.0]
    online = _online(config, micro, bars)
    assert online[1:, 0].tolist() == [1.0, -1.0]
    assert online[1:, 1].tolist() == [0.5, 0.0]


def test_a_negative_lag_on_a_micro_kind_is_refused_as_look_ahead() -> None:
    with pytest.raises(ConfigError, match=r"lag -1 would read bar t-1 ahead of t .look-ahead."):
        FeatureSpec(kind="trade_imbalance", window=5, lag=-1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "order_flow_imbalance", "window": 0}, "window 0 must be at least 1 bar"),
        ({"kind": "quoted_spread_bps", "window": 3}, "state at the bar's close"),
        ({"kind": "depth_imbalance"}, "depth_imbalance needs levels >= 1"),
        ({"kind": "trade_imbalance", "levels": 5}, "levels is for depth_imbalance only"),
        ({"kind": "kyle_lambda", "window": 1}, "kyle_lambda needs a window of at least 2"),
    ],
)
def test_a_micro_feature_without_an_explicit_causal_window_is_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        FeatureSpec(**fields)  # type: ignore[arg-type]


def test_a_micro_feature_has_no_setting_that_reads_after_the_close() -> None:
    import msgspec

    with pytest.raises(msgspec.ValidationError, match="unknown field `offset_ns`"):
        msgspec.convert({"kind": "trade_imbalance", "offset_ns": 1}, FeatureSpec)


def test_a_micro_feature_without_its_data_is_a_config_error() -> None:
    bars = _bars(3)
    config = FeatureSetConfig(name="x", definitions=[FeatureSpec(kind="depth_imbalance", levels=5)])
    with pytest.raises(ConfigError, match=r"depth_imbalance_5 reads book and the data has none"):
        compute_features(config, bar_arrays(bars), {}, MicroData(trades=_trades([T0], [1])))


@pytest.fixture
def next_bars_flow() -> Iterator[str]:
    # The trade imbalance of the bar *after* t, disguised as a custom kind: it reads the
    # trades up to the next close.
    def bulk(spec: FeatureSpec, bars: BarArrays, micro: MicroData) -> np.ndarray:
        trades = micro.trades
        assert trades is not None
        out = np.full(len(bars), np.nan)
        signed = np.where(trades.aggressor == 1, trades.size, -trades.size)
        for t in range(len(bars) - 1):
            window = (trades.ts_init > bars.ts_init[t]) & (trades.ts_init <= bars.ts_init[t + 1])
            out[t] = float(signed[window].sum())
        return out

    register_kind("next_flow", "a leak", bulk, MicroFeature, reads="trades")
    yield "next_flow"
    unregister_kind("next_flow")


def test_a_custom_micro_kind_reading_trades_after_the_close_is_refused_and_nothing_written(
    tmp_path: Path, next_bars_flow: str
) -> None:
    bars = _bars(40)
    stamps = [int(t) - SECOND // 2 for t in bars.ts_init] + [int(bars.ts_init[-1]) + 1]
    trades = _trades(stamps, [1 + (k % 3 == 0) for k in range(len(stamps))])
    config = FeatureSetConfig(
        name="leaky",
        definitions=[
            FeatureSpec(kind="trade_imbalance", window=2),
            FeatureSpec(kind=next_bars_flow),
        ],
    )
    assert config.micro_data == ("trades",)
    with pytest.raises(
        ConfigError, match=r"feature next_flow_1 is not causal: .* .look-ahead.; it is refused"
    ):
        materialize(
            config, tmp_path, {IID: (bar_arrays(bars), "h")}, {}, {IID: MicroData(trades=trades)}
        )
    assert not (tmp_path / "features").exists()


def test_the_causality_probe_passes_every_builtin_micro_kind_on_the_same_data(
    tmp_path: Path,
) -> None:
    bars = _bars(40)
    stamps = [int(t) - SECOND // 2 for t in bars.ts_init] + [int(bars.ts_init[-1]) + 1]
    trades = _trades(stamps, [1 + (k % 3 == 0) for k in range(len(stamps))])
    quotes = _quotes(stamps, [1 + k % 4 for k in range(len(stamps))])
    config = FeatureSetConfig(
        name="causal",
        definitions=[
            FeatureSpec(kind="trade_imbalance", window=2),
            FeatureSpec(kind="kyle_lambda", window=5),
            FeatureSpec(kind="trade_realized_var", window=3),
            FeatureSpec(kind="order_flow_imbalance", window=2),
            FeatureSpec(kind="vwap_mid_bps", window=2),
        ],
    )
    micro = MicroData(quotes=quotes, trades=trades)
    [written] = materialize(config, tmp_path, {IID: (bar_arrays(bars), "h")}, {}, {IID: micro})
    assert written.rows == 40


def test_vwap_against_the_mid_needs_quotes_beside_the_trades() -> None:
    config = FeatureSetConfig(name="v", definitions=[FeatureSpec(kind="vwap_mid_bps", window=2)])
    assert config.micro_data == ("quotes", "trades")
    with pytest.raises(ConfigError, match=r"vwap_mid_bps_2 reads quotes and the data has none"):
        compute_features(config, bar_arrays(_bars(3)), {}, MicroData(trades=_trades([T0], [1])))

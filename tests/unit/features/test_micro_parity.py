"""Microstructure features (quotes, trades, the order book) online equal the materialized ones
bit for bit on real data — Binance BTC/USDT spot, two minutes of diff-depth book, bookTicker
quotes and trades (tests/data/books/README.md) with one-second bars built from the trades —
every kind, every value, every bar: fed by hand in kernel order, through a backtest kernel and
through a paper kernel on the live clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradeloop.core import LiveClock, Money, TestClock
from tradeloop.core.clock import Clock
from tradeloop.data import bundled
from tradeloop.data.bar_builder import bar_columns_from_trades
from tradeloop.data.books import BinanceFeed, read_binance_depth
from tradeloop.data.columns import BarColumns
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.paper import ReplayFeed, run_paper
from tradeloop.features import (
    MICRO_KINDS,
    FeatureSetConfig,
    FeatureSpec,
    LabelSpec,
    MicroData,
    OnlineFeatures,
    bar_arrays,
    compute_features,
    materialize,
    read_features,
)
from tradeloop.features.store import data_hash
from tradeloop.journal import MemoryJournal
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.risk import RiskConfig
from tradeloop.strategy.base import Strategy, StrategyConfig
from tradeloop.venues import SimVenueConfig

RECORDING = Path(__file__).parents[2] / "data" / "books" / "binance-spot-btcusdt-20240808-head.gz"
INSTRUMENT = "BTCUSDT.BINANCE"

MICRO = FeatureSetConfig(
    name="micro-parity",
    definitions=[
        FeatureSpec(kind="quoted_spread_bps"),
        FeatureSpec(kind="microprice_bps"),
        FeatureSpec(kind="quote_imbalance", lag=1),
        FeatureSpec(kind="mid_return", window=5),
        FeatureSpec(kind="order_flow_imbalance", window=1),
        FeatureSpec(kind="order_flow_imbalance", window=10),
        FeatureSpec(kind="depth_imbalance", levels=1),
        FeatureSpec(kind="depth_imbalance", levels=10),
        FeatureSpec(kind="depth_imbalance", levels=50, lag=3),
        FeatureSpec(kind="trade_imbalance", window=5),
        FeatureSpec(kind="trade_intensity", window=3),
        FeatureSpec(kind="vwap_mid_bps", window=5),
        FeatureSpec(kind="trade_realized_var", window=10),
        FeatureSpec(kind="trade_realized_var", window=2, lag=2),
        FeatureSpec(kind="kyle_lambda", window=20),
        FeatureSpec(kind="log_return", window=5),
        FeatureSpec(kind="rsi", window=14),
    ],
    label=LabelSpec(horizon=5),
)


@pytest.fixture(scope="module")
def recording() -> tuple[BinanceFeed, BarColumns]:
    instrument = bundled.find_instrument(INSTRUMENT)
    assert instrument is not None
    feed = read_binance_depth(
        RECORDING,
        instrument_id=INSTRUMENT,
        price_precision=instrument.price_precision,
        size_precision=instrument.size_precision,
    )
    return feed, bar_columns_from_trades(feed.trades, 1_000_000_000)


def micro_data(feed: BinanceFeed) -> MicroData:
    return MicroData(quotes=feed.quotes, trades=feed.trades, book=feed.deltas)


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all((a.view(np.int64) == b.view(np.int64)) | both_nan))


def online_rows(feed: BinanceFeed, bars: BarColumns) -> np.ndarray:
    online = OnlineFeatures(MICRO, {})
    rows = []
    for record in merge([feed.deltas, feed.quotes, feed.trades, bars]):
        if type(record) is Bar:
            rows.append(online.update(record))
        elif type(record) is QuoteTick:
            online.on_quote(record)
        elif type(record) is TradeTick:
            online.on_trade(record)
        else:
            online.on_book(record)
    return np.array(rows, dtype=np.float64)


def test_every_micro_kind_is_covered() -> None:
    assert {d.kind for d in MICRO.definitions} >= set(MICRO_KINDS)
    assert MICRO.micro_data == ("book", "quotes", "trades")


def test_online_micro_features_equal_the_materialized_file_bit_for_bit(
    recording: tuple[BinanceFeed, BarColumns], tmp_path: Path
) -> None:
    feed, bars = recording
    arrays = bar_arrays(bars)
    [written] = materialize(
        MICRO, tmp_path, {INSTRUMENT: (arrays, "h")}, {}, {INSTRUMENT: micro_data(feed)}
    )
    assert written.rows == len(bars) == 119
    table = read_features(MICRO, tmp_path, INSTRUMENT, data_hash("h", arrays))
    online = online_rows(feed, bars)
    assert online.shape == (119, len(MICRO.definitions))
    for j, name in enumerate(MICRO.feature_names):
        offline = table.features[name]
        assert np.isfinite(offline).sum() >= 95, name  # real values, not a NaN column
        assert bits_equal(offline, online[:, j]), name


def test_a_micro_feature_changes_with_its_window_and_reads_real_quotes(
    recording: tuple[BinanceFeed, BarColumns],
) -> None:
    feed, bars = recording
    values = compute_features(MICRO, bar_arrays(bars), {}, micro_data(feed))
    # BTC/USDT quotes a one-cent spread at ~61,800 (0.0016 bps), never two cents here.
    spread = values["quoted_spread_bps_1"]
    assert np.all((spread > 0.00161) & (spread < 0.00163))
    one, ten = values["order_flow_imbalance_1"], values["order_flow_imbalance_10"]
    assert not bits_equal(one, ten)
    # The 10-bar flow is the sum of ten 1-bar flows (exact integers underneath).
    assert np.allclose(np.convolve(np.nan_to_num(one), np.ones(10))[10:119], ten[10:], atol=1e-9)
    imbalance = values["depth_imbalance_1"]
    assert np.nanmin(imbalance) >= -1.0
    assert np.nanmax(imbalance) <= 1.0


class _ProbeConfig(StrategyConfig, frozen=True, kw_only=True):
    instrument_id: str


class FeatureProbe(Strategy):
    """Computes the feature set online from what the kernel delivers, as a model agent does."""

    Config = _ProbeConfig

    def on_start(self) -> None:
        self.online = OnlineFeatures(MICRO, {})
        self.rows: list[tuple[float, ...]] = []
        instrument_id = self.config.instrument_id
        self.subscribe_bars(instrument_id)
        self.subscribe_quotes(instrument_id)
        self.subscribe_trades(instrument_id)
        self.subscribe_book(instrument_id)

    def on_quote(self, quote: QuoteTick) -> None:
        self.online.on_quote(quote)

    def on_trade(self, trade: TradeTick) -> None:
        self.online.on_trade(trade)

    def on_book(self, record: Any) -> None:
        self.online.on_book(record)

    def on_bar(self, bar: Bar) -> None:
        self.rows.append(self.online.update(bar))


def _kernel(clock: Clock, probe: FeatureProbe, fidelity: str) -> Kernel:
    instrument = bundled.find_instrument(INSTRUMENT)
    assert instrument is not None
    return Kernel(
        clock=clock,
        journal=MemoryJournal(),
        instruments={INSTRUMENT: instrument},
        starting_cash=Money.from_str("100000", "USDT"),
        venue_config=SimVenueConfig(fidelity=fidelity),
        risk_config=RiskConfig(),
        strategies=[probe],
    )


@pytest.mark.parametrize("fidelity", ["book", "bars"])
def test_the_kernel_delivers_the_same_features_in_backtest_and_in_paper_mode(
    recording: tuple[BinanceFeed, BarColumns], fidelity: str
) -> None:
    feed, bars = recording
    sources = [feed.deltas, feed.quotes, feed.trades, bars]
    offline = compute_features(MICRO, bar_arrays(bars), {}, micro_data(feed))

    backtest = FeatureProbe(_ProbeConfig(instrument_id=INSTRUMENT))
    _kernel(TestClock(), backtest, fidelity).run_backtest(merge(sources))

    paper = FeatureProbe(_ProbeConfig(instrument_id=INSTRUMENT))
    clock = LiveClock(speed=20_000.0, origin_ns=int(feed.deltas.ts_init[0]))  # 2 min in 6 ms
    run_paper(_kernel(clock, paper, fidelity), ReplayFeed(merge(sources), clock))

    for probe in (backtest, paper):
        rows = np.array(probe.rows, dtype=np.float64)
        assert rows.shape == (119, len(MICRO.definitions))
        for j, name in enumerate(MICRO.feature_names):
            assert bits_equal(offline[name], rows[:, j]), name


def test_a_live_feed_s_single_book_deltas_give_the_same_features(
    recording: tuple[BinanceFeed, BarColumns],
) -> None:
    # A live venue adapter publishes one OrderBookDelta per level change, not row ranges.
    feed, bars = recording
    offline = compute_features(MICRO, bar_arrays(bars), {}, micro_data(feed))
    online = OnlineFeatures(MICRO, {})
    deltas = iter(feed.deltas.iter_deltas())
    rows = []
    for record in merge([feed.deltas, feed.quotes, feed.trades, bars]):
        if type(record) is Bar:
            rows.append(online.update(record))
        elif type(record) is QuoteTick:
            online.on_quote(record)
        elif type(record) is TradeTick:
            online.on_trade(record)
        else:
            for _ in range(len(record)):
                online.on_book(next(deltas))
    values = np.array(rows, dtype=np.float64)
    for j, name in enumerate(MICRO.feature_names):
        assert bits_equal(offline[name], values[:, j]), name


BOOKS = Path(__file__).parents[2] / "data" / "books"
DEPTH = FeatureSetConfig(
    name="l3-depth",
    definitions=[
        FeatureSpec(kind="depth_imbalance", levels=1),
        FeatureSpec(kind="depth_imbalance", levels=5),
        FeatureSpec(kind="depth_imbalance", levels=10, lag=1),
    ],
)


def _l3_stream(name: str) -> Any:
    from tradeloop.data.books import read_databento_mbo, read_lobster_stream

    if name == "lobster":
        path = BOOKS / "AAPL_2012-06-21_34200000_57600000_message_10.csv"
        return read_lobster_stream(path, None, instrument_id="AAPL.XNAS", price_precision=4).deltas
    path = BOOKS / "esm4-glbx-mdp3-20240508T000000-000002.mbo.csv.gz"
    return read_databento_mbo(path, instrument_id="ESM4.XCME", price_precision=2)


@pytest.mark.parametrize(
    ("name", "step_ns"), [("lobster", 1_000_000_000), ("databento", 50_000_000)]
)
def test_market_by_order_books_give_the_same_depth_features_online_and_in_bulk(
    name: str, step_ns: int
) -> None:
    # LOBSTER (NASDAQ AAPL, seeded from its order-book file) and Databento (CME ES, a CLEAR
    # and a 13,600-order snapshot, then live): L3 books sampled on a clock of bars.
    deltas = _l3_stream(name)
    first, last = int(deltas.ts_init[0]), int(deltas.ts_init[-1])
    ts = list(range(first - first % step_ns + step_ns, last + step_ns, step_ns))
    bars = BarColumns(deltas.instrument_id, 0, 0, ts, ts, *([[1] * len(ts)] * 5))
    offline = compute_features(DEPTH, bar_arrays(bars), {}, MicroData(book=deltas))
    online = OnlineFeatures(DEPTH, {})
    rows = []
    for record in merge([deltas, bars]):
        if type(record) is Bar:
            rows.append(online.update(record))
        else:
            online.on_book(record)
    values = np.array(rows, dtype=np.float64)
    assert len(values) >= 40
    for j, feature in enumerate(DEPTH.feature_names):
        assert np.isfinite(offline[feature]).sum() >= 35, feature
        assert bits_equal(offline[feature], values[:, j]), feature
    assert not bits_equal(offline["depth_imbalance_1"], offline["depth_imbalance_5"])

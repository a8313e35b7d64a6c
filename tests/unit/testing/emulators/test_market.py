"""The replayed market: a pure function of time, looped, with continuous ids."""

from __future__ import annotations

from tradeloop.data import bundled
from tradeloop.testing.emulators._market import ReplayMarket

ORIGIN_NS = 1_700_000_000_000_000_000


def test_one_loop_replays_every_recorded_trade_and_quote_in_order() -> None:
    market = ReplayMarket(ORIGIN_NS)
    trades = market.trades_between(ORIGIN_NS - 1, ORIGIN_NS + market.period_ns - 1)
    recorded = bundled.load_trades("btcusdt_trades")
    assert [t.price_raw for t in trades] == [int(p) for p in recorded.price]
    assert [t.size_raw for t in trades] == [int(s) for s in recorded.size]
    offsets = [t.ts_ns - ORIGIN_NS for t in trades]
    assert offsets == [int(t - recorded.ts_event[0]) for t in recorded.ts_event]
    quotes = market.quotes_between(ORIGIN_NS - 1, ORIGIN_NS + market.period_ns - 1)
    assert len(quotes) == len(bundled.load_quotes("btcusdt_quotes").bid_price)


def test_ids_continue_across_loop_boundaries() -> None:
    market = ReplayMarket(ORIGIN_NS)
    span = (ORIGIN_NS - 2 * market.period_ns, ORIGIN_NS + 2 * market.period_ns)
    ids = [t.trade_id for t in market.trades_between(*span)]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    updates = [q.update_id for q in market.quotes_between(*span)]
    assert updates == list(range(updates[0], updates[0] + len(updates)))
    assert market.quote_at(span[1]) == market.quotes_between(*span)[-1]


def test_speed_compresses_the_replay() -> None:
    slow, fast = ReplayMarket(ORIGIN_NS), ReplayMarket(ORIGIN_NS, speed=4.0)
    window = 10_000_000_000
    assert len(fast.trades_between(ORIGIN_NS, ORIGIN_NS + window // 4)) == len(
        slow.trades_between(ORIGIN_NS, ORIGIN_NS + window)
    )


def test_klines_and_window_stats_aggregate_the_prints() -> None:
    market = ReplayMarket(ORIGIN_NS)
    end = ORIGIN_NS + 7 * 60_000_000_000 + 123
    minute = 60_000_000_000
    bars = market.klines(minute, end, 5)
    assert len(bars) == 5
    for bar in bars:
        trades = market.trades_between(bar[0] - 1, min(end, bar[0] + minute - 1))
        prices = [t.price_raw for t in trades]
        assert bar[1:5] == (prices[0], max(prices), min(prices), prices[-1])
        assert bar[5] == sum(t.size_raw for t in trades)
        assert bar[7] == len(trades)
        assert bar[8] == sum(t.size_raw for t in trades if not t.is_buyer_maker)
    start = ORIGIN_NS - 5 * market.period_ns - 17
    stats = market.window_stats(start, end)
    trades = market.trades_between(start - 1, end)
    assert stats[4] == sum(t.size_raw for t in trades)
    assert stats[5] == sum(t.price_raw * t.size_raw for t in trades)
    assert stats[6] == len(trades)
    assert (stats[0], stats[3]) == (trades[0].price_raw, trades[-1].price_raw)

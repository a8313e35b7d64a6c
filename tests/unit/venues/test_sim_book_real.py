"""Level 4 on real books, hand-checked: Binance USD-M (L2) and CME ES market-by-order (L3).

The expected fills were worked out by reading the recordings (the rows are quoted below),
not by running the venue.
"""

from pathlib import Path
from typing import Any

import pytest

from tradeloop.core import Price, Quantity, TestClock
from tradeloop.data.books import read_binance_depth, read_databento_mbo
from tradeloop.engine.feed import BookEvent, merge
from tradeloop.model import (
    BookStatusChanged,
    OrderFactory,
    OrderFilled,
    OrderSide,
    SubmitOrder,
    TradeTick,
    crypto_perpetual,
    crypto_spot,
    future,
)
from tradeloop.venues import SimulatedVenue, SimVenueConfig
from tradeloop.venues.sim.config import BookConfig

DATA = Path(__file__).parents[2] / "data" / "books"


class _Replay:
    def __init__(self, instrument: Any, book_type: str) -> None:
        self.instrument = instrument
        self.clock = TestClock(0)
        self.events: list[Any] = []
        self.venue = SimulatedVenue(
            instrument.venue,
            SimVenueConfig(fidelity="book", book=BookConfig(book_type=book_type)),
            self.clock,
            {instrument.id: instrument},
            self.events.append,
        )
        self.factory = OrderFactory("s", self.clock)

    def feed(self, record: Any) -> None:
        self.clock.set_time(record.ts_init)
        if type(record) is BookEvent:
            self.venue.on_book_rows(record.columns, record.start, record.stop)
        elif type(record) is TradeTick:
            self.venue.on_trade(record)

    def submit(self, order: Any) -> Any:
        self.venue.submit_order(
            SubmitOrder(strategy_id="s", ts_init=self.clock.now_ns, order=order)
        )
        return order

    def fills(self, order: Any) -> list[tuple[int, int, int, str]]:
        return [
            (e.ts_event, e.last_qty.raw, e.last_px.raw, e.liquidity_side.value)
            for e in self.events
            if isinstance(e, OrderFilled) and e.client_order_id == order.client_order_id
        ]


@pytest.fixture(scope="module")
def binance_usdm() -> Any:
    return read_binance_depth(DATA / "binance-usdm-btcusdt-20240808-head.gz")


def test_l2_binance_resting_bid_and_book_walk_hand_checked(binance_usdm: Any) -> None:
    feed = binance_usdm
    deltas = feed.deltas
    instrument = crypto_perpetual(
        "BTCUSDT-PERP", "BINANCE", base="BTC", quote="USDT", price_precision=1, size_precision=3
    )
    replay = _Replay(instrument, "l2")
    events = 0
    bid = market = None
    for record in merge([deltas, feed.trades]):
        replay.feed(record)
        if type(record) is BookEvent:
            events += 1
            if events == 300:  # 23:54:30.800973641: best bid 61809.5 x 0.772, ask 61809.6
                bid = replay.submit(
                    replay.factory.limit(
                        instrument.id, OrderSide.BUY, Quantity(500, 3), Price(618095, 1)
                    )
                )
                market = replay.submit(
                    replay.factory.market(instrument.id, OrderSide.BUY, Quantity(9000, 3))
                )
                assert replay.venue.queue_ahead(bid.client_order_id) == Quantity(772, 3)
    assert bid is not None
    assert market is not None
    # The asks then: 61809.6 x 8.027, 61811.0 x 0.114, 61811.4 x 0.316.
    t0 = 1723161270800973641
    assert replay.fills(market)[:3] == [
        (t0, 8027, 618096, "TAKER"),
        (t0, 114, 618110, "TAKER"),
        (t0, 316, 618114, "TAKER"),
    ]
    assert sum(f[1] for f in replay.fills(market)) == 9000
    # Queue at 61809.5, cancellations from behind (default):
    #   .803976741 sell 0.002 @ 61809.5 -> ahead 0.770; the level to 0.770: the same trade;
    #   the level grows (orders behind), then falls to 0.044 (.117198827) and 0.026
    #   (.171957826): cancellations, ahead capped at 0.026; 1.305481436/1.305486236 sells of
    #   0.020 and 0.062 came before (ahead 0.770 -> 0.688, then capped);
    #   2.764923020 sell 0.003 -> 0.023; 2.764924420 sell 0.020 -> 0.003;
    #   2.764925320 sell 0.114: 0.003 ahead, 0.111 ours; then 0.010, 0.018, 0.010 ours;
    #   3.331030613 .. 3.331031813: 0.131, 0.003, 0.003 ours;
    #   3.331032313 sell 0.043 @ 61809.4, through our price: ours; 0.004 @ 61809.3 ours;
    #   0.002 @ 61808.3 ours; then the rest, 0.002 + 0.163, from the next prints through it.
    base = 1723161270000000000
    expected = [
        (base + 2764925320, 111),
        (base + 2764926420, 10),
        (base + 2764927220, 18),
        (base + 2764928420, 10),
        (base + 3331030613, 131),
        (base + 3331031113, 3),
        (base + 3331031813, 3),
        (base + 3331032313, 43),
        (base + 3331032913, 4),
        (base + 3331033413, 2),
    ]
    got = [(ts, qty) for ts, qty, price, side in replay.fills(bid)]
    assert got[: len(expected)] == expected
    assert sum(q for _, q in got) == 500
    assert {(price, side) for _, _, price, side in replay.fills(bid)} == {(618095, "MAKER")}


def test_l3_cme_es_queue_by_order_id_hand_checked() -> None:
    deltas = read_databento_mbo(DATA / "esh4-glbx-mdp3-20231225-head.mbo.csv.gz")
    instrument = future(
        "ESH4",
        "GLBX",
        currency_code="USD",
        price_precision=2,
        tick_size="0.25",
        multiplier="50",
        expiry_ns=1710500000000000000,
    )
    replay = _Replay(instrument, "l3")
    order = None
    aheads = {}
    for record in merge([deltas]):
        if order is None and record.start >= 14760:
            # After row 14759 (2023-12-25 23:01:02.891 UTC) the bid at 4804.75 holds orders
            # ...562 (1), ...563 (1), ...565 (6): 8 ahead of us.
            order = replay.submit(
                replay.factory.limit(
                    instrument.id, OrderSide.BUY, Quantity(10, 0), Price(480475, 2)
                )
            )
            aheads["join"] = replay.venue.queue_ahead(order.client_order_id)
        replay.feed(record)
        if order is not None and record.start <= 14808 < record.stop:
            aheads["after 14808"] = replay.venue.queue_ahead(order.client_order_id)
    assert order is not None
    # Rows 14777/14778: F of ...562 and ...563 (1 each) -> 6 ahead; their cancels that follow
    # are the same lots. 14793, 14805, 14808: F of ...565 (2 each; the modifies to 4 and 2 and
    # the final cancel are the same lots) -> 0 ahead.
    assert aheads == {"join": Quantity(8, 0), "after 14808": Quantity(0, 0)}
    t = 1703545263000000000
    assert [(ts - t, qty) for ts, qty, _, _ in replay.fills(order)] == [
        # 14826-14828: F of ...571, ...574, ...337 (1 each), all joined after us: ours.
        (214588988, 1),
        (214588988, 1),
        (214588988, 1),
        # 14879-14880: a seller hits ...525 at 4804.50, through our price: ours.
        (652845237, 1),
        # 14882, 14883: asks ...615, ...616 added at 4804.75, our price, with nobody left on
        # the bid there: incoming sellers that would have traded with us.
        (652971100, 1),
        (652979855, 1),
        # ...615 and ...616 then go (we had taken them); 14893, 14895, 14899, 14901: asks
        # ...622, ...624, ...626, ...627 at 4804.75 (1 each): ours.
        (653578897, 1),
        (653811215, 1),
        (655942873, 1),
        (681144757, 1),
    ]
    assert {(price, side) for _, _, price, side in replay.fills(order)} == {(480475, "MAKER")}


def test_l2_binance_spot_depth_before_trade_counts_each_trade_once() -> None:
    # Binance spot's depth stream (100 ms batches) often shows a trade before the trade
    # stream prints it. Depth event 245 (received 23:54:38.650686025) takes the ask at
    # 61841.57 from 0.146600 to 0.019720; the buyer prints that make up the 0.126880 arrive
    # after it: 0.019330 (.665025627), 0.040000 (.667576727), 0.057000 (.699141430) and
    # 0.010550 (.702300231); then 0.019720 (.728945834) takes the rest of the level.
    feed = read_binance_depth(DATA / "binance-spot-btcusdt-20240808-head.gz")
    instrument = crypto_spot(
        "BTCUSDT", "BINANCE", base="BTC", quote="USDT", price_precision=2, size_precision=6
    )
    replay = _Replay(instrument, "l2")
    events = 0
    order = None
    aheads: list[tuple[int, int | None]] = []
    for record in merge([feed.deltas, feed.trades]):
        replay.feed(record)
        if type(record) is BookEvent:
            events += 1
            if events == 244:
                order = replay.submit(
                    replay.factory.limit(
                        instrument.id, OrderSide.SELL, Quantity(500000, 6), Price(6184157, 2)
                    )
                )
        if order is not None and record.ts_init <= 1723161278728945834:
            ahead = replay.venue.queue_ahead(order.client_order_id)
            aheads.append((record.ts_init, None if ahead is None else ahead.raw))
    assert order is not None
    t = 1723161278000000000
    trail = [(ts - t, ahead) for ts, ahead in aheads]
    assert trail[0][1] == 146600  # joined behind the level
    after_depth = [a for ts, a in trail if ts >= 650686025]
    # The level shows 0.019720 and each late print is the same volume again: the queue stays
    # at 0.019720 until the last print, which takes it (before the fix the second print
    # filled us 0.039610 while 0.126880 of real trades had not been counted yet).
    assert after_depth[0] == 19720
    assert [a for ts, a in trail if ts in (665025627, 667576727, 699141430, 702300231)] == [
        19720
    ] * 4
    assert trail[-1] == (728945834, 0)
    assert [f for f in replay.fills(order) if f[0] <= t + 728945834] == []


def test_l3_cme_pre_open_crossed_book_holds_a_market_order_until_the_open() -> None:
    # CME's pre-open (2023-12-25 22:39:55 to the 23:00 opening auction) leaves the ES book
    # crossed: at 22:50:03.566 the best bid is 4805.00 and the best ask 4799.50. A market buy
    # sent then must not fill at 4799.50; it waits for the first consistent event end after
    # the open (23:00:00.106846211: 4800.00 / 4800.25) and fills at the ask, 4800.25.
    deltas = read_databento_mbo(DATA / "esh4-glbx-mdp3-20231225-head.mbo.csv.gz")
    instrument = future(
        "ESH4",
        "GLBX",
        currency_code="USD",
        price_precision=2,
        tick_size="0.25",
        multiplier="50",
        expiry_ns=1710500000000000000,
    )
    replay = _Replay(instrument, "l3")
    published: list[Any] = []
    replay.venue._publish = published.append
    order = None
    for record in merge([deltas]):
        replay.feed(record)
        if order is None and record.ts_init >= 1703544600000000000:  # 22:50 UTC
            book = replay.venue.book(instrument.id)
            assert book is not None
            assert (book.best_bid_raw(), book.best_ask_raw()) == ((480500, 7), (479950, 13))
            order = replay.submit(
                replay.factory.market(instrument.id, OrderSide.BUY, Quantity(2, 0))
            )
    assert order is not None
    assert replay.fills(order) == [(1703545200106846211, 2, 480025, "TAKER")]
    statuses = [
        (e.ts_event, e.status, e.suspended_events)
        for e in published
        if isinstance(e, BookStatusChanged)
    ]
    assert statuses == [
        (1703543995222483197, "crossed", 0),
        (1703545200106846211, "ok", 892),
    ]

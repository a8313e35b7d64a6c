"""Level 4: queue position, book walking and consumption on hand-built books."""

from typing import Any

import pytest

from tradeloop.core import ConfigError, Price, Quantity, TestClock
from tradeloop.data.books import BookDeltaColumns
from tradeloop.model import (
    AggressorSide,
    AlertRaised,
    BookAction,
    BookSide,
    BookStatusChanged,
    CancelOrder,
    ModifyOrder,
    OrderBookDelta,
    OrderCanceled,
    OrderFactory,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderSide,
    SubmitOrder,
    TimeInForce,
    TradeTick,
    crypto_spot,
)
from tradeloop.venues import SimulatedVenue, SimVenueConfig
from tradeloop.venues.sim.config import BookConfig

X = crypto_spot("XUSD", "SIM", base="X", quote="USD", price_precision=0, size_precision=0)
BUY, SELL = OrderSide.BUY, OrderSide.SELL
ADD, UPDATE, DELETE, CLEAR, CANCEL, FILL, TRADE = 1, 2, 3, 4, 5, 6, 7
BID, ASK = 1, 2
LAST, RESTING_FILL, UNSYNCED, SNAPSHOT = 128, 1024, 512, 32


class Book:
    """A level-4 venue fed with hand-written delta rows, one venue event per call."""

    def __init__(self, **book: Any) -> None:
        self.clock = TestClock(0)
        self.events: list[Any] = []
        self.published: list[Any] = []
        self.venue = SimulatedVenue(
            "SIM",
            SimVenueConfig(fidelity="book", book=BookConfig(**book)),
            self.clock,
            {X.id: X},
            self.events.append,
            publish=self.published.append,
        )
        self.factory = OrderFactory("s", self.clock)
        self.t = 0

    def rows(self, *rows: tuple[int, ...]) -> None:
        """Apply one event: rows of (action, side, price, size[, order_id[, flags]])."""
        self.t += 10
        self.clock.set_time(self.t)
        full = [(*r, 0, 0)[:6] for r in rows]
        n = len(full)
        columns = BookDeltaColumns(
            X.id,
            0,
            0,
            [self.t] * n,
            [self.t] * n,
            [r[0] for r in full],
            [r[1] for r in full],
            [r[2] for r in full],
            [r[3] for r in full],
            [r[4] for r in full],
            [r[5] | (LAST if i == n - 1 else 0) for i, r in enumerate(full)],
            [0] * n,
        )
        self.venue.on_book_rows(columns, 0, n)

    def trade(self, price: int, size: int, aggressor: AggressorSide) -> None:
        self.t += 10
        self.clock.set_time(self.t)
        self.venue.on_trade(
            TradeTick(
                X.id, Price(price, 0), Quantity(size, 0), aggressor, f"t{self.t}", self.t, self.t
            )
        )

    def submit(self, order: OrderInitialized) -> OrderInitialized:
        self.venue.submit_order(
            SubmitOrder(strategy_id="s", ts_init=self.clock.now_ns, order=order)
        )
        return order

    def limit(self, side: OrderSide, qty: int, price: int, **kw: Any) -> OrderInitialized:
        return self.submit(self.factory.limit(X.id, side, Quantity(qty, 0), Price(price, 0), **kw))

    def market(self, side: OrderSide, qty: int, **kw: Any) -> OrderInitialized:
        return self.submit(self.factory.market(X.id, side, Quantity(qty, 0), **kw))

    def fills(self) -> list[tuple[str, int, int, str]]:
        return [
            (e.client_order_id, e.last_qty.raw, e.last_px.raw, e.liquidity_side.value)
            for e in self.events
            if isinstance(e, OrderFilled)
        ]

    def ahead(self, order: OrderInitialized) -> int | None:
        value = self.venue.queue_ahead(order.client_order_id)
        return None if value is None else value.raw


def _two_sided(book: Book, bid: int = 5, ask: int = 5) -> None:
    book.rows((ADD, BID, 100, bid), (ADD, ASK, 101, ask))


def test_resting_bid_fills_only_after_prints_consume_the_volume_ahead() -> None:
    b = Book()
    _two_sided(b)
    order = b.limit(BUY, 3, 100)
    assert b.ahead(order) == 5
    assert b.fills() == []
    b.trade(100, 4, AggressorSide.SELLER)  # takes 4 of the 5 ahead
    b.rows((UPDATE, BID, 100, 1))  # the book shows the trade: explained, not a cancel
    assert b.ahead(order) == 1
    assert b.fills() == []
    b.trade(100, 3, AggressorSide.SELLER)  # 1 ahead, then 2 for us
    assert b.fills() == [(order.client_order_id, 2, 100, "MAKER")]
    b.trade(100, 5, AggressorSide.SELLER)
    assert b.fills()[-1] == (order.client_order_id, 1, 100, "MAKER")


def test_buyer_prints_do_not_touch_a_resting_bid() -> None:
    b = Book()
    _two_sided(b, bid=1)
    order = b.limit(BUY, 3, 100)
    b.trade(101, 10, AggressorSide.BUYER)  # lifts asks
    b.trade(100, 10, AggressorSide.BUYER)  # odd print at our price by a buyer: not our side
    assert b.fills() == []
    assert b.ahead(order) == 1


def test_a_print_through_our_price_means_our_level_was_swept() -> None:
    b = Book()
    b.rows((ADD, BID, 100, 5), (ADD, BID, 99, 5), (ADD, ASK, 101, 5))
    order = b.limit(BUY, 4, 100)
    b.trade(99, 3, AggressorSide.SELLER)
    assert b.fills() == [(order.client_order_id, 3, 100, "MAKER")]
    assert b.ahead(order) == 0


def test_cancellations_come_from_behind_by_default_and_pro_rata_when_configured() -> None:
    results = {}
    for rule in ("behind", "pro_rata"):
        b = Book(queue_cancels=rule)
        _two_sided(b, bid=10)
        order = b.limit(BUY, 1, 100)
        b.rows((UPDATE, BID, 100, 20))  # 10 more join behind us
        b.rows((UPDATE, BID, 100, 15))  # 5 cancelled, no print: who cancelled?
        results[rule] = b.ahead(order)
        b.rows((UPDATE, BID, 100, 4))  # whatever the rule, ahead never exceeds the level
        assert b.ahead(order) == (4 if rule == "behind" else 8 - 11 * 8 // 15)
    assert results == {"behind": 10, "pro_rata": 10 - 5 * 10 // 20}


def test_market_order_walks_the_book_one_fill_per_level() -> None:
    b = Book()
    b.rows((ADD, BID, 99, 5), (ADD, ASK, 101, 2), (ADD, ASK, 102, 3), (ADD, ASK, 103, 5))
    order = b.market(BUY, 4)
    assert b.fills() == [
        (order.client_order_id, 2, 101, "TAKER"),
        (order.client_order_id, 2, 102, "TAKER"),
    ]


def test_consumption_is_remembered_until_the_book_moves_past_it() -> None:
    b = Book()
    b.rows((ADD, BID, 99, 5), (ADD, ASK, 101, 2), (ADD, ASK, 102, 3), (ADD, ASK, 103, 5))
    b.market(BUY, 4)  # took 2 @ 101 and 2 @ 102
    levels = lambda: [(p.raw, q.raw) for p, q in b.venue.book_levels(X.id, BookSide.ASK)]  # noqa: E731
    assert levels() == [(102, 1), (103, 5)]
    b.rows((UPDATE, ASK, 102, 4))  # one more joins behind what we took
    assert levels() == [(102, 2), (103, 5)]
    b.rows((UPDATE, ASK, 102, 3))  # a decrease above our take: other liquidity (conservative)
    assert levels() == [(102, 1), (103, 5)]
    b.rows((UPDATE, ASK, 102, 1))  # fell below our take: nothing left for us there
    assert levels() == [(103, 5)]
    b.rows((UPDATE, ASK, 102, 2))  # new liquidity behind the capped consumption
    assert levels() == [(102, 1), (103, 5)]
    b.rows((DELETE, ASK, 101, 0), (ADD, ASK, 101, 3))  # the level went: consumption forgotten
    assert levels() == [(101, 3), (102, 1), (103, 5)]
    second = b.market(BUY, 5)
    assert [f[1:3] for f in b.fills() if f[0] == second.client_order_id] == [
        (3, 101),
        (1, 102),
        (1, 103),
    ]


def test_marketable_limit_takes_up_to_its_limit_then_rests_and_is_crossed() -> None:
    b = Book()
    b.rows((ADD, BID, 99, 5), (ADD, ASK, 101, 2), (ADD, ASK, 102, 3))
    order = b.limit(BUY, 5, 101)
    assert b.fills() == [(order.client_order_id, 2, 101, "TAKER")]
    assert b.ahead(order) == 0  # rests alone at 101 on the bid side
    b.rows((UPDATE, ASK, 101, 3))  # one new seller at 101 (we had taken the other two)
    assert b.fills()[-1] == (order.client_order_id, 1, 101, "MAKER")
    b.rows((ADD, ASK, 100, 4))  # a seller comes through our price: trades with us at 101
    assert b.fills()[-1] == (order.client_order_id, 2, 101, "MAKER")
    assert order.client_order_id not in b.venue.working_orders(X.id)


def test_ioc_and_fok_at_level_four() -> None:
    b = Book()
    b.rows((ADD, BID, 99, 5), (ADD, ASK, 101, 2), (ADD, ASK, 102, 3))
    ioc = b.limit(BUY, 4, 101, time_in_force=TimeInForce.IOC)
    fok = b.limit(BUY, 4, 102, time_in_force=TimeInForce.FOK)  # 1 @ 102... only 3 left: no
    assert b.fills() == [(ioc.client_order_id, 2, 101, "TAKER")]
    canceled = [e.client_order_id for e in b.events if isinstance(e, OrderCanceled)]
    assert canceled == [ioc.client_order_id, fok.client_order_id]


def test_modify_to_a_new_price_loses_the_queue_position_and_a_smaller_size_keeps_it() -> None:
    b = Book()
    b.rows((ADD, BID, 100, 6), (ADD, BID, 99, 2), (ADD, ASK, 102, 5))
    order = b.limit(BUY, 3, 100)
    b.rows((UPDATE, BID, 100, 9))  # 3 join behind
    b.trade(100, 2, AggressorSide.SELLER)
    assert b.ahead(order) == 4
    b.venue.modify_order(
        ModifyOrder(
            strategy_id="s",
            ts_init=b.t,
            instrument_id=X.id,
            client_order_id=order.client_order_id,
            quantity=Quantity(2, 0),
        )
    )
    assert b.ahead(order) == 4
    b.venue.modify_order(
        ModifyOrder(
            strategy_id="s",
            ts_init=b.t,
            instrument_id=X.id,
            client_order_id=order.client_order_id,
            price=Price(99, 0),
        )
    )
    assert b.ahead(order) == 2  # the back of the 99 queue


def test_cancel_removes_the_queue_slot_and_post_only_checks_the_book() -> None:
    b = Book()
    _two_sided(b)
    order = b.limit(BUY, 3, 100)
    b.venue.cancel_order(
        CancelOrder(
            strategy_id="s", ts_init=b.t, instrument_id=X.id, client_order_id=order.client_order_id
        )
    )
    assert b.ahead(order) is None
    b.trade(100, 50, AggressorSide.SELLER)
    assert b.fills() == []
    b.limit(BUY, 1, 101, post_only=True)
    assert [e.reason for e in b.events if isinstance(e, OrderRejected)] == [
        "post-only order at 101 would take liquidity"
    ]


def test_two_of_our_orders_at_one_price_fill_in_arrival_order() -> None:
    b = Book()
    _two_sided(b, bid=2)
    first = b.limit(BUY, 2, 100)
    second = b.limit(BUY, 2, 100)
    b.trade(100, 5, AggressorSide.SELLER)  # 2 ahead, 2 to the first, 1 would go to the second
    assert [(f[0], f[1]) for f in b.fills()] == [
        (first.client_order_id, 2),
        (second.client_order_id, 1),
    ]


def test_resnapshot_caps_the_queue_at_the_new_level() -> None:
    b = Book()
    _two_sided(b, bid=8)
    order = b.limit(BUY, 1, 100)
    b.rows((CLEAR, 0, 0, 0))  # a resnapshot in two events: the side is empty in between
    assert b.ahead(order) == 8
    b.rows((ADD, BID, 100, 3), (ADD, ASK, 101, 5))
    assert b.ahead(order) == 3


def test_stop_market_triggers_on_the_touch_and_walks_the_book() -> None:
    b = Book()
    _two_sided(b)
    stop = b.submit(b.factory.stop_market(X.id, BUY, Quantity(3, 0), Price(102, 0)))
    assert b.fills() == []
    b.rows((DELETE, ASK, 101, 0), (ADD, ASK, 102, 2), (ADD, ASK, 103, 4))
    assert b.fills() == [
        (stop.client_order_id, 2, 102, "TAKER"),
        (stop.client_order_id, 1, 103, "TAKER"),
    ]


def test_order_book_delta_records_drive_the_same_book() -> None:
    b = Book()

    def delta(action: BookAction, side: BookSide, price: int, size: int, flags: int = 0) -> None:
        b.venue.on_book_delta(
            OrderBookDelta(
                X.id, action, side, Price(price, 0), Quantity(size, 0), 0, flags, 0, b.t, b.t
            )
        )

    delta(BookAction.ADD, BookSide.ASK, 101, 2, 0)
    delta(BookAction.ADD, BookSide.ASK, 102, 2, 0)
    order = b.market(BUY, 3)
    assert [f[1:3] for f in b.fills()] == [(2, 101), (1, 102)]
    assert order.client_order_id not in b.venue.working_orders(X.id)


def test_finer_data_than_the_instrument_is_a_config_error() -> None:
    b = Book()
    columns = BookDeltaColumns(X.id, 1, 0, [1], [1], [ADD], [BID], [1000], [1], [0], [LAST], [0])
    with pytest.raises(ConfigError, match="price precision 1, finer than the instrument's 0"):
        b.venue.on_book_rows(columns, 0, 1)


# -- L3 -------------------------------------------------------------------------------------------


def test_l3_queue_is_exact_by_order_id() -> None:
    b = Book(book_type="l3")
    b.rows((ADD, BID, 100, 2, 1), (ADD, BID, 100, 3, 2), (ADD, ASK, 102, 5, 9))
    order = b.limit(BUY, 4, 100)
    assert b.ahead(order) == 5
    b.rows((ADD, BID, 100, 4, 3))  # behind us
    b.rows((CANCEL, BID, 100, 4, 3))  # a cancel behind us changes nothing
    assert b.ahead(order) == 5
    b.rows((CANCEL, BID, 100, 1, 1))  # a cancel ahead of us
    assert b.ahead(order) == 4
    b.rows((FILL, BID, 100, 1, 1))  # an execution ahead (LOBSTER: it also leaves the book)
    assert b.ahead(order) == 3
    b.rows((TRADE, BID, 100, 2, 2, RESTING_FILL))  # Databento F: printed, still in the book
    assert b.ahead(order) == 1
    b.rows((UPDATE, BID, 100, 1, 2))  # the venue's own reduction after the fill: not twice
    assert b.ahead(order) == 1
    assert b.fills() == []
    b.rows((ADD, BID, 100, 5, 4))  # behind us
    b.rows((TRADE, BID, 100, 3, 4, RESTING_FILL))  # an order behind us executes: 1 ahead first
    assert b.fills() == []  # ahead was not empty: nothing for us (conservative)
    b.rows((CANCEL, BID, 100, 1, 2))
    assert b.ahead(order) == 0
    b.rows((TRADE, BID, 100, 3, 4, RESTING_FILL))
    assert b.fills() == [(order.client_order_id, 3, 100, "MAKER")]
    b.rows((TRADE, ASK, 100, 9, 0))  # an aggressor print (Databento T): not used in L3
    assert len(b.fills()) == 1


def test_l3_modify_that_loses_priority_leaves_the_queue_ahead() -> None:
    b = Book(book_type="l3")
    b.rows((ADD, BID, 100, 2, 1), (ADD, BID, 100, 3, 2), (ADD, ASK, 102, 5, 9))
    order = b.limit(BUY, 1, 100)
    b.rows((UPDATE, BID, 100, 4, 1))  # size grew: back of the queue, behind us
    assert b.ahead(order) == 3
    b.rows((UPDATE, BID, 99, 3, 2))  # moved away
    assert b.ahead(order) == 0


def test_unknown_fidelity_and_book_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="book_type 'l4' is not l2 or l3"):
        BookConfig(book_type="l4")
    with pytest.raises(ConfigError, match="queue_cancels 'front' is not behind or pro_rata"):
        BookConfig(queue_cancels="front")


def test_level_four_ignores_bars_and_quotes_for_matching() -> None:
    from tradeloop.model import Bar, QuoteTick

    b = Book()
    _two_sided(b)
    order = b.limit(BUY, 1, 100)
    b.venue.on_bar(Bar(X.id, 90, 95, 80, 90, 100, 0, 0, 5, 5))
    b.venue.on_quote(
        QuoteTick(X.id, Price(90, 0), Price(91, 0), Quantity(1, 0), Quantity(1, 0), 5, 5)
    )
    assert b.fills() == []
    assert b.ahead(order) == 5


# -- crossed and unsynced books -------------------------------------------------------------------


def _statuses(book: Book) -> list[tuple[str, int | None, int | None, int]]:
    return [
        (
            e.status,
            None if e.best_bid is None else e.best_bid.raw,
            None if e.best_ask is None else e.best_ask.raw,
            e.suspended_events,
        )
        for e in book.published
        if isinstance(e, BookStatusChanged)
    ]


def test_a_crossed_book_is_not_matched_until_it_uncrosses() -> None:
    b = Book()
    b.rows((ADD, BID, 99, 5), (ADD, ASK, 101, 5))
    b.rows((ADD, BID, 105, 2))  # bid 105 / ask 101 at the event end: crossed
    order = b.market(BUY, 3)
    assert b.fills() == []  # not at 101: the book is not trustworthy
    b.rows((UPDATE, BID, 105, 1))  # still crossed
    assert b.fills() == []
    b.rows((DELETE, BID, 105, 0))  # uncrossed: the waiting market order takes the ask
    assert b.fills() == [(order.client_order_id, 3, 101, "TAKER")]
    assert _statuses(b) == [("crossed", 105, 101, 0), ("ok", 99, 101, 2)]
    alerts = [e for e in b.published if isinstance(e, AlertRaised)]
    assert [(a.severity, a.source) for a in alerts] == [("warning", "venue.SIM")]


def test_orders_arriving_at_a_crossed_book_wait_and_ioc_is_canceled() -> None:
    b = Book()
    b.rows((ADD, BID, 100, 4), (ADD, ASK, 102, 5))
    b.rows((ADD, ASK, 99, 1))  # crossed (a locked or crossed feed state)
    ioc = b.limit(BUY, 1, 102, time_in_force=TimeInForce.IOC)
    bid = b.limit(BUY, 2, 100)
    assert b.ahead(bid) is None  # not in the queue yet
    reasons = [(e.client_order_id, e.reason) for e in b.events if isinstance(e, OrderCanceled)]
    assert reasons == [(ioc.client_order_id, "IOC/FOK order not filled: the book is crossed")]
    b.rows((DELETE, ASK, 99, 0), (UPDATE, BID, 100, 6))
    assert b.ahead(bid) == 6  # joins behind the level as it is once consistent
    assert b.fills() == []


def test_a_resting_order_is_not_crossed_by_a_crossed_book_but_prints_still_fill_it() -> None:
    b = Book()
    b.rows((ADD, BID, 100, 1), (ADD, ASK, 102, 5))
    order = b.limit(BUY, 3, 100)
    b.trade(100, 1, AggressorSide.SELLER)  # the one ahead traded
    b.rows((DELETE, BID, 100, 0), (ADD, ASK, 100, 4), (ADD, BID, 101, 1))  # bid 101 / ask 100
    assert b.fills() == []  # no crossing fill against a crossed book
    b.trade(100, 2, AggressorSide.SELLER)  # a real print at our price: ours
    assert b.fills() == [(order.client_order_id, 2, 100, "MAKER")]


def test_an_unsynced_event_suspends_matching_until_a_synced_one() -> None:
    b = Book()
    b.rows((ADD, BID, 99, 5), (ADD, ASK, 101, 5))
    b.rows(
        (CLEAR, 0, 0, 0, 0, UNSYNCED),
        (ADD, BID, 99, 5, 0, UNSYNCED),
        (ADD, ASK, 101, 2, 0, UNSYNCED),
    )
    order = b.market(BUY, 3)
    assert b.fills() == []
    b.rows((UPDATE, ASK, 101, 4))  # synced again
    assert b.fills() == [(order.client_order_id, 3, 101, "TAKER")]
    assert [s[0] for s in _statuses(b)] == ["unsynced", "ok"]


def test_l3_snapshot_rows_do_not_move_the_queue_like_market_events() -> None:
    b = Book(book_type="l3")
    b.rows((ADD, BID, 100, 2, 1), (ADD, BID, 100, 3, 2), (ADD, ASK, 102, 5, 9))
    order = b.limit(BUY, 1, 100)
    b.rows((ADD, BID, 100, 4, 3))  # behind us
    assert b.ahead(order) == 5
    # A resync that removes an order (LOBSTER: a level pushed out of the file's top N) did
    # not trade or cancel it: the queue is re-capped from the level at the event end (5 of
    # the 7 left), not shortened to 3 as a cancel would.
    b.rows((DELETE, BID, 100, 0, 1, SNAPSHOT))
    assert b.ahead(order) == 5
    # A level taken from a snapshot (the order-book file) was there before us: ahead.
    b.rows((ADD, BID, 99, 1, 4))
    b.rows((ADD, BID, 100, 6, 8, SNAPSHOT))
    assert b.ahead(order) == 11
    assert b.fills() == []

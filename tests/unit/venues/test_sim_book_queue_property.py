"""Queue position property: a resting order never fills before the volume ahead has gone.

Random delta and trade streams at one price level (L2: level sizes and prints; L3: orders
added, cancelled, modified and executed by id), checked after every step against what the
stream itself allows.

L2 oracle: a level decrease that no earlier print explains is a cancellation, unless a print
at the price arrives within the late-print window after it: the depth stream showed that
trade first (``BookConfig.late_print_window_ns``), and its volume left the queue once, not
twice. Prints after the window are new volume.
"""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core import Price, Quantity, TestClock
from tradeloop.data.books import BookDeltaColumns
from tradeloop.model import (
    AggressorSide,
    OrderFactory,
    OrderFilled,
    OrderSide,
    SubmitOrder,
    TradeTick,
    crypto_spot,
)
from tradeloop.venues import SimulatedVenue, SimVenueConfig
from tradeloop.venues.sim.config import BookConfig

X = crypto_spot("XUSD", "SIM", base="X", quote="USD", price_precision=0, size_precision=0)
ADD, UPDATE, DELETE, CANCEL, FILL = 1, 2, 3, 5, 6
BID, ASK = 1, 2
LAST = 128
PRICE = 100
WINDOW_NS = BookConfig().late_print_window_ns


class _Venue:
    def __init__(self, **book: Any) -> None:
        self.clock = TestClock(0)
        self.events: list[Any] = []
        self.venue = SimulatedVenue(
            "SIM",
            SimVenueConfig(fidelity="book", book=BookConfig(**book)),
            self.clock,
            {X.id: X},
            self.events.append,
        )
        self.t = 0

    def row(self, action: int, side: int, price: int, size: int, order_id: int = 0) -> None:
        self.t += 1
        self.clock.set_time(self.t)
        columns = BookDeltaColumns(
            X.id,
            0,
            0,
            [self.t],
            [self.t],
            [action],
            [side],
            [price],
            [size],
            [order_id],
            [LAST],
            [0],
        )
        self.venue.on_book_rows(columns, 0, 1)

    def print_at(self, size: int) -> None:
        self.t += 1
        self.clock.set_time(self.t)
        self.venue.on_trade(
            TradeTick(
                X.id, Price(PRICE, 0), Quantity(size, 0), AggressorSide.SELLER, "t", self.t, self.t
            )
        )

    def join(self, quantity: int) -> None:
        order = OrderFactory("s", self.clock).limit(
            X.id, OrderSide.BUY, Quantity(quantity, 0), Price(PRICE, 0)
        )
        self.venue.submit_order(SubmitOrder(strategy_id="s", ts_init=self.t, order=order))

    def wait(self) -> None:
        """Let the late-print window pass."""
        self.t += WINDOW_NS + 1

    def filled(self) -> int:
        return sum(e.last_qty.raw for e in self.events if isinstance(e, OrderFilled))


_L2_STEP = st.one_of(
    st.tuples(st.just("print"), st.integers(1, 8)),
    st.tuples(st.just("level"), st.integers(0, 25)),
    st.tuples(st.just("wait"), st.just(0)),
)


@pytest.mark.parametrize("rule", ["behind", "pro_rata"])
@settings(max_examples=150, deadline=None)
@given(
    initial=st.integers(1, 15),
    quantity=st.integers(1, 12),
    steps=st.lists(_L2_STEP, max_size=30),
)
def test_l2_resting_order_never_fills_before_the_volume_ahead_has_gone(
    rule: str, initial: int, quantity: int, steps: list[tuple[str, int]]
) -> None:
    v = _Venue(queue_cancels=rule)
    v.row(ADD, BID, PRICE, initial)
    v.row(ADD, ASK, PRICE + 5, 100)  # the other side stays away: only prints fill us
    v.join(quantity)
    level, printed, explained_pool, cancelled = initial, 0, 0, 0
    unexplained = 0  # decreases within the window that a late print may still explain
    for kind, value in steps:
        if kind == "wait":
            v.wait()
            unexplained = 0  # they stay cancellations
        elif kind == "print":
            v.print_at(value)
            late = min(value, unexplained)  # the depth showed this trade before it printed
            unexplained -= late
            cancelled -= late
            printed += value
            explained_pool += value - late
        else:
            if value == level or (value == 0 and level == 0):
                continue
            v.row(DELETE if value == 0 else UPDATE, BID, PRICE, value)
            if value < level:
                decrease = level - value
                explained = min(decrease, explained_pool)
                explained_pool -= explained
                cancelled += decrease - explained
                unexplained += decrease - explained
            level = value
        filled = v.filled()
        # Only prints at our price can fill us, and only beyond the volume that was ahead:
        # every unit ahead left either by a print or by a cancellation (at most `cancelled`).
        assert filled <= printed
        assert filled <= max(0, printed + cancelled - initial)
        if cancelled == 0:
            # Nothing was cancelled: the fills are exactly the prints beyond the queue.
            assert filled == min(quantity, max(0, printed - initial))


@pytest.mark.parametrize("rule", ["behind", "pro_rata"])
def test_l2_depth_before_trade_counts_the_traded_volume_once(rule: str) -> None:
    # The depth stream shows a trade of 3 before the trade stream prints it.
    v = _Venue(queue_cancels=rule)
    v.row(ADD, BID, PRICE, 10)
    v.row(ADD, ASK, PRICE + 5, 100)
    v.join(5)
    v.row(UPDATE, BID, PRICE, 7)  # looks like a cancellation of 3
    v.print_at(3)  # ... it was this trade: 7 ahead, not 4
    assert v.venue.queue_ahead(v.events[0].client_order_id) == Quantity(7, 0)
    v.print_at(6)  # new volume: 1 ahead, nothing for us (before the fix: 2 filled)
    assert v.filled() == 0
    v.print_at(3)  # 1 ahead, then 2 for us
    assert v.filled() == 2


def test_l2_a_print_after_the_window_is_new_volume() -> None:
    v = _Venue()
    v.row(ADD, BID, PRICE, 10)
    v.row(ADD, ASK, PRICE + 5, 100)
    v.join(5)
    v.row(UPDATE, BID, PRICE, 7)  # a cancellation (capped: 7 ahead)
    v.wait()
    v.print_at(3)  # too late to be that decrease: 3 more leave the queue
    assert v.venue.queue_ahead(v.events[0].client_order_id) == Quantity(4, 0)


def test_l2_joining_after_the_depth_showed_a_trade_is_not_moved_by_its_late_print() -> None:
    v = _Venue()
    v.row(ADD, BID, PRICE, 10)
    v.row(ADD, ASK, PRICE + 5, 100)
    v.row(UPDATE, BID, PRICE, 7)  # the trade, seen in the depth first
    v.join(5)  # joins behind 7
    v.print_at(3)  # the trade's print: already reflected in the 7
    assert v.venue.queue_ahead(v.events[0].client_order_id) == Quantity(7, 0)
    v.print_at(8)
    assert v.filled() == 1


def test_l2_joining_before_the_depth_shows_a_print_caps_at_the_new_level() -> None:
    v = _Venue(queue_cancels="pro_rata")
    v.row(ADD, BID, PRICE, 10)
    v.row(ADD, ASK, PRICE + 5, 100)
    v.print_at(3)  # printed; the depth still shows 10
    v.join(5)  # behind 10 as far as the book says
    v.row(UPDATE, BID, PRICE, 7)  # the print: explained, capped at the level
    order = v.events[0].client_order_id
    assert v.venue.queue_ahead(order) == Quantity(7, 0)
    v.print_at(7)  # a new print: not netted against that decrease
    assert v.venue.queue_ahead(order) == Quantity(0, 0)


_L3_STEP = st.one_of(
    st.tuples(st.just("add"), st.integers(1, 5), st.just(0)),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.integers(1, 5)),
    st.tuples(st.just("fill"), st.integers(0, 20), st.integers(1, 5)),
    st.tuples(st.just("modify"), st.integers(0, 20), st.integers(1, 8)),
)


@settings(max_examples=150, deadline=None)
@given(
    initial=st.lists(st.integers(1, 5), min_size=1, max_size=5),
    quantity=st.integers(1, 12),
    steps=st.lists(_L3_STEP, max_size=30),
)
def test_l3_resting_order_never_fills_before_every_order_ahead_has_gone(
    initial: list[int], quantity: int, steps: list[tuple[str, int, int]]
) -> None:
    v = _Venue(book_type="l3")
    book: dict[int, int] = {}  # order id -> size, at our price, in queue order
    for size in initial:
        oid = len(book) + 1
        v.row(ADD, BID, PRICE, size, oid)
        book[oid] = size
    v.row(ADD, ASK, PRICE + 5, 100, 999)
    v.join(quantity)
    ahead = set(book)
    next_id = 100
    for kind, pick, amount in steps:
        before = v.filled()
        executed_behind = 0
        if kind == "add":
            next_id += 1
            v.row(ADD, BID, PRICE, pick, next_id)
            book[next_id] = pick
        elif book:
            oid = sorted(book)[pick % len(book)]
            size = book[oid]
            if kind == "modify":
                v.row(UPDATE, BID, PRICE, amount, oid)
                if amount > size:
                    ahead.discard(oid)  # a larger size loses priority: it is behind us now
                book[oid] = amount
            else:
                take = min(amount, size)
                v.row(CANCEL if kind == "cancel" else FILL, BID, PRICE, take, oid)
                if kind == "fill" and oid not in ahead:
                    executed_behind = take
                book[oid] = size - take
                if book[oid] == 0:
                    del book[oid]
        gained = v.filled() - before
        if gained:
            # Filled only once nothing that was ahead of us is left, and only by an
            # execution of an order behind us, never more than it executed.
            assert not (ahead & set(book))
            assert gained <= executed_behind
        if executed_behind and not (ahead & set(book)):
            # And then the execution is ours first.
            assert gained == min(quantity - before, executed_behind)

"""The market data cache: books built from deltas (L2 and L3), last prices, and in a kernel
the one source of strategies' market views, with or without a simulated venue."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tradeloop.core import Money, Price, Quantity, TestClock
from tradeloop.data.cache import L2Book, MarketDataCache
from tradeloop.engine.kernel import Kernel
from tradeloop.journal import MemoryJournal
from tradeloop.model import BookAction, BookSide, OrderBookDelta, QuoteTick, TradeTick, crypto_spot
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.enums import AggressorSide
from tradeloop.risk import RiskConfig
from tradeloop.strategy.base import Strategy, StrategyConfig
from tradeloop.venues import SimVenueConfig

X = crypto_spot("XUSD", "LIVE", base="X", quote="USD", price_precision=1, size_precision=2)


def delta(
    action: BookAction, side: BookSide, price: int, size: int, order_id: int = 0, ts: int = 1
) -> OrderBookDelta:
    return OrderBookDelta(
        instrument_id=X.id,
        action=action,
        side=side,
        price=Price(price, 1),
        size=Quantity(size, 2),
        order_id=order_id,
        flags=0,
        sequence=ts,
        ts_event=ts,
        ts_init=ts,
    )


def test_level_deltas_build_the_book_best_first() -> None:
    book = L2Book()
    for d in [
        delta(BookAction.ADD, BookSide.BID, 990, 500),
        delta(BookAction.ADD, BookSide.BID, 995, 100),
        delta(BookAction.ADD, BookSide.ASK, 1010, 200),
        delta(BookAction.ADD, BookSide.ASK, 1005, 300),
        delta(BookAction.UPDATE, BookSide.BID, 990, 700),
        delta(BookAction.DELETE, BookSide.ASK, 1005, 0),
    ]:
        book.apply(d)
    assert book.levels(BookSide.BID) == [
        (Price(995, 1), Quantity(100, 2)),
        (Price(990, 1), Quantity(700, 2)),
    ]
    assert book.levels(BookSide.ASK, depth=1) == [(Price(1010, 1), Quantity(200, 2))]
    assert book.mid() == Price(1002, 1)  # (995 + 1010) // 2, at the book's precision
    book.apply(delta(BookAction.CLEAR, BookSide.BID, 0, 0))
    assert book.levels(BookSide.BID) == []
    assert book.mid() is None


def test_order_deltas_aggregate_by_level_and_move_when_modified() -> None:
    book = L2Book()
    book.apply(delta(BookAction.ADD, BookSide.BID, 990, 100, order_id=1))
    book.apply(delta(BookAction.ADD, BookSide.BID, 990, 50, order_id=2))
    book.apply(delta(BookAction.UPDATE, BookSide.BID, 985, 100, order_id=1))  # moved away
    assert book.levels(BookSide.BID) == [
        (Price(990, 1), Quantity(50, 2)),
        (Price(985, 1), Quantity(100, 2)),
    ]
    book.apply(delta(BookAction.DELETE, BookSide.BID, 990, 50, order_id=2))
    assert book.levels(BookSide.BID) == [(Price(985, 1), Quantity(100, 2))]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([BookAction.ADD, BookAction.UPDATE, BookAction.DELETE]),
            st.sampled_from([BookSide.BID, BookSide.ASK]),
            st.integers(min_value=1, max_value=6),
            st.integers(min_value=0, max_value=5),
            st.integers(min_value=0, max_value=4),
        ),
        max_size=60,
    )
)
def test_a_book_always_equals_its_orders_summed_by_level(ops: list[Any]) -> None:
    book = L2Book()
    model: dict[int, tuple[BookSide, int, int]] = {}
    for action, side, price, size, order_id in ops:
        oid = order_id + 1  # L3: every delta names an order
        book.apply(delta(action, side, price, size, order_id=oid))
        if action is BookAction.DELETE or size == 0:
            model.pop(oid, None)
        else:
            model[oid] = (side, price, size)
    for side, levels in ((BookSide.BID, book.bids), (BookSide.ASK, book.asks)):
        expected: dict[int, int] = {}
        for s, p, z in model.values():
            if s is side:
                expected[p] = expected.get(p, 0) + z
        assert levels == expected


def test_without_a_book_the_view_is_the_last_quote() -> None:
    cache = MarketDataCache()
    assert cache.book_levels(X.id, BookSide.BID) == []
    cache.quotes[X.id] = QuoteTick(
        X.id, Price(990, 1), Price(1000, 1), Quantity(1, 2), Quantity(2, 2), 1, 1
    )
    assert cache.book_levels(X.id, BookSide.ASK) == [(Price(1000, 1), Quantity(2, 2))]
    assert cache.book_levels(X.id, BookSide.ASK, depth=0) == []


class _Watcher(Strategy):
    class Config(StrategyConfig, frozen=True, kw_only=True):
        instrument_id: str

    def on_start(self) -> None:
        self.views: list[Any] = []
        self.subscribe_trades(self.config.instrument_id)

    def on_trade(self, trade: TradeTick) -> None:
        iid = self.config.instrument_id
        self.views.append(
            (
                self.book_levels(iid, BookSide.BID),
                self.book_levels(iid, BookSide.ASK),
                self.last_trade(iid),
                self.last_quote(iid),
                self.last_price(iid),
            )
        )


class _LiveVenue:
    venue = "LIVE"

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def submit_order(self, command: SubmitOrder) -> None:
        self.sent.append(command)

    def cancel_order(self, command: CancelOrder) -> None:
        self.sent.append(command)

    def modify_order(self, command: ModifyOrder) -> None:
        self.sent.append(command)


def test_a_live_venue_s_market_views_come_from_the_cache_not_the_simulator() -> None:
    strategy = _Watcher(_Watcher.Config(instrument_id=X.id))
    kernel = Kernel(
        clock=TestClock(),
        journal=MemoryJournal(),
        instruments={X.id: X},
        starting_cash=Money.from_str("100000", "USD"),
        venue_config=SimVenueConfig(fidelity="book"),
        risk_config=RiskConfig(),
        strategies=[strategy],
    )
    kernel.use_execution_client(_LiveVenue())  # type: ignore[arg-type]
    kernel.start()
    records = [
        delta(BookAction.ADD, BookSide.BID, 990, 100, ts=1),
        delta(BookAction.ADD, BookSide.ASK, 1000, 300, ts=1),
        TradeTick(X.id, Price(1000, 1), Quantity(5, 2), AggressorSide.BUYER, "t1", 2, 2),
    ]
    for record in records:
        kernel.clock.set_time(record.ts_init)  # type: ignore[attr-defined]
        kernel.dispatch(record)
    bids, asks, trade, quote, mark = strategy.views[-1]
    assert bids == [(Price(990, 1), Quantity(100, 2))]
    assert asks == [(Price(1000, 1), Quantity(300, 2))]
    assert trade is records[2]
    assert quote is None
    assert mark == Price(1000, 1)  # the last print
    # The simulator of that venue saw none of it.
    assert kernel.venues["LIVE"].displayed_levels(X.id, BookSide.BID) == []
    assert kernel.cache.book_mid(X.id) == Price(995, 1)

"""Order-book records through the feed and the kernel (level 4)."""

from typing import Any

import numpy as np
import pytest

from tradeloop.core import ConfigError, Money, Price, Quantity, TestClock
from tradeloop.data.books import BookDeltaColumns
from tradeloop.data.columns import QuoteColumns
from tradeloop.engine.feed import BookEvent, merge
from tradeloop.engine.kernel import Kernel
from tradeloop.journal import MemoryJournal
from tradeloop.model import (
    BookAction,
    BookSide,
    BookStatusChanged,
    OrderBookDelta,
    OrderFilled,
    crypto_spot,
)
from tradeloop.risk import RiskConfig
from tradeloop.strategy.base import Strategy, StrategyConfig
from tradeloop.venues import SimVenueConfig

X = crypto_spot("XUSD", "SIM", base="X", quote="USD", price_precision=0, size_precision=0)
ADD, UPDATE, DELETE, BID, ASK, LAST = 1, 2, 3, 1, 2, 128


def _deltas(rows: list[tuple[int, int, int, int, int, int]]) -> BookDeltaColumns:
    """Rows of (ts, action, side, price, size, flags)."""
    return BookDeltaColumns(
        X.id,
        0,
        0,
        [r[0] for r in rows],
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [0] * len(rows),
        [r[5] for r in rows],
        [0] * len(rows),
    )


def test_delta_stream_is_served_one_record_per_venue_event() -> None:
    columns = _deltas(
        [
            (10, ADD, BID, 99, 5, 0),
            (10, ADD, ASK, 101, 5, LAST),  # an event: two rows
            (20, UPDATE, BID, 99, 6, 0),  # no LAST, but the next row is later: cut here
            (30, UPDATE, ASK, 101, 4, LAST),
            (30, UPDATE, ASK, 101, 3, LAST),  # same time, its own event
        ]
    )
    events = list(merge([columns]))
    assert [(e.start, e.stop, e.ts_init) for e in events] == [
        (0, 2, 10),
        (2, 3, 20),
        (3, 4, 30),
        (4, 5, 30),
    ]
    assert all(type(e) is BookEvent for e in events)
    assert len(merge([columns])) == 4


def test_book_events_come_before_quotes_of_the_same_instant() -> None:
    book = _deltas([(10, ADD, BID, 99, 5, LAST), (20, ADD, ASK, 101, 5, LAST)])
    quotes = QuoteColumns(X.id, 0, 0, [10, 20], [10, 20], [99, 99], [101, 101], [5, 5], [5, 5])
    kinds = [type(r).__name__ for r in merge([quotes, book], window_rows=1)]
    assert kinds == ["BookEvent", "QuoteTick", "BookEvent", "QuoteTick"]
    stream = merge([quotes, book])
    assert stream.has_books
    assert stream.marks_cover_books()
    assert not merge([book]).marks_cover_books()


class _Taker(Strategy):
    """Buys 3 at market after the second book event; records what it sees."""

    class Config(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
        instrument_id: str

    def on_start(self) -> None:
        self.seen: list[Any] = []
        self.marks: list[Price | None] = []
        self.ctx.subscribe(f"data.book.{self.config.instrument_id}", self._on_book)

    def _on_book(self, record: Any) -> None:
        self.seen.append(record)
        self.marks.append(self.ctx.mark_price(self.config.instrument_id))
        if len(self.seen) == 2:
            self.buy(self.config.instrument_id, 3)


def _kernel(strategy: Strategy, fidelity: str = "book") -> Kernel:
    return Kernel(
        clock=TestClock(),
        journal=MemoryJournal(),
        instruments={X.id: X},
        starting_cash=Money.from_str("100000", "USD"),
        venue_config=SimVenueConfig(fidelity=fidelity),
        risk_config=RiskConfig(),
        strategies=[strategy],
    )


def test_kernel_replays_book_events_marks_at_the_mid_and_fills_by_walking() -> None:
    columns = _deltas(
        [
            (10, ADD, BID, 99, 5, 0),
            (10, ADD, ASK, 101, 2, 0),
            (10, ADD, ASK, 102, 4, LAST),
            (20, UPDATE, BID, 99, 7, LAST),
            (30, UPDATE, BID, 100, 1, LAST),
        ]
    )
    strategy = _Taker(_Taker.Config(instrument_id=X.id))
    kernel = _kernel(strategy)
    kernel.run_backtest(merge([columns]))
    fills = [r for r in kernel.journal.records if isinstance(r, OrderFilled)]  # type: ignore[attr-defined]
    assert [(f.last_qty.raw, f.last_px.raw, f.ts_event) for f in fills] == [
        (2, 101, 20),
        (1, 102, 20),
    ]
    # The mark is the market's mid (our consumption is ours, not the market's).
    assert strategy.marks == [Price(1000, 1), Price(1000, 1), Price(1005, 1)]
    # A book-only stream has no bulk marks: the curve is taken record by record, at the mid.
    equity = np.frombuffer(kernel.portfolio.equity_values, dtype=np.float64)
    cash = 100_000.0 - (2 * 101 + 102)
    assert equity.tolist() == [100_000.0, cash + 3 * 100.0, cash + 3 * 100.5]


def test_kernel_dispatches_order_book_delta_records() -> None:
    strategy = _Taker(_Taker.Config(instrument_id=X.id))
    kernel = _kernel(strategy)

    def delta(ts: int, action: BookAction, side: BookSide, price: int, size: int) -> OrderBookDelta:
        return OrderBookDelta(
            X.id, action, side, Price(price, 0), Quantity(size, 0), 0, LAST, 0, ts, ts
        )

    kernel.run_backtest(
        [
            delta(10, BookAction.ADD, BookSide.BID, 99, 5),
            delta(10, BookAction.ADD, BookSide.ASK, 101, 5),
        ]
    )
    assert len(strategy.seen) == 2
    assert kernel.order_manager.order_counts()["filled_buy"] == 1


def test_book_records_of_an_unknown_instrument_are_a_config_error() -> None:
    kernel = _kernel(_Taker(_Taker.Config(instrument_id=X.id)))
    other = BookDeltaColumns("Y.SIM", 0, 0, [1], [1], [ADD], [BID], [1], [1], [0], [LAST], [0])
    with pytest.raises(ConfigError, match=r"market data for Y\.SIM, which is not a configured"):
        kernel.run_backtest(merge([other]))


def test_other_fidelities_ignore_book_records() -> None:
    strategy = _Taker(_Taker.Config(instrument_id=X.id))
    kernel = _kernel(strategy, fidelity="quotes")
    book = _deltas([(10, ADD, BID, 99, 5, LAST), (20, ADD, ASK, 101, 5, LAST)])
    quotes = QuoteColumns(X.id, 0, 0, [5], [5], [90], [95], [5], [5])
    kernel.run_backtest(merge([book, quotes]))
    fills = [r for r in kernel.journal.records if isinstance(r, OrderFilled)]  # type: ignore[attr-defined]
    assert [(f.last_px.raw, f.ts_event) for f in fills] == [(95, 20)]  # the quote, not the book
    assert strategy.marks == [Price(925, 1)] * 2


def test_kernel_journals_and_publishes_the_venue_book_status() -> None:
    strategy = _Taker(_Taker.Config(instrument_id=X.id))
    kernel = _kernel(strategy)
    heard: list[Any] = []
    kernel.bus.subscribe("events.venue.SIM", heard.append)
    alerts: list[Any] = []
    kernel.bus.subscribe("events.alert", alerts.append)
    columns = _deltas(
        [
            (10, ADD, BID, 99, 5, 0),
            (10, ADD, ASK, 101, 5, LAST),
            (20, ADD, BID, 102, 1, LAST),  # crossed: the market buy sent now waits
            (30, DELETE, BID, 102, 0, LAST),
        ]
    )
    kernel.run_backtest(merge([columns]))
    records = kernel.journal.records  # type: ignore[attr-defined]
    statuses = [(r.status, r.ts_event) for r in records if isinstance(r, BookStatusChanged)]
    assert statuses == [("crossed", 20), ("ok", 30)]
    assert [(e.status, e.ts_event) for e in heard] == statuses
    assert [a.source for a in alerts] == ["venue.SIM"]
    fills = [r for r in records if isinstance(r, OrderFilled)]
    assert [(f.last_qty.raw, f.last_px.raw, f.ts_event) for f in fills] == [(3, 101, 30)]

"""Venue latency: commands arrive after the entry latency, responses after the response latency."""

from typing import Any

import numpy as np

from tradeloop.core import Price, Quantity, TestClock, make_rng
from tradeloop.data.books import BookDeltaColumns
from tradeloop.model import (
    Bar,
    CancelOrder,
    OrderAccepted,
    OrderCancelRejected,
    OrderFactory,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    QuoteTick,
    SubmitOrder,
    crypto_spot,
)
from tradeloop.venues import SimulatedVenue, SimVenueConfig
from tradeloop.venues.sim.latency import LatencyConfig, LatencyModel, UniformLatency

X = crypto_spot("XUSD", "SIM", base="X", quote="USD", price_precision=0, size_precision=0)
BUY = OrderSide.BUY


class Harness:
    """A venue on a ``TestClock``: ``at(t)`` fires due alerts, as the kernel does."""

    def __init__(self, seed: int = 0, **config: Any) -> None:
        self.clock = TestClock(0)
        self.events: list[Any] = []
        self.venue = SimulatedVenue(
            "SIM", SimVenueConfig(**config), self.clock, {X.id: X}, self.events.append, seed=seed
        )
        self.factory = OrderFactory("s", self.clock)

    def at(self, t: int) -> None:
        self.clock.advance_time(t)

    def quote(self, t: int, bid: int, ask: int, size: int = 10) -> None:
        self.at(t)
        self.venue.on_quote(
            QuoteTick(
                X.id, Price(bid, 0), Price(ask, 0), Quantity(size, 0), Quantity(size, 0), t, t
            )
        )

    def submit(self, order: OrderInitialized) -> OrderInitialized:
        self.venue.submit_order(
            SubmitOrder(strategy_id="s", ts_init=self.clock.now_ns, order=order)
        )
        return order

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def test_an_order_sent_at_t_matches_only_data_after_its_arrival_and_is_answered_later() -> None:
    h = Harness(
        fidelity="quotes", latency=LatencyConfig(entry_latency_ns=100, response_latency_ns=30)
    )
    h.quote(0, 99, 101)
    order = h.submit(h.factory.market(X.id, BUY, Quantity(5, 0)))
    assert h.events == []  # in flight
    h.quote(50, 100, 102)  # before the arrival at 100: the order is not there yet
    h.at(100)  # it arrives; the quote at 50 is data from before its arrival
    h.at(129)
    assert h.events == []  # the acceptance is on its way back
    h.at(130)
    (accepted,) = h.of(OrderAccepted)
    assert (accepted.ts_event, accepted.ts_init) == (100, 130)
    h.quote(140, 102, 103)  # the first quote after the arrival
    h.at(169)
    assert h.of(OrderFilled) == []
    h.at(170)
    (fill,) = h.of(OrderFilled)
    assert (fill.client_order_id, fill.last_px.raw, fill.ts_event, fill.ts_init) == (
        order.client_order_id,
        103,
        140,
        170,
    )


def test_random_latencies_keep_each_direction_in_order_and_repeat_with_the_seed() -> None:
    config = LatencyConfig(
        entry_latency_ns=UniformLatency(low_ns=0, high_ns=1_000),
        response_latency_ns=UniformLatency(low_ns=0, high_ns=1_000),
    )

    def run(seed: int) -> tuple[list[Any], list[int]]:
        h = Harness(seed=seed, fidelity="quotes", latency=config)
        h.quote(0, 99, 101, size=1_000)
        sent = []
        for t in range(0, 4_000, 100):
            h.quote(t + 1, 99, 101, size=1_000)
            sent.append(h.clock.now_ns)
            h.submit(h.factory.limit(X.id, BUY, Quantity(1, 0), Price(90, 0)))
        h.at(10_000)
        return h.events, sent

    events, sent = run(7)
    again, _ = run(7)
    other, _ = run(8)
    assert events == again
    assert [e.ts_init for e in events] != [e.ts_init for e in other]
    accepted = [e for e in events if isinstance(e, OrderAccepted)]
    assert len(accepted) == 40
    # The same draws, by hand: arrival = max(sent + entry, previous arrival) (one session,
    # no overtaking); delivery = max(arrival + response, previous delivery).
    model = LatencyModel(config, make_rng(7, "venue", "SIM", "latency"))
    arrival = delivery = 0
    expected = []
    for t in sent:
        arrival = max(t + model.entry_latency_ns(), arrival)
        delivery = max(arrival + model.response_latency_ns(), delivery)
        expected.append((arrival, delivery))
    assert [(e.ts_event, e.ts_init) for e in accepted] == expected
    assert np.all(np.diff([e.ts_init for e in events]) >= 0)


def test_a_cancel_in_flight_behind_a_fill_is_rejected() -> None:
    h = Harness(
        fidelity="quotes", latency=LatencyConfig(entry_latency_ns=50, response_latency_ns=0)
    )
    h.quote(0, 99, 101)
    order = h.submit(h.factory.limit(X.id, BUY, Quantity(2, 0), Price(100, 0)))
    h.quote(60, 99, 100)  # after the arrival at 50: the limit takes the ask at 100
    assert [e.last_px.raw for e in h.of(OrderFilled)] == [100]
    h.venue.cancel_order(
        CancelOrder(
            strategy_id="s", ts_init=60, instrument_id=X.id, client_order_id=order.client_order_id
        )
    )
    h.at(110)
    assert [e.ts_event for e in h.of(OrderCancelRejected)] == [110]


def test_with_bars_an_entry_latency_longer_than_a_bar_misses_that_bar() -> None:
    minute = 60_000_000_000

    def first_fill(latency_ns: int) -> tuple[int, int]:
        h = Harness(latency=LatencyConfig(entry_latency_ns=latency_ns))
        for i in range(1, 5):
            h.at(i * minute)
            h.venue.on_bar(
                Bar(X.id, 100 + i, 110 + i, 90 + i, 100 + i, 1_000, 0, 0, i * minute, i * minute)
            )
            if i == 1:
                h.submit(h.factory.market(X.id, BUY, Quantity(1, 0)))
        fill = h.of(OrderFilled)[0]
        return fill.last_px.raw, fill.ts_event

    assert first_fill(1_000_000) == (102, 2 * minute)  # the next bar's open
    assert first_fill(90_000_000_000) == (103, 3 * minute)  # arrived after bar 2: bar 3's open


def test_level_four_latency_takes_at_the_first_book_event_after_the_arrival() -> None:
    h = Harness(fidelity="book", latency=LatencyConfig(entry_latency_ns=100))

    def event(t: int, *rows: tuple[int, int, int, int]) -> None:
        h.at(t)
        n = len(rows)
        h.venue.on_book_rows(
            BookDeltaColumns(
                X.id,
                0,
                0,
                [t] * n,
                [t] * n,
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] for r in rows],
                [0] * n,
                [128] * n,
                [0] * n,
            ),
            0,
            n,
        )

    event(0, (1, 1, 99, 5), (1, 2, 101, 5))
    taker = h.submit(h.factory.limit(X.id, BUY, Quantity(2, 0), Price(101, 0)))
    maker = h.submit(h.factory.limit(X.id, BUY, Quantity(2, 0), Price(99, 0)))
    event(50, (2, 2, 101, 1))  # before the arrival: the ask shrinks
    h.at(100)
    assert h.of(OrderFilled) == []  # arrived; waits for the next event
    assert h.venue.queue_ahead(maker.client_order_id) == Quantity(5, 0)  # joined on arrival
    event(150, (2, 2, 101, 3))
    fills = [(e.client_order_id, e.last_qty.raw, e.ts_event) for e in h.of(OrderFilled)]
    assert fills == [(taker.client_order_id, 2, 150)]

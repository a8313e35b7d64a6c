"""Smart order routing across two real venues: Binance BTCUSDT spot and USD-M perpetual.

The books are the recordings' own (``tests/data/books``) as of 2024-08-08 23:54:30 UTC,
rebuilt from their diff streams; the splits below were worked out by hand from these levels:

    spot  asks 61833.10 x 4.28168, 61833.12 x 0.00936, 61834.00 x 0.0897, 61834.01 x 0.12007
          bids 61833.09 x 0.43381, ...
    perp  asks 61811.4 x 8.250, 61811.5 x 0.498, 61811.6 x 0.009, 61811.7 x 0.696
          bids 61811.3 x 0.078, 61810.9 x 0.016, 61810.0 x 0.002, 61809.5 x 0.024
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradeloop.core import ConfigError, Price, Quantity, TestClock
from tradeloop.data.books import read_binance_depth, replay_l2
from tradeloop.execution.sor import (
    VenueLiquidity,
    liquidity_from_book,
    liquidity_from_quote,
    route_order,
    submit_route,
)
from tradeloop.model import OrderFactory, OrderSide, QuoteTick, TimeInForce
from tradeloop.model.book import L2Book
from tradeloop.model.orders import Order

DATA = Path(__file__).parents[2] / "data" / "books"
AT_NS = 1_723_161_270_000_000_000  # 23:54:30 UTC


def _book_at(name: str) -> L2Book:
    deltas = read_binance_depth(DATA / name).deltas
    stop = int(np.searchsorted(deltas.ts_init, AT_NS, "right"))
    while stop > 0 and not deltas.flags[stop - 1] & 128:  # back to the end of an event
        stop -= 1
    return replay_l2(deltas.take(slice(0, stop)), emit_top=False).to_book()


@pytest.fixture(scope="module")
def books() -> tuple[L2Book, L2Book]:
    return (
        _book_at("binance-spot-btcusdt-20240808-head.gz"),
        _book_at("binance-usdm-btcusdt-20240808-head.gz"),
    )


def _venues(
    books: tuple[L2Book, L2Book], side: OrderSide, spot_fee: float, perp_fee: float
) -> list[VenueLiquidity]:
    spot, perp = books
    return [
        liquidity_from_book(
            "SPOT", spot, side, taker_fee_bps=spot_fee, depth=4, lot_size=Quantity(1, 5)
        ),
        liquidity_from_book(
            "PERP", perp, side, taker_fee_bps=perp_fee, depth=4, lot_size=Quantity(1, 3)
        ),
    ]


def _split(plan: Any) -> list[tuple[str, str, str]]:
    return [(a.venue, str(a.quantity), str(a.limit_price)) for a in plan.allocations]


def test_buy_goes_to_the_cheaper_perp_first_and_the_rest_to_spot(books: Any) -> None:
    # All-in: perp 61811.4 x 1.0005 = 61842.31 ... 61811.7 x 1.0005 = 61842.61, all below
    # spot 61833.10 x 1.001 = 61894.93: the perp's 9.453 displayed first, then 0.547 spot.
    plan = route_order(OrderSide.BUY, Quantity(10_000_000, 6), _venues(books, OrderSide.BUY, 10, 5))
    assert _split(plan) == [
        ("PERP", "9.453000", "61811.7"),
        ("SPOT", "0.547000", "61833.10"),
    ]
    assert plan.unrouted == Quantity(0, 6)
    perp = plan.allocations[0]
    assert perp.notional == Decimal("61811.4") * Decimal("8.250") + Decimal("61811.5") * Decimal(
        "0.498"
    ) + Decimal("61811.6") * Decimal("0.009") + Decimal("61811.7") * Decimal("0.696")
    assert perp.fee == perp.notional * Decimal("0.0005")


def test_a_fee_waiver_sends_the_buy_to_spot_first_and_lots_round_the_perp_leg(books: Any) -> None:
    # Spot without fee: 61833.10 .. 61834.01 all-in, below the perp's 61842.31: all four spot
    # levels (4.50081) first; the perp takes 1.49919, rounded down to its 0.001 lot: 1.499.
    plan = route_order(OrderSide.BUY, Quantity(6_000_000, 6), _venues(books, OrderSide.BUY, 0, 5))
    assert _split(plan) == [
        ("PERP", "1.499000", "61811.4"),
        ("SPOT", "4.500810", "61834.01"),
    ]
    assert plan.unrouted == Quantity(190, 6)
    assert plan.allocations[1].notional == Decimal("278299.2249919")
    assert plan.allocations[1].fee == 0


def test_sell_takes_the_best_bids_net_of_fees(books: Any) -> None:
    # All-in bids: perp 61811.3 x 0.9995 = 61780.39 ... 61809.5 -> 61778.60; spot 61833.09 x
    # 0.999 = 61771.26: the perp's 0.120 first, then 0.380 on spot.
    plan = route_order(OrderSide.SELL, Quantity(500_000, 6), _venues(books, OrderSide.SELL, 10, 5))
    assert _split(plan) == [
        ("PERP", "0.120000", "61809.5"),
        ("SPOT", "0.380000", "61833.09"),
    ]
    assert plan.all_in_average_price is not None


def test_a_limit_price_caps_the_levels_and_leaves_the_rest_unrouted(books: Any) -> None:
    plan = route_order(
        OrderSide.BUY,
        Quantity(10_000_000, 6),
        _venues(books, OrderSide.BUY, 10, 5),
        limit_price=Price(618115, 1),
    )
    assert _split(plan) == [("PERP", "8.748000", "61811.5")]
    assert plan.unrouted == Quantity(1_252_000, 6)


def test_routing_from_quotes_and_sending_ioc_children() -> None:
    spot = QuoteTick(
        "BTCUSDT.BINANCE",
        Price(6183309, 2),
        Price(6183310, 2),
        Quantity(433810, 6),
        Quantity(4281680, 6),
        AT_NS,
        AT_NS,
    )
    perp = QuoteTick(
        "BTCUSDT-PERP.BINANCE",
        Price(618113, 1),
        Price(618114, 1),
        Quantity(78, 3),
        Quantity(8190, 3),
        AT_NS,
        AT_NS,
    )
    venues = [
        liquidity_from_quote("SPOT", spot, OrderSide.BUY, taker_fee_bps=10),
        liquidity_from_quote("PERP", perp, OrderSide.BUY, taker_fee_bps=5),
    ]
    plan = route_order(OrderSide.BUY, Quantity(9_000_000, 6), venues)
    assert _split(plan) == [("PERP", "8.190000", "61811.4"), ("SPOT", "0.810000", "61833.10")]

    class Gateway:
        def __init__(self) -> None:
            self.order_factory = OrderFactory("s", TestClock(0))
            self.sent: list[Any] = []

        def submit_order(self, order: Any) -> Order:
            self.sent.append(order)
            return Order(order)

        def cancel_order(self, order: Order | str) -> bool:
            return False

    gateway = Gateway()
    children = submit_route(plan, gateway, parent_order_id="P-1")
    assert [
        (c.instrument_id, str(c.quantity), str(c.price), c.time_in_force) for c in children
    ] == [
        ("BTCUSDT-PERP.BINANCE", "8.190000", "61811.4", TimeInForce.IOC),
        ("BTCUSDT.BINANCE", "0.810000", "61833.10", TimeInForce.IOC),
    ]
    assert all(o.parent_order_id == "P-1" for o in gateway.sent)


def test_route_rejects_bad_input() -> None:
    venue = VenueLiquidity(venue="A", instrument_id="X.A", levels=())
    with pytest.raises(ConfigError, match="routed quantity 0 must be positive"):
        route_order(OrderSide.BUY, Quantity(0, 0), [venue])
    with pytest.raises(ConfigError, match="route venues must be distinct"):
        route_order(OrderSide.BUY, Quantity(1, 0), [venue, venue])
    with pytest.raises(ConfigError, match="taker_fee_bps -1"):
        VenueLiquidity(venue="A", instrument_id="X.A", levels=(), taker_fee_bps=-1)
    fine = VenueLiquidity(venue="A", instrument_id="X.A", levels=((Price(1, 0), Quantity(15, 1)),))
    with pytest.raises(ConfigError, match="more decimals than the order quantity"):
        route_order(OrderSide.BUY, Quantity(1, 0), [fine])

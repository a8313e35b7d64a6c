"""Orders carry their arrival price: the instrument's mark when they were created."""

from tradeloop.core import Price, Quantity, TestClock
from tradeloop.model import OrderFactory, OrderSide


def test_orders_carry_the_mark_at_their_creation_as_arrival_price() -> None:
    marks = {"X.SIM": Price(10_050, 2)}
    factory = OrderFactory("s", TestClock(5), marks.get)
    market = factory.market("X.SIM", OrderSide.BUY, Quantity(3, 0))
    marks["X.SIM"] = Price(10_100, 2)
    limit = factory.limit("X.SIM", OrderSide.SELL, Quantity(3, 0), Price(10_200, 2))
    unknown = factory.market("Y.SIM", OrderSide.BUY, Quantity(1, 0))
    assert market.arrival_price == Price(10_050, 2)
    assert limit.arrival_price == Price(10_100, 2)
    assert unknown.arrival_price is None


def test_a_factory_without_marks_leaves_the_arrival_price_unset() -> None:
    order = OrderFactory("s", TestClock(5)).market("X.SIM", OrderSide.BUY, Quantity(3, 0))
    assert order.arrival_price is None

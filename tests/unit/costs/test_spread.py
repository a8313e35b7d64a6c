import pytest

from tradeloop.core import DataIntegrityError, InvalidValueError, Price, Quantity
from tradeloop.costs.spread import (
    effective_spread_bps,
    half_spread_bps,
    half_spread_cost,
    quote_half_spread_bps,
    quoted_spread_bps,
)
from tradeloop.model import OrderSide, QuoteTick


def test_quoted_spread_of_a_four_cent_quote_around_100_is_four_bps() -> None:
    # (100.02 - 99.98) / 100.00 * 10_000 = 4 bps; a taker pays half of it.
    assert quoted_spread_bps(Price(9998, 2), Price(10002, 2)) == pytest.approx(4.0, rel=1e-12)
    assert half_spread_bps(4.0) == 2.0


def test_half_spread_of_a_quote_tick_is_half_its_quoted_spread() -> None:
    quote = QuoteTick(
        "X.SIM", Price(9998, 2), Price(10002, 2), Quantity(1, 0), Quantity(1, 0), 0, 0
    )
    assert quote_half_spread_bps(quote) == pytest.approx(2.0, rel=1e-12)


def test_locked_quote_has_zero_spread_and_crossed_quote_is_rejected() -> None:
    assert quoted_spread_bps(100.0, 100.0) == 0.0
    with pytest.raises(DataIntegrityError, match="crossed"):
        quoted_spread_bps(100.01, 100.0)
    with pytest.raises(DataIntegrityError, match="positive"):
        quoted_spread_bps(-1.0, 0.0)


def test_half_spread_cost_of_one_million_at_four_bps_is_two_hundred() -> None:
    assert half_spread_cost(1_000_000.0, 4.0) == pytest.approx(200.0, rel=1e-12)
    with pytest.raises(InvalidValueError):
        half_spread_cost(1.0, -1.0)


def test_effective_spread_is_positive_when_the_fill_is_worse_than_the_mid() -> None:
    # Buy at 100.03 vs mid 100.00: 2 * 0.03 / 100 * 10_000 = 6 bps; a sell there gains 6 bps.
    assert effective_spread_bps(100.03, 100.0, OrderSide.BUY) == pytest.approx(6.0, rel=1e-9)
    assert effective_spread_bps(100.03, 100.0, OrderSide.SELL) == pytest.approx(-6.0, rel=1e-9)

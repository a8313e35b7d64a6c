"""Alpaca's JSON in tradeloop's terms: stable trade ids, exact prices, times, positions, cash."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradeloop.model.instruments import equity
from tradeloop.venues.alpaca import fill_trade_id
from tradeloop.venues.alpaca._translate import (
    cash_report,
    exact_price,
    position_report,
    rfc3339,
    ts_ns,
)

AAPL = equity("AAPL", "XNAS")
quantities = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(10**9), places=9)


@given(quantities)
def test_a_fills_trade_id_does_not_depend_on_how_the_quantity_is_written(qty: Decimal) -> None:
    order_id = "61e69015-8549-4bfd-b9c3-01e75843f47d"
    written = [qty, qty.normalize(), f"{qty:f}", f"{qty.normalize():f}"]
    assert len({fill_trade_id(order_id, value) for value in written}) == 1


@given(st.lists(quantities, min_size=2, max_size=20, unique_by=lambda q: q.normalize()))
def test_every_cumulative_quantity_names_its_own_fill(cumulative: list[Decimal]) -> None:
    ids = {fill_trade_id("order-1", value) for value in cumulative}
    assert len(ids) == len(cumulative)
    assert fill_trade_id("order-1", cumulative[0]) != fill_trade_id("order-2", cumulative[0])


@given(st.integers(min_value=0, max_value=4_000_000_000_000_000_000))
def test_times_round_trip_at_microseconds(ts: int) -> None:
    assert ts_ns(rfc3339(ts)) == ts - ts % 1000


def test_alpacas_nanosecond_and_offset_times() -> None:
    assert ts_ns("2024-03-01T14:30:00.123456789Z") == 1709303400123456789
    assert ts_ns("2024-03-01T09:30:00-05:00") == 1709303400000000000


def test_sub_penny_prices_are_kept_exactly() -> None:
    assert str(exact_price("187.1234", AAPL)) == "187.1234"
    assert str(exact_price("187.1", AAPL)) == "187.10"


def test_short_positions_and_cash() -> None:
    short = position_report("ALPACA", {"symbol": "AAPL", "qty": "-5", "side": "short",
                                       "avg_entry_price": "180.5"}, AAPL)  # fmt: skip
    assert short.is_short
    assert str(short.signed_qty) == "5"
    cash = cash_report("ALPACA", {"currency": "USD", "cash": "1000.50",
                                  "non_marginable_buying_power": "800.25"}, 7)  # fmt: skip
    assert cash.total.as_decimal() == Decimal("1000.50")
    assert cash.free.as_decimal() == Decimal("800.25")
    assert cash.locked.as_decimal() == Decimal("200.25")

from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.core import InvalidValueError, Money, Price, Quantity, notional_raw

raws = st.integers(min_value=-(10**15), max_value=10**15)
precisions = st.integers(min_value=0, max_value=9)


@given(raws, precisions)
def test_price_string_round_trip_is_exact(raw: int, precision: int) -> None:
    price = Price(raw, precision)
    assert Price.from_str(str(price), precision) == price
    assert Price.from_decimal(price.as_decimal(), precision) == price


@given(raws, precisions, precisions)
def test_equal_prices_at_different_precisions_are_equal_and_hash_alike(
    raw: int, p: int, extra: int
) -> None:
    widened = Price(raw * 10**extra, p + extra)
    assert widened == Price(raw, p)
    assert hash(widened) == hash(Price(raw, p))


@given(raws, raws, precisions, precisions)
def test_price_ordering_matches_decimal_ordering(a: int, b: int, pa: int, pb: int) -> None:
    x, y = Price(a, pa), Price(b, pb)
    assert (x < y) == (x.as_decimal() < y.as_decimal())
    assert (x <= y) == (x.as_decimal() <= y.as_decimal())
    assert (x - y).as_decimal() == x.as_decimal() - y.as_decimal()
    assert (x + y).as_decimal() == x.as_decimal() + y.as_decimal()


def test_price_from_float_rounds_half_even_on_the_exact_binary_value() -> None:
    # 10.005 is 10.00500000000000078... in binary, so it rounds up; 0.125 is exact and ties to even.
    assert Price.from_float(10.005, 2) == Price(1001, 2)
    assert Price.from_float(0.125, 2) == Price(12, 2)
    assert Price.from_float(0.125, 2, ROUND_UP) == Price(13, 2)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_price_from_non_finite_float_is_rejected_with_the_value(value: float) -> None:
    with pytest.raises(InvalidValueError, match="not a finite number"):
        Price.from_float(value, 2)


def test_price_from_str_with_too_many_decimals_is_rejected_not_rounded() -> None:
    with pytest.raises(InvalidValueError, match="more decimals than precision 2"):
        Price.from_str("1.234", 2)
    assert Price.from_str("1.230", 2) == Price(123, 2)


def test_price_from_garbage_text_names_the_text() -> None:
    with pytest.raises(InvalidValueError, match="'abc' is not a decimal number"):
        Price.from_str("abc")


def test_negative_quantity_is_rejected_when_built() -> None:
    with pytest.raises(InvalidValueError, match=r"quantity -1\.5 is negative"):
        Quantity(-15, 1)
    with pytest.raises(InvalidValueError):
        Quantity.from_str("-3")
    with pytest.raises(InvalidValueError):
        Quantity.from_float(float("nan"), 3)


def test_quantity_subtraction_below_zero_is_rejected() -> None:
    with pytest.raises(InvalidValueError):
        Quantity(1, 0) - Quantity(2, 0)


def test_quantity_decode_rejects_negative_raw() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"raw": -1, "precision": 0}', type=Quantity)


@given(st.integers(min_value=0, max_value=10**12), st.integers(0, 6), st.integers(0, 6))
def test_quantity_rescale_widening_is_exact_and_narrowing_rounds(raw: int, p: int, q: int) -> None:
    qty = Quantity(raw, p)
    assert qty.to_precision(p + q) == qty
    narrowed = qty.to_precision(max(0, p - q), ROUND_DOWN)
    assert narrowed <= qty


def test_money_keeps_nine_decimals_and_rounds_only_when_asked() -> None:
    fee = Money.from_str("1.001234", "USD")
    assert fee.raw == 1_001_234_000
    assert str(fee) == "1.00 USD"
    assert fee.rounded() == Money.from_str("1.00", "USD")


def test_money_of_different_currencies_does_not_mix() -> None:
    with pytest.raises(InvalidValueError, match="cannot combine USD with EUR"):
        Money.from_str("1", "USD") + Money.from_str("1", "EUR")


def test_money_with_unknown_currency_is_rejected() -> None:
    with pytest.raises(InvalidValueError, match="currency 'XYZ' is unknown"):
        Money.from_str("1", "XYZ")


@given(
    st.integers(min_value=1, max_value=10**9),
    st.integers(0, 6),
    st.integers(min_value=1, max_value=10**9),
    st.integers(0, 3),
)
def test_notional_equals_decimal_product(price_raw: int, pp: int, qty_raw: int, qp: int) -> None:
    price, qty = Price(price_raw, pp), Quantity(qty_raw, qp)
    expected = (price.as_decimal() * qty.as_decimal()).quantize(Decimal("1e-9"))
    assert Decimal(notional_raw(price, qty, 1, 0)).scaleb(-9) == expected


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Price(1.5, 2), r"price raw 1\.5 is a float.*Price\.from_float\(1\.5, 2\)"),
        (lambda: Price("1.5", 2), r"price raw '1\.5' is a str.*Price\.from_str\('1\.5', 2\)"),
        (
            lambda: Price(Decimal("1.5"), 2),
            r"price raw Decimal\('1\.5'\) is a Decimal.*Price\.from_decimal",
        ),
        (
            lambda: Quantity(1.5, 0),
            r"quantity raw 1\.5 is a float.*Quantity\.from_float\(1\.5, 0\)",
        ),
        (lambda: Quantity(100.0, 0), r"quantity raw 100\.0 is a float.*Quantity\.from_float"),
        (lambda: Money(1.5, "USD"), r"money raw 1\.5 is a float.*Money\.from_float\(1\.5, 'USD'\)"),
        (lambda: Price(150, 2.0), r"price precision 2\.0 is a float, not an integer"),
        (lambda: Price(None, 2), r"price raw None is a NoneType, not an integer"),
    ],
)
def test_building_from_a_non_integer_raw_names_the_value_and_the_right_constructor(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message):
        build()


def test_numpy_integer_raws_are_accepted() -> None:
    assert Price(np.int64(150), 2) == Price.from_str("1.50")
    assert Quantity(np.int64(3), 0) == Quantity.from_int(3)

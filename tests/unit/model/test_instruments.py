import pytest

from tradeloop.core import InvalidValueError, Money, Price, Quantity
from tradeloop.model import crypto_spot, equity, future, fx_pair, split_instrument_id


def test_equity_binds_values_to_its_precision_and_tick() -> None:
    orcl = equity("ORCL", "XNAS")
    assert orcl.make_price("12.345") == Price(1234, 2)  # half-even on the exact decimal
    assert orcl.make_quantity(100.0) == Quantity(100, 0)
    assert (
        orcl.price_error(Price(12345, 3))
        == "price 12.345 has precision 3, instrument ORCL.XNAS uses 2"
    )


def test_tick_and_lot_violations_are_named() -> None:
    es = future(
        "ESH4", "XCME", currency_code="USD", price_precision=2, tick_size="0.25", multiplier="50"
    )
    assert (
        es.price_error(Price(480010, 2))
        == "price 4800.10 is not a multiple of tick size 0.25 for ESH4.XCME"
    )
    assert es.make_price(4800.1) == Price(480000, 2)
    assert es.notional(Quantity(2, 0), Price(480025, 2)) == Money.from_str("480025", "USD")
    gbp = fx_pair("GBP/USD")
    assert (
        gbp.quantity_error(Quantity(1500, 0))
        == "quantity 1500 is not a multiple of lot size 1000 for GBPUSD.SIM"
    )


def test_crypto_quantities_keep_their_decimals() -> None:
    btc = crypto_spot(
        "BTCUSDT", "BINANCE", base="BTC", quote="USDT", price_precision=2, size_precision=6
    )
    assert btc.make_quantity("0.0015") == Quantity(1500, 6)
    assert btc.notional(Quantity(1500, 6), Price(4000000, 2)) == Money.from_str("60", "USDT")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "x1"])
def test_make_price_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(InvalidValueError):
        equity("X").make_price(bad)  # type: ignore[arg-type]


def test_make_quantity_rejects_negative() -> None:
    with pytest.raises(InvalidValueError, match="negative"):
        equity("X").make_quantity(-5)


def test_instrument_id_needs_a_venue() -> None:
    with pytest.raises(InvalidValueError, match=r"SYMBOL\.VENUE"):
        split_instrument_id("ORCL")

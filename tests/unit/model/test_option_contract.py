"""Option contracts: validation, OCC symbols, time to expiry, pricing with tradeloop.options."""

from __future__ import annotations

import datetime as dt

import pytest

from tradeloop.core.errors import InvalidValueError
from tradeloop.model import ExerciseStyle, OptionContract, OptionRight
from tradeloop.options import load_spx_sample, price


def test_occ_symbol_of_the_bundled_chain_parses_to_its_contract() -> None:
    contract = OptionContract.from_occ(
        "SPXW  110107C01050000", venue="CBOE", underlying_id="SPX",
        exercise=ExerciseStyle.EUROPEAN,
    )  # fmt: skip
    assert contract.id == "SPXW110107C01050000.CBOE"
    assert contract.strike == "1050"
    assert contract.right is OptionRight.CALL
    assert contract.expiry_ns == int(dt.datetime(2011, 1, 7, tzinfo=dt.UTC).timestamp()) * 10**9
    quote_ns = int(dt.datetime(2011, 1, 3, tzinfo=dt.UTC).timestamp()) * 10**9
    t = contract.years_to_expiry(quote_ns)
    assert t == 4 / 365
    chain = load_spx_sample()
    assert t == chain.years_to_expiry()[0]
    value = price(spot=chain.spot, strike=contract.strike_value, t=t, r=0.0, q=0.0, sigma=0.2,
                  option_type=contract.option_type)  # fmt: skip
    assert value == pytest.approx(chain.spot - 1050.0, abs=1e-9)  # deep in the money


def test_fractional_strikes_and_puts() -> None:
    contract = OptionContract.from_occ(
        "AAPL  240621P00182500", venue="OPRA", underlying_id="AAPL.XNAS",
        exercise=ExerciseStyle.AMERICAN, expiry_time=dt.time(20, 0),
    )  # fmt: skip
    assert contract.strike == "182.5"
    assert contract.right is OptionRight.PUT
    assert contract.option_type == "put"
    assert contract.expiry_ns % (86_400 * 10**9) == 20 * 3600 * 10**9


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"strike": "0"}, "strike 0 must be positive"),
        ({"strike": "abc"}, "strike 'abc' is not a number"),
        ({"multiplier": "-100"}, "multiplier -100 must be positive"),
        ({"expiry_ns": 0}, "expiry_ns 0 must be > 0"),
        ({"id": "NOVENUE"}, "SYMBOL.VENUE"),
        ({"underlying_id": ""}, "underlying_id must not be empty"),
    ],
)
def test_bad_contracts_are_rejected_naming_the_value(changes: dict, words: str) -> None:
    good = {"id": "X.OPRA", "underlying_id": "X", "strike": "10", "expiry_ns": 10**18,
            "right": OptionRight.CALL, "exercise": ExerciseStyle.AMERICAN}  # fmt: skip
    with pytest.raises(InvalidValueError, match=words):
        OptionContract(**{**good, **changes})


def test_bad_occ_symbols_and_expired_contracts_are_errors() -> None:
    with pytest.raises(InvalidValueError, match="OCC symbol"):
        OptionContract.from_occ("SPX 110107X0105", venue="CBOE", underlying_id="SPX",
                                exercise=ExerciseStyle.EUROPEAN)  # fmt: skip
    with pytest.raises(InvalidValueError, match="no valid date"):
        OptionContract.from_occ("SPXW  111332C01050000", venue="CBOE", underlying_id="SPX",
                                exercise=ExerciseStyle.EUROPEAN)  # fmt: skip
    contract = OptionContract(id="X.OPRA", underlying_id="X", strike="10", expiry_ns=10**18,
                              right=OptionRight.PUT, exercise=ExerciseStyle.EUROPEAN)  # fmt: skip
    with pytest.raises(InvalidValueError, match="not before its expiry"):
        contract.years_to_expiry(10**18)

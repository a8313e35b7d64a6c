"""Implied volatility: round trips to 1e-12, agreement with vollib's "Let's Be Rational",
no-arbitrage bounds as NaN with a reason (vector) or an error (scalar)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradeloop.options import OptionInputError, Reason, implied_vol, price


def _random_contracts(seed: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.exp(rng.uniform(np.log(1.0 / 365.0), np.log(5.0), n))
    sigma = rng.uniform(0.03, 1.5, n)
    stdev = sigma * np.sqrt(t)
    r, q = rng.uniform(-0.01, 0.08, n), rng.uniform(0.0, 0.05, n)
    forward = 100.0 * np.exp((r - q) * t)
    # log-moneyness up to 4 standard deviations on either side
    strike = forward * np.exp(rng.uniform(-4.0, 4.0, n) * stdev)
    return {"spot": np.full(n, 100.0), "strike": strike, "t": t, "r": r, "q": q, "sigma": sigma}


def test_out_of_the_money_round_trips_are_exact_to_1e_12() -> None:
    contracts = _random_contracts(1, 200_000)
    forward = contracts["spot"] * np.exp((contracts["r"] - contracts["q"]) * contracts["t"])
    option_type = np.where(contracts["strike"] >= forward, "call", "put")
    premium = price(**contracts, option_type=option_type)
    vol, reason = implied_vol(price=premium, option_type=option_type, with_reason=True,
                              **{k: v for k, v in contracts.items() if k != "sigma"})  # fmt: skip
    assert (reason == Reason.OK).all()
    assert np.max(np.abs(vol / contracts["sigma"] - 1.0)) <= 1e-12


def test_in_the_money_round_trips_are_exact_where_the_time_value_carries_the_digits() -> None:
    # An in-the-money price is intrinsic + time value: parity gives back the time value with
    # an absolute error of ~1e-16 * forward, so the vol is as exact as that allows.
    contracts = _random_contracts(2, 100_000)
    forward = contracts["spot"] * np.exp((contracts["r"] - contracts["q"]) * contracts["t"])
    option_type = np.where(contracts["strike"] < forward, "call", "put")
    premium = price(**contracts, option_type=option_type)
    inputs = {k: v for k, v in contracts.items() if k != "sigma"}
    vol = implied_vol(price=premium, option_type=option_type, **inputs)
    other = np.where(option_type == "call", "put", "call")
    time_value = price(**contracts, option_type=other)  # the OTM twin's price
    vega = np.exp(-contracts["r"] * contracts["t"]) * forward * np.sqrt(contracts["t"]) * (
        np.exp(-0.5 * (np.log(forward / contracts["strike"]) / (contracts["sigma"] * np.sqrt(
            contracts["t"])) + 0.5 * contracts["sigma"] * np.sqrt(contracts["t"])) ** 2)
        / math.sqrt(2 * math.pi)
    )  # fmt: skip
    # the error the rounding of an in-the-money price allows: a few ulps of the forward / vega
    allowed = 8 * 2.2e-16 * np.maximum(forward, contracts["strike"]) / (vega * contracts["sigma"])
    error = np.abs(vol / contracts["sigma"] - 1.0)
    assert (error <= np.maximum(1e-12, allowed)).all()
    well_conditioned = allowed <= 1e-13
    assert well_conditioned.mean() > 0.3
    assert np.max(error[well_conditioned]) <= 1e-12
    assert (time_value > 0).all()


def test_agrees_with_vollib_lets_be_rational() -> None:
    vollib = pytest.importorskip("vollib.black_scholes_merton.implied_volatility")
    contracts = _random_contracts(3, 300)
    option_type = np.where(np.arange(300) % 2 == 0, "call", "put")
    premium = price(**contracts, option_type=option_type)
    inputs = {k: v for k, v in contracts.items() if k != "sigma"}
    ours = implied_vol(price=premium, option_type=option_type, **inputs)
    for i in range(300):
        theirs = vollib.implied_volatility(
            premium[i], 100.0, contracts["strike"][i], contracts["t"][i], contracts["r"][i],
            contracts["q"][i], option_type[i][0],
        )  # fmt: skip
        if math.isfinite(theirs) and theirs > 0:
            assert ours[i] == pytest.approx(theirs, rel=1e-9)


def test_black76_round_trip_and_extreme_contracts() -> None:
    cases = [
        # (forward, strike, t, sigma): deep out of the money, tiny and huge total variance
        (100.0, 200.0, 0.02, 0.5),
        (100.0, 30.0, 2.0, 0.05),
        (100.0, 100.0, 1e-4, 0.3),
        (100.0, 100.0, 10.0, 2.5),
        (100.0, 101.0, 1.0, 0.001),
    ]
    for forward, strike, t, sigma in cases:
        for option_type in ("call", "put"):
            premium = price(spot=forward, strike=strike, t=t, r=0.03, q=0.0, sigma=sigma,
                            option_type=option_type, model="black76")  # fmt: skip
            vols, reasons = implied_vol(price=premium, spot=forward, strike=strike, t=t, r=0.03,
                                        q=0.0, option_type=option_type, model="black76",
                                        with_reason=True)  # fmt: skip
            vol = float(vols)
            out_of_the_money = (option_type == "call") == (strike > forward)
            if out_of_the_money:
                assert vol == pytest.approx(sigma, rel=1e-12), (forward, strike, t, option_type)
            elif premium - abs(forward - strike) * math.exp(-0.03 * t) > 1e-9 * premium:
                assert vol == pytest.approx(sigma, rel=1e-6), (forward, strike, t, option_type)
            else:  # the time value is lost in the price's rounding: NaN, never a wrong vol
                assert math.isnan(vol)
                assert reasons == Reason.PRICE_AT_INTRINSIC


def test_prices_outside_the_bounds_are_nan_with_their_reason() -> None:
    # r = q = 0, spot 100, strike 64: sqrt(F K) = 80 and the intrinsic value 36 are exact
    prices = np.array([35.0, 36.0, 100.0, 0.0, -1.0, np.nan, 40.0])
    vol, reason = implied_vol(price=prices, spot=100.0, strike=64.0, t=1.0, r=0.0, q=0.0,
                              option_type="call", with_reason=True)  # fmt: skip
    assert np.isnan(vol[:6]).all()
    assert 0.0 < vol[6] < 1.0
    assert reason.tolist() == [
        Reason.PRICE_BELOW_INTRINSIC,
        Reason.PRICE_AT_INTRINSIC,
        Reason.PRICE_ABOVE_MAXIMUM,
        Reason.NON_POSITIVE_PRICE,
        Reason.NON_POSITIVE_PRICE,
        Reason.NON_FINITE_INPUT,
        Reason.OK,
    ]


def test_put_above_the_discounted_strike_is_above_the_maximum() -> None:
    _vol, reason = implied_vol(price=[95.0, 96.0], spot=100.0, strike=100.0, t=1.0, r=0.05,
                              q=0.0, option_type="put", with_reason=True)  # fmt: skip
    assert reason.tolist() == [Reason.OK, Reason.PRICE_ABOVE_MAXIMUM]


def test_scalar_call_raises_naming_the_price_and_the_rule() -> None:
    with pytest.raises(OptionInputError, match=r"discounted intrinsic value.*price=5\.0"):
        implied_vol(price=5.0, spot=100.0, strike=90.0, t=1.0, r=0.0, q=0.0, option_type="call")
    with pytest.raises(OptionInputError, match=r"t=0\.0"):
        implied_vol(price=5.0, spot=100.0, strike=90.0, t=0.0, r=0.0, q=0.0, option_type="call")
    with pytest.raises(OptionInputError, match="bachelier"):
        implied_vol(price=5.0, spot=100.0, strike=90.0, t=1.0, r=0.0, q=0.0, option_type="call",
                    model="bachelier")  # fmt: skip


def test_underflowed_time_values_are_not_inverted() -> None:
    vol, reason = implied_vol(price=[5e-321], spot=100.0, strike=200.0, t=0.01, r=0.0, q=0.0,
                              option_type="call", with_reason=True)  # fmt: skip
    assert np.isnan(vol[0])
    assert reason[0] == Reason.PRICE_UNDERFLOW

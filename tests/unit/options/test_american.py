"""American options: Hull's trees, Haug's table, QuantLib's engines and converged values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tradeloop.options import OptionInputError, Reason, american_greeks, american_price, price

HULL = {"spot": 50.0, "strike": 50.0, "t": 5 / 12, "r": 0.10, "q": 0.0, "sigma": 0.40}


@pytest.mark.parametrize(
    ("steps", "expected", "places"),
    [(5, 4.49, 2), (30, 4.263, 3), (50, 4.272, 3), (100, 4.278, 3), (500, 4.283, 3)],
)
def test_crr_reproduces_hulls_american_put_trees(steps: int, expected: float, places: int) -> None:
    # Hull, "Options, Futures and Other Derivatives", ch. 21 (Example 21.1 and the values
    # quoted for 30, 50, 100 and 500 steps)
    value = american_price(**HULL, option_type="put", method="crr", steps=steps)
    assert round(value, places) == pytest.approx(expected, abs=1e-12)


def test_crr_greeks_reproduce_hulls_example() -> None:
    # Hull, Example 21.1 continued: delta -0.41, gamma 0.03, theta -4.30 per year
    g = american_greeks(**HULL, option_type="put", method="crr", steps=5)
    assert round(g.delta, 2) == -0.41
    assert round(g.gamma, 2) == 0.03
    assert round(g.theta, 2) == -4.30


def test_bjerksund_stensland_reproduces_haugs_table() -> None:
    # Haug (2007), Bjerksund-Stensland 2002 column: X = 100, T = 0.1, r = 0.10, b = 0,
    # sigma = 0.15, S = 90, 100, 110
    values = american_price(spot=np.array([90.0, 100.0, 110.0]), strike=100.0, t=0.1, r=0.10,
                            q=0.10, sigma=0.15, option_type="call",
                            method="bjerksund_stensland")  # fmt: skip
    assert np.round(values, 4).tolist() == [0.0205, 1.8757, 10.0]


def _quantlib_setup():  # type: ignore[no-untyped-def]
    ql = pytest.importorskip("QuantLib")
    today = ql.Date(3, 1, 2011)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    quotes = [ql.SimpleQuote(value) for value in (100.0, 0.0, 0.0, 0.2)]
    spot, rate, dividend, vol = quotes
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(spot),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(dividend), day_count)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(rate), day_count)),
        ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(today, ql.NullCalendar(), ql.QuoteHandle(vol), day_count)
        ),
    )
    return ql, today, process, rate, dividend, vol


GRID = list(
    itertools.product(
        (80.0, 100.0, 120.0), (30, 182, 730), (0.15, 0.4), (0.01, 0.06), (0.0, 0.04),
        ("call", "put"),
    )
)  # fmt: skip


def test_trees_are_within_1e_2_of_quantlibs_converged_value_and_lr_equals_quantlibs_lr() -> None:
    ql, today, process, rate, dividend, vol = _quantlib_setup()
    converged = ql.BinomialVanillaEngine(process, "lr", 2001)
    same_lr = ql.BinomialVanillaEngine(process, "lr", 801)
    for strike, days, sigma, r, q, option_type in GRID:
        rate.setValue(r)
        dividend.setValue(q)
        vol.setValue(sigma)
        ql_type = ql.Option.Call if option_type == "call" else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(ql_type, strike), ql.AmericanExercise(today, today + days)
        )
        option.setPricingEngine(converged)
        reference = option.NPV()
        option.setPricingEngine(same_lr)
        quantlib_lr = option.NPV()
        kwargs = {"spot": 100.0, "strike": strike, "t": days / 365.0, "r": r, "q": q, "sigma": sigma,
                      "option_type": option_type}  # fmt: skip
        for method in ("crr", "leisen_reimer"):
            value = american_price(**kwargs, method=method, steps=801)
            assert value == pytest.approx(reference, abs=1e-2), (method, kwargs)
        lr = american_price(**kwargs, method="leisen_reimer", steps=801)
        assert lr == pytest.approx(quantlib_lr, abs=1e-8)


def test_approximations_match_quantlib_baw_and_stay_below_the_converged_value() -> None:
    ql, today, process, rate, dividend, vol = _quantlib_setup()
    baw_engine = ql.BaroneAdesiWhaleyApproximationEngine(process)
    converged = ql.BinomialVanillaEngine(process, "lr", 2001)
    worst = {"baw": 0.0, "bjerksund_stensland": 0.0}
    for strike, days, sigma, r, q, option_type in GRID:
        rate.setValue(r)
        dividend.setValue(q)
        vol.setValue(sigma)
        ql_type = ql.Option.Call if option_type == "call" else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(ql_type, strike), ql.AmericanExercise(today, today + days)
        )
        option.setPricingEngine(baw_engine)
        quantlib_baw = option.NPV()
        option.setPricingEngine(converged)
        reference = option.NPV()
        kwargs = {"spot": 100.0, "strike": strike, "t": days / 365.0, "r": r, "q": q, "sigma": sigma,
                      "option_type": option_type}  # fmt: skip
        baw = american_price(**kwargs, method="baw")
        # QuantLib stops its critical-price Newton at 1e-6; ours at 1e-12
        assert baw == pytest.approx(quantlib_baw, abs=1e-4)
        bs = american_price(**kwargs, method="bjerksund_stensland")
        european = price(**kwargs)
        intrinsic = max((100.0 - strike) * (1 if option_type == "call" else -1), 0.0)
        # Bjerksund-Stensland is a lower bound of the true value, above the European
        assert max(european, intrinsic) - 1e-9 <= bs <= reference + 1e-3
        for method, value in (("baw", baw), ("bjerksund_stensland", bs)):
            worst[method] = max(worst[method], abs(value - reference))
        if days <= 182:  # the approximations' own error is small at short maturities
            assert abs(bs - reference) < 1e-1
    # the documented accuracy of the approximations on this grid (maturities to 2 years)
    assert worst["bjerksund_stensland"] < 0.15
    assert worst["baw"] < 0.25


def test_bjerksund_stensland_1993_equals_quantlibs_engine() -> None:
    ql, today, process, rate, dividend, vol = _quantlib_setup()
    engine = ql.BjerksundStenslandApproximationEngine(process)
    for strike, days, sigma, r, q, option_type in GRID:
        rate.setValue(r)
        dividend.setValue(q)
        vol.setValue(sigma)
        ql_type = ql.Option.Call if option_type == "call" else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(ql_type, strike), ql.AmericanExercise(today, today + days)
        )
        option.setPricingEngine(engine)
        ours = american_price(spot=100.0, strike=strike, t=days / 365.0, r=r, q=q, sigma=sigma,
                              option_type=option_type, method="bjerksund_stensland_1993")  # fmt: skip
        assert ours == pytest.approx(option.NPV(), rel=1e-12, abs=1e-12)


def test_calls_without_dividends_are_european() -> None:
    kwargs = {
        "spot": 100.0,
        "strike": 105.0,
        "t": 1.0,
        "r": 0.05,
        "q": 0.0,
        "sigma": 0.3,
        "option_type": "call",
    }
    european = price(**kwargs)
    for method in ("baw", "bjerksund_stensland", "bjerksund_stensland_1993"):
        assert american_price(**kwargs, method=method) == pytest.approx(european, rel=1e-13)
    assert american_price(**kwargs, method="leisen_reimer", steps=801) == pytest.approx(
        european, abs=1e-4
    )


def test_american_greeks_agree_with_leisen_reimer_and_finite_differences() -> None:
    kwargs = {
        "spot": 100.0,
        "strike": 105.0,
        "t": 0.75,
        "r": 0.05,
        "q": 0.01,
        "sigma": 0.3,
        "option_type": "put",
    }
    reference = american_greeks(**kwargs, method="leisen_reimer", steps=1601)
    for method in ("crr", "baw", "bjerksund_stensland"):
        g = american_greeks(**kwargs, method=method)
        assert g.delta == pytest.approx(reference.delta, abs=5e-3), method
        assert g.gamma == pytest.approx(reference.gamma, abs=5e-4), method
        assert g.vega == pytest.approx(reference.vega, rel=2e-2), method
        assert g.theta == pytest.approx(reference.theta, rel=3e-2), method
        # the approximations' rates sensitivities carry their own error (a few %)
        tolerance = 3e-2 if method == "crr" else 6e-2
        assert g.rho == pytest.approx(reference.rho, rel=tolerance), method
        assert g.dividend_rho == pytest.approx(reference.dividend_rho, rel=tolerance), method
    step = 0.01
    up = american_price(**{**kwargs, "spot": 100.0 + step}, method="leisen_reimer", steps=1601)
    down = american_price(**{**kwargs, "spot": 100.0 - step}, method="leisen_reimer", steps=1601)
    assert reference.delta == pytest.approx((up - down) / (2 * step), abs=2e-3)


def test_vectorised_calls_broadcast_and_mark_bad_contracts() -> None:
    values = american_price(spot=100.0, strike=np.array([[90.0, 100.0, 110.0]]),
                            t=np.array([[0.5], [-1.0]]), r=0.03, q=0.01, sigma=0.2,
                            option_type="put", method="baw")  # fmt: skip
    assert values.shape == (2, 3)
    assert np.isfinite(values[0]).all()
    assert np.isnan(values[1]).all()
    g = american_greeks(spot=[100.0, math.nan], strike=100.0, t=0.5, r=0.03, q=0.0, sigma=0.2,
                        option_type="put", method="crr", steps=200)  # fmt: skip
    assert np.isfinite(g.price[0])
    assert np.isnan(g.price[1])


def test_scalar_errors_name_the_value_and_the_rule() -> None:
    with pytest.raises(OptionInputError, match="sigma must be > 0"):
        american_price(spot=100.0, strike=100.0, t=1.0, r=0.0, q=0.0, sigma=0.0,
                       option_type="put")  # fmt: skip
    with pytest.raises(OptionInputError, match="method 'trinomial'"):
        american_price(spot=100.0, strike=100.0, t=1.0, r=0.0, q=0.0, sigma=0.2,
                       option_type="put", method="trinomial")  # fmt: skip
    with pytest.raises(OptionInputError, match="steps 1 must be >= 2"):
        american_price(spot=100.0, strike=100.0, t=1.0, r=0.0, q=0.0, sigma=0.2,
                       option_type="put", method="crr", steps=1)  # fmt: skip
    with pytest.raises(OptionInputError, match="TREE_PROBABILITY"):
        american_price(spot=100.0, strike=100.0, t=10.0, r=0.5, q=0.0, sigma=0.01,
                       option_type="put", method="crr", steps=2)  # fmt: skip
    assert Reason.TREE_PROBABILITY == 12

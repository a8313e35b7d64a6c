"""European prices and Greeks against Haug's and Hull's published values, QuantLib (a dev-only
oracle) on a grid, finite differences for every Greek, and put-call parity."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from tradeloop.options import Greeks, OptionInputError, Reason, greeks, price

GREEK_FIELDS = [name for name in Greeks.__dataclass_fields__ if name != "price"]

# -- published values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected", "places"),
    [
        # Haug (2007), 1.1.1 Black-Scholes: c = 2.1334
        ({"spot": 60.0, "strike": 65.0, "t": 0.25, "r": 0.08, "q": 0.0, "sigma": 0.3, "option_type": "call"},
         2.1334, 4),
        # Haug 1.1.4 Merton (1973), continuous dividend yield: p = 2.4648
        ({"spot": 100.0, "strike": 95.0, "t": 0.5, "r": 0.10, "q": 0.05, "sigma": 0.2, "option_type": "put"},
         2.4648, 4),
        # Haug 1.1.6 Garman-Kohlhagen (currency, q = foreign rate): c = 0.0291
        ({"spot": 1.56, "strike": 1.60, "t": 0.5, "r": 0.06, "q": 0.08, "sigma": 0.12, "option_type": "call"},
         0.0291, 4),
        # Hull (10th ed.), Example 15.6: c = 4.76, p = 0.81
        ({"spot": 42.0, "strike": 40.0, "t": 0.5, "r": 0.10, "q": 0.0, "sigma": 0.2, "option_type": "call"},
         4.76, 2),
        ({"spot": 42.0, "strike": 40.0, "t": 0.5, "r": 0.10, "q": 0.0, "sigma": 0.2, "option_type": "put"},
         0.81, 2),
    ],
)  # fmt: skip
def test_bsm_price_matches_published_values(kwargs: dict, expected: float, places: int) -> None:
    assert round(price(**kwargs), places) == pytest.approx(expected, abs=1e-12)


def test_black76_matches_haug_futures_option_example() -> None:
    # Haug 1.1.5 Black (1976): F = 19, X = 19, T = 0.75, r = 0.10, sigma = 0.28: c = p = 1.7011
    for option_type in ("call", "put"):
        value = price(spot=19.0, strike=19.0, t=0.75, r=0.10, q=0.0, sigma=0.28,
                      option_type=option_type, model="black76")  # fmt: skip
        assert round(value, 4) == 1.7011


def test_greeks_match_hull_example_19_1() -> None:
    # Hull, Example 19.1 ff.: S = 49, K = 50, r = 5 %, sigma = 20 %, T = 20 weeks
    g = greeks(spot=49.0, strike=50.0, t=0.3846, r=0.05, q=0.0, sigma=0.2, option_type="call")
    assert round(g.price, 2) == 2.40
    assert round(g.delta, 3) == 0.522
    assert round(g.gamma, 3) == 0.066
    assert round(g.vega, 1) == 12.1  # per 1.00 of vol (Hull: 0.121 per %)
    assert round(g.theta, 2) == -4.31  # per year
    assert round(g.rho, 2) == 8.91  # per 1.00 of rate (Hull: 0.0891 per %)


@pytest.mark.parametrize(
    ("kwargs", "field", "expected", "places"),
    [
        # Haug 2.1.1 delta, futures option (b = 0): call 0.5946, put -0.3566
        ({"spot": 105.0, "strike": 100.0, "t": 0.5, "r": 0.10, "sigma": 0.36, "option_type": "call",
              "model": "black76"}, "delta", 0.5946, 4),
        ({"spot": 105.0, "strike": 100.0, "t": 0.5, "r": 0.10, "sigma": 0.36, "option_type": "put",
              "model": "black76"}, "delta", -0.3566, 4),
        # Haug 2.3.1 gamma (b = r): 0.0278
        ({"spot": 55.0, "strike": 60.0, "t": 0.75, "r": 0.10, "sigma": 0.30, "option_type": "call"},
         "gamma", 0.0278, 4),
        # Haug 2.5.1 theta (r = 0.07, b = 0.02): put -31.1924 per year
        ({"spot": 430.0, "strike": 405.0, "t": 0.0833, "r": 0.07, "q": 0.05, "sigma": 0.20,
              "option_type": "put"}, "theta", -31.1924, 4),
        # Haug 2.6.1 rho (b = r): call 38.7325
        ({"spot": 72.0, "strike": 75.0, "t": 1.0, "r": 0.09, "sigma": 0.19, "option_type": "call"},
         "rho", 38.7325, 4),
    ],
)  # fmt: skip
def test_greeks_match_haug_examples(kwargs: dict, field: str, expected: float, places: int) -> None:
    arguments = {"q": 0.0, **kwargs}
    assert round(getattr(greeks(**arguments), field), places) == pytest.approx(expected, abs=1e-12)


# -- QuantLib as the oracle -------------------------------------------------------------------

GRID = list(
    itertools.product(
        (70.0, 95.0, 100.0, 105.0, 140.0),  # strikes around spot 100
        (7, 91, 365, 1096),  # days to expiry
        (0.08, 0.25, 0.7),  # vols
        (-0.01, 0.0, 0.05),  # rates
        (0.0, 0.03),  # dividend yields
        ("call", "put"),
    )
)


def test_bsm_price_and_greeks_match_quantlib_on_a_grid() -> None:
    ql = pytest.importorskip("QuantLib")
    today = ql.Date(3, 1, 2011)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    spot_quote = ql.SimpleQuote(100.0)
    rate_quote, div_quote, vol_quote = ql.SimpleQuote(0.0), ql.SimpleQuote(0.0), ql.SimpleQuote(0.1)
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(spot_quote),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(div_quote), day_count)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(rate_quote), day_count)),
        ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(today, ql.NullCalendar(), ql.QuoteHandle(vol_quote), day_count)
        ),
    )
    engine = ql.AnalyticEuropeanEngine(process)
    for strike, days, vol, rate, div, option_type in GRID:
        rate_quote.setValue(rate)
        div_quote.setValue(div)
        vol_quote.setValue(vol)
        ql_type = ql.Option.Call if option_type == "call" else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(ql_type, strike), ql.EuropeanExercise(today + days)
        )
        option.setPricingEngine(engine)
        g = greeks(spot=100.0, strike=strike, t=days / 365.0, r=rate, q=div, sigma=vol,
                   option_type=option_type)  # fmt: skip
        expected = {
            "price": option.NPV(),
            "delta": option.delta(),
            "gamma": option.gamma(),
            "vega": option.vega(),
            "theta": option.theta(),
            "rho": option.rho(),
            "dividend_rho": option.dividendRho(),
            "elasticity": option.elasticity(),
        }
        if option.NPV() <= 2.220446049250313e-16:
            # QuantLib writes elasticity 0 when the value is below its epsilon
            del expected["elasticity"]
        for field, value in expected.items():
            # elasticity divides two tail values: QuantLib's normal CDF is good to ~1e-9 there
            rel = 1e-7 if field == "elasticity" else 1e-9
            assert getattr(g, field) == pytest.approx(value, rel=rel, abs=1e-11), (
                field, strike, days, vol, rate, div, option_type
            )  # fmt: skip


def test_black76_and_bachelier_match_quantlib_formulas() -> None:
    ql = pytest.importorskip("QuantLib")
    for strike, days, vol, rate, _, option_type in GRID:
        t = days / 365.0
        ql_type = ql.Option.Call if option_type == "call" else ql.Option.Put
        discount = math.exp(-rate * t)
        black = price(spot=100.0, strike=strike, t=t, r=rate, q=0.0, sigma=vol,
                      option_type=option_type, model="black76")  # fmt: skip
        assert black == pytest.approx(
            ql.blackFormula(ql_type, strike, 100.0, vol * math.sqrt(t), discount),
            rel=1e-10, abs=1e-12,
        )  # fmt: skip
        normal_vol = vol * 100.0
        normal = price(spot=100.0, strike=strike, t=t, r=rate, q=rate, sigma=normal_vol,
                       option_type=option_type, model="bachelier")  # fmt: skip
        assert normal == pytest.approx(
            ql.bachelierBlackFormula(ql_type, strike, 100.0, normal_vol * math.sqrt(t), discount),
            rel=1e-10, abs=1e-12,
        )  # fmt: skip


# -- finite differences for every Greek --------------------------------------------------------

CASES = [
    {"spot": 100.0, "strike": 90.0, "t": 0.75, "r": 0.04, "q": 0.02, "sigma": 0.3},
    {"spot": 100.0, "strike": 120.0, "t": 0.25, "r": 0.01, "q": 0.0, "sigma": 0.45},
    {"spot": 50.0, "strike": 48.0, "t": 2.0, "r": 0.06, "q": 0.03, "sigma": 0.15},
]


def _value(field: str, model: str, option_type: str, **kwargs: float) -> float:
    return float(getattr(greeks(model=model, option_type=option_type, **kwargs), field))


def _central(field: str, variable: str, step: float, model: str, option_type: str,
             case: dict[str, float]) -> float:  # fmt: skip
    # central difference with one Richardson step: truncation error O(step^4)
    def difference(h: float) -> float:
        up = {**case, variable: case[variable] + h}
        down = {**case, variable: case[variable] - h}
        upper = _value(field, model, option_type, **up)
        return (upper - _value(field, model, option_type, **down)) / (2.0 * h)

    return (4.0 * difference(step / 2.0) - difference(step)) / 3.0


# (Greek, the field it differentiates, the variable, sign): calendar-time Greeks are -d/dt
DEFINITIONS = [
    ("delta", "price", "spot", 1.0),
    ("gamma", "delta", "spot", 1.0),
    ("vega", "price", "sigma", 1.0),
    ("theta", "price", "t", -1.0),
    ("rho", "price", "r", 1.0),
    ("dividend_rho", "price", "q", 1.0),
    ("vanna", "delta", "sigma", 1.0),
    ("volga", "vega", "sigma", 1.0),
    ("charm", "delta", "t", -1.0),
    ("veta", "vega", "t", -1.0),
    ("speed", "gamma", "spot", 1.0),
    ("zomma", "gamma", "sigma", 1.0),
    ("color", "gamma", "t", -1.0),
    ("ultima", "volga", "sigma", 1.0),
]


@pytest.mark.parametrize("model", ["bsm", "black76", "bachelier"])
@pytest.mark.parametrize("option_type", ["call", "put"])
def test_every_greek_equals_a_finite_difference(model: str, option_type: str) -> None:
    for case in CASES:
        case = dict(case)
        if model == "bachelier":
            case["sigma"] = case["sigma"] * case["spot"]  # a normal vol of the same size
        for greek, field, variable, sign in DEFINITIONS:
            if model == "black76" and greek == "dividend_rho":
                assert _value(greek, model, option_type, **case) == 0.0
                continue
            step = {"spot": 1e-3 * case["spot"], "sigma": 1e-4 * case["sigma"],
                    "t": 1e-5, "r": 1e-5, "q": 1e-5}[variable]  # fmt: skip
            numeric = sign * _central(field, variable, step, model, option_type, case)
            exact = _value(greek, model, option_type, **case)
            assert exact == pytest.approx(numeric, rel=1e-7, abs=1e-9), (greek, case)
        elasticity = _value("elasticity", model, option_type, **case)
        delta, value = (_value(f, model, option_type, **case) for f in ("delta", "price"))
        assert elasticity == pytest.approx(delta * case["spot"] / value, rel=1e-14)


def test_vomma_is_volga() -> None:
    g = greeks(spot=100.0, strike=90.0, t=0.5, r=0.0, q=0.0, sigma=0.2, option_type="put")
    assert g.vomma == g.volga


# -- parity, broadcasting, orders ---------------------------------------------------------------


@pytest.mark.parametrize("model", ["bsm", "black76", "bachelier"])
def test_put_call_parity_holds_to_rounding(model: str) -> None:
    rng = np.random.default_rng(7)
    n = 2_000
    spot, strike = 100.0, rng.uniform(40.0, 200.0, n)
    t, r, q = rng.uniform(0.01, 5.0, n), rng.uniform(-0.02, 0.1, n), rng.uniform(0.0, 0.06, n)
    sigma = rng.uniform(0.05, 1.0, n) * (100.0 if model == "bachelier" else 1.0)
    call = price(spot=spot, strike=strike, t=t, r=r, q=q, sigma=sigma, option_type="call",
                 model=model)  # fmt: skip
    put = price(spot=spot, strike=strike, t=t, r=r, q=q, sigma=sigma, option_type="put",
                model=model)  # fmt: skip
    forward = spot if model == "black76" else spot * np.exp((r - q) * t)
    parity = np.exp(-r * t) * (forward - strike)
    scale = np.maximum(forward, strike)
    assert np.max(np.abs(call - put - parity) / scale) < 1e-14


def test_inputs_broadcast_together() -> None:
    strikes = np.array([90.0, 100.0, 110.0])
    vols = np.array([[0.1], [0.2]])
    values = price(spot=100.0, strike=strikes, t=1.0, r=0.01, q=0.0, sigma=vols,
                   option_type=["call", "put", "call"])  # fmt: skip
    assert values.shape == (2, 3)
    assert values[1, 1] == price(spot=100.0, strike=100.0, t=1.0, r=0.01, q=0.0, sigma=0.2,
                                 option_type="put")  # fmt: skip
    g = greeks(spot=100.0, strike=strikes, t=1.0, r=0.01, q=0.0, sigma=vols, option_type="call")
    assert g.ultima.shape == (2, 3)
    assert np.array_equal(g.price[0], price(spot=100.0, strike=strikes, t=1.0, r=0.01, q=0.0,
                                            sigma=0.1, option_type="call"))  # fmt: skip


def test_lower_order_leaves_higher_orders_nan_and_first_order_equal() -> None:
    kwargs = {"spot": 100.0, "strike": np.array([80.0, 120.0]), "t": 0.5, "r": 0.02, "q": 0.01, "sigma": 0.3,
                  "option_type": "call"}  # fmt: skip
    full, first = greeks(**kwargs), greeks(**kwargs, order=1)
    for name in ("price", "delta", "vega", "theta", "rho", "dividend_rho", "elasticity"):
        assert np.array_equal(getattr(full, name), getattr(first, name))
    assert np.isnan(first.speed).all()
    assert np.array_equal(full.gamma, first.gamma)  # comes free with the first order
    assert np.isnan(first.vanna).all()


def test_option_type_codes_are_the_fast_path() -> None:
    strikes = np.array([90.0, 110.0])
    by_name = price(spot=100.0, strike=strikes, t=1.0, r=0.0, q=0.0, sigma=0.2,
                    option_type=np.array(["call", "PUT"]))  # fmt: skip
    by_code = price(spot=100.0, strike=strikes, t=1.0, r=0.0, q=0.0, sigma=0.2,
                    option_type=np.array([1, -1]))  # fmt: skip
    assert np.array_equal(by_name, by_code)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"t": 0.0}, Reason.NON_POSITIVE_TIME, "t (years to expiry) must be > 0"),
        ({"t": -1.0}, Reason.NON_POSITIVE_TIME, "t=-1.0"),
        ({"sigma": 0.0}, Reason.NON_POSITIVE_VOL, "sigma must be > 0"),
        ({"spot": -5.0}, Reason.NON_POSITIVE_SPOT, "spot=-5.0"),
        ({"strike": 0.0}, Reason.NON_POSITIVE_STRIKE, "strike must be > 0"),
        ({"r": math.nan}, Reason.NON_FINITE_INPUT, "must be finite"),
        ({"spot": math.inf}, Reason.NON_FINITE_INPUT, "must be finite"),
    ],
)
def test_bad_input_raises_in_scalar_calls_and_is_nan_with_reason_in_vector_calls(
    change: dict[str, float], reason: Reason, words: str
) -> None:
    good = {"spot": 100.0, "strike": 100.0, "t": 1.0, "r": 0.01, "q": 0.0, "sigma": 0.2}
    with pytest.raises(OptionInputError, match=re.escape(words)):
        price(**{**good, **change}, option_type="call")
    with pytest.raises(OptionInputError, match=re.escape(words)):
        greeks(**{**good, **change}, option_type="put")
    column = {key: np.array([value, value]) for key, value in good.items()}
    for key, value in change.items():
        column[key] = np.array([good[key], value])
    values, reasons = price(**column, option_type="call", with_reason=True)
    assert not np.isnan(values[0])
    assert np.isnan(values[1])
    assert reasons.tolist() == [Reason.OK, reason]
    g = greeks(**column, option_type="call")
    assert all(np.isnan(getattr(g, name)[1]) for name in GREEK_FIELDS)


def test_unknown_model_or_option_type_is_an_error_in_any_call() -> None:
    with pytest.raises(OptionInputError, match="model 'heston'"):
        price(spot=1.0, strike=1.0, t=1.0, r=0.0, q=0.0, sigma=0.2, option_type="call",
              model="heston")  # fmt: skip
    with pytest.raises(OptionInputError, match="option_type 'straddle'"):
        price(spot=[1.0], strike=1.0, t=1.0, r=0.0, q=0.0, sigma=0.2,
              option_type=["call", "straddle"])  # fmt: skip


def test_bachelier_allows_negative_forwards_and_strikes() -> None:
    value = price(spot=-0.5, strike=-0.2, t=1.0, r=0.0, q=0.0, sigma=0.4, option_type="put",
                  model="bachelier")  # fmt: skip
    assert value > 0.0


def test_parallel_and_serial_kernels_give_the_same_bits() -> None:
    # above PARALLEL_MIN contracts the kernels run on the thread pool, below it serially
    from tradeloop.options import american_price, implied_vol
    from tradeloop.options._kernels import PARALLEL_MIN

    rng = np.random.default_rng(3)
    n = PARALLEL_MIN + 5
    kwargs = {"spot": 100.0, "strike": rng.uniform(60.0, 140.0, n), "t": rng.uniform(0.05, 2.0, n),
              "r": 0.02, "q": 0.01, "sigma": rng.uniform(0.1, 0.6, n)}  # fmt: skip
    kinds = np.where(rng.random(n) < 0.5, 1, -1)
    whole = greeks(**kwargs, option_type=kinds)
    whole_iv = implied_vol(price=whole.price, spot=100.0, strike=kwargs["strike"], t=kwargs["t"],
                           r=0.02, q=0.01, option_type=kinds)  # fmt: skip
    whole_baw = american_price(**kwargs, option_type=kinds, method="baw")
    for start in range(0, n, 5_000):
        part = slice(start, start + 5_000)
        sub = {**kwargs, "strike": kwargs["strike"][part], "t": kwargs["t"][part],
               "sigma": kwargs["sigma"][part]}  # fmt: skip
        g = greeks(**sub, option_type=kinds[part])
        for name in ("price", "delta", "gamma", "vanna", "ultima"):
            assert np.array_equal(getattr(g, name), getattr(whole, name)[part])
        iv = implied_vol(price=g.price, spot=100.0, strike=sub["strike"], t=sub["t"], r=0.02,
                         q=0.01, option_type=kinds[part])  # fmt: skip
        assert np.array_equal(iv, whole_iv[part], equal_nan=True)
        assert np.array_equal(american_price(**sub, option_type=kinds[part], method="baw"),
                              whole_baw[part])  # fmt: skip

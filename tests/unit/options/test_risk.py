"""Portfolio risk of stocks and options: full revaluation, Greeks, four VaR methods, stress."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tradeloop.core.errors import InvalidValueError
from tradeloop.options import (
    HISTORICAL_SCENARIOS,
    RiskMarket,
    RiskPortfolio,
    RiskPosition,
    StressScenario,
    historical_scenario,
    price,
    resolve_scenario,
    stress_test,
)

COV = np.array([[0.012**2, 0.5 * 0.012 * 0.015], [0.5 * 0.012 * 0.015, 0.015**2]])


def _stocks() -> RiskPortfolio:
    return RiskPortfolio(
        [RiskPosition("AAA.X", 1_000.0), RiskPosition("BBB.X", -400.0, multiplier=2.0)],
        RiskMarket(spots={"AAA.X": 50.0, "BBB.X": 80.0}),
    )


def _options() -> RiskPortfolio:
    # short straddle on AAA hedged with stock, plus a long American put on BBB
    return RiskPortfolio(
        [
            RiskPosition("AAA C50", -10.0, 100.0, "AAA.X", "call", 50.0, 0.25, 0.3),
            RiskPosition("AAA P50", -10.0, 100.0, "AAA.X", "put", 50.0, 0.25, 0.3),
            RiskPosition("AAA.X", 50.0),
            RiskPosition("BBB P75", 5.0, 100.0, "BBB.X", "put", 75.0, 0.5, 0.35, "american"),
        ],
        RiskMarket(spots={"AAA.X": 50.0, "BBB.X": 80.0}, r=0.03, dividend_yields={"BBB.X": 0.01}),
    )


def test_a_stock_book_is_worth_its_positions_and_its_delta_is_its_value() -> None:
    book = _stocks()
    assert book.factors == ("AAA.X", "BBB.X")
    assert book.value() == 1_000 * 50 - 400 * 2 * 80
    s = book.sensitivities()
    np.testing.assert_allclose(s.delta, [50_000.0, -64_000.0])
    assert not s.gamma.any()


def test_stock_book_parametric_var_is_z_sigma_value() -> None:
    book = _stocks()
    d = np.array([50_000.0, -64_000.0])
    sigma = math.sqrt(d @ COV @ d)
    result = book.parametric_var(COV, 0.99)
    assert result.var == pytest.approx(stats.norm.ppf(0.99) * sigma)
    assert book.delta_gamma_var(COV, 0.99).var == pytest.approx(result.var)


def test_stock_book_historical_var_is_the_worst_revalued_scenario() -> None:
    book = _stocks()
    returns = np.random.default_rng(5).multivariate_normal([0, 0], COV, size=500)
    pnl = returns @ np.array([50_000.0, -64_000.0])
    result = book.historical_var(returns, 0.99)
    assert result.var == pytest.approx(np.sort(-pnl)[::-1][4])
    ten = book.historical_var(returns, 0.99, horizon_days=10)
    assert ten.observations == 491
    growth = np.prod(1 + returns[:10], axis=0) - 1
    assert book.scenario_pnl(growth[None, :])[0] == pytest.approx(growth @ [50_000.0, -64_000.0])


def test_option_greeks_in_money_match_finite_differences_of_the_full_revaluation() -> None:
    book = _options()
    s = book.sensitivities()
    h = 1e-4
    for i in range(2):
        up, down = np.zeros((1, 2)), np.zeros((1, 2))
        up[0, i], down[0, i] = h, -h
        v_up, v_down = book.scenario_pnl(up)[0], book.scenario_pnl(down)[0]
        assert s.delta[i] == pytest.approx((v_up - v_down) / (2 * h), rel=1e-5, abs=1e-3)
        assert s.gamma[i, i] == pytest.approx((v_up + v_down) / h**2, rel=2e-3)
    bumped = book.position_values(vol_shift=1e-4).sum() - book.value()
    assert s.vega == pytest.approx(bumped / 1e-4, rel=1e-3)
    straddle = s.positions[0]
    call = price(spot=50.0, strike=50.0, t=0.25, r=0.03, q=0.0, sigma=0.3, option_type="call")
    assert straddle.value == pytest.approx(-1_000 * call)


def test_delta_gamma_and_monte_carlo_agree_for_a_short_gamma_book() -> None:
    book = _options()
    mc = book.monte_carlo_var(COV, 0.99, rng=np.random.default_rng(42), paths=50_000)
    again = book.monte_carlo_var(COV, 0.99, rng=np.random.default_rng(42), paths=50_000)
    assert mc.var == again.var  # seeded: the same figure
    dg = book.delta_gamma_var(COV, 0.99)
    normal = book.parametric_var(COV, 0.99)
    assert dg.details["skewness"] < 0  # short gamma: a fat left tail
    assert dg.var == pytest.approx(mc.var, rel=0.1)
    assert mc.var > normal.var


def test_stress_of_a_user_shock_revalues_every_position() -> None:
    book = _options()
    shock = StressScenario.parse("name=crash,spot=-0.2,vol=0.15,rate=-0.01,days=7")
    assert (shock.name, shock.spot_return, shock.vol_shift, shock.days) == ("crash", -0.2, 0.15, 7)
    result = stress_test(book, shock)
    moved = book.position_values(
        np.array([[-0.2, -0.2]]), vol_shift=0.15, rate_shift=-0.01, days=7
    )[0]
    assert result.pnl == pytest.approx(moved.sum() - book.value())
    assert result.position_pnl["BBB P75"] > 0  # a long put gains in a crash
    assert result.position_pnl["AAA P50"] < 0  # a short put loses
    assert sum(result.position_pnl.values()) == pytest.approx(result.pnl)


def test_per_factor_shocks_and_bad_shocks() -> None:
    shock = StressScenario.parse("spot.AAA.X=-0.3,vol=0.05")
    assert shock.spot_move("AAA.X") == -0.3
    assert shock.spot_move("BBB.X") == 0.0
    for text, rule in [
        ("spot=-0.2,foo=1", "unknown key 'foo'"),
        ("spot=abc", "is not a number"),
        ("spot", "is not key=value"),
        ("name=x", "shocks nothing"),
        ("spot=-1.5", "above -1"),
    ]:
        with pytest.raises(InvalidValueError, match=rule):
            StressScenario.parse(text)


def test_historical_scenarios_are_spy_moves_from_the_bundled_data() -> None:
    from tradeloop.core.time import ns_to_iso
    from tradeloop.data import bundled

    bars = bundled.load_bars("spy_daily")
    closes = {
        ns_to_iso(int(ts))[:10]: int(c) / 10**bars.price_precision
        for ts, c in zip(bars.ts_event, bars.close, strict=True)
    }
    for scenario in HISTORICAL_SCENARIOS:
        assert scenario.start is not None
        assert scenario.end is not None
        expected = closes[scenario.end] / closes[scenario.start] - 1
        assert scenario.spot_return == pytest.approx(expected, abs=1e-12), scenario.name
    assert historical_scenario("covid_march_2020").spot_return == pytest.approx(-0.3411, abs=1e-4)
    with pytest.raises(InvalidValueError, match="there are: lehman_week_2008"):
        historical_scenario("1987")


def test_resolve_scenario_uses_own_history_then_beta_then_the_market_move() -> None:
    day = 86_400 * 10**9
    start = 1_581_984_000 * 10**9  # 2020-02-18 00:00 UTC
    ts = start + day * np.arange(40)
    market = 100.0 * np.cumprod(1 + np.tile([0.01, -0.01], 20))
    levered = 50.0 * np.cumprod(1 + 2 * np.tile([0.01, -0.01], 20))
    histories = {
        "SPY.X": (ts, market),
        "LEV.X": (ts[:30], levered[:30]),
        "OWN.X": (np.array([start + day, start + 34 * day]), np.array([10.0, 8.0])),
    }
    scenario = historical_scenario("covid_march_2020")
    resolved = resolve_scenario(scenario, ["LEV.X", "OWN.X", "SPY.X", "NEW.X"], histories, "SPY.X")
    assert resolved.spot_move("OWN.X") == pytest.approx(-0.2)  # 2020-02-19 -> 2020-03-23
    assert resolved.basis["OWN.X"].startswith("own history")
    assert resolved.spot_move("LEV.X") == pytest.approx(2 * scenario.spot_return, rel=1e-6)
    assert resolved.basis["LEV.X"].startswith("beta 2.00")
    assert resolved.spot_move("NEW.X") == scenario.spot_return
    assert resolved.basis["NEW.X"] == "market move (beta 1 assumed)"


def test_bad_books_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="no positions"):
        RiskPortfolio([], RiskMarket(spots={}))
    with pytest.raises(InvalidValueError, match="no spot for risk factor"):
        RiskPortfolio([RiskPosition("AAA.X", 1.0)], RiskMarket(spots={"BBB.X": 1.0}))
    with pytest.raises(InvalidValueError, match="sigma nan must be > 0"):
        RiskPosition("C", 1.0, 100.0, "AAA.X", "call", 50.0, 0.25)
    with pytest.raises(InvalidValueError, match=r"spot of AAA\.X is -1"):
        RiskMarket(spots={"AAA.X": -1.0})
    with pytest.raises(InvalidValueError, match="must be a whole number"):
        _stocks().historical_var(np.zeros((200, 2)), 0.99, horizon_days=0)

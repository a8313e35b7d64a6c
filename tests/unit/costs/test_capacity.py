from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core import InvalidValueError, Price, Quantity
from tradeloop.costs.assessment import CostAssessmentConfig, TradeIntent, cost_curve
from tradeloop.costs.capacity import (
    CapacityEstimate,
    CapacityLeg,
    capacity_estimate,
    max_quantity_within_cost,
    strategy_capacity,
    tradability_report,
)
from tradeloop.costs.fees import CommissionConfig
from tradeloop.costs.impact import SquareRootImpactConfig
from tradeloop.model import OrderSide, equity

ACME = equity("ACME")
BPS_1 = CostAssessmentConfig(commission=CommissionConfig(kind="bps", bps=1.0))


def intent(**overrides: Any) -> TradeIntent:
    # 50.00 a share, 2 % daily vol, ADV 1e6, 4 bps spread (2 bps paid), 30 bps of alpha.
    fields: dict[str, Any] = {
        "instrument_id": ACME.id,
        "side": OrderSide.SELL,
        "quantity": Quantity(100_000, 0),
        "reference_price": Price(5000, 2),
        "daily_volatility": 0.02,
        "average_daily_volume": 1_000_000.0,
        "spread_bps": 4.0,
        "gross_alpha_bps": 30.0,
    } | overrides
    return TradeIntent(**fields)


def test_capacity_is_the_closed_form_root_where_net_alpha_is_zero() -> None:
    # 30 - 3 - 200 sqrt(Q / 1e6) = 0  =>  Q = 1e6 * (27 / 200)^2 = 18,225 shares.
    estimate = capacity_estimate(intent(), ACME, BPS_1, trade_fraction_of_capital=0.05)
    assert estimate.method == "closed_form"
    assert estimate.capacity_quantity == pytest.approx(18_225.0, rel=1e-12)
    assert estimate.capacity_notional == pytest.approx(18_225 * 50.0, rel=1e-12)
    assert estimate.capacity_capital == pytest.approx(18_225 * 50.0 / 0.05, rel=1e-12)
    curve = cost_curve(intent(), ACME, BPS_1)
    assert estimate.capacity_quantity is not None
    assert abs(30.0 - curve.cost_bps(estimate.capacity_quantity)) < 1e-9


def test_net_alpha_in_money_peaks_at_four_ninths_of_capacity() -> None:
    # Q* / Q_cap = ((c0 / 1.5 b) / (c0 / b))^2 = 4 / 9 for the square-root law.
    estimate = capacity_estimate(intent(), ACME, BPS_1)
    assert estimate.optimal_quantity is not None
    assert estimate.capacity_quantity is not None
    assert estimate.optimal_quantity / estimate.capacity_quantity == pytest.approx(4 / 9)
    assert estimate.optimal_net_alpha_amount == pytest.approx(8_100 * 50 * 9 / 1e4)


def test_capacity_with_a_binding_minimum_commission_is_a_numeric_root() -> None:
    # Price 10, ADV 10,000, 10 bps spread, 5 bps per-share rate, 3.50 minimum (binding below
    # 700 shares): the linear-rate root 1e4 (50 / 200)^2 = 625 is inside the minimum's piece,
    # where 55 - 3.5e4 / (10 Q) ... = 0 has no closed form.
    config = CostAssessmentConfig(
        commission=CommissionConfig(kind="per_share", per_share="0.005", minimum="3.50")
    )
    small = intent(
        reference_price=Price(1000, 2),
        average_daily_volume=10_000.0,
        spread_bps=10.0,
        gross_alpha_bps=60.0,
    )
    estimate = capacity_estimate(small, ACME, config)
    assert estimate.method == "numeric"
    assert estimate.capacity_quantity is not None
    assert 230 < estimate.capacity_quantity < 700
    curve = cost_curve(small, ACME, config)
    assert abs(60.0 - curve.cost_bps(estimate.capacity_quantity)) < 1e-9
    assert curve.cost_bps(estimate.capacity_quantity * 1.001) > 60.0


def test_no_impact_means_unbounded_capacity_and_costs_above_alpha_mean_none() -> None:
    unbounded = capacity_estimate(intent(daily_volatility=0.0), ACME, BPS_1)
    assert unbounded.capacity_quantity is None
    assert unbounded.capacity_capital is None
    assert unbounded.optimal_quantity is None
    nothing = capacity_estimate(intent(gross_alpha_bps=2.0), ACME, BPS_1)
    assert nothing.capacity_quantity == 0.0
    assert nothing.optimal_quantity is None


def test_tradability_report_gives_cost_per_unit_budget_size_and_participation() -> None:
    # Budget 20 bps: 20 - 3 = 200 sqrt(Q / 1e6) => Q = 1e6 * (17 / 200)^2 = 7,225.
    report = tradability_report(
        intent(quantity=Quantity(50_000, 0)), ACME, BPS_1, 20.0, execution_horizon_days=2.0
    )
    assert report.participation == pytest.approx(50_000 / 2_000_000)
    assert report.max_quantity_within_budget == pytest.approx(7_225.0, rel=1e-12)
    assert report.max_participation_within_budget == pytest.approx(7_225 / 2e6, rel=1e-12)
    assert report.max_notional_within_budget == pytest.approx(7_225 * 50.0, rel=1e-12)
    assert report.impact_bps_at_one_percent_adv == pytest.approx(20.0)
    impact = 200 * (0.05**0.5)
    assert report.cost_bps == pytest.approx(3 + impact)
    assert report.cost_per_unit == pytest.approx(50 * (3 + impact) / 1e4)
    assert report.marginal_cost_bps == pytest.approx(3 + 1.5 * impact)
    assert report.fixed_cost_bps == 2.0
    assert msgspec.json.decode(msgspec.json.encode(report), type=type(report)) == report


def test_budget_below_the_fixed_costs_allows_no_size() -> None:
    assert max_quantity_within_cost(intent(), ACME, BPS_1, 2.5) == (0.0, "closed_form")
    with pytest.raises(InvalidValueError):
        max_quantity_within_cost(intent(), ACME, BPS_1, float("nan"))
    with pytest.raises(InvalidValueError):
        capacity_estimate(intent(), ACME, BPS_1, trade_fraction_of_capital=0.0)


@settings(max_examples=80, deadline=None)
@given(
    st.floats(1.0, 500.0),
    st.floats(0.001, 0.1),
    st.floats(1e3, 1e9),
    st.floats(0.0, 20.0),
    st.sampled_from(["0", "1.00", "5.00"]),
    st.floats(0.3, 1.0),
)
def test_capacity_root_has_zero_net_alpha(
    alpha: float, sigma: float, adv: float, spread: float, minimum: str, exponent: float
) -> None:
    config = CostAssessmentConfig(
        commission=CommissionConfig(kind="bps", bps=1.0, minimum=minimum),
        impact=SquareRootImpactConfig(exponent=exponent),
    )
    trade = intent(
        gross_alpha_bps=alpha, daily_volatility=sigma, average_daily_volume=adv, spread_bps=spread
    )
    estimate: CapacityEstimate = capacity_estimate(trade, ACME, config)
    assert estimate.capacity_quantity is not None
    if estimate.capacity_quantity > 0:
        curve = cost_curve(trade, ACME, config)
        assert abs(alpha - curve.cost_bps(estimate.capacity_quantity)) < 1e-9 * max(alpha, 1.0)


def leg(fraction: float = 0.05, per_rebalance: float = 1.0, **overrides: Any) -> CapacityLeg:
    trade = intent(**overrides)
    return CapacityLeg(
        curve=cost_curve(trade, ACME, BPS_1),
        gross_alpha_bps=trade.gross_alpha_bps,
        trade_fraction_of_capital=fraction,
        trades_per_rebalance=per_rebalance,
    )


def test_strategy_capacity_of_one_leg_is_that_trades_capacity_capital() -> None:
    single = capacity_estimate(intent(), ACME, BPS_1, trade_fraction_of_capital=0.05)
    assert single.capacity_capital == pytest.approx(18_225 * 50 / 0.05, rel=1e-12)
    assert strategy_capacity([leg()]) == pytest.approx(single.capacity_capital, rel=1e-12)
    # How often a leg trades scales its net alpha, not where it reaches zero.
    assert strategy_capacity([leg(per_rebalance=0.3)]) == pytest.approx(
        single.capacity_capital, rel=1e-12
    )


def test_a_pure_cost_hedge_leg_lowers_the_strategy_capacity() -> None:
    # Alpha leg: 27 bps edge after 2 bps half spread and 1 bp commission; hedge leg: 3 bps of
    # fixed cost, no alpha; both trade 5 % of capital with the same impact 200 sqrt(q / 1e6):
    # 27 - 3 = 2 * 200 sqrt(q / 1e6)  =>  q = 3,600 shares, notional 180,000, capital 3.6M.
    capital = strategy_capacity([leg(), leg(gross_alpha_bps=0.0)])
    assert capital == pytest.approx(3_600_000.0, rel=1e-12)


def test_strategy_capacity_is_unbounded_without_impact_and_zero_without_edge() -> None:
    assert strategy_capacity([leg(daily_volatility=0.0)]) is None
    assert strategy_capacity([leg(gross_alpha_bps=2.0)]) == 0.0
    with pytest.raises(InvalidValueError):
        strategy_capacity([])
    with pytest.raises(InvalidValueError):
        leg(fraction=0.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 300.0), st.floats(0.001, 0.5), st.floats(0.05, 3.0)),
        min_size=1,
        max_size=4,
    )
)
def test_strategy_net_alpha_is_zero_at_capacity_and_negative_beyond(
    rows: list[tuple[float, float, float]],
) -> None:
    legs = [leg(f, w, gross_alpha_bps=a) for a, f, w in rows]
    capital = strategy_capacity(legs)
    assert capital is not None

    def net(c: float) -> float:
        return sum(x.net_alpha_amount(c) for x in legs)

    if capital == 0.0:
        return
    scale = sum(x.trades_per_rebalance * x.trade_fraction_of_capital for x in legs) * capital
    assert abs(net(capital)) <= 1e-9 * scale
    assert net(capital * 1.01) < 0
    assert net(capital * 0.99) > 0

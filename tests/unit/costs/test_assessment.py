import math
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core import NANOS_PER_SECOND, InvalidValueError, Price, Quantity
from tradeloop.costs.assessment import (
    CostAssessment,
    CostAssessmentConfig,
    CostDecision,
    TradeIntent,
    assess_trade,
    cost_curve,
    estimate_cost,
)
from tradeloop.costs.delay import DelayCostConfig
from tradeloop.costs.fees import CommissionConfig, commission
from tradeloop.model import OrderSide, equity, future

ACME = equity("ACME")
BPS_1 = CostAssessmentConfig(commission=CommissionConfig(kind="bps", bps=1.0))


def intent(**overrides: Any) -> TradeIntent:
    # 50.00 a share, 2 % daily vol, ADV 1e6, 4 bps spread (2 bps paid), 30 bps of alpha.
    fields: dict[str, Any] = {
        "instrument_id": ACME.id,
        "side": OrderSide.BUY,
        "quantity": Quantity(100_000, 0),
        "reference_price": Price(5000, 2),
        "daily_volatility": 0.02,
        "average_daily_volume": 1_000_000.0,
        "spread_bps": 4.0,
        "gross_alpha_bps": 30.0,
    } | overrides
    return TradeIntent(**fields)


def test_cost_breakdown_adds_up_by_kind_in_bps_and_money() -> None:
    # 10,000 shares = 500,000 notional: commission 1 bps = 50, half spread 2 bps = 100,
    # impact 1 * 0.02 * sqrt(0.01) = 20 bps = 1,000; total 23 bps = 1,150.
    cost = estimate_cost(intent(quantity=Quantity(10_000, 0)), ACME, BPS_1)
    assert (cost.commission_bps, cost.spread_bps, cost.impact_bps, cost.delay_bps) == (
        pytest.approx(1.0),
        2.0,
        pytest.approx(20.0),
        0.0,
    )
    assert cost.total_bps == pytest.approx(23.0)
    assert cost.commission_amount == pytest.approx(50.0)
    assert cost.spread_amount == pytest.approx(100.0)
    assert cost.impact_amount == pytest.approx(1_000.0)
    assert cost.total_amount == pytest.approx(1_150.0)
    assert cost.currency == "USD"
    assert cost.notional == pytest.approx(500_000.0)


def test_commission_estimate_comes_from_the_fee_model_with_its_minimum() -> None:
    config = CostAssessmentConfig(
        commission=CommissionConfig(kind="per_share", per_share="0.005", minimum="1.00")
    )
    # 100 shares * 0.005 = 0.50, raised to the 1.00 minimum.
    cost = estimate_cost(intent(quantity=Quantity(100, 0)), ACME, config)
    assert cost.commission_amount == 1.0
    assert cost_curve(intent(), ACME, config).commission_amount(100.0) == 1.0


def test_delay_cost_appears_in_the_breakdown() -> None:
    hour = 3_600 * NANOS_PER_SECOND
    config = CostAssessmentConfig(delay=DelayCostConfig(alpha_half_life_ns=hour))
    cost = estimate_cost(intent(delay_ns=hour), ACME, config)
    assert cost.delay_bps == pytest.approx(15.0)  # half of 30 bps of alpha is gone


def test_intended_trade_below_the_optimum_is_traded_with_positive_net_alpha() -> None:
    # 1,000 shares: 1 + 2 + 200 * sqrt(0.001) = 9.32 bps of cost < 30 bps of alpha.
    assessment = assess_trade(intent(quantity=Quantity(1_000, 0)), ACME, BPS_1)
    assert assessment.decision == CostDecision.TRADE
    assert assessment.recommended_quantity == Quantity(1_000, 0)
    assert assessment.net_alpha_bps == pytest.approx(30 - 3 - 200 * math.sqrt(0.001))
    assert assessment.net_alpha_amount == pytest.approx(50_000 * assessment.net_alpha_bps / 1e4)
    assert "positive" in assessment.reason


def test_cost_above_alpha_at_every_size_is_skipped() -> None:
    # Half spread 2 + commission 1 = 3 bps > 2 bps of alpha before any impact.
    assessment = assess_trade(intent(gross_alpha_bps=2.0), ACME, BPS_1)
    assert assessment.decision == CostDecision.SKIP
    assert assessment.recommended_quantity.is_zero()
    assert assessment.recommended_cost is None
    assert assessment.net_alpha_bps < 0
    assert "exceeds gross alpha 2.00 bps" in assessment.reason
    assert assessment.capacity_quantity == 0.0


def test_oversized_trade_is_shrunk_to_the_brute_force_optimum() -> None:
    # net(Q) = Q * 50 * (30 - 3 - 200 sqrt(Q / 1e6)) / 1e4 is largest at
    # Q* = 1e6 * (27 / (1.5 * 200))^2 = 8,100 (net alpha per unit there is 27 / 3 = 9 bps).
    assessment = assess_trade(intent(), ACME, BPS_1)
    assert assessment.decision == CostDecision.SHRINK
    assert assessment.recommended_quantity == Quantity(8_100, 0)
    assert assessment.optimal_quantity == pytest.approx(8_100.0, rel=1e-12)
    assert assessment.recommended_net_alpha_bps == pytest.approx(9.0, rel=1e-9)
    sizes = np.arange(1, 100_001, dtype=np.float64)
    net = sizes * 50 * (27 - 200 * np.sqrt(sizes / 1e6)) / 1e4
    assert sizes[np.argmax(net)] == 8_100
    assert assessment.recommended_net_alpha_amount == pytest.approx(net.max(), rel=1e-9)


def test_shrink_with_a_binding_minimum_commission_matches_brute_force() -> None:
    # Price 10, ADV 10,000, 10 bps spread, per share 0.005 (5 bps) with a 2.00 minimum:
    # the minimum binds below 400 shares. There the net is Q * 10 * (60 - 5 - 200 sqrt(Q/1e4))
    # / 1e4 - 2, largest at 1e4 * (55 / 300)^2 = 336.1, inside the minimum's piece.
    config = CostAssessmentConfig(
        commission=CommissionConfig(kind="per_share", per_share="0.005", minimum="2.00")
    )
    small = intent(
        quantity=Quantity(5_000, 0),
        reference_price=Price(1000, 2),
        average_daily_volume=10_000.0,
        spread_bps=10.0,
        gross_alpha_bps=60.0,
    )
    assessment = assess_trade(small, ACME, config)
    assert assessment.decision == CostDecision.SHRINK
    assert assessment.optimal_quantity == pytest.approx(1e4 * (55 / 300) ** 2, rel=1e-12)
    nets = []
    for shares in range(1, 5_001):
        cost = estimate_cost(small, ACME, config, Quantity(shares, 0))
        nets.append(cost.notional * 60 / 1e4 - cost.total_amount)
    assert int(np.argmax(nets)) + 1 == assessment.recommended_quantity.raw == 336


@pytest.mark.parametrize(
    "fees",
    [
        CommissionConfig(kind="bps", bps=3.0, minimum="1.00"),
        CommissionConfig(kind="per_share", per_share="0.005", minimum="1.00", maximum_pct=1.5),
        CommissionConfig(kind="per_share", per_share="0.005", minimum="1.00", maximum_pct=0.5),
    ],
)
@pytest.mark.parametrize("price", [Price(50, 2), Price(5000, 2)])
def test_cost_curve_commission_equals_the_fee_model(fees: CommissionConfig, price: Price) -> None:
    curve = cost_curve(intent(reference_price=price), ACME, CostAssessmentConfig(commission=fees))
    for shares in (1, 7, 50, 133, 134, 199, 200, 201, 400, 1_000, 10_000, 1_000_000):
        exact = float(commission(fees, ACME, Quantity(shares, 0), price))
        assert curve.commission_amount(float(shares)) == pytest.approx(exact, rel=1e-12)


def test_shrink_under_a_cap_below_the_minimum_matches_brute_force() -> None:
    # A 0.50 stock: 0.005 a share is 100 bps, capped at 1.5 % with a 1.00 minimum, so the fee
    # is 150 bps of notional below 134 shares, 1.00 up to 200, then 100 bps: not convex.
    fees = CommissionConfig(kind="per_share", per_share="0.005", minimum="1.00", maximum_pct=1.5)
    config = CostAssessmentConfig(commission=fees)
    penny = intent(
        quantity=Quantity(20_000, 0),
        reference_price=Price(50, 2),
        daily_volatility=0.05,
        average_daily_volume=200_000.0,
        spread_bps=20.0,
        gross_alpha_bps=300.0,
    )
    assessment = assess_trade(penny, ACME, config)
    nets = [
        cost.notional * 300 / 1e4 - cost.total_amount
        for cost in (estimate_cost(penny, ACME, config, Quantity(q, 0)) for q in range(1, 20_001))
    ]
    best = int(np.argmax(nets)) + 1
    assert assessment.decision == CostDecision.SHRINK
    assert abs(assessment.recommended_quantity.raw - best) <= 1
    assert assessment.recommended_net_alpha_amount == pytest.approx(max(nets), rel=1e-6)


def test_minimum_commission_that_eats_the_edge_skips_the_trade() -> None:
    config = CostAssessmentConfig(
        commission=CommissionConfig(kind="per_share", per_share="0.005", minimum="1.00")
    )
    small = intent(
        reference_price=Price(1000, 2),
        average_daily_volume=10_000.0,
        spread_bps=10.0,
        gross_alpha_bps=30.0,
    )
    assessment = assess_trade(small, ACME, config)
    assert assessment.decision == CostDecision.SKIP
    best = max(
        estimate_cost(small, ACME, config, Quantity(q, 0)).notional * 30 / 1e4
        - estimate_cost(small, ACME, config, Quantity(q, 0)).total_amount
        for q in range(1, 2_000)
    )
    assert best < 0


def test_hurdle_shrinks_then_skips_a_marginal_trade() -> None:
    # 500 shares: cost 3 + 200 sqrt(0.0005) = 7.47 bps < 10 bps of alpha, and the optimum
    # 1e6 (7 / 300)^2 = 544 is above 500: trade. A 5 bps hurdle decides on 5 bps of alpha:
    # optimum 1e6 (2 / 300)^2 = 44.4 -> shrink to 44. An 8 bps hurdle leaves 2 < 3: skip.
    marginal = intent(quantity=Quantity(500, 0), gross_alpha_bps=10.0)
    assert assess_trade(marginal, ACME, BPS_1).decision == CostDecision.TRADE
    fees = CommissionConfig(kind="bps", bps=1.0)
    shrunk = assess_trade(marginal, ACME, CostAssessmentConfig(commission=fees, hurdle_bps=5))
    assert shrunk.decision == CostDecision.SHRINK
    assert shrunk.recommended_quantity == Quantity(44, 0)
    assert "hurdle 5 bps" in shrunk.reason
    skipped = assess_trade(marginal, ACME, CostAssessmentConfig(commission=fees, hurdle_bps=8))
    assert skipped.decision == CostDecision.SKIP


def test_shrinking_disabled_trades_or_skips_the_intended_size() -> None:
    no_shrink = CostAssessmentConfig(
        commission=CommissionConfig(kind="bps", bps=1.0), allow_shrink=False
    )
    assessment = assess_trade(intent(), ACME, no_shrink)
    assert assessment.decision == CostDecision.SKIP  # 66 bps of cost at 100,000 shares
    assert "not allowed" in assessment.reason
    moderate = assess_trade(intent(quantity=Quantity(9_000, 0)), ACME, no_shrink)
    assert moderate.decision == CostDecision.TRADE


def test_shrunk_size_is_rounded_down_to_the_lot_and_uses_the_multiplier() -> None:
    es = future(
        "ESH4", "XCME", currency_code="USD", price_precision=2, tick_size="0.25", multiplier="50"
    )
    contract = intent(
        instrument_id=es.id,
        quantity=Quantity(1_000, 0),
        reference_price=Price(500_000, 2),
        average_daily_volume=1_000_000.0,
        gross_alpha_bps=30.0,
    )
    assessment = assess_trade(contract, es, BPS_1)
    assert assessment.decision == CostDecision.TRADE  # 1,000 < 8,100 contracts
    assert assessment.cost.notional == pytest.approx(1_000 * 5_000 * 50)


def test_assessment_is_json_ready_and_round_trips() -> None:
    assessment = assess_trade(intent(), ACME, BPS_1)
    encoded = msgspec.json.encode(assessment)
    assert msgspec.json.decode(encoded, type=CostAssessment) == assessment


def test_intent_for_another_instrument_or_with_bad_inputs_is_rejected() -> None:
    with pytest.raises(InvalidValueError, match="is not instrument"):
        assess_trade(intent(instrument_id="OTHER.XNYS"), ACME)
    with pytest.raises(InvalidValueError, match="average daily volume 0"):
        intent(average_daily_volume=0.0)
    with pytest.raises(InvalidValueError, match="intended quantity 0"):
        intent(quantity=Quantity(0, 0))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 200_000),
    st.integers(1, 200_000),
    st.floats(0.0, 0.1),
    st.floats(0.0, 50.0),
    st.sampled_from(
        [
            CommissionConfig(),
            CommissionConfig(kind="bps", bps=2.0),
            CommissionConfig(kind="per_share", per_share="0.005", minimum="1", maximum_pct=1.0),
        ]
    ),
)
def test_costs_are_non_negative_and_total_money_grows_with_size(
    a: int, b: int, sigma: float, spread: float, fees: CommissionConfig
) -> None:
    config = CostAssessmentConfig(commission=fees)
    trade = intent(daily_volatility=sigma, spread_bps=spread)
    small, large = sorted((a, b))
    low = estimate_cost(trade, ACME, config, Quantity(small, 0))
    high = estimate_cost(trade, ACME, config, Quantity(large, 0))
    for cost in (low, high):
        assert min(cost.commission_bps, cost.spread_bps, cost.impact_bps, cost.delay_bps) >= 0
        assert min(cost.commission_amount, cost.impact_amount, cost.total_amount) >= 0
    assert low.total_amount <= high.total_amount + 1e-9
    assert low.impact_bps <= high.impact_bps


def test_only_the_share_expected_at_market_pays_the_half_spread_and_impact() -> None:
    # 10,000 shares, a quarter expected at market: half spread 2 * 0.25 = 0.5 bps, impact
    # 20 * 0.25 = 5 bps, commission 1 bps on everything: 6.5 bps.
    cost = estimate_cost(intent(quantity=Quantity(10_000, 0), taker_fraction=0.25), ACME, BPS_1)
    assert cost.spread_bps == pytest.approx(0.5)
    assert cost.impact_bps == pytest.approx(5.0)
    assert cost.commission_bps == pytest.approx(1.0)
    assert cost.total_bps == pytest.approx(6.5)
    assert cost.spread_amount == pytest.approx(25.0)


def test_slices_pay_impact_per_child_and_a_commission_minimum_each() -> None:
    # 10,000 shares in 4 children of 2,500: impact 1 * 0.02 * sqrt(2,500 / 1e6) = 10 bps.
    cost = estimate_cost(intent(quantity=Quantity(10_000, 0), slices=4), ACME, BPS_1)
    assert cost.impact_bps == pytest.approx(10.0)
    config = CostAssessmentConfig(
        commission=CommissionConfig(kind="per_share", per_share="0.005", minimum="1.00")
    )
    # 100 shares in 4 children of 25: 4 * max(25 * 0.005, 1.00) = 4.00.
    sliced = intent(quantity=Quantity(100, 0), slices=4)
    assert estimate_cost(sliced, ACME, config).commission_amount == pytest.approx(4.0)
    assert estimate_cost(intent(quantity=Quantity(100, 0)), ACME, config).commission_amount == 1.0


@pytest.mark.parametrize(
    ("profile", "optimum"),
    [
        # net(Q) = Q * 50 * (a - b sqrt(Q / (n ADV))) / 1e4 with a = 30 - 1 - 2 t, b = 200 t:
        # Q* = n ADV (a / 1.5 b)^2.
        ({"slices": 4}, 4e6 * (27 / 300) ** 2),
        ({"taker_fraction": 0.5}, 1e6 * (28 / 150) ** 2),
        ({"taker_fraction": 0.5, "slices": 2}, 2e6 * (28 / 150) ** 2),
    ],
)
def test_the_shrink_optimum_follows_the_execution_profile(
    profile: dict[str, Any], optimum: float
) -> None:
    profiled = intent(quantity=Quantity(200_000, 0), **profile)
    assessment = assess_trade(profiled, ACME, BPS_1)
    assert assessment.decision == CostDecision.SHRINK
    assert assessment.optimal_quantity == pytest.approx(optimum, rel=1e-12)
    sizes = np.arange(1, 200_001, dtype=np.float64)
    curve = cost_curve(profiled, ACME, BPS_1)
    net = [curve.net_alpha_amount(q, 30.0) for q in sizes]
    assert abs(sizes[int(np.argmax(net))] - optimum) < 1  # the best whole size is next to it
    assert assessment.recommended_quantity.raw == math.floor(optimum)  # rounded down to lots


def test_an_execution_profile_outside_its_range_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"taker fraction 1\.5"):
        intent(taker_fraction=1.5)
    with pytest.raises(InvalidValueError, match="slices 0"):
        intent(slices=0)

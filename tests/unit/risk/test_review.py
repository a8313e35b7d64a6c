import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core.errors import ConfigError
from tradeloop.model import TradingState, equity, future
from tradeloop.risk import ProposedChange, RiskReviewConfig, RiskReviewer

NAMES = [f"S{i}.XNAS" for i in range(4)]
INSTRUMENTS = {n: equity(n.split(".")[0], "XNAS") for n in NAMES}


def change(
    instrument_id: str, current: float, delta: float, price: float = 100.0, **kw: object
) -> ProposedChange:
    return ProposedChange(
        instrument_id=instrument_id,
        current_qty=current,
        delta_qty=delta,
        reference_price=price,
        band_reference_price=price,
        **kw,  # type: ignore[arg-type]
    )


def test_change_within_every_limit_is_approved_unchanged() -> None:
    reviewer = RiskReviewer(RiskReviewConfig(), INSTRUMENTS)
    [decision] = reviewer.review([change("S0.XNAS", 0, 100)], equity=100_000, cash=100_000)
    assert (decision.decision, decision.approved_qty, decision.reasons) == ("approved", 100.0, ())


def test_position_above_max_position_pct_is_resized_down_to_whole_lots() -> None:
    reviewer = RiskReviewer(RiskReviewConfig(max_position_pct=0.25), INSTRUMENTS)
    [decision] = reviewer.review(
        [change("S0.XNAS", 0, 400, price=99.0)], equity=100_000, cash=100_000
    )
    assert decision.decision == "resized"
    assert decision.approved_qty == 252.0  # 25,000 / 99 = 252.5 -> 252 shares
    assert "above the limit" in decision.reasons[0]


def test_fat_finger_price_outside_the_band_is_denied() -> None:
    reviewer = RiskReviewer(RiskReviewConfig(price_band_pct=0.05), INSTRUMENTS)
    wild = ProposedChange(
        instrument_id="S0.XNAS",
        current_qty=0,
        delta_qty=10,
        reference_price=120,
        band_reference_price=100,
    )
    [decision] = reviewer.review([wild], equity=100_000, cash=100_000)
    assert decision.decision == "denied"
    assert decision.reasons[0] == (
        "decision price 120 is 20.0% from the band reference price 100, beyond the 5% price "
        "band (a bad print or a disorderly market)"
    )
    inside = msgspec.structs.replace(wild, reference_price=104.9)
    assert reviewer.review([inside], 100_000, 100_000)[0].decision == "approved"


def test_change_outside_the_session_queues_or_is_denied_naming_the_calendar() -> None:
    closed = change(
        "S0.XNAS",
        0,
        10,
        is_session_open=False,
        session_note="XNYS has no session at 2008-07-04T20:00Z; next open 2008-07-07T13:30Z",
    )
    [queued] = RiskReviewer(RiskReviewConfig(), INSTRUMENTS).review([closed], 100_000, 100_000)
    assert queued.decision == "approved"
    assert queued.reasons == (
        "market closed (XNYS has no session at 2008-07-04T20:00Z; next open 2008-07-07T13:30Z): "
        "the order queues for the next session",
    )
    strict = RiskReviewer(RiskReviewConfig(deny_outside_session=True), INSTRUMENTS)
    [denied] = strict.review([closed], 100_000, 100_000)
    assert denied.decision == "denied"
    assert denied.reasons == (
        "market is closed (XNYS has no session at 2008-07-04T20:00Z; next open "
        "2008-07-07T13:30Z) and deny_outside_session is set",
    )


def test_a_binding_risk_exit_denies_the_rebalance_change_of_its_instrument_only() -> None:
    reviewer = RiskReviewer(RiskReviewConfig(), INSTRUMENTS)
    decisions = reviewer.review(
        [change("S0.XNAS", 100, 50), change("S1.XNAS", 0, 10)],
        100_000,
        100_000,
        binding_exits={"S0.XNAS": "risk exit risk-9 (stop_loss)"},
    )
    assert [(d.decision, d.approved_qty) for d in decisions] == [("denied", 0.0), ("approved", 10)]
    assert decisions[0].reasons == (
        "risk exit risk-9 (stop_loss) is binding on S0.XNAS this bar: the rebalance may not "
        "cancel it or trade the instrument",
    )


def test_halted_denies_everything_and_reducing_keeps_only_reductions() -> None:
    reviewer = RiskReviewer(RiskReviewConfig(), INSTRUMENTS)
    reviewer.state = TradingState.REDUCING
    add, cut = change("S0.XNAS", 100, 50), change("S1.XNAS", 100, -60)
    decisions = reviewer.review([add, cut], equity=100_000, cash=100_000)
    assert [d.decision for d in decisions] == ["denied", "approved"]
    reviewer.state = TradingState.HALTED
    assert [d.decision for d in reviewer.review([add, cut], 100_000, 100_000)] == [
        "denied",
        "denied",
    ]


def test_portfolio_limits_set_in_the_pipeline_say_where_they_moved() -> None:
    with pytest.raises(ConfigError, match=r"drawdown_pause_pct moved to the run config's \[risk\]"):
        RiskReviewConfig(drawdown_pause_pct=0.1)


def test_in_trade_rules_stop_loss_trailing_stop_and_partial_take_profit() -> None:
    reviewer = RiskReviewer(
        RiskReviewConfig(
            stop_loss_pct=0.1, take_profit_pct=0.2, take_profit_fraction=0.5, trailing_stop_pct=0.15
        ),
        INSTRUMENTS,
    )
    stop = reviewer.check_position("S0.XNAS", 100, 100.0, 89.0)
    assert stop is not None
    assert (stop.rule, stop.delta_qty) == ("stop_loss", -100)
    take = reviewer.check_position("S1.XNAS", 100, 100.0, 121.0)
    assert take is not None
    assert (take.rule, take.delta_qty) == ("take_profit", -50)
    assert reviewer.check_position("S1.XNAS", 50, 100.0, 140.0) is None  # once only
    trail = reviewer.check_position("S1.XNAS", 50, 100.0, 118.0)  # 15.7 % below the 140 peak
    assert trail is not None
    assert trail.rule == "trailing_stop"


def test_without_short_selling_a_sale_stops_at_flat() -> None:
    reviewer = RiskReviewer(RiskReviewConfig(allow_short=False), INSTRUMENTS)
    [decision] = reviewer.review([change("S0.XNAS", 30, -100)], 100_000, 100_000)
    assert decision.approved_qty == -30.0


changes = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.integers(-2_000, 2_000),
        st.integers(-3_000, 3_000),
        st.floats(1.0, 500.0),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda row: row[0],
)


@settings(max_examples=300, deadline=None)
@given(
    changes,
    st.floats(10_000, 1_000_000),
    st.floats(0.05, 0.5),
    st.floats(0.5, 2.0),
    st.floats(1_000, 100_000),
)
def test_risk_never_approves_beyond_a_limit(
    rows: list[tuple[str, int, int, float]],
    equity_value: float,
    max_position: float,
    max_leverage: float,
    max_order: float,
) -> None:
    config = RiskReviewConfig(
        max_position_pct=max_position, max_gross_leverage=max_leverage, max_order_notional=max_order
    )
    reviewer = RiskReviewer(config, INSTRUMENTS)
    proposed = [change(n, float(cur), float(delta), price) for n, cur, delta, price in rows]
    decisions = reviewer.review(proposed, equity_value, cash=equity_value)
    gross_before = sum(abs(c.current_qty) * c.reference_price for c in proposed)
    gross_after = 0.0
    for c, d in zip(proposed, decisions, strict=True):
        qty = d.approved_qty
        assert abs(qty) <= abs(c.delta_qty) + 1e-9  # never more than asked
        assert qty == 0 or (qty > 0) == (c.delta_qty > 0)  # never the other way
        assert abs(qty) * c.reference_price <= max_order + 1e-6  # order notional
        after = c.current_qty + qty
        if abs(after) > abs(c.current_qty):  # what adds exposure respects the position limit
            assert abs(after) * c.reference_price <= max_position * equity_value + 1e-6
        gross_after += abs(after) * c.reference_price
    assert gross_after <= max(max_leverage * equity_value, gross_before) + 1e-6


def test_futures_multiplier_counts_in_position_limits() -> None:
    es = future(
        "ESH4", "XCME", currency_code="USD", price_precision=2, tick_size="0.25", multiplier="50"
    )
    reviewer = RiskReviewer(
        RiskReviewConfig(max_position_pct=0.5, max_gross_leverage=10), {es.id: es}
    )
    [decision] = reviewer.review(
        [change(es.id, 0, 10, price=4000.0)], equity=1_000_000, cash=1_000_000
    )
    assert decision.approved_qty == 2.0  # 500,000 / (4,000 × 50) = 2.5 -> 2 contracts

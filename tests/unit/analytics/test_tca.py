import math

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.analytics.tca import (
    ArrivalPriceSource,
    MarketPrints,
    MarketQuotes,
    TcaFill,
    TcaOrder,
    TcaParent,
    TcaReport,
    fills_from_events,
    interval_twap,
    interval_vwap,
    order_tca,
    summarize_tca,
    tca_report,
)
from tradeloop.core import DataIntegrityError, InvalidValueError, Money, Price, Quantity
from tradeloop.model import LiquiditySide, OrderFilled, OrderSide, OrderType

S = 1_000_000_000  # one second in ns

# The tape over the buy order's life; three of the prints (*) filled our resting buy (maker
# fills: the simulated venue matched them against these recorded prints).
#   t = -5 s  99.99  x   100   (before arrival: the TWAP's starting price)
#   t =  5 s 100.00  x 2,000
#   t = 10 s 100.05  x   300 *
#   t = 15 s 100.10  x 2,700
#   t = 20 s 100.10  x   500 *
#   t = 25 s 100.20  x 1,500
#   t = 30 s 100.20  x   200 *
#   t = 40 s 100.50  x   999   (after the order's end: excluded)
TAPE = MarketPrints(
    np.array([-5, 5, 10, 15, 20, 25, 30, 40]) * S,
    [99.99, 100.00, 100.05, 100.10, 100.10, 100.20, 100.20, 100.50],
    [100, 2_000, 300, 2_700, 500, 1_500, 200, 999],
)
QUOTES = MarketQuotes(np.array([-1, 35]) * S, [99.98, 100.30], [100.02, 100.40])

BUY_1000 = TcaOrder(
    order_id="O-1",
    instrument_id="ACME.XNYS",
    side=OrderSide.BUY,
    quantity=1_000,
    arrival_ts_ns=0,
    fills=(
        TcaFill(ts_ns=10 * S, quantity=300, price=100.05, fee=1.50, is_maker=True),
        TcaFill(ts_ns=20 * S, quantity=500, price=100.10, fee=2.50, is_maker=True),
        TcaFill(ts_ns=30 * S, quantity=200, price=100.20, fee=1.00, is_maker=True),
    ),
)


def test_buy_of_1000_in_three_fills_matches_the_hand_computation() -> None:
    result = order_tca(BUY_1000, TAPE, QUOTES, ArrivalPriceSource.MID)
    # Arrival price: the mid of the quote at -1 s, (99.98 + 100.02) / 2 = 100.00.
    assert result.arrival_price == pytest.approx(100.00)
    # Average fill: (300 * 100.05 + 500 * 100.10 + 200 * 100.20) / 1,000
    #             = (30,015 + 50,050 + 20,040) / 1,000 = 100.105.
    assert result.average_fill_price == pytest.approx(100.105, rel=1e-12)
    assert result.fill_rate == 1.0
    assert result.end_ts_ns == 30 * S  # the last fill
    # Slippage vs arrival: (100.105 - 100) / 100 * 1e4 = 10.5 bps.
    assert result.slippage_bps == pytest.approx(10.5, rel=1e-9)
    # Shortfall: execution 1,000 * 0.105 = 105 plus fees 5 = 110 on 100,000 = 11 bps.
    assert result.execution_cost_amount == pytest.approx(105.0, rel=1e-9)
    assert result.opportunity_cost_amount == 0.0
    assert result.fees_amount == pytest.approx(5.0)
    assert result.shortfall_amount == pytest.approx(110.0, rel=1e-9)
    assert result.shortfall_bps == pytest.approx(11.0, rel=1e-9)
    # VWAP over [0, 30 s]: (200,000 + 30,015 + 270,270 + 50,050 + 150,300 + 20,040) / 7,200
    #                    = 720,675 / 7,200 = 100.09375.
    assert result.vwap == pytest.approx(100.09375, rel=1e-12)
    assert result.vwap_slippage_bps == pytest.approx(0.01125 / 100.09375 * 1e4, rel=1e-9)
    # TWAP over [0, 30 s], 5 s per level: (99.99 + 100.00 + 100.05 + 100.10 + 100.10 + 100.20)
    #                                     / 6 = 600.44 / 6 = 100.07333...
    assert result.twap == pytest.approx(600.44 / 6, rel=1e-12)
    assert result.twap_slippage_bps == pytest.approx(
        (100.105 - 600.44 / 6) / (600.44 / 6) * 1e4, rel=1e-9
    )
    # Participation: our 1,000 of the 7,200 printed in the interval (the prints that filled
    # us are on the tape already: nothing comes on top of it).
    assert result.market_volume == 7_200
    assert result.participation_volume == 7_200
    assert result.participation == pytest.approx(1_000 / 7_200)
    assert result.volume_ratio == pytest.approx(1_000 / 7_200)


def test_arrival_price_can_be_the_last_trade_instead_of_the_mid() -> None:
    # The last print at or before 0 is 99.99 at -5 s: slippage (100.105 - 99.99) / 99.99.
    result = order_tca(BUY_1000, TAPE, QUOTES, ArrivalPriceSource.LAST)
    assert result.arrival_price == 99.99
    assert result.slippage_bps == pytest.approx(0.115 / 99.99 * 1e4, rel=1e-9)


def test_partially_filled_sell_pays_opportunity_cost_on_the_unfilled_rest() -> None:
    # Sell 500 arriving at 50.10; 200 filled at 50.00; the rest is canceled with the price at
    # 49.80. Execution: -(200 * (50.00 - 50.10)) = 20. Opportunity: -(300 * (49.80 - 50.10))
    # = 90. Shortfall 110 on 500 * 50.10 = 25,050: 43.91 bps.
    sell = TcaOrder(
        order_id="O-2",
        instrument_id="ACME.XNYS",
        side=OrderSide.SELL,
        quantity=500,
        arrival_ts_ns=0,
        arrival_price=50.10,
        end_ts_ns=60 * S,
        end_price=49.80,
        fills=(TcaFill(ts_ns=10 * S, quantity=200, price=50.00),),
    )
    result = order_tca(sell)
    assert result.fill_rate == pytest.approx(0.4)
    assert result.execution_cost_amount == pytest.approx(20.0, rel=1e-9)
    assert result.opportunity_cost_amount == pytest.approx(90.0, rel=1e-9)
    assert result.shortfall_bps == pytest.approx(110 / 25_050 * 1e4, rel=1e-9)
    assert result.slippage_bps == pytest.approx(0.10 / 50.10 * 1e4, rel=1e-9)
    assert result.vwap is None
    assert (result.participation, result.volume_ratio, result.participation_volume) == (
        None,
        None,
        None,
    )


def test_summary_is_notional_weighted() -> None:
    buy = order_tca(BUY_1000, TAPE, QUOTES)
    sell = order_tca(
        TcaOrder(
            order_id="O-2",
            instrument_id="ACME.XNYS",
            side=OrderSide.SELL,
            quantity=500,
            arrival_ts_ns=0,
            arrival_price=50.10,
            end_price=49.80,
            end_ts_ns=60 * S,
            fills=(TcaFill(ts_ns=10 * S, quantity=200, price=50.00),),
        )
    )
    summary = summarize_tca([buy, sell])
    # Shortfall: (110 + 110) / (100,000 + 25,050) * 1e4.
    assert summary.shortfall_bps == pytest.approx(220 / 125_050 * 1e4, rel=1e-9)
    # Slippage weighted by filled notional at arrival (100,000 and 200 * 50.10 = 10,020),
    # which is total execution cost over that notional: (105 + 20) / 110,020 * 1e4.
    expected = (100_000 * 10.5 + 10_020 * (0.10 / 50.10 * 1e4)) / 110_020
    assert summary.slippage_bps == pytest.approx(expected, rel=1e-9)
    assert summary.slippage_bps == pytest.approx(125 / 110_020 * 1e4, rel=1e-9)
    assert summary.fill_rate == pytest.approx(110_020 / 125_050)
    assert summary.vwap_slippage_bps == pytest.approx(buy.vwap_slippage_bps)
    assert (summary.order_count, summary.filled_order_count) == (2, 2)


def test_report_uses_each_instruments_market_data_and_is_json_ready() -> None:
    report = tca_report([BUY_1000], prints={"ACME.XNYS": TAPE}, quotes={"ACME.XNYS": QUOTES})
    assert report.orders[0] == order_tca(BUY_1000, TAPE, QUOTES)
    assert msgspec.json.decode(msgspec.json.encode(report), type=TcaReport) == report


def test_twap_of_a_zero_length_interval_is_the_price_as_of_then() -> None:
    assert interval_twap(TAPE, 12 * S, 12 * S) == 100.05
    assert interval_twap(TAPE, -10 * S, -6 * S) is None
    # No print before the start: the average starts at the first print inside.
    assert interval_twap(TAPE, -10 * S, 5 * S) == pytest.approx((99.99 * 10) / 10)
    assert interval_vwap(TAPE, 31 * S, 39 * S) is None


def test_fills_from_events_drop_duplicate_trade_ids() -> None:
    def filled(trade_id: str, ts: int) -> OrderFilled:
        return OrderFilled(
            ts_event=ts,
            ts_init=ts,
            client_order_id="O-1",
            strategy_id="s",
            instrument_id="ACME.XNYS",
            venue_order_id="V-1",
            trade_id=trade_id,
            order_side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            last_qty=Quantity(300, 0),
            last_px=Price(10005, 2),
            commission=Money.from_str("1.50", "USD"),
            liquidity_side=LiquiditySide.TAKER,
        )

    fills = fills_from_events([filled("T-1", 10), filled("T-1", 11), filled("T-2", 12)])
    assert fills == (
        TcaFill(ts_ns=10, quantity=300.0, price=100.05, fee=1.5),
        TcaFill(ts_ns=12, quantity=300.0, price=100.05, fee=1.5),
    )
    maker = msgspec.structs.replace(filled("T-3", 13), liquidity_side=LiquiditySide.MAKER)
    assert fills_from_events([maker]) == (
        TcaFill(ts_ns=13, quantity=300.0, price=100.05, fee=1.5, is_maker=True),
    )


def test_bad_orders_and_market_data_are_rejected_with_reasons() -> None:
    early = msgspec.structs.replace(BUY_1000, fills=(TcaFill(ts_ns=-1, quantity=1, price=100.0),))
    with pytest.raises(DataIntegrityError, match="before its arrival"):
        order_tca(early, TAPE, QUOTES)
    over = msgspec.structs.replace(BUY_1000, quantity=900)
    with pytest.raises(DataIntegrityError, match="more than its quantity"):
        order_tca(over, TAPE, QUOTES)
    with pytest.raises(DataIntegrityError, match="no positive arrival price"):
        order_tca(BUY_1000)
    with pytest.raises(InvalidValueError, match="quantity 0"):
        order_tca(msgspec.structs.replace(BUY_1000, quantity=0))
    with pytest.raises(DataIntegrityError, match="sorted"):
        MarketPrints([2, 1], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(DataIntegrityError, match="differ in length"):
        MarketPrints([1, 2], [1.0], [1.0, 1.0])
    with pytest.raises(DataIntegrityError, match="at or below"):
        MarketQuotes([1], [10.0], [9.0])


@given(
    st.lists(
        # Volumes are zero or at least 1e-6: subnormal volumes (1e-323) lose all precision in
        # sum(p*v)/sum(v), which no market produces.
        st.tuples(
            st.integers(0, 10**6),
            st.floats(1.0, 1e4),
            st.one_of(st.just(0.0), st.floats(1e-6, 1e6)),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
)
def test_vwap_and_twap_lie_within_the_interval_prices(
    rows: list[tuple[int, float, float]], a: int, b: int
) -> None:
    rows.sort(key=lambda row: row[0])
    prints = MarketPrints([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    start, end = sorted((a, b))
    low, high = min(r[1] for r in rows), max(r[1] for r in rows)
    vwap = interval_vwap(prints, start, end)
    twap = interval_twap(prints, start, end)
    for value in (vwap, twap):
        if value is not None:
            assert low * (1 - 1e-12) <= value <= high * (1 + 1e-12)


def test_a_parent_is_its_children_measured_together_against_its_own_arrival() -> None:
    # A parent buy of 1,000 decided at 0 (mid 100.00) was routed: 600 on ACME.XNYS (the
    # three fills of BUY_1000 less 400) and 400 on ACME.BATS at 100.30 at 12 s. Its children
    # arrived later (at 8 s, mid unknown to them): the parent is what the decision paid.
    other = MarketPrints(np.array([12, 50]) * S, [100.30, 100.40], [1_000, 500])
    parent = TcaParent(
        order=TcaOrder(
            order_id="P-1",
            instrument_id="ACME.XNYS",
            side=OrderSide.BUY,
            quantity=1_000,
            arrival_ts_ns=0,
            end_ts_ns=30 * S,
            fills=(
                TcaFill(ts_ns=10 * S, quantity=300, price=100.05),
                TcaFill(ts_ns=12 * S, quantity=400, price=100.30),
                TcaFill(ts_ns=20 * S, quantity=300, price=100.10),
            ),
        ),
        algorithm="sor",
        child_order_ids=("O-1", "O-2"),
        instruments=("ACME.BATS", "ACME.XNYS"),
    )
    report = tca_report(
        [],
        prints={"ACME.XNYS": TAPE, "ACME.BATS": other},
        quotes={"ACME.XNYS": QUOTES},
        parents=[parent],
    )
    (result,) = report.parents
    average = (300 * 100.05 + 400 * 100.30 + 300 * 100.10) / 1_000
    assert result.tca.arrival_price == pytest.approx(100.00)
    assert result.tca.slippage_bps == pytest.approx((average - 100.00) / 100.00 * 1e4)
    # VWAP and TWAP are the parent instrument's; the volume behind participation is both
    # venues': 2,000 + 300 + 2,700 + 500 + 1,500 + 200 on XNYS in [0, 30 s], 1,000 on BATS.
    assert result.tca.vwap == pytest.approx(interval_vwap(TAPE, 0, 30 * S))
    # The children took liquidity (taker fills): had they been there, 8,200 + 1,000 traded.
    assert result.tca.market_volume == 7_200 + 1_000
    assert result.tca.participation_volume == 9_200
    assert result.tca.participation == pytest.approx(1_000 / 9_200)
    assert result.tca.volume_ratio == pytest.approx(1_000 / 8_200)
    assert report.parent_summary is not None
    assert report.parent_summary.shortfall_bps == pytest.approx(result.tca.shortfall_bps)
    assert msgspec.json.decode(msgspec.json.encode(report), type=TcaReport) == report


# -- participation in a simulation: our fills are not on the recorded tape ---------------------

# A simulated market buy of 1,000 (taker) swept the book at 10 s, 20 s and 30 s; the recorded
# tape over its life (the market without us) printed 2,000 + 2,700 + 1,500 = 6,200.
SIM_TAPE = MarketPrints(
    np.array([-5, 5, 15, 25, 40]) * S,
    [99.99, 100.00, 100.10, 100.20, 100.50],
    [100, 2_000, 2_700, 1_500, 999],
)


def test_a_taker_fill_comes_on_top_of_the_recorded_volume_hand_checked() -> None:
    taker = msgspec.structs.replace(
        BUY_1000, fills=tuple(msgspec.structs.replace(f, is_maker=False) for f in BUY_1000.fills)
    )
    result = order_tca(taker, SIM_TAPE, QUOTES)
    # Had we been there, 6,200 + 1,000 = 7,200 would have traded: we were 1,000 / 7,200.
    assert result.market_volume == 6_200
    assert result.participation_volume == 7_200
    assert result.participation == pytest.approx(1_000 / 7_200)
    # The raw ratio to the tape: 1,000 / 6,200.
    assert result.volume_ratio == pytest.approx(1_000 / 6_200)


def test_maker_and_taker_fills_and_a_thin_tape_hand_checked() -> None:
    # 300 resting (maker, matched against the 2,000 print at 5 s) then 500 taken from the book
    # at 20 s: 6,200 + 500 = 6,700 traded with us; 800 of it ours.
    mixed = msgspec.structs.replace(
        BUY_1000,
        quantity=800,
        fills=(
            TcaFill(ts_ns=5 * S, quantity=300, price=100.00, is_maker=True),
            TcaFill(ts_ns=20 * S, quantity=500, price=100.10),
        ),
        end_ts_ns=30 * S,
    )
    result = order_tca(mixed, SIM_TAPE, QUOTES)
    assert result.participation_volume == 6_700
    assert result.participation == pytest.approx(800 / 6_700)
    # A tape thinner than our fills (10 printed while we took 1,000): we were all but 10 of
    # it, the raw ratio is 100; with no print at all we were the whole market.
    thin = MarketPrints(np.array([-5, 5]) * S, [99.99, 100.00], [100, 10])
    taker = msgspec.structs.replace(
        BUY_1000, fills=(TcaFill(ts_ns=10 * S, quantity=1_000, price=100.05),)
    )
    result = order_tca(taker, thin, QUOTES)
    assert (result.participation, result.volume_ratio) == (pytest.approx(1_000 / 1_010), 100.0)
    empty = MarketPrints(np.array([-5]) * S, [99.99], [100])
    result = order_tca(taker, empty, QUOTES)
    assert (result.participation, result.volume_ratio) == (1.0, None)
    # A maker fill beyond the printed volume (level 1 fills a limit along the bar's path):
    # never more than the whole market.
    maker = msgspec.structs.replace(
        taker, fills=(TcaFill(ts_ns=10 * S, quantity=1_000, price=100.05, is_maker=True),)
    )
    result = order_tca(maker, thin, QUOTES)
    assert (result.participation_volume, result.participation) == (1_000, 1.0)


@given(
    st.lists(
        st.tuples(st.integers(0, 100), st.one_of(st.just(0.0), st.floats(1e-6, 1e6))),
        min_size=1,
        max_size=30,
    ),
    st.lists(
        st.tuples(st.integers(1, 100), st.floats(1e-6, 1e5), st.booleans()),
        max_size=10,
    ),
)
def test_participation_is_a_share_within_zero_and_one(
    tape: list[tuple[int, float]], fills: list[tuple[int, float, bool]]
) -> None:
    tape.sort(key=lambda row: row[0])
    prints = MarketPrints([t for t, _ in tape], [100.0] * len(tape), [v for _, v in tape])
    order = TcaOrder(
        order_id="O-P",
        instrument_id="ACME.XNYS",
        side=OrderSide.BUY,
        quantity=max(1.0, math.fsum(q for _, q, _ in fills)),
        arrival_ts_ns=0,
        arrival_price=100.0,
        end_ts_ns=100,
        end_price=100.0,
        fills=tuple(TcaFill(ts_ns=t, quantity=q, price=100.0, is_maker=m) for t, q, m in fills),
    )
    result = order_tca(order, prints)
    summary = summarize_tca([result])
    for value in (result.participation, summary.participation):
        assert value is None or 0.0 <= value <= 1.0
    if result.filled_quantity > 0:
        assert result.participation is not None
    if all(not m for _, _, m in fills) and result.filled_quantity > 0:
        expected = result.filled_quantity / (result.market_volume + result.filled_quantity)
        assert result.participation == pytest.approx(expected, rel=1e-12)
    if result.market_volume > 0:
        assert result.volume_ratio == pytest.approx(result.filled_quantity / result.market_volume)

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.bus import MessageBus
from tradeloop.core import Money, Price, Quantity, TestClock
from tradeloop.journal import MemoryJournal
from tradeloop.model import (
    AccountStateChanged,
    Instrument,
    LiquiditySide,
    OrderFilled,
    OrderSide,
    OrderType,
    PositionChanged,
    PositionSide,
    crypto_perpetual,
    equity,
    future,
)
from tradeloop.portfolio import Portfolio

AAPL = equity("AAPL", "XNAS")
ES = future(
    "ESH4", "XCME", currency_code="USD", price_precision=2, tick_size="0.25", multiplier="50"
)
BTC = crypto_perpetual(
    "BTCUSD-PERP", "SIM", base="BTC", quote="USD", price_precision=1, size_precision=3
)


def make_portfolio(
    *instruments: Instrument, cash: str = "1000000"
) -> tuple[Portfolio, MemoryJournal]:
    journal = MemoryJournal()
    portfolio = Portfolio(
        TestClock(),
        MessageBus(),
        journal,
        {i.id: i for i in instruments},
        Money.from_str(cash, "USD"),
    )
    return portfolio, journal


def fill(
    instrument: Instrument, side: OrderSide, qty_raw: int, px_raw: int, fee_raw: int, n: int
) -> OrderFilled:
    return OrderFilled(
        client_order_id=f"O-{n}",
        strategy_id="s",
        instrument_id=instrument.id,
        venue_order_id=f"V-{n}",
        trade_id=f"T-{n}",
        order_side=side,
        order_type=OrderType.MARKET,
        last_qty=Quantity(qty_raw, instrument.size_precision),
        last_px=Price(px_raw, instrument.price_precision),
        commission=Money(fee_raw, "USD"),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=n,
        ts_init=n,
    )


def test_long_round_trip_realizes_the_price_move_less_fees() -> None:
    portfolio, journal = make_portfolio(AAPL, cash="10000")
    portfolio.apply_fill(
        fill(AAPL, OrderSide.BUY, 10, 10000, 1_000_000_000, 1)
    )  # 10 @ 100.00, fee 1
    portfolio.apply_fill(
        fill(AAPL, OrderSide.BUY, 10, 11000, 1_000_000_000, 2)
    )  # 10 @ 110.00, fee 1
    position = portfolio.position(AAPL.id, "s")
    assert position is not None
    assert position.avg_px_open == 105.0
    portfolio.apply_fill(fill(AAPL, OrderSide.SELL, 5, 12000, 1_000_000_000, 3))  # 5 @ 120.00
    assert position.realized_pnl == Money.from_str("75", "USD")  # 5 * (120 - 105)
    assert (
        portfolio.cash_raw()
        == Money.from_str("10000", "USD").raw - 2100 * 10**9 + 600 * 10**9 - 3 * 10**9
    )
    portfolio.marks[AAPL.id] = Price(13000, 2)
    assert portfolio.equity() == Money.from_str(str(10000 - 2100 + 600 - 3 + 15 * 130), "USD")
    changes = [r for r in journal.records if isinstance(r, PositionChanged)]
    assert [c.side for c in changes] == [PositionSide.LONG] * 3
    assert isinstance(journal.records[-1], AccountStateChanged)


def test_futures_settle_only_pnl_and_flip_from_long_to_short() -> None:
    portfolio, _ = make_portfolio(ES, cash="100000")
    portfolio.apply_fill(fill(ES, OrderSide.BUY, 2, 480000, 0, 1))  # long 2 @ 4800
    assert portfolio.cash_raw() == Money.from_str("100000", "USD").raw  # no notional paid
    portfolio.apply_fill(
        fill(ES, OrderSide.SELL, 3, 481000, 0, 2)
    )  # sell 3 @ 4810: +1000 realized, short 1
    position = portfolio.position(ES.id, "s")
    assert position is not None
    assert position.side is PositionSide.SHORT
    assert position.realized_pnl == Money.from_str("1000", "USD")  # 2 * 10 points * 50
    assert position.avg_px_open == 4810.0
    portfolio.marks[ES.id] = Price(480500, 2)
    assert portfolio.equity() == Money.from_str(str(100000 + 1000 + 250), "USD")


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 2]),
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(min_value=1, max_value=5000),
        st.integers(min_value=1, max_value=10**7),
        st.integers(min_value=0, max_value=10**10),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(fills_strategy)
def test_cash_plus_marked_positions_less_fees_is_conserved_through_any_fills(
    fills: list[Any],
) -> None:
    instruments = [AAPL, ES, BTC]
    portfolio, _ = make_portfolio(*instruments)
    fees = 0
    for n, (which, side, qty, px, fee) in enumerate(fills):
        instrument = instruments[which]
        mark = Price(px, instrument.price_precision)
        portfolio.marks[instrument.id] = mark  # value everything at the fill price
        before = portfolio.equity_raw()
        portfolio.apply_fill(fill(instrument, side, qty, px, fee, n))
        fees += fee
        assert portfolio.equity_raw() == before - fee
    assert portfolio.fees == fees
    start_raw = Money.from_str("1000000", "USD").raw
    assert (
        portfolio.equity_raw() == start_raw + portfolio.realized + portfolio.unrealized_raw() - fees
    )


@settings(max_examples=200, deadline=None)
@given(fills_strategy)
def test_net_position_equals_signed_sum_of_fills(fills: list[Any]) -> None:
    instruments = [AAPL, ES, BTC]
    portfolio, _ = make_portfolio(*instruments)
    expected = {i.id: 0 for i in instruments}
    for n, (which, side, qty, px, fee) in enumerate(fills):
        instrument = instruments[which]
        portfolio.apply_fill(fill(instrument, side, qty, px, fee, n))
        expected[instrument.id] += qty if side is OrderSide.BUY else -qty
    for instrument_id, signed in expected.items():
        assert portfolio.position_raw(instrument_id) == signed

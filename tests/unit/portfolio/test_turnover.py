"""The turnover limit over the whole book: every trade counts and the limit always holds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import Money, Price
from tradeloop.model.instruments import crypto_spot, equity, future
from tradeloop.portfolio import book_turnover, limit_turnover

SPY = equity("SPY", "ARCX")
AAPL = equity("AAPL", "XNAS")
BTC = crypto_spot(
    "BTCUSDT",
    "SIM",
    base="BTC",
    quote="USD",
    price_precision=2,
    size_precision=5,
    lot_size="0.001",
)
ES = future(
    "ESZ4", "XCME", currency_code="USD", price_precision=2, tick_size="0.25", multiplier="50"
)
INSTRUMENTS = {i.id: i for i in (SPY, AAPL, BTC, ES)}
PRICES = {
    SPY.id: Price.from_str("400.00"),
    AAPL.id: Price.from_str("190.37"),
    BTC.id: Price.from_str("43210.55"),
    ES.id: Price.from_str("4500.25"),
}
EQUITY = Money.from_str("100000", "USD")


def test_a_name_sold_off_and_the_hedge_leg_count_toward_the_limit() -> None:
    # AAPL is sold off (its score is gone, no weight of its own) and SPY is the hedge: the
    # book trades 19,037 + 8,000 = 27,037 (27 % of equity) against a 10 % limit.
    current = {AAPL.id: 100, SPY.id: -10}
    target = {AAPL.id: 0, SPY.id: -30}
    assert book_turnover(
        target, current, prices=PRICES, instruments=INSTRUMENTS, equity=EQUITY
    ) == pytest.approx(0.27037)
    limited = limit_turnover(
        target, current, prices=PRICES, instruments=INSTRUMENTS, equity=EQUITY, max_turnover=0.10
    )
    assert limited.turnover_before == pytest.approx(0.27037)
    assert limited.scale == pytest.approx(10_000 / 27_037)
    # Each trade scaled by the same fraction, rounded toward zero: sell 36 AAPL, short 7 SPY.
    assert dict(limited.target_signed_raw) == {AAPL.id: 64, SPY.id: -17}
    assert limited.turnover_after == pytest.approx((36 * 190.37 + 7 * 400) / 100_000)
    assert limited.turnover_after <= 0.10


def test_within_the_limit_nothing_changes() -> None:
    target, current = {AAPL.id: 110}, {AAPL.id: 100, SPY.id: 5}
    limited = limit_turnover(
        target, current, prices=PRICES, instruments=INSTRUMENTS, equity=EQUITY, max_turnover=0.5
    )
    assert dict(limited.target_signed_raw) == {AAPL.id: 110, SPY.id: 5}
    assert limited.scale == 1.0


def test_a_zero_limit_trades_nothing_and_bad_limits_are_refused() -> None:
    limited = limit_turnover(
        {AAPL.id: 50}, {}, prices=PRICES, instruments=INSTRUMENTS, equity=EQUITY, max_turnover=0
    )
    assert dict(limited.target_signed_raw) == {AAPL.id: 0}
    with pytest.raises(InvalidValueError, match="max_turnover nan"):
        limit_turnover(
            {}, {}, prices=PRICES, instruments=INSTRUMENTS, equity=EQUITY, max_turnover=float("nan")
        )


positions = st.dictionaries(
    st.sampled_from(sorted(INSTRUMENTS)),
    st.integers(min_value=-5_000, max_value=5_000),
    max_size=4,
)


def _lots(book: dict[str, int]) -> dict[str, int]:
    # Positions are whole lots (the BTC lot is 100 raw at 5 decimals).
    return {k: v * INSTRUMENTS[k].lot_size_raw for k, v in book.items()}


@settings(max_examples=300, deadline=None)
@given(positions, positions, st.floats(min_value=0.0, max_value=3.0))
def test_turnover_never_exceeds_the_limit_and_trades_only_shrink_toward_the_current_book(
    target: dict[str, int], current: dict[str, int], max_turnover: float
) -> None:
    target, current = _lots(target), _lots(current)
    limited = limit_turnover(
        target,
        current,
        prices=PRICES,
        instruments=INSTRUMENTS,
        equity=EQUITY,
        max_turnover=max_turnover,
    )
    after = limited.target_signed_raw
    turnover = book_turnover(after, current, prices=PRICES, instruments=INSTRUMENTS, equity=EQUITY)
    assert turnover * EQUITY.raw <= max_turnover * EQUITY.raw + 1e-6  # exact in money raw
    assert turnover == pytest.approx(limited.turnover_after)
    for name, position in after.items():
        now = current.get(name, 0)
        wanted = target.get(name, now)
        # Each trade keeps its direction and never grows; whole lots only.
        assert abs(position - now) <= abs(wanted - now)
        assert (position - now) * (wanted - now) >= 0
        assert (position - now) % INSTRUMENTS[name].lot_size_raw == 0

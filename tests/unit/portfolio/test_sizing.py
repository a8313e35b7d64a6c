"""Sizing: float target weights become lot-rounded quantities, never above the target."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import Money, Price
from tradeloop.model.enums import OrderSide
from tradeloop.model.instruments import Instrument, crypto_spot, equity, future
from tradeloop.portfolio.sizing import size_target_weights

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


def exact_notional(instrument: Instrument, signed_raw: int) -> Decimal:
    quantity = Decimal(abs(signed_raw)).scaleb(-instrument.size_precision)
    return quantity * PRICES[instrument.id].as_decimal() * Decimal(instrument.multiplier)


def test_weights_become_quantities_rounded_toward_zero_to_the_lot():
    result = size_target_weights(
        {SPY.id: 0.5, BTC.id: 0.3, ES.id: -0.9},
        equity=EQUITY,
        prices=PRICES,
        instruments=INSTRUMENTS,
        current_signed_raw={},
    )
    # 50,000 / 400 = 125 shares; 30,000 / 43,210.55 = 0.69427... BTC -> 0.694 (lot 0.001);
    # 90,000 / (4,500.25 x 50) = 0.39997... contracts -> 0 (a short rounds toward zero too).
    assert result.target_signed_raw == {SPY.id: 125, BTC.id: 69400, ES.id: 0}
    orders = {order.instrument_id: order for order in result.orders}
    assert set(orders) == {SPY.id, BTC.id}
    assert orders[SPY.id].side is OrderSide.BUY
    assert str(orders[SPY.id].quantity) == "125"
    assert str(orders[BTC.id].quantity) == "0.69400"
    assert orders[SPY.id].notional == Money.from_str("50000", "USD")


def test_a_short_weight_sells_and_deltas_are_taken_against_current_positions():
    result = size_target_weights(
        {SPY.id: -0.2, AAPL.id: 0.1},
        equity=EQUITY,
        prices=PRICES,
        instruments=INSTRUMENTS,
        current_signed_raw={SPY.id: 30, AAPL.id: 52},
    )
    orders = {order.instrument_id: order for order in result.orders}
    # SPY: target -50, current +30 -> sell 80 (a flip); AAPL: target 52 -> no order.
    assert orders[SPY.id].side is OrderSide.SELL
    assert orders[SPY.id].quantity.raw == 80
    assert orders[SPY.id].target_signed_raw == -50
    assert AAPL.id not in orders
    assert result.target_signed_raw[AAPL.id] == 52


def test_the_regime_multiplier_scales_every_target():
    full = size_target_weights(
        {SPY.id: 0.8},
        equity=EQUITY,
        prices=PRICES,
        instruments=INSTRUMENTS,
        current_signed_raw={},
    )
    half = size_target_weights(
        {SPY.id: 0.8},
        equity=EQUITY,
        prices=PRICES,
        instruments=INSTRUMENTS,
        current_signed_raw={},
        regime_multiplier=0.5,
    )
    assert full.target_signed_raw[SPY.id] == 200
    assert half.target_signed_raw[SPY.id] == 100


def test_a_dust_trade_that_adds_exposure_is_skipped_but_a_reduction_is_kept():
    minimum = Money.from_str("1000", "USD")
    adding = size_target_weights(
        {SPY.id: 0.5},
        equity=EQUITY,
        prices=PRICES,
        instruments=INSTRUMENTS,
        current_signed_raw={SPY.id: 123},
        min_trade_notional=minimum,
    )
    assert adding.orders == ()
    assert adding.skipped[0].delta_signed_raw == 2
    assert "below min_trade_notional" in adding.skipped[0].reason
    reducing = size_target_weights(
        {SPY.id: 0.5},
        equity=EQUITY,
        prices=PRICES,
        instruments=INSTRUMENTS,
        current_signed_raw={SPY.id: 127},
        min_trade_notional=minimum,
    )
    assert [(o.side, o.quantity.raw) for o in reducing.orders] == [(OrderSide.SELL, 2)]


def test_a_delta_below_the_instrument_minimum_quantity_is_skipped_and_reported():
    lot_bound = Instrument(
        id="XYZ.SIM",
        kind=SPY.kind,
        quote_currency="USD",
        price_precision=2,
        size_precision=0,
        min_quantity_raw=10,
    )
    result = size_target_weights(
        {lot_bound.id: 0.001},
        equity=EQUITY,
        prices={lot_bound.id: Price.from_str("20.00")},
        instruments={lot_bound.id: lot_bound},
        current_signed_raw={},
    )
    assert result.orders == ()
    assert "minimum quantity" in result.skipped[0].reason


def test_a_held_instrument_without_a_target_weight_is_an_error_not_a_silent_close():
    with pytest.raises(InvalidValueError, match="give 0 to close"):
        size_target_weights(
            {SPY.id: 0.1},
            equity=EQUITY,
            prices=PRICES,
            instruments=INSTRUMENTS,
            current_signed_raw={AAPL.id: 10},
        )


def test_invalid_sizing_inputs_are_rejected():
    arguments = {"prices": PRICES, "instruments": INSTRUMENTS, "current_signed_raw": {}}
    with pytest.raises(InvalidValueError, match="finite"):
        size_target_weights({SPY.id: float("nan")}, equity=EQUITY, **arguments)
    with pytest.raises(InvalidValueError, match="regime multiplier"):
        size_target_weights({SPY.id: 0.1}, equity=EQUITY, regime_multiplier=-1.0, **arguments)
    with pytest.raises(InvalidValueError, match="equity"):
        size_target_weights({SPY.id: 0.1}, equity=Money.zero("USD"), **arguments)
    with pytest.raises(InvalidValueError, match="does not convert currencies"):
        size_target_weights({SPY.id: 0.1}, equity=Money.from_str("1000", "EUR"), **arguments)
    with pytest.raises(InvalidValueError, match="unknown"):
        size_target_weights({"NOPE.SIM": 0.1}, equity=EQUITY, **arguments)


weights = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)
positions = st.integers(min_value=-1_000_000, max_value=1_000_000)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(dict.fromkeys(INSTRUMENTS, weights)),
    st.fixed_dictionaries(dict.fromkeys(INSTRUMENTS, positions)),
    st.floats(min_value=0.0, max_value=2.0),
    st.sampled_from(["0.01", "1", "250000", "12345678.9"]),
    st.sampled_from([None, "0", "500", "5000"]),
)
def test_sizing_never_exceeds_the_target_gross_and_trades_whole_lots(
    target_weights, current, multiplier, equity_text, min_notional_text
):
    equity_value = Money.from_str(equity_text, "USD")
    min_notional = None if min_notional_text is None else Money.from_str(min_notional_text, "USD")
    result = size_target_weights(
        target_weights,
        equity=equity_value,
        prices=PRICES,
        instruments=INSTRUMENTS,
        current_signed_raw=current,
        regime_multiplier=multiplier,
        min_trade_notional=min_notional,
    )
    with localcontext(prec=200):  # exact: the bounds are compared without rounding
        budget = equity_value.as_decimal() * Decimal(multiplier)
        gross = Decimal(0)
        for instrument_id, target in result.target_signed_raw.items():
            instrument = INSTRUMENTS[instrument_id]
            weight = target_weights[instrument_id]
            assert target == 0 or (target > 0) == (weight > 0)
            assert target % instrument.lot_size_raw == 0
            notional = exact_notional(instrument, target)
            assert notional <= Decimal(abs(weight)) * budget
            gross += notional
        assert gross <= sum(Decimal(abs(w)) for w in target_weights.values()) * budget
    after = dict(current)
    for order in result.orders:
        signed = order.quantity.raw if order.side is OrderSide.BUY else -order.quantity.raw
        after[order.instrument_id] += signed
        assert after[order.instrument_id] == order.target_signed_raw
    # Skipped dust never leaves a position larger than its target, on the target's side.
    for skipped in result.skipped:
        target = result.target_signed_raw[skipped.instrument_id]
        held = after[skipped.instrument_id]
        assert abs(held) <= abs(target)
        assert held == 0 or (held > 0) == (target > 0)

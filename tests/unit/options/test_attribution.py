"""Options P&L attribution: the parts add up exactly; each Greek explains its own move; the
residual is third order in the spot move."""

from __future__ import annotations

import msgspec
import pytest

from tradeloop.core.errors import InvalidValueError
from tradeloop.model.hedging import OptionMark
from tradeloop.options import greeks, price
from tradeloop.options.attribution import (
    COMPONENTS,
    attribute_linear,
    attribute_option,
    totals,
)

DAY = 86_400 * 10**9


def _mark(spot: float, vol: float, t: float, r: float = 0.01, quantity: float = -5.0) -> OptionMark:
    g = greeks(spot=spot, strike=100.0, t=t, r=r, q=0.02, sigma=vol, option_type="call", order=1)
    return OptionMark(
        instrument_id="X C100.OPRA",
        underlying_id="X.XNAS",
        option_type="call",
        strike=100.0,
        spot=spot,
        price=g.price,
        implied_vol=vol,
        t=t,
        r=r,
        q=0.02,
        quantity=quantity,
        multiplier=100.0,
        delta=g.delta,
        gamma=g.gamma,
        vega=g.vega,
        theta=g.theta,
        rho=g.rho,
    )


def test_the_parts_of_each_step_add_up_to_its_pnl() -> None:
    marks = [
        (0, _mark(100, 0.2, 0.5)),
        (DAY, _mark(103, 0.22, 0.497, 0.012)),
        (2 * DAY, _mark(97, 0.25, 0.494)),
    ]
    steps = attribute_option(marks, [-5.0, -3.0])
    for step in steps:
        assert step.pnl == pytest.approx(sum(step.part(n) for n in COMPONENTS), abs=1e-9)
    assert steps[0].pnl == pytest.approx(-5 * 100 * (marks[1][1].price - marks[0][1].price))
    total = totals(steps)
    assert total["pnl"] == pytest.approx(sum(s.pnl for s in steps))


def test_each_greek_explains_its_own_move() -> None:
    base = _mark(100, 0.2, 0.5)
    only_time = attribute_option([(0, base), (DAY, _mark(100, 0.2, 0.5 - 1 / 365))], [1.0])[0]
    assert only_time.theta == pytest.approx(only_time.pnl, rel=2e-3)
    only_vol = attribute_option([(0, base), (DAY, _mark(100, 0.2001, 0.5))], [1.0])[0]
    assert only_vol.vega == pytest.approx(only_vol.pnl, rel=1e-3)
    assert only_vol.delta == only_vol.theta == 0.0
    only_rate = attribute_option([(0, base), (DAY, _mark(100, 0.2, 0.5, r=0.0101))], [1.0])[0]
    assert only_rate.rho == pytest.approx(only_rate.pnl, rel=1e-3)


def test_the_residual_of_a_spot_move_is_third_order() -> None:
    base = _mark(100, 0.2, 0.5)
    residuals = [
        attribute_option([(0, base), (DAY, _mark(100 + h, 0.2, 0.5))], [1.0])[0].residual
        for h in (1.0, 0.5)
    ]
    assert residuals[0] / residuals[1] == pytest.approx(8.0, rel=0.1)  # O(dS^3)
    step = attribute_option([(0, base), (DAY, _mark(101, 0.2, 0.5))], [1.0])[0]
    exact = 100 * (
        price(spot=101.0, strike=100.0, t=0.5, r=0.01, q=0.02, sigma=0.2, option_type="call")
        - base.price
    )
    assert step.delta + step.gamma == pytest.approx(exact, rel=1e-3)


def test_a_linear_position_is_all_delta() -> None:
    steps = attribute_linear("X.XNAS", [0, DAY, 2 * DAY], [100.0, 101.5, 99.0], [200.0, -50.0])
    assert [s.pnl for s in steps] == [300.0, 125.0]
    assert all(s.delta == s.pnl and s.residual == 0.0 for s in steps)


def test_bad_input_is_refused() -> None:
    marks = [(0, _mark(100, 0.2, 0.5)), (DAY, _mark(101, 0.2, 0.5))]
    with pytest.raises(InvalidValueError, match="2 marks need 1 quantities"):
        attribute_option(marks, [1.0, 2.0])
    other = msgspec.structs.replace(marks[1][1], instrument_id="Y P90.OPRA")
    with pytest.raises(InvalidValueError, match="several instruments"):
        attribute_option([marks[0], (DAY, other)], [1.0])
    with pytest.raises(InvalidValueError, match="time order"):
        attribute_option([marks[1], marks[0]], [1.0])

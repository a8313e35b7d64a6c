"""Level 3: the linear (Almgren–Chriss) model's temporary and permanent impact, by hand."""

from typing import Any

from tradeloop.core import Quantity, TestClock
from tradeloop.model import Bar, OrderFactory, OrderFilled, OrderSide, SubmitOrder, crypto_spot
from tradeloop.venues import SimulatedVenue, SimVenueConfig
from tradeloop.venues.sim.config import ImpactConfig

X = crypto_spot("XUSD", "SIM", base="X", quote="USD", price_precision=2, size_precision=0)


def _fills(impact: ImpactConfig, orders: list[int]) -> list[tuple[float, float, Any]]:
    clock = TestClock(0)
    events: list[Any] = []
    venue = SimulatedVenue("SIM", SimVenueConfig(impact=impact), clock, {X.id: X}, events.append)
    factory = OrderFactory("s", clock)
    t = 0

    def bar(close: int) -> None:
        nonlocal t
        t += 60
        clock.set_time(t)
        venue.on_bar(Bar(X.id, 10000, 11000, 9000, close, 10_000, 2, 0, t, t))

    for i in range(6):  # history: closes alternate, volume 10,000 a bar (ADV 10,000)
        bar(10000 + 100 * (i % 2))
    for qty in orders:
        order = factory.market(X.id, OrderSide.BUY, Quantity(qty, 0))
        venue.submit_order(SubmitOrder(strategy_id="s", ts_init=t, order=order))
        bar(10000)
    return [
        (float(e.reference_px), float(e.last_px), e.costs)
        for e in events
        if isinstance(e, OrderFilled)
    ]


def test_linear_temporary_impact_is_bps_per_unit_of_participation() -> None:
    # 1,000 of an ADV of 10,000: participation 0.1; 50 bps per unit -> 5 bps = 0.05 on 100.
    (fill,) = _fills(ImpactConfig(model="linear", temporary_bps=50.0, window=5), [1_000])
    reference, price, costs = fill
    assert (reference, price) == (100.0, 100.05)
    assert costs.impact == round(0.05 * 1_000 * 1e9)
    assert costs.spread == costs.slippage == 0


def test_permanent_impact_moves_later_fills_and_decays_by_its_half_life() -> None:
    # First fill: 5 bps temporary, no permanent yet; it leaves 100 x 0.1 = 10 bps, halved by
    # the next bar (half-life one bar): the second fill pays 5 + 5 = 10 bps.
    config = ImpactConfig(
        model="linear",
        temporary_bps=50.0,
        permanent_bps=100.0,
        permanent_half_life_bars=1.0,
        window=5,
    )
    first, second = _fills(config, [1_000, 1_000])
    assert first[1] == 100.05
    assert second[1] == 100.10

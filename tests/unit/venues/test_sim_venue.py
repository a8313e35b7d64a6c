from typing import Any

import pytest

from tradeloop.core import Price, Quantity, TestClock
from tradeloop.costs import CommissionConfig, SlippageConfig
from tradeloop.model import (
    AggressorSide,
    Bar,
    CancelOrder,
    ModifyOrder,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFactory,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderSide,
    OrderTriggered,
    OrderUpdated,
    QuoteTick,
    SubmitOrder,
    TimeInForce,
    TradeTick,
    crypto_spot,
)
from tradeloop.venues import SimulatedVenue, SimVenueConfig

X = crypto_spot("XUSD", "SIM", base="BTC", quote="USD", price_precision=2, size_precision=0)
BUY, SELL = OrderSide.BUY, OrderSide.SELL


class Harness:
    def __init__(self, **config: Any) -> None:
        self.clock = TestClock(0)
        self.events: list[Any] = []
        self.venue = SimulatedVenue(
            "SIM", SimVenueConfig(**config), self.clock, {X.id: X}, self.events.append
        )
        self.factory = OrderFactory("s", self.clock)
        self.t = 0

    def submit(self, order: OrderInitialized) -> OrderInitialized:
        self.venue.submit_order(
            SubmitOrder(strategy_id="s", ts_init=self.clock.now_ns, order=order)
        )
        return order

    def bar(self, o: float, h: float, low: float, c: float, volume: int = 1_000_000) -> None:
        self.t += 60
        self.clock.set_time(self.t)
        p = lambda v: round(v * 100)  # noqa: E731
        self.venue.on_bar(Bar(X.id, p(o), p(h), p(low), p(c), volume, 2, 0, self.t, self.t))

    def fills(self) -> list[tuple[str, int, float]]:
        return [
            (e.client_order_id, e.last_qty.raw, float(e.last_px))
            for e in self.events
            if isinstance(e, OrderFilled)
        ]

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def market(self, side: OrderSide, qty: int, **kw: Any) -> OrderInitialized:
        return self.submit(self.factory.market(X.id, side, Quantity(qty, 0), **kw))

    def limit(self, side: OrderSide, qty: int, price: float, **kw: Any) -> OrderInitialized:
        return self.submit(
            self.factory.limit(X.id, side, Quantity(qty, 0), X.make_price(price), **kw)
        )

    def stop(self, side: OrderSide, qty: int, trigger: float, **kw: Any) -> OrderInitialized:
        return self.submit(
            self.factory.stop_market(X.id, side, Quantity(qty, 0), X.make_price(trigger), **kw)
        )


def test_market_order_fills_at_next_bar_open_with_bps_commission() -> None:
    h = Harness(commission=CommissionConfig(kind="bps", bps=10))
    h.bar(100, 101, 99, 100.5)
    order = h.market(BUY, 10)
    assert h.of(OrderAccepted)
    assert not h.fills()
    h.bar(100.7, 102, 100, 101)
    assert h.fills() == [(order.client_order_id, 10, 100.7)]
    assert h.of(OrderFilled)[0].commission.as_float() == pytest.approx(1.007)


def test_market_order_in_close_mode_fills_at_once_at_last_close() -> None:
    h = Harness(market_fill="close")
    h.bar(100, 101, 99, 100.5)
    h.market(BUY, 3)
    assert h.fills() == [("O-s-1", 3, 100.5)]


def test_slippage_moves_against_the_trader_but_never_outside_the_bar() -> None:
    h = Harness(slippage=SlippageConfig(kind="ticks", ticks=3))
    h.bar(100, 101, 99, 100)
    h.market(BUY, 1)
    h.market(SELL, 1)
    h.bar(100, 100.02, 99.99, 100)
    assert [f[2] for f in h.fills()] == [100.02, 99.99]


def test_limit_buy_needs_trade_through_by_default_and_touch_when_configured() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    h.limit(BUY, 5, 98)
    h.bar(99.5, 100, 98, 99)  # low touches 98: not through
    assert h.fills() == []
    h.bar(99, 99.5, 97.99, 98.5)  # trades through by a tick
    assert h.fills() == [("O-s-1", 5, 98.0)]
    t = Harness(limit_fill="touch")
    t.bar(100, 101, 99, 100)
    t.limit(BUY, 5, 98)
    t.bar(99.5, 100, 98, 99)
    assert t.fills() == [("O-s-1", 5, 98.0)]


def test_limit_buy_gapped_through_at_the_open_fills_at_the_open() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    h.limit(BUY, 5, 98)
    h.bar(97, 99, 96, 98)
    assert h.fills() == [("O-s-1", 5, 97.0)]


def test_stop_buy_triggers_inside_the_bar_at_its_trigger() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    h.stop(BUY, 2, 102)
    h.bar(100.5, 103, 100, 102.5)
    assert h.of(OrderTriggered)
    assert h.fills() == [("O-s-1", 2, 102.0)]


def test_stop_sell_gapped_through_fills_at_the_open() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    h.stop(SELL, 2, 98)
    h.bar(95, 96, 94, 95.5)
    assert h.fills() == [("O-s-1", 2, 95.0)]


def test_bar_path_takes_the_nearer_extreme_first() -> None:
    # Open 100, high 100.5 (nearer), low 97: path 100 -> 100.5 -> 97 -> close.
    # A buy stop at 100.4 triggers on the way up, a sell stop at 97.5 on the way down.
    h = Harness()
    h.bar(100, 101, 99, 100)
    buy_stop = h.stop(BUY, 1, 100.4)
    sell_stop = h.stop(SELL, 1, 97.5)
    h.bar(100, 100.5, 97, 98)
    assert [f[0] for f in h.fills()] == [buy_stop.client_order_id, sell_stop.client_order_id]


def test_stop_limit_triggers_then_rests_as_a_limit_until_price_comes_back() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    order = h.submit(
        h.factory.stop_limit(X.id, BUY, Quantity(1, 0), X.make_price(101.5), X.make_price(102))
    )
    h.bar(100, 102.5, 99.5, 102.4)  # path 100 -> 99.5 -> 102.5 -> 102.4: triggered at 102
    assert h.of(OrderTriggered)
    assert h.fills() == []  # limit 101.5 below the trigger, price never came back below it after
    h.bar(102, 102.2, 101.2, 101.8)
    assert h.fills() == [(order.client_order_id, 1, 101.5)]


def test_participation_cap_splits_a_market_order_over_bars() -> None:
    h = Harness(max_participation=0.1)
    h.bar(100, 101, 99, 100, volume=1000)
    h.market(BUY, 250)
    h.bar(100, 101, 99, 100, volume=1000)
    h.bar(101, 102, 100, 101, volume=1000)
    h.bar(102, 103, 101, 102, volume=600)
    assert h.fills() == [("O-s-1", 100, 100.0), ("O-s-1", 100, 101.0), ("O-s-1", 50, 102.0)]


def test_ioc_is_canceled_after_the_open_and_fok_fills_all_or_nothing() -> None:
    h = Harness(max_participation=0.1)
    h.bar(100, 101, 99, 100, volume=1000)
    h.limit(BUY, 300, 100.5, time_in_force=TimeInForce.IOC)
    h.limit(BUY, 300, 100.5, time_in_force=TimeInForce.FOK)
    h.bar(100, 101, 99, 100, volume=2000)  # budget 200
    assert h.fills() == [("O-s-1", 200, 100.0)]
    assert [e.client_order_id for e in h.of(OrderCanceled)] == ["O-s-1", "O-s-2"]


def test_gtd_order_expires_at_its_time_and_day_order_at_midnight_for_24_7() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    h.limit(BUY, 1, 50, time_in_force=TimeInForce.GTD, expire_time_ns=150)
    h.limit(BUY, 1, 50, time_in_force=TimeInForce.DAY)
    h.bar(100, 101, 99, 100)  # t=120
    assert not h.of(OrderExpired)
    h.bar(100, 101, 99, 100)  # t=180 >= 150
    assert [e.client_order_id for e in h.of(OrderExpired)] == ["O-s-1"]


def test_post_only_limit_that_would_take_is_rejected() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    h.limit(BUY, 1, 100.5, post_only=True)
    assert h.of(OrderRejected)[0].reason == "post-only order at 100.50 would take liquidity"


def test_reduce_only_never_flips_the_position() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    h.market(BUY, 5)
    h.bar(100, 101, 99, 100)
    h.market(SELL, 8, reduce_only=True)
    h.bar(100, 101, 99, 100)
    assert h.fills() == [("O-s-1", 5, 100.0), ("O-s-2", 5, 100.0)]


def test_cancel_and_modify_of_working_orders() -> None:
    h = Harness()
    h.bar(100, 101, 99, 100)
    order = h.limit(BUY, 5, 95)
    h.venue.modify_order(
        ModifyOrder(
            strategy_id="s",
            ts_init=1,
            instrument_id=X.id,
            client_order_id=order.client_order_id,
            price=X.make_price(99.5),
        )
    )
    assert h.of(OrderUpdated)[0].price == Price(9950, 2)
    h.venue.cancel_order(
        CancelOrder(
            strategy_id="s",
            ts_init=1,
            instrument_id=X.id,
            client_order_id=order.client_order_id,
            reason="kill switch (risk-3)",
        )
    )
    assert [e.reason for e in h.of(OrderCanceled)] == ["kill switch (risk-3)"]
    h.bar(90, 91, 89, 90)
    assert h.fills() == []


def test_quotes_level_fills_market_at_the_ask_up_to_displayed_size() -> None:
    h = Harness(fidelity="quotes")

    def q(bid, ask, size):
        return QuoteTick(
            X.id, X.make_price(bid), X.make_price(ask), Quantity(size, 0), Quantity(size, 0), 1, 1
        )

    h.venue.on_quote(q(99.9, 100.1, 3))
    h.market(BUY, 5)
    assert h.fills() == [("O-s-1", 3, 100.1)]
    h.venue.on_quote(q(99.9, 100.2, 10))
    assert h.fills()[-1] == ("O-s-1", 2, 100.2)


def test_quotes_level_resting_limit_fills_at_its_price_when_a_trade_goes_through() -> None:
    h = Harness(fidelity="quotes")
    h.venue.on_quote(
        QuoteTick(
            X.id, X.make_price(99.9), X.make_price(100.1), Quantity(5, 0), Quantity(5, 0), 1, 1
        )
    )
    h.limit(BUY, 4, 99.8)
    assert h.fills() == []
    h.venue.on_trade(
        TradeTick(X.id, X.make_price(99.8), Quantity(10, 0), AggressorSide.SELLER, "t1", 2, 2)
    )
    assert h.fills() == []  # at the limit, not through it
    h.venue.on_trade(
        TradeTick(X.id, X.make_price(99.7), Quantity(3, 0), AggressorSide.SELLER, "t2", 3, 3)
    )
    assert h.fills() == [("O-s-1", 3, 99.8)]


def _costs(h: Harness) -> list[tuple[float, float, Any]]:
    return [(float(e.reference_px), float(e.last_px), e.costs) for e in h.of(OrderFilled)]


def test_taker_fill_pays_the_half_spread_over_the_open_and_reports_it() -> None:
    h = Harness(half_spread_bps=10.0)
    h.bar(100, 101, 99, 100)
    h.market(BUY, 10)
    h.bar(100, 101, 99, 100)
    reference, price, costs = _costs(h)[0]
    assert (reference, price) == (100.0, 100.1)
    assert costs.spread == 10 * 10**8  # 0.10 × 10 units, money raw at 9 decimals
    assert costs.total == round((price - reference) * 10 * 1e9)


def test_square_root_impact_grows_with_size_and_costs_sum_to_the_price_difference() -> None:
    from tradeloop.venues.sim.config import ImpactConfig

    def impact_of(qty: int) -> Any:
        h = Harness(impact=ImpactConfig(window=5))
        for i in range(8):  # history for sigma and ADV: alternating closes, volume 10,000
            h.bar(100, 101, 99, 100 + (i % 2), volume=10_000)
        h.market(BUY, qty)
        h.bar(100, 110, 90, 100, volume=10_000)
        reference, price, costs = _costs(h)[0]
        assert costs.spread == costs.slippage == 0
        assert costs.total == round((price - reference) * qty * 1e9)
        return (price - reference) / reference

    small, large = impact_of(100), impact_of(400)
    assert 0 < small < large
    assert abs(large / small - 2.0) < 0.15  # √4 = 2, up to one-tick rounding


def test_adjustments_that_would_leave_the_bar_are_scaled_down_together() -> None:
    h = Harness(half_spread_bps=100.0, slippage=SlippageConfig(kind="bps", bps=100.0))
    h.bar(100, 101, 99, 100)
    h.market(BUY, 1)
    h.bar(100, 100.5, 99, 100)  # spread 1.00 + slippage 1.00 would reach 102, the high is 100.5
    _reference, price, costs = _costs(h)[0]
    assert price == 100.5
    assert costs.spread + costs.slippage == round(0.5 * 1e9)
    assert costs.spread == costs.slippage


def test_a_limit_fill_at_its_price_carries_zero_costs_not_none() -> None:
    # "No cost" (measured: zeros) is told apart from "not measured" (None) in the journal.
    h = Harness(half_spread_bps=10.0)
    h.bar(100, 101, 99, 100)
    h.limit(BUY, 5, 99.5)
    h.bar(100, 101, 99, 100)
    reference, price, costs = _costs(h)[0]
    assert reference == price == 99.5
    assert costs is not None
    assert costs.total == 0

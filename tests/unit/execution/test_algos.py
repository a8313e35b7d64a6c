"""Execution algorithms: each schedule on a hand-checked case, cancellation and progress."""

import math
from typing import Any

import pytest

from tradeloop.core import ConfigError, Money, Price, Quantity, TestClock
from tradeloop.costs.almgren_chriss import AlmgrenChrissConfig
from tradeloop.execution.algos import ExecutionPlan, make_algorithm
from tradeloop.model import (
    AggressorSide,
    Bar,
    OrderAccepted,
    OrderCanceled,
    OrderFactory,
    OrderFilled,
    OrderSide,
    OrderSubmitted,
    TradeTick,
    equity,
)
from tradeloop.model.decisions import ExecutionCompleted, ExecutionProgressed
from tradeloop.model.enums import LiquiditySide, OrderType
from tradeloop.model.orders import Order

STOCK = equity("ABC", "XNAS", calendar=None)


class Gateway:
    """Orders go nowhere: the test plays the venue (accept, fill, cancel)."""

    def __init__(self, clock: TestClock) -> None:
        self.order_factory = OrderFactory("s", clock)
        self.clock = clock
        self.orders: list[Order] = []
        self.cancel_requests: list[str] = []

    def submit_order(self, init: Any) -> Order:
        order = Order(init)
        ids = {
            "client_order_id": init.client_order_id,
            "strategy_id": "s",
            "instrument_id": init.instrument_id,
            "ts_event": self.clock.now_ns,
            "ts_init": self.clock.now_ns,
        }
        order.apply(OrderSubmitted(venue="XNAS", **ids))
        order.apply(OrderAccepted(venue_order_id=f"V{len(self.orders)}", **ids))
        self.orders.append(order)
        return order

    def cancel_order(self, order: Order | str) -> bool:
        self.cancel_requests.append(order if isinstance(order, str) else order.client_order_id)
        return True


class Run:
    def __init__(self, **plan: Any) -> None:
        self.clock = TestClock(1_000)
        self.gateway = Gateway(self.clock)
        self.emitted: list[Any] = []
        defaults: dict[str, Any] = {
            "instrument_id": STOCK.id,
            "side": OrderSide.BUY,
            "parent_order_id": "P-1",
            "rebalance_id": "R-1",
            "arrival_price": Price(10000, 2),
        }
        defaults.update(plan)
        self.algo = make_algorithm(
            ExecutionPlan(**defaults), STOCK, self.gateway, self.clock, self.emitted.append
        )
        self.algo.start()
        self.trades = 0

    def bar(self, volume: int = 1_000) -> None:
        self.clock.set_time(self.clock.now_ns + 60)
        t = self.clock.now_ns
        self.algo.on_bar(Bar(STOCK.id, 10000, 10000, 10000, 10000, volume, 2, 0, t, t))

    def trade(self, size: int, at_ns: int) -> None:
        self.clock.advance_time(at_ns)
        self.algo.on_trade(
            TradeTick(
                STOCK.id,
                Price(10000, 2),
                Quantity(size, 0),
                AggressorSide.BUYER,
                f"m{at_ns}",
                at_ns,
                at_ns,
            )
        )

    def sizes(self) -> list[int]:
        return [o.quantity.raw for o in self.gateway.orders]

    def fill(self, order: Order, qty: int, price: int = 10000) -> None:
        self.trades += 1
        event = OrderFilled(
            client_order_id=order.client_order_id,
            strategy_id="s",
            instrument_id=STOCK.id,
            venue_order_id=order.venue_order_id or "V",
            trade_id=f"T{self.trades}",
            order_side=order.side,
            order_type=order.order_type,
            last_qty=Quantity(qty, 0),
            last_px=Price(price, 2),
            commission=Money(0, "USD"),
            liquidity_side=LiquiditySide.TAKER,
            ts_event=self.clock.now_ns,
            ts_init=self.clock.now_ns,
        )
        order.apply(event)
        self.algo.on_order_event(event)

    def cancel_ack(self, order: Order) -> None:
        event = OrderCanceled(
            client_order_id=order.client_order_id,
            strategy_id="s",
            instrument_id=STOCK.id,
            venue_order_id=order.venue_order_id,
            ts_event=self.clock.now_ns,
            ts_init=self.clock.now_ns,
        )
        order.apply(event)
        self.algo.on_order_event(event)

    def fill_all(self) -> None:
        for order in self.gateway.orders:
            if order.is_open:
                self.fill(order, order.quantity.raw - order.filled_raw)

    def completed(self) -> list[ExecutionCompleted]:
        return [e for e in self.emitted if isinstance(e, ExecutionCompleted)]


def test_immediate_sends_one_market_order_for_everything() -> None:
    run = Run(quantity=Quantity(7, 0), algorithm="immediate")
    (order,) = run.gateway.orders
    assert (order.order_type, order.quantity.raw) == (OrderType.MARKET, 7)
    run.fill(order, 7)
    assert [e.outcome for e in run.completed()] == ["filled"]


def test_twap_sends_equal_slices_one_per_bar_with_the_remainder_last() -> None:
    run = Run(quantity=Quantity(10, 0), algorithm="twap", slices=3)
    assert run.sizes() == [3]
    run.bar()
    run.bar()
    run.bar()  # no fourth slice
    assert run.sizes() == [3, 3, 4]


def test_vwap_sizes_slices_by_the_volume_profile() -> None:
    run = Run(quantity=Quantity(8, 0), algorithm="vwap", slices=3, weights=(1.0, 2.0, 1.0))
    run.bar()
    run.bar()
    assert run.sizes() == [2, 4, 2]


def test_pov_sends_its_share_of_each_bar_until_done() -> None:
    run = Run(quantity=Quantity(20, 0), algorithm="pov", rate=0.1)
    assert run.sizes() == []
    run.bar(volume=50)
    run.fill_all()
    run.bar(volume=120)
    run.fill_all()
    run.bar(volume=500)  # 50 wanted, 3 left
    assert run.sizes() == [5, 12, 3]


def test_limit_then_market_converts_after_the_timeout() -> None:
    run = Run(
        quantity=Quantity(10, 0), algorithm="limit_then_market", timeout_bars=2, offset_ticks=2
    )
    (limit,) = run.gateway.orders
    assert (limit.order_type, limit.price) == (OrderType.LIMIT, Price(9998, 2))
    run.fill(limit, 4)
    run.bar()
    assert run.gateway.cancel_requests == []
    run.bar()
    assert run.gateway.cancel_requests == [limit.client_order_id]
    run.cancel_ack(limit)
    market = run.gateway.orders[-1]
    assert (market.order_type, market.quantity.raw) == (OrderType.MARKET, 6)


def _closed_form_holdings(
    x: float, horizon: float, n: int, sigma: float, config: AlmgrenChrissConfig
) -> list[float]:
    # Almgren and Chriss (2000), eq. (18)-(19), written out independently of the library.
    tau = horizon / n
    eta_tilde = config.temporary_impact - config.permanent_impact * tau / 2
    kappa_tilde_sq = config.risk_aversion * sigma**2 / eta_tilde
    kappa = math.acosh(kappa_tilde_sq * tau**2 / 2 + 1) / tau
    return [
        x * math.sinh(kappa * (horizon - j * tau)) / math.sinh(kappa * horizon)
        for j in range(n + 1)
    ]


def test_implementation_shortfall_follows_the_almgren_chriss_trajectory() -> None:
    # The paper's example: 1,000,000 shares over 5 days in 5 slices, sigma 0.95 $/share/sqrt(day),
    # eta 2.5e-6, gamma 2.5e-7, epsilon 1/16, lambda 2e-6.
    config = AlmgrenChrissConfig(
        permanent_impact=2.5e-7, temporary_impact=2.5e-6, fixed_cost=0.0625, risk_aversion=2e-6
    )
    run = Run(
        quantity=Quantity(1_000_000, 0),
        algorithm="implementation_shortfall",
        slices=5,
        almgren_chriss=config,
        volatility=0.95,
        horizon_days=5.0,
    )
    for _ in range(4):
        run.bar()
    holdings = _closed_form_holdings(1_000_000, 5.0, 5, 0.95, config)
    targets = [math.floor(1_000_000 - h) for h in holdings[1:-1]] + [1_000_000]
    expected = [b - a for a, b in zip([0, *targets[:-1]], targets, strict=True)]
    assert run.sizes() == expected
    assert run.sizes()[0] > run.sizes()[-1]  # risk aversion front-loads
    assert sum(run.sizes()) == 1_000_000


def test_implementation_shortfall_without_risk_aversion_is_twap() -> None:
    config = AlmgrenChrissConfig(permanent_impact=2.5e-7, temporary_impact=2.5e-6)
    run = Run(
        quantity=Quantity(1_000, 0),
        algorithm="implementation_shortfall",
        slices=4,
        almgren_chriss=config,
        volatility=0.95,
    )
    for _ in range(3):
        run.bar()
    assert run.sizes() == [250, 250, 250, 250]


def test_iceberg_shows_the_display_quantity_and_refills_when_it_is_filled() -> None:
    run = Run(
        quantity=Quantity(10, 0),
        algorithm="iceberg",
        display_quantity=Quantity(4, 0),
        limit_price=Price(9990, 2),
    )
    first = run.gateway.orders[0]
    assert (first.quantity.raw, first.price) == (4, Price(9990, 2))
    run.fill(first, 3)
    assert run.sizes() == [4]  # the shown part is not filled yet
    run.fill(first, 1)
    assert run.sizes() == [4, 4]
    run.fill(run.gateway.orders[1], 4)
    assert run.sizes() == [4, 4, 2]
    run.fill(run.gateway.orders[2], 2)
    (done,) = run.completed()
    assert (done.outcome, done.filled_qty) == ("filled", 10.0)
    progress = [e for e in run.emitted if isinstance(e, ExecutionProgressed)]
    assert [(p.filled_qty, p.remaining_qty) for p in progress] == [
        (3.0, 7.0),
        (4.0, 6.0),
        (8.0, 2.0),
        (10.0, 0.0),
    ]


def test_iceberg_cancel_cancels_the_shown_child() -> None:
    run = Run(quantity=Quantity(10, 0), algorithm="iceberg", display_quantity=Quantity(4, 0))
    child = run.gateway.orders[0]
    assert child.price == Price(10000, 2)  # the arrival price, no offset
    run.algo.cancel()
    assert run.gateway.cancel_requests == [child.client_order_id]
    assert [e.outcome for e in run.completed()] == ["canceled"]


def test_clock_driven_twap_slices_on_the_timer_and_stops_it_when_done_or_canceled() -> None:
    run = Run(quantity=Quantity(9, 0), algorithm="twap", slices=3, interval_ns=500)
    assert run.clock.timer_names() == ["algo.P-1"]
    run.bar()  # bars do not drive a clock-driven plan
    assert run.sizes() == [3]
    run.clock.advance_time(1_500)
    assert run.sizes() == [3, 3]
    run.clock.advance_time(2_000)
    assert run.sizes() == [3, 3, 3]
    assert run.clock.timer_names() == []
    other = Run(quantity=Quantity(9, 0), algorithm="twap", slices=3, interval_ns=500)
    other.algo.cancel()
    assert other.clock.timer_names() == []
    other.clock.advance_time(5_000)
    assert other.sizes() == [3]


def test_plans_missing_their_algorithm_settings_are_config_errors() -> None:
    base: dict[str, Any] = {
        "instrument_id": STOCK.id,
        "side": OrderSide.BUY,
        "quantity": Quantity(10, 0),
        "parent_order_id": "P",
        "rebalance_id": "R",
        "arrival_price": Price(100, 0),
    }
    with pytest.raises(ConfigError, match="implementation_shortfall needs almgren_chriss"):
        ExecutionPlan(algorithm="implementation_shortfall", **base)
    with pytest.raises(ConfigError, match="iceberg needs a positive display_quantity"):
        ExecutionPlan(algorithm="iceberg", **base)
    with pytest.raises(ConfigError, match="interval_ns -1 must be >= 0"):
        ExecutionPlan(algorithm="twap", interval_ns=-1, **base)
    with pytest.raises(ConfigError, match="timeout_ns -1 must be >= 0"):
        ExecutionPlan(algorithm="limit_then_market", timeout_ns=-1, **base)


def test_clock_driven_pov_follows_the_printed_volume_hand_checked() -> None:
    # rate 10 % of prints, every 1,000 ns from t = 1,000: cumulative volume 75 -> 7 wanted;
    # 95 -> 9 (2 more); 99 -> 9 (nothing: the 0.9 carries); 100 -> 10 (1 more, done).
    run = Run(quantity=Quantity(10, 0), algorithm="pov", rate=0.1, interval_ns=1_000)
    assert run.clock.timer_names() == ["algo.P-1"]
    run.trade(30, 1_200)
    run.trade(45, 1_900)
    run.bar(volume=10_000)  # a clock-driven plan counts prints, not bars, once prints arrive
    assert run.sizes() == []
    run.clock.advance_time(2_000)
    assert run.sizes() == [7]
    run.fill_all()
    run.trade(20, 2_500)
    run.clock.advance_time(3_000)
    assert run.sizes() == [7, 2]
    run.trade(4, 3_100)
    run.clock.advance_time(4_000)
    assert run.sizes() == [7, 2]
    run.trade(1, 4_100)
    run.clock.advance_time(5_000)
    assert run.sizes() == [7, 2, 1]
    run.fill_all()
    assert [e.outcome for e in run.completed()] == ["filled"]
    assert run.clock.timer_names() == []  # the timer stops with the plan


def test_clock_driven_pov_without_prints_follows_the_bars_volume() -> None:
    run = Run(quantity=Quantity(100, 0), algorithm="pov", rate=0.25, interval_ns=1_000)
    run.bar(volume=30)  # t = 1,060
    run.bar(volume=11)  # t = 1,120
    run.clock.advance_time(2_000)
    assert run.sizes() == [10]  # floor(0.25 x 41)
    run.algo.cancel()
    assert run.clock.timer_names() == []


def test_limit_then_market_converts_after_timeout_ns_without_bars() -> None:
    run = Run(
        quantity=Quantity(10, 0),
        algorithm="limit_then_market",
        timeout_ns=5_000,
        timeout_bars=1,
        offset_ticks=1,
    )
    (limit,) = run.gateway.orders
    assert (limit.order_type, limit.price) == (OrderType.LIMIT, Price(9999, 2))
    assert run.clock.timer_names() == ["algo.P-1.timeout"]
    run.fill(limit, 3)
    run.bar()  # bars do not count when the timeout is in clock time
    assert run.gateway.cancel_requests == []
    run.clock.advance_time(5_999)
    assert run.gateway.cancel_requests == []
    run.clock.advance_time(6_000)  # started at 1,000
    assert run.gateway.cancel_requests == [limit.client_order_id]
    run.cancel_ack(limit)
    market = run.gateway.orders[-1]
    assert (market.order_type, market.quantity.raw) == (OrderType.MARKET, 7)
    run.fill(market, 7)
    assert [e.outcome for e in run.completed()] == ["filled"]


def test_limit_then_market_filled_before_its_timeout_stops_the_alert() -> None:
    run = Run(quantity=Quantity(4, 0), algorithm="limit_then_market", timeout_ns=5_000)
    run.fill(run.gateway.orders[0], 4)
    assert run.clock.timer_names() == []
    run.clock.advance_time(10_000)
    assert run.gateway.cancel_requests == []


def test_a_passive_price_between_two_ticks_rounds_away_from_the_market() -> None:
    mid = Price(100005, 3)  # 100.005: between the 100.00 and 100.01 ticks
    buy = Run(quantity=Quantity(1, 0), algorithm="limit_then_market", arrival_price=mid)
    sell = Run(
        quantity=Quantity(1, 0),
        algorithm="limit_then_market",
        arrival_price=mid,
        side=OrderSide.SELL,
    )
    assert buy.gateway.orders[0].price == Price(10000, 2)
    assert sell.gateway.orders[0].price == Price(10001, 2)

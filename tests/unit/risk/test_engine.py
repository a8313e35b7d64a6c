from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.core import Price, Quantity, TestClock
from tradeloop.model import OrderFactory, OrderSide, TimeInForce, TradingState, equity, future
from tradeloop.risk import RiskConfig, RiskEngine

AAPL = equity("AAPL", "XNAS")
ES = future(
    "ESH4", "XCME", currency_code="USD", price_precision=2, tick_size="0.25", multiplier="50"
)


MARK = Price(10000, 2)


class FakeAccount:
    def __init__(self, cash: int = 10_000, position: int = 0, mark: Price | None = MARK) -> None:
        self.cash = cash * 10**9
        self.position = position
        self.mark = mark

    def cash_raw(self) -> int:
        return self.cash

    def equity_raw(self) -> int:
        return self.cash

    def position_raw(self, instrument_id: str) -> int:
        return self.position

    def mark_price(self, instrument_id: str) -> Price | None:
        return self.mark

    def gross_exposure_raw(self) -> int:
        return 0

    def venue_cash_raw(self, venue: str) -> int | None:
        return None


class FakeOrders:
    def __init__(self, reserved: int = 0, open_sells: int = 0) -> None:
        self.reserved = reserved * 10**9
        self.open_sells = open_sells

    def open_buy_notional_raw(self, venue: str | None = None) -> int:
        return self.reserved

    def open_quantity_raw(self, instrument_id: str, side: OrderSide) -> int:
        return self.open_sells if side is OrderSide.SELL else 0


def make_risk(config: RiskConfig | None = None, **account: Any) -> tuple[RiskEngine, OrderFactory]:
    clock = TestClock(100)
    orders = FakeOrders(**{k: account.pop(k) for k in ("reserved", "open_sells") if k in account})
    risk = RiskEngine(
        config or RiskConfig(), clock, {AAPL.id: AAPL, ES.id: ES}, FakeAccount(**account), orders
    )
    return risk, OrderFactory("s", clock)


def test_order_within_all_limits_is_approved() -> None:
    risk, f = make_risk()
    assert risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(50, 0))) is None


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (
            lambda f: f.market("MSFT.XNAS", OrderSide.BUY, Quantity(1, 0)),
            "instrument MSFT.XNAS is unknown",
        ),
        (
            lambda f: f.market(AAPL.id, OrderSide.BUY, Quantity(15, 1)),
            "quantity 1.5 has precision 1, instrument AAPL.XNAS uses 0",
        ),
        (
            lambda f: f.limit(AAPL.id, OrderSide.BUY, Quantity(1, 0), Price(100001, 3)),
            "price 100.001 has precision 3",
        ),
        (
            lambda f: f.limit(ES.id, OrderSide.BUY, Quantity(1, 0), Price(480010, 2)),
            "not a multiple of tick size 0.25",
        ),
        (
            lambda f: f.market(AAPL.id, OrderSide.BUY, Quantity(200, 0)),
            "needs 20020.000000000 USD but free cash is 10000.000000000",
        ),
        (
            lambda f: f.market(AAPL.id, OrderSide.SELL, Quantity(1, 0)),
            "exceeds the sellable position 0 in a cash account",
        ),
        (
            lambda f: f.market(AAPL.id, OrderSide.BUY, Quantity(1, 0), reduce_only=True),
            "reduce-only order would open or increase",
        ),
        (
            lambda f: f.limit(
                AAPL.id,
                OrderSide.BUY,
                Quantity(1, 0),
                Price(10000, 2),
                time_in_force=TimeInForce.GTD,
            ),
            "GTD order needs an expire time",
        ),
        (
            lambda f: f.stop_market(
                AAPL.id,
                OrderSide.BUY,
                Quantity(1, 0),
                Price(10000, 2),
                time_in_force=TimeInForce.GTD,
                expire_time_ns=50,
            ),
            "expire time is not in the future",
        ),
    ],
)
def test_order_breaking_a_rule_is_denied_with_a_reason_naming_it(build: Any, reason: str) -> None:
    risk, f = make_risk()
    result = risk.check_submit(build(f))
    assert result is not None
    assert reason in result


def test_max_order_quantity_and_notional_limits() -> None:
    risk, f = make_risk(RiskConfig(max_order_notional="1000", max_order_quantity={AAPL.id: "5"}))
    assert "exceeds max_order_quantity 5" in (
        risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(6, 0))) or ""
    )
    risk, f = make_risk(RiskConfig(max_order_notional="1000"))
    assert "exceeds max_order_notional 1000" in (
        risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(11, 0))) or ""
    )


def test_open_buy_orders_reserve_cash() -> None:
    risk, f = make_risk(reserved=9_500)
    assert "free cash is 500" in (
        risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(10, 0))) or ""
    )


def test_trading_states_halted_denies_all_and_reducing_only_reductions() -> None:
    risk, f = make_risk(position=10)
    risk.set_trading_state(TradingState.REDUCING)
    assert risk.check_submit(f.market(AAPL.id, OrderSide.SELL, Quantity(5, 0))) is None
    assert "reducing only" in (
        risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(1, 0))) or ""
    )
    risk.set_trading_state(TradingState.HALTED)
    assert (risk.check_submit(f.market(AAPL.id, OrderSide.SELL, Quantity(5, 0))) or "").startswith(
        "trading is halted: no new orders"
    )


def test_halted_lets_only_reduce_only_orders_that_reduce_a_position_liquidate() -> None:
    risk, f = make_risk(position=10)
    risk.set_trading_state(TradingState.HALTED)
    sell = f.market(AAPL.id, OrderSide.SELL, Quantity(10, 0), reduce_only=True)
    assert risk.check_submit(sell) is None  # the emergency liquidation goes through
    for denied in (
        f.market(AAPL.id, OrderSide.SELL, Quantity(5, 0)),  # reduces, but not flagged reduce-only
        f.market(AAPL.id, OrderSide.BUY, Quantity(5, 0), reduce_only=True),  # would add
        f.market(AAPL.id, OrderSide.SELL, Quantity(11, 0), reduce_only=True),  # would flip
    ):
        assert "trading is halted" in (risk.check_submit(denied) or "")
    flat, f = make_risk(position=0)
    flat.set_trading_state(TradingState.HALTED)
    opening = f.market(AAPL.id, OrderSide.SELL, Quantity(1, 0), reduce_only=True)
    assert "trading is halted" in (flat.check_submit(opening) or "")


def test_every_order_before_trading_start_is_denied_as_warm_up() -> None:
    clock = TestClock(100)
    risk = RiskEngine(
        RiskConfig(), clock, {AAPL.id: AAPL}, FakeAccount(), FakeOrders(), trading_start_ns=200
    )
    f = OrderFactory("s", clock)
    order = f.market(AAPL.id, OrderSide.BUY, Quantity(1, 0))
    assert risk.check_submit(order) == "warm-up: trading starts at 1970-01-01T00:00:00.000000200Z"
    clock.set_time(200)
    assert risk.check_submit(order) is None


def test_market_order_without_any_price_is_denied() -> None:
    risk, f = make_risk(mark=None)
    assert "no price known" in (
        risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(1, 0))) or ""
    )


@given(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**6),
)
def test_risk_never_approves_a_cash_buy_beyond_free_cash(
    qty: int, price_cents: int, cash: int
) -> None:
    risk, f = make_risk(cash=cash, mark=Price(price_cents, 2))
    order = f.market(AAPL.id, OrderSide.BUY, Quantity(qty, 0))
    notional = qty * price_cents * 10**7
    if risk.check_submit(order) is None:
        assert notional * (1 + 10 / 10_000) <= cash * 10**9

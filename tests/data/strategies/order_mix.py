"""A strategy using market, limit, stop and stop-limit orders and cancels (paper vs backtest).

On a fast/slow SMA cross up it buys at market. While flat and without a cross it rests a
limit buy below the close and a stop-limit buy above it, cancelled after ``rest_bars`` bars.
Every entry fill is bracketed by a stop-loss (stop market) and a take-profit (limit); the
first of the two to fill cancels the other.
"""

from decimal import Decimal

from tradeloop.analytics.indicators import SMA
from tradeloop.model import Bar, OrderFilled, OrderSide
from tradeloop.strategy import Strategy, StrategyConfig


class OrderMix(Strategy):
    class Config(StrategyConfig, frozen=True, kw_only=True):
        instrument_id: str
        quantity: str = "100"
        fast: int = 5
        slow: int = 20
        rest_bars: int = 3

    def on_start(self) -> None:
        iid = self.config.instrument_id
        self.fast, self.slow = SMA(self.config.fast), SMA(self.config.slow)
        self.register_indicator(iid, self.fast)
        self.register_indicator(iid, self.slow)
        self.subscribe_bars(iid)
        self.was_above = False
        self.entries: set[str] = set()
        self.bracket: list[str] = []
        self.resting: dict[str, int] = {}
        self.bars = 0

    def on_bar(self, bar: Bar) -> None:
        self.bars += 1
        if not self.slow.initialized:
            return
        iid = bar.instrument_id
        for order_id, placed in list(self.resting.items()):
            if self.bars - placed >= self.config.rest_bars:
                self.cancel_order(order_id)
                del self.resting[order_id]
                self.entries.discard(order_id)
        above = self.fast.value > self.slow.value
        flat = self.is_flat(iid) and not self.bracket
        pending_market = any(order_id not in self.resting for order_id in self.entries)
        close = bar.close.as_decimal()
        quantity = self.quantity(iid, self.config.quantity)
        factory = self.order_factory
        if flat and not pending_market and above and not self.was_above:
            self.cancel_resting()
            order = factory.market(iid, OrderSide.BUY, quantity)
            self.entries.add(order.client_order_id)
            self.submit_order(order)
        elif flat and not self.entries:
            low = factory.limit(
                iid, OrderSide.BUY, quantity, self.price(iid, close * Decimal("0.98"))
            )
            high = factory.stop_limit(
                iid,
                OrderSide.BUY,
                quantity,
                self.price(iid, close * Decimal("1.03")),
                self.price(iid, close * Decimal("1.02")),
            )
            for order in (low, high):
                self.entries.add(order.client_order_id)
                self.resting[order.client_order_id] = self.bars
                self.submit_order(order)
        self.was_above = above

    def cancel_resting(self) -> None:
        for order_id in list(self.resting):
            self.cancel_order(order_id)
            self.entries.discard(order_id)
        self.resting.clear()

    def on_fill(self, fill: OrderFilled) -> None:
        iid = fill.instrument_id
        if fill.client_order_id in self.bracket:
            for other in self.bracket:
                if other != fill.client_order_id:
                    self.cancel_order(other)
            self.bracket = []
        elif fill.client_order_id in self.entries:
            self.entries.discard(fill.client_order_id)
            self.resting.pop(fill.client_order_id, None)
            self.cancel_resting()
            entry = fill.last_px.as_decimal()
            factory = self.order_factory
            stop = factory.stop_market(
                iid, OrderSide.SELL, fill.last_qty, self.price(iid, entry * Decimal("0.95"))
            )
            take = factory.limit(
                iid, OrderSide.SELL, fill.last_qty, self.price(iid, entry * Decimal("1.06"))
            )
            self.bracket = [stop.client_order_id, take.client_order_id]
            self.submit_order(stop)
            self.submit_order(take)

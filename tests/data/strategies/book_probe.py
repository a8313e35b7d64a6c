"""A tiny strategy for level-4 tests: on its first quote it buys at market and bids passively."""

from tradeloop.model import OrderSide, QuoteTick
from tradeloop.strategy import Strategy, StrategyConfig


class BookProbe(Strategy):
    class Config(StrategyConfig, frozen=True, kw_only=True):
        instrument_id: str
        quantity: str = "0.010"

    def on_start(self) -> None:
        self.subscribe_quotes(self.config.instrument_id)
        self.sent = False

    def on_quote(self, quote: QuoteTick) -> None:
        if self.sent:
            return
        self.sent = True
        iid = self.config.instrument_id
        self.first_ask = quote.ask_price
        self.buy(iid, self.config.quantity)  # walks the book at the venue
        factory = self.order_factory
        self.submit_order(
            factory.limit(
                iid, OrderSide.BUY, self.quantity(iid, self.config.quantity), quote.bid_price
            )
        )

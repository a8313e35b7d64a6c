"""A strategy that trades often, for trying a live setup end to end (not for making money).

Every ``every`` trade prints of its instrument it buys ``quantity`` when flat and sells the
position back when long, one order at a time: against the emulators it trades within seconds.
With ``short = true`` (a perpetual or another market that can be sold short) it sells
``quantity`` when flat and buys the short back.
"""

from __future__ import annotations

from tradeloop.model import Bar, TradeTick
from tradeloop.strategy import Strategy, StrategyConfig


class Flipper(Strategy):
    """Buy when flat, sell when long (or, with ``short``, sell when flat and buy back when
    short), every ``every`` prints (trades, or bars with ``on_bars``)."""

    class Config(StrategyConfig, frozen=True, kw_only=True):
        """The instrument, the order quantity, how many prints between two orders and whether
        the flips go short instead of long."""

        instrument_id: str
        quantity: str = "0.001"
        every: int = 20
        on_bars: bool = False
        short: bool = False

    def on_start(self) -> None:
        """Subscribe to the instrument's trades (or bars)."""
        self.count = 0
        if self.config.on_bars:
            self.subscribe_bars(self.config.instrument_id)
        else:
            self.subscribe_trades(self.config.instrument_id)

    def on_trade(self, trade: TradeTick) -> None:
        """Count a print; act on every ``every``-th."""
        self._tick()

    def on_bar(self, bar: Bar) -> None:
        """Count a bar; act on every ``every``-th."""
        self._tick()

    def _tick(self) -> None:
        self.count += 1
        instrument_id = self.config.instrument_id
        if self.count % self.config.every or self.open_orders(instrument_id):
            return
        if self.is_flat(instrument_id):
            if self.config.short:
                self.sell(instrument_id, self.config.quantity)
            else:
                self.buy(instrument_id, self.config.quantity)
        elif self.is_short(instrument_id) if self.config.short else self.is_long(instrument_id):
            self.close_position(instrument_id)

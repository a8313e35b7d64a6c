"""A moving-average crossover strategy: the canonical benchmark job and the simplest demo.

Cross up at bar t: fast[t] > slow[t] and the last non-zero (fast - slow) before t was negative
(an exact tie keeps the previous side, as backtrader's CrossOver). Long only: on a cross up
while flat, buy ``quantity``; on a cross down while long, sell the whole position.

SMAs run on the exact fixed-point closes, so a tie in decimal is a tie here.
"""

from __future__ import annotations

from tradeloop.analytics.indicators import SMA
from tradeloop.model.data import Bar
from tradeloop.strategy.base import RunInputs, Strategy, StrategyConfig
from tradeloop.strategy.params import exact_quantity


class SmaCross(Strategy):
    """Buy on a fast-over-slow SMA cross, sell on the opposite cross, per instrument."""

    class Config(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
        """Parameters: instruments to trade, SMA periods and the order quantity."""

        instrument_ids: list[str]
        fast: int = 10
        slow: int = 30
        quantity: str = "10"

    def check_run(self, run: RunInputs) -> None:
        """Check ``quantity`` against each instrument's lot grid (never rounded)."""
        for instrument_id in self.config.instrument_ids:
            exact_quantity(
                run.instruments[instrument_id], self.config.quantity, "quantity", "params"
            )

    def on_start(self) -> None:
        """Create two SMAs per instrument and subscribe to its bars."""
        config = self.config
        self._state: dict[str, tuple[SMA, SMA, list[float]]] = {}
        for instrument_id in config.instrument_ids:
            fast, slow = SMA(config.fast), SMA(config.slow)
            self.register_indicator(instrument_id, fast)
            self.register_indicator(instrument_id, slow)
            self.subscribe_bars(instrument_id)
            self._state[instrument_id] = (fast, slow, [0.0])
        self._quantity = {i: self.quantity(i, config.quantity) for i in config.instrument_ids}

    def on_bar(self, bar: Bar) -> None:
        """Trade the crosses of ``bar.instrument_id``."""
        fast, slow, last = self._state[bar.instrument_id]
        if not slow.initialized:
            return
        diff = fast.value - slow.value
        previous = last[0]
        if diff > 0.0 and previous < 0.0:
            if self.is_flat(bar.instrument_id):
                self.buy(bar.instrument_id, self._quantity[bar.instrument_id])
        elif diff < 0.0 and previous > 0.0 and self.is_long(bar.instrument_id):
            self.close_position(bar.instrument_id)
        if diff != 0.0:
            last[0] = diff

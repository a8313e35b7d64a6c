"""What a policy sees and what its action does, shared by the environment's strategy
(``env.PolicyStrategy``, trained on) and the served policy (``serve.ServedPolicy``, traded
with), so that both build the same observation and send the same order from the same state.

- ``observation``: the run's ``[features]`` row of the bar, then the position's weight
  (held quantity × the bar's close / equity; 0 when equity is not positive), as float32;
- ``move_to_weight``: the market order that takes the position to ``weight`` × equity / the
  bar's close, rounded down to the lot, through risk (nothing when that rounds to zero).
"""

from __future__ import annotations

from decimal import ROUND_DOWN
from pathlib import Path
from typing import Any

import numpy as np

from tradeloop.core.errors import ConfigError
from tradeloop.features.external import load_external
from tradeloop.features.frame import OnlineFeatures
from tradeloop.model.enums import OrderSide
from tradeloop.strategy.base import RunInputs, Strategy


class PolicyTrading(Strategy):
    """Base of the strategies a policy drives: one instrument, the run's features."""

    features: Any = None
    base_dir: str = ""

    def check_run(self, run: RunInputs) -> None:
        """Keep the run's feature set: the observation."""
        if run.features is None:
            raise ConfigError(
                f"strategy {self.id}: a policy needs the run's [features] (its observation)"
            )
        self.features, self.base_dir = run.features, run.base_dir

    def start_features(self) -> OnlineFeatures:
        """Return the online features of the run's feature set (external series loaded)."""
        externals = {
            spec.name: load_external(spec, Path(self.base_dir or "."))
            for spec in self.features.external
        }
        return OnlineFeatures(self.features, externals)

    def held(self, instrument_id: str) -> float:
        """Return the signed quantity held in ``instrument_id`` (0 when flat)."""
        position = self.position(instrument_id)
        return 0.0 if position is None else position.signed_qty

    def observation(
        self, instrument_id: str, row: tuple[float, ...], price: float
    ) -> np.ndarray[Any, Any]:
        """Return the features and the position's weight, as float32."""
        equity = self.equity.as_float()
        weight = self.held(instrument_id) * price / equity if equity > 0 else 0.0
        return np.array([*row, weight], dtype=np.float32)

    def move_to_weight(
        self, instrument_id: str, weight: float, price: float, tags: tuple[str, ...] = ()
    ) -> None:
        """Send the market order that moves the position to ``weight`` of equity."""
        target = weight * self.equity.as_float() / price if price > 0 else 0.0
        self.move_to_quantity(instrument_id, target, tags)

    def move_to_quantity(
        self, instrument_id: str, target: float, tags: tuple[str, ...] = ()
    ) -> None:
        """Send the market order that moves the position to ``target`` (signed) units."""
        instrument = self.ctx.instruments[instrument_id]
        delta = target - self.held(instrument_id)
        quantity = instrument.make_quantity(abs(delta), ROUND_DOWN)
        if quantity.raw <= 0:
            return
        side = OrderSide.BUY if delta > 0 else OrderSide.SELL
        self.submit_order(self.order_factory.market(instrument_id, side, quantity, tags=tags))

"""Slippage models (pure functions): move a taker fill price against the trader by a fixed
number of ticks or by basis points, rounded to the tick away from the trader."""

from __future__ import annotations

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price
from tradeloop.model.instruments import Instrument


class SlippageConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """kind ``"none"``, ``"ticks"`` (``ticks`` whole ticks) or ``"bps"`` (``bps`` of price)."""

    kind: str = "none"
    ticks: int = 0
    bps: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("none", "ticks", "bps"):
            raise ConfigError(f"slippage kind {self.kind!r} is not one of none, ticks, bps")
        if self.ticks < 0 or self.bps < 0:
            raise ConfigError("slippage ticks and bps must not be negative")


def slipped_price(
    config: SlippageConfig, instrument: Instrument, price: Price, is_buy: bool
) -> Price:
    """Return ``price`` moved against the trader (up for buys, down for sells)."""
    if config.kind == "none":
        return price
    tick = instrument.tick_size_raw
    if config.kind == "ticks":
        offset = config.ticks * tick
    else:
        raw_offset = abs(price.raw) * config.bps / 10_000
        ticks = int(-(-raw_offset // tick))  # ceil to whole ticks, away from the trader
        offset = ticks * tick
    return Price(price.raw + offset if is_buy else price.raw - offset, price.precision)

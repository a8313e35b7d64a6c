"""Configuration of the simulated venue."""

from __future__ import annotations

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.costs.fees import CommissionConfig
from tradeloop.costs.slippage import SlippageConfig

FIDELITY_LEVELS = ("bars", "quotes")


class SimVenueConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the simulated venue fills orders.

    Attributes
    ----------
    fidelity : ``"bars"`` (level 1: fills from OHLC bars) or ``"quotes"`` (level 2: fills
        against bid/ask quotes and trade ticks). Levels 3 (impact) and 4 (L2/L3 books with
        queue position, latency) plug into the same seam.
    market_fill : bars only: ``"next_open"`` (default; an order decided on a bar's close fills
        at the next bar's open) or ``"close"`` (fills at once at the last bar's close:
        optimistic, for comparison with peers that do so).
    limit_fill : ``"through"`` (default, conservative: the bar or trade must go beyond the
        limit by at least one tick) or ``"touch"`` (reaching the limit is enough).
    max_participation : optional cap on filled quantity per bar as a fraction of the bar's
        volume (0.1 = 10 %); the rest stays working and fills on later bars (partial fills).
    use_quote_size : quotes only: marketable orders fill at most the displayed size.
    """

    fidelity: str = "bars"
    market_fill: str = "next_open"
    limit_fill: str = "through"
    commission: CommissionConfig = CommissionConfig()
    slippage: SlippageConfig = SlippageConfig()
    max_participation: float | None = None
    use_quote_size: bool = True

    def __post_init__(self) -> None:
        if self.fidelity not in FIDELITY_LEVELS:
            raise ConfigError(
                f"venue fidelity {self.fidelity!r} is not one of {', '.join(FIDELITY_LEVELS)}"
            )
        if self.market_fill not in ("next_open", "close"):
            raise ConfigError(f"venue market_fill {self.market_fill!r} is not next_open or close")
        if self.limit_fill not in ("through", "touch"):
            raise ConfigError(f"venue limit_fill {self.limit_fill!r} is not through or touch")
        if self.max_participation is not None and not 0 < self.max_participation <= 1:
            raise ConfigError(f"venue max_participation {self.max_participation} must be in (0, 1]")

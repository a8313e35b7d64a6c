"""Configuration of the simulated venue."""

from __future__ import annotations

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.costs.fees import CommissionConfig
from tradeloop.costs.impact import SquareRootImpactConfig
from tradeloop.costs.slippage import SlippageConfig
from tradeloop.venues.sim.latency import LatencyConfig

FIDELITY_LEVELS = ("bars", "quotes", "book")
BOOK_TYPES = ("l2", "l3")
QUEUE_CANCEL_RULES = ("behind", "pro_rata")


class ImpactConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Market impact of our own fills (fidelity level 3, on top of bars or quotes).

    ``model``: ``"square_root"`` — temporary impact Y·σ·(Q/ADV)^δ of price on each taker fill
    (``square_root``: Y and δ) — or ``"linear"`` — Almgren–Chriss temporary impact η·(Q/ADV)
    in bps per unit of participation (``temporary_bps``). ``permanent_bps`` per unit of
    participation shifts all our later fills in the same instrument (γ of Almgren–Chriss),
    decaying with ``permanent_half_life_bars``. σ and ADV are the venue's own estimates over
    the last ``window`` bars: σ = std of log returns × sqrt(``bars_per_day``), ADV = mean
    volume × ``bars_per_day`` (1 for daily bars, 390 for US equity minutes, 1440 for crypto).
    """

    model: str = "square_root"
    square_root: SquareRootImpactConfig = SquareRootImpactConfig()
    temporary_bps: float = 0.0
    permanent_bps: float = 0.0
    permanent_half_life_bars: float = 20.0
    window: int = 20
    bars_per_day: float = 1.0

    def __post_init__(self) -> None:
        if self.model not in ("square_root", "linear"):
            raise ConfigError(f"impact model {self.model!r} is not square_root or linear")
        if self.window < 2:
            raise ConfigError(f"impact window {self.window} must be at least 2 bars")
        if self.temporary_bps < 0 or self.permanent_bps < 0 or not self.bars_per_day > 0:
            raise ConfigError(
                "impact temporary_bps and permanent_bps must be >= 0 and bars_per_day > 0"
            )


class BookConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the venue replays an order book (fidelity level 4, ``fidelity="book"``).

    Attributes
    ----------
    book_type : ``"l2"`` (market by price: one size per level) or ``"l3"`` (market by order:
        every resting order with its id; the queue ahead of us is known order by order).
    queue_cancels : L2 only: who cancelled when a level at our price shrinks by more than the
        trades printed there. ``"behind"`` (default, conservative: cancellations come from
        behind us; only trades move us forward, and the volume ahead never exceeds the
        level) or ``"pro_rata"`` (cancellations come from ahead and behind in proportion to
        the volume on each side of us).
    late_print_window_ns : L2 only: how long a level decrease that no print explained waits
        for a late print at its price. Feeds whose depth and trade streams arrive separately
        (Binance) can show a trade's size drop before the trade itself: the print is then
        netted against the drop, so the volume is counted once (a cancellation and then a
        trade would move the queue twice). Default 250 ms: on the hftbacktest Binance BTCUSDT
        recordings of 2024-08-08 the depth update came first for 22.8 % of spot trades (by up
        to 183 ms) and 1.4 % of USD-M trades (by up to 5.5 ms). 0 turns netting off.
    """

    book_type: str = "l2"
    queue_cancels: str = "behind"
    late_print_window_ns: int = 250_000_000

    def __post_init__(self) -> None:
        if self.book_type not in BOOK_TYPES:
            raise ConfigError(f"venue book_type {self.book_type!r} is not l2 or l3")
        if self.queue_cancels not in QUEUE_CANCEL_RULES:
            raise ConfigError(
                f"venue queue_cancels {self.queue_cancels!r} is not behind or pro_rata"
            )
        if self.late_print_window_ns < 0:
            raise ConfigError(
                f"venue book late_print_window_ns {self.late_print_window_ns} must be >= 0"
            )


class SimVenueConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the simulated venue fills orders.

    Attributes
    ----------
    fidelity : ``"bars"`` (level 1: fills from OHLC bars), ``"quotes"`` (level 2: fills
        against bid/ask quotes and trade ticks) or ``"book"`` (level 4: L2 or L3 order-book
        replay with queue position and book walking, see ``book``). Level 3 is ``impact``.
    market_fill : bars only: ``"next_open"`` (default; an order decided on a bar's close fills
        at the next bar's open) or ``"close"`` (fills at once at the last bar's close:
        optimistic, for comparison with peers that do so).
    limit_fill : ``"through"`` (default, conservative: the bar or trade must go beyond the
        limit by at least one tick) or ``"touch"`` (reaching the limit is enough).
    max_participation : optional cap on filled quantity per bar as a fraction of the bar's
        volume (0.1 = 10 %); the rest stays working and fills on later bars (partial fills).
    half_spread_bps : bars only: the half spread a taker pays over the bar price (bars carry
        no quotes; set it from the instrument's typical spread).
    impact : optional market impact model (level 3), see ``ImpactConfig``.
    use_quote_size : quotes only: marketable orders fill at most the displayed size.
    latency : optional order entry and response latencies (``LatencyConfig``; ``None``: every
        command reaches the venue, and every response the engine, at once). Draws come from
        the run's seed.
    book : order-book replay settings (level 4), see ``BookConfig``.
    """

    fidelity: str = "bars"
    market_fill: str = "next_open"
    limit_fill: str = "through"
    commission: CommissionConfig = CommissionConfig()
    slippage: SlippageConfig = SlippageConfig()
    max_participation: float | None = None
    use_quote_size: bool = True
    half_spread_bps: float = 0.0
    impact: ImpactConfig | None = None
    latency: LatencyConfig | None = None
    book: BookConfig = BookConfig()

    def __post_init__(self) -> None:
        if self.fidelity not in FIDELITY_LEVELS:
            raise ConfigError(
                f"venue fidelity {self.fidelity!r} is not one of {', '.join(FIDELITY_LEVELS)}"
            )
        if self.market_fill not in ("next_open", "close"):
            raise ConfigError(f"venue market_fill {self.market_fill!r} is not next_open or close")
        if self.limit_fill not in ("through", "touch"):
            raise ConfigError(f"venue limit_fill {self.limit_fill!r} is not through or touch")
        if self.half_spread_bps < 0:
            raise ConfigError(f"venue half_spread_bps {self.half_spread_bps} must not be negative")
        if self.max_participation is not None and not 0 < self.max_participation <= 1:
            raise ConfigError(f"venue max_participation {self.max_participation} must be in (0, 1]")

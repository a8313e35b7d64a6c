"""A working order as the simulated venue sees it (shared by the matching levels)."""

from __future__ import annotations

from tradeloop.model.enums import OrderSide, OrderType
from tradeloop.model.events import OrderInitialized


class WorkingOrder:
    """A working order: its request, what is left, and where it stands (raws at the
    instrument's precision)."""

    __slots__ = (
        "awaits_data",
        "expire_ns",
        "init",
        "is_buy",
        "is_resting",
        "is_triggered",
        "leaves_raw",
        "limit_raw",
        "order_type",
        "trigger_raw",
        "venue_order_id",
    )

    def __init__(self, init: OrderInitialized, venue_order_id: str, expire_ns: int | None) -> None:
        self.init = init
        self.venue_order_id = venue_order_id
        self.is_buy = init.side is OrderSide.BUY
        self.order_type = init.order_type
        self.limit_raw = None if init.price is None else init.price.raw
        self.trigger_raw = None if init.trigger_price is None else init.trigger_price.raw
        self.leaves_raw = init.quantity.raw
        self.is_triggered = False
        self.is_resting = False  # True once it survived its arrival (it is then a maker)
        # True when it reached the venue after an entry latency: it may match only market
        # data that arrives after it, never the quote, bar or book it was decided on.
        self.awaits_data = False
        self.expire_ns = expire_ns

    @property
    def acts_as_limit(self) -> bool:
        """Return whether the order rests or takes at a limit price now."""
        return self.order_type is OrderType.LIMIT or (
            self.order_type is OrderType.STOP_LIMIT and self.is_triggered
        )

    @property
    def acts_as_market(self) -> bool:
        """Return whether the order takes at any price now."""
        return self.order_type is OrderType.MARKET or (
            self.order_type is OrderType.STOP_MARKET and self.is_triggered
        )

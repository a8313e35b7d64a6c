"""Shadow mode's comparison: every simulated fill beside the venue's quote of that instant.

In shadow mode nothing leaves the machine: the simulated venue fills the orders the live
decisions make. ``ShadowObserver`` keeps the latest quote of each instrument from the live
feed and, for every simulated fill, journals a ``ShadowFillCompared`` with that quote and the
fill's slippage against it; at the end it summarises them for the run summary (fills,
average and worst slippage vs the quote, the fill rate of passive orders).
"""

from __future__ import annotations

from typing import Any

from tradeloop.bus.topics import quotes_topic
from tradeloop.engine.kernel import Kernel
from tradeloop.model.data import QuoteTick
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderType
from tradeloop.model.events import OrderAccepted, OrderEvent, OrderFilled, ShadowFillCompared


class ShadowObserver:
    """Journal each simulated fill beside the live quote (module docstring)."""

    def __init__(self, kernel: Kernel, instrument_ids: list[str]) -> None:
        self._kernel = kernel
        self._quotes: dict[str, QuoteTick] = {}
        self.compared: list[ShadowFillCompared] = []
        self._passive_orders: set[str] = set()
        self._passive_filled: set[str] = set()
        for instrument_id in sorted(set(instrument_ids)):
            kernel.bus.subscribe(quotes_topic(instrument_id), self._on_quote)
        kernel.bus.subscribe("events.order.*", self._on_order_event)

    def _on_quote(self, quote: QuoteTick) -> None:
        self._quotes[quote.instrument_id] = quote

    def _on_order_event(self, event: OrderEvent) -> None:
        if type(event) is OrderAccepted:
            order = self._kernel.order_manager.orders.get(event.client_order_id)
            if order is not None and order.init.order_type is OrderType.LIMIT:
                self._passive_orders.add(event.client_order_id)
            return
        if type(event) is not OrderFilled:
            return
        if event.client_order_id in self._passive_orders:
            self._passive_filled.add(event.client_order_id)
        quote = self._quotes.get(event.instrument_id)
        bid = ask = None
        slippage = None
        if quote is not None:
            bid, ask = quote.bid_price, quote.ask_price
            px = event.last_px.as_float()
            if event.order_side is OrderSide.BUY and ask.raw > 0:
                slippage = (px / ask.as_float() - 1.0) * 1e4
            elif event.order_side is OrderSide.SELL and bid.raw > 0:
                slippage = (1.0 - px / bid.as_float()) * 1e4
        compared = ShadowFillCompared(
            client_order_id=event.client_order_id,
            instrument_id=event.instrument_id,
            side=event.order_side,
            last_px=event.last_px,
            last_qty=event.last_qty,
            liquidity_side=event.liquidity_side,
            bid=bid,
            ask=ask,
            slippage_vs_quote_bps=slippage,
            ts_event=event.ts_event,
            ts_init=event.ts_init,
        )
        self.compared.append(compared)
        self._kernel.journal.append(compared)

    def summary(self) -> dict[str, Any]:
        """Return the shadow section of the run summary."""
        slippages = [
            c.slippage_vs_quote_bps for c in self.compared if c.slippage_vs_quote_bps is not None
        ]
        makers = sum(1 for c in self.compared if c.liquidity_side is LiquiditySide.MAKER)
        return {
            "fills": len(self.compared),
            "fills_with_quote": len(slippages),
            "avg_slippage_vs_quote_bps": sum(slippages) / len(slippages) if slippages else None,
            "worst_slippage_vs_quote_bps": max(slippages) if slippages else None,
            "maker_fills": makers,
            "passive_orders": len(self._passive_orders),
            "passive_fill_rate": (
                len(self._passive_filled) / len(self._passive_orders)
                if self._passive_orders
                else None
            ),
        }

"""Shadow mode's comparison: every simulated fill beside the venue's quote of that instant.

In shadow mode nothing leaves the machine: the simulated venue fills the orders the live
decisions make. ``ShadowObserver`` keeps the latest quote of each instrument from the live
feed and, for every simulated fill, journals a ``ShadowFillCompared`` with that quote and the
fill's slippage against it. It then follows the venue's trades for ``MARKOUT_HORIZON_S``
seconds after each fill and journals a ``ShadowMarkout``: how many prints followed, their
volume and VWAP, the markout of the last one against the fill price, and for a passive fill
whether the venue ever traded at or through its price (a maker fill the market never reached
is one a real queue might not have given). At the end it summarises them for the run summary
and the report (fills, average and worst slippage vs the quote, the fill rate of passive
orders, average markout, passive fills the market traded through).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tradeloop.bus.topics import quotes_topic, trades_topic
from tradeloop.core.fixed import Price, Quantity
from tradeloop.engine.kernel import Kernel
from tradeloop.model.data import QuoteTick, TradeTick
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderType
from tradeloop.model.events import (
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    ShadowFillCompared,
    ShadowMarkout,
)

MARKOUT_HORIZON_S = 5.0


class _Pending:
    """A simulated fill whose following trades are being collected."""

    __slots__ = (
        "fill",
        "last_px",
        "notional",
        "size_precision",
        "through",
        "trades",
        "until_ns",
        "volume_raw",
    )

    def __init__(self, fill: OrderFilled, until_ns: int) -> None:
        self.fill = fill
        self.until_ns = until_ns
        self.trades = 0
        self.volume_raw = 0
        self.notional = 0.0
        self.last_px: Price | None = None
        self.size_precision = fill.last_qty.precision
        self.through = False


class ShadowObserver:
    """Journal each simulated fill beside the live quote (module docstring)."""

    def __init__(self, kernel: Kernel, instrument_ids: list[str]) -> None:
        self._kernel = kernel
        self._quotes: dict[str, QuoteTick] = {}
        self.compared: list[ShadowFillCompared] = []
        self._passive_orders: set[str] = set()
        self._passive_filled: set[str] = set()
        self._pending: dict[str, deque[_Pending]] = {}
        self.markouts: list[ShadowMarkout] = []
        self._horizon_ns = int(MARKOUT_HORIZON_S * 1e9)
        for instrument_id in sorted(set(instrument_ids)):
            kernel.bus.subscribe(quotes_topic(instrument_id), self._on_quote)
            kernel.bus.subscribe(trades_topic(instrument_id), self._on_trade)
        kernel.bus.subscribe("events.order.*", self._on_order_event)

    def _on_trade(self, trade: TradeTick) -> None:
        pending = self._pending.get(trade.instrument_id)
        if not pending:
            return
        while pending and pending[0].until_ns < trade.ts_init:
            self._emit(pending.popleft(), complete=True)
        for item in pending:
            item.trades += 1
            item.volume_raw += trade.size.raw
            item.size_precision = trade.size.precision
            item.notional += trade.price.as_float() * trade.size.as_float()
            item.last_px = trade.price
            if item.fill.order_side is OrderSide.BUY:
                item.through = item.through or trade.price <= item.fill.last_px
            else:
                item.through = item.through or trade.price >= item.fill.last_px

    def finish(self) -> None:
        """Journal the markouts still open when the session ends (``complete=False`` for those
        whose horizon is not over yet)."""
        now = self._kernel.clock.timestamp_ns()
        for pending in self._pending.values():
            while pending:
                item = pending.popleft()
                self._emit(item, complete=item.until_ns <= now)

    def _emit(self, item: _Pending, complete: bool) -> None:
        fill = item.fill
        fill_px = fill.last_px.as_float()
        markout = None
        if item.last_px is not None and fill_px > 0:
            move = (item.last_px.as_float() / fill_px - 1.0) * 1e4
            markout = move if fill.order_side is OrderSide.BUY else -move
        volume = vwap = None
        if item.trades:
            volume = Quantity(item.volume_raw, item.size_precision)
            if volume.raw > 0:
                digits = fill.last_px.precision
                vwap = Price.from_str(f"{item.notional / volume.as_float():.{digits}f}", digits)
        record = ShadowMarkout(
            client_order_id=fill.client_order_id,
            instrument_id=fill.instrument_id,
            side=fill.order_side,
            fill_px=fill.last_px,
            horizon_s=MARKOUT_HORIZON_S,
            trades=item.trades,
            volume=volume,
            vwap=vwap,
            last_px=item.last_px,
            markout_bps=markout,
            traded_through=(item.through if fill.liquidity_side is LiquiditySide.MAKER else None),
            complete=complete,
            ts_event=self._kernel.clock.timestamp_ns(),
            ts_init=self._kernel.clock.timestamp_ns(),
        )
        self.markouts.append(record)
        self._kernel.journal.append(record)

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
        self._kernel.publish_event(compared)  # journaled, and on the bus for monitoring
        self._pending.setdefault(event.instrument_id, deque()).append(
            _Pending(event, event.ts_init + self._horizon_ns)
        )

    def summary(self) -> dict[str, Any]:
        """Return the shadow section of the run summary."""
        slippages = [
            c.slippage_vs_quote_bps for c in self.compared if c.slippage_vs_quote_bps is not None
        ]
        makers = sum(1 for c in self.compared if c.liquidity_side is LiquiditySide.MAKER)
        marks = [m.markout_bps for m in self.markouts if m.markout_bps is not None]
        passive = [m.traded_through for m in self.markouts if m.traded_through is not None]
        return {
            "markout_horizon_s": MARKOUT_HORIZON_S,
            "avg_markout_bps": sum(marks) / len(marks) if marks else None,
            "maker_fills_traded_through": (
                sum(1 for p in passive if p) / len(passive) if passive else None
            ),
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

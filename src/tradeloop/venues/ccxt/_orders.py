"""The execution client's orders: what is sent for an ``OrderInitialized`` and the book of
orders that turns ccxt's order and trade structures into order events, each exactly once.

Invariants kept by ``OrderBook``: an order is accepted before it fills; a venue trade id is
published once whether it came in a REST answer, a stream message (even a duplicated one) or
a lookup; an order is closed (``OrderCanceled``) only after all the fills the venue reports
for it were published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec

from tradeloop.bus.inbox import InboxPort
from tradeloop.core.fixed import Price
from tradeloop.model.commands import CancelOrder
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradeloop.model.events import (
    ExternalFillRecorded,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from tradeloop.model.instruments import Instrument
from tradeloop.venues.ccxt._exchange import ms_to_ns
from tradeloop.venues.ccxt._translate import (
    commission,
    liquidity,
    order_side,
    price,
    quantity,
)

log = logging.getLogger(__name__)
Alert = Callable[[str, str], None]


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The arguments of ccxt's ``create_order``."""

    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    params: dict[str, Any]


_TIFS = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}


def order_request(
    order: OrderInitialized, symbol: str, market_type: str, exchange: Any
) -> tuple[OrderRequest | None, str | None]:
    """Return the request for ``order``, or why it cannot be sent through ccxt."""
    params: dict[str, Any] = {"clientOrderId": order.client_order_id}
    kind = order.order_type
    is_limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    if is_limit and order.price is None:
        return None, f"{kind.value} order has no price"
    if kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        if not (exchange.has.get("createTriggerOrder") or exchange.has.get("createStopOrder")):
            return None, f"{exchange.id} does not take stop orders through ccxt"
        if order.trigger_price is None:
            return None, f"{kind.value} order has no trigger price"
        params["triggerPrice"] = float(order.trigger_price)
    if is_limit:
        tif = _TIFS.get(order.time_in_force)
        if tif is None:
            return None, (
                f"time in force {order.time_in_force.value} is not supported on {exchange.id} "
                f"(GTC, IOC, FOK)"
            )
        params["timeInForce"] = tif
    if order.is_post_only:
        if not is_limit:
            return None, "post-only needs a limit order"
        if order.time_in_force is not TimeInForce.GTC:
            return (
                None,
                f"a post-only order rests: time in force {order.time_in_force.value} "
                "cannot apply (use GTC)",
            )
        # ccxt makes it the venue's maker-only type (Binance LIMIT_MAKER), which takes no
        # time in force (Binance answers -1106 to one)
        params.pop("timeInForce", None)
        params["postOnly"] = True
    if order.is_reduce_only:
        if market_type != "spot":
            params["reduceOnly"] = True
        elif order.side is OrderSide.BUY:
            return None, "a reduce-only buy on a spot market: spot holds no short to reduce"
        # A spot sell can only reduce what is held, and tradeloop's risk engine checked before
        # it left that it does not exceed the position: the flag, which spot venues refuse,
        # is not sent (close_position works on spot as on derivatives).
    request = OrderRequest(
        symbol=symbol,
        type="limit" if is_limit else "market",
        side=order.side.value.lower(),
        amount=float(order.quantity),
        price=float(order.price) if is_limit and order.price is not None else None,
        params=params,
    )
    return request, None


class OrderState:
    """What the client knows of one of its orders."""

    def __init__(self, order: OrderInitialized, instrument: Instrument, symbol: str, now_ms: int):
        self.order = order
        self.instrument = instrument
        self.symbol = symbol
        self.client_order_id = order.client_order_id
        self.venue_order_id: str | None = None
        self.is_accepted = False
        self.closed_as = ""  # "", "filled", "canceled", "expired", "rejected"
        self.filled_raw = 0
        self.cancel_reason = ""
        self.price: Price | None = order.price
        self.submitted_ms = now_ms - 60_000  # fills of it are searched from a minute before
        self.pending_close: tuple[str, int] | None = None  # (status, filled raw it needs)

    @property
    def is_closed(self) -> bool:
        """Return whether the order stopped working (no more events are expected)."""
        return bool(self.closed_as)


class OrderBook:
    """The client's orders and the events they produce (module docstring)."""

    def __init__(self, venue: str, inbox: InboxPort, alert: Alert) -> None:
        self.venue = venue
        self.inbox = inbox
        self.alert = alert
        self.instrument_of_symbol: dict[str, Instrument] = {}
        self._orders: dict[str, OrderState] = {}
        self._by_venue_id: dict[str, OrderState] = {}
        self._trade_ids: set[str] = set()
        self.duplicate_fills = 0
        self.pending: set[asyncio.Task[None]] = set()

    # -- lookups --------------------------------------------------------------------------------

    def get(self, client_order_id: str) -> OrderState | None:
        """Return the order with this client order id."""
        return self._orders.get(client_order_id)

    def by_venue_id(self, venue_order_id: str) -> OrderState | None:
        """Return the order with this venue order id."""
        return self._by_venue_id.get(venue_order_id)

    def working(self) -> list[OrderState]:
        """Return the orders not closed, by client order id."""
        return [s for _, s in sorted(self._orders.items()) if not s.is_closed]

    def waiting_for_fills(self) -> list[OrderState]:
        """Return the orders the venue closed whose fills are not all published yet."""
        return [s for s in self.working() if s.pending_close is not None]

    def missing_fills(self, state: OrderState, order: dict[str, Any]) -> bool:
        """Return whether the venue reports more filled than the fills published."""
        filled = quantity(state.instrument, order.get("filled") or 0, "order filled")
        return filled.raw > state.filled_raw

    def add(self, order: OrderInitialized, instrument: Instrument, symbol: str) -> OrderState:
        """Register an order about to be sent."""
        state = OrderState(order, instrument, symbol, self.inbox.now_ns() // 1_000_000)
        self._orders[order.client_order_id] = state
        return state

    def rebind(self, state: OrderState, venue_order_id: str) -> None:
        """Record the order's (new) venue order id."""
        state.venue_order_id = venue_order_id
        self._by_venue_id[venue_order_id] = state

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` on the running loop, kept until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    # -- events ---------------------------------------------------------------------------------

    def reject_unsent(self, order: OrderInitialized, reason: str) -> None:
        """Publish ``OrderRejected`` for an order that was never sent."""
        now = self.inbox.now_ns()
        self.inbox.publish(
            lambda ts: OrderRejected(
                ts_event=now, ts_init=ts, client_order_id=order.client_order_id,
                strategy_id=order.strategy_id, instrument_id=order.instrument_id, reason=reason,
            )
        )  # fmt: skip

    def reject(self, state: OrderState, reason: str) -> None:
        """Publish ``OrderRejected`` once and close the order."""
        if state.is_closed:
            return
        state.closed_as = "rejected"
        self.reject_unsent(state.order, reason)

    def cancel_rejected(self, state: OrderState, reason: str) -> None:
        """Publish ``OrderCancelRejected``."""
        order = state.order
        now = self.inbox.now_ns()
        self.inbox.publish(
            lambda ts: OrderCancelRejected(
                ts_event=now, ts_init=ts, client_order_id=order.client_order_id,
                strategy_id=order.strategy_id, instrument_id=order.instrument_id, reason=reason,
            )
        )  # fmt: skip

    def cancel_rejected_unknown(self, command: CancelOrder, reason: str) -> None:
        """Publish ``OrderCancelRejected`` for an order this client never sent."""
        now = self.inbox.now_ns()
        self.inbox.publish(
            lambda ts: OrderCancelRejected(
                ts_event=now, ts_init=ts, client_order_id=command.client_order_id,
                strategy_id=command.strategy_id, instrument_id=command.instrument_id,
                reason=reason,
            )
        )  # fmt: skip

    def _accept(self, state: OrderState, venue_order_id: str) -> None:
        if state.venue_order_id != venue_order_id:
            self.rebind(state, venue_order_id)
        if state.is_accepted:
            return
        state.is_accepted = True
        order = state.order
        now = self.inbox.now_ns()
        self.inbox.publish(
            lambda ts: OrderAccepted(
                ts_event=now, ts_init=ts, client_order_id=order.client_order_id,
                strategy_id=order.strategy_id, instrument_id=order.instrument_id,
                venue_order_id=venue_order_id,
            )
        )  # fmt: skip

    def _find(self, client_order_id: Any, venue_order_id: Any) -> OrderState | None:
        state = self._orders.get(str(client_order_id)) if client_order_id else None
        if state is None and venue_order_id is not None:
            state = self._by_venue_id.get(str(venue_order_id))
        return state

    def on_order(
        self, order: dict[str, Any], *, immediate: bool = False, state: OrderState | None = None
    ) -> None:
        """Apply a ccxt order structure (a REST answer or a stream update) to its order."""
        if state is None:
            state = self._find(order.get("clientOrderId"), order.get("id"))
        if state is None:
            log.info("order %s of %s is not this client's", order.get("id"), self.venue)
            return
        status = order.get("status")
        venue_order_id = order.get("id")
        if status == "rejected" and not state.is_accepted:
            self.reject(state, f"{self.venue} rejected the order")
            return
        if venue_order_id is not None:
            self._accept(state, str(venue_order_id))
        default = LiquiditySide.TAKER if immediate else LiquiditySide.NONE
        for trade in order.get("trades") or []:
            trade = dict(trade)
            trade.setdefault("order", venue_order_id)
            if trade.get("order") is None:
                trade["order"] = venue_order_id
            if trade.get("timestamp") is None:
                trade["timestamp"] = order.get("lastTradeTimestamp") or order.get("timestamp")
            self.on_trade(trade, default, state=state)
        if status in ("canceled", "expired", "closed"):
            try:
                filled = quantity(state.instrument, order.get("filled") or 0, "order filled")
            except (ValueError, ArithmeticError) as error:
                self.alert("error", f"{self.venue} order {venue_order_id} unreadable: {error}")
                return
            state.pending_close = ("filled" if status == "closed" else str(status), filled.raw)
            self._try_close(state)

    def _try_close(self, state: OrderState) -> None:
        pending = state.pending_close
        if pending is None or state.is_closed or state.filled_raw < pending[1]:
            return
        status = pending[0]
        state.pending_close = None
        state.closed_as = status
        if status == "filled":
            return
        reason = state.cancel_reason if status == "canceled" else ""
        if status == "expired":
            reason = f"{self.venue} expired the order's remainder"
        order = state.order
        now = self.inbox.now_ns()
        self.inbox.publish(
            lambda ts: OrderCanceled(
                ts_event=now, ts_init=ts, client_order_id=order.client_order_id,
                strategy_id=order.strategy_id, instrument_id=order.instrument_id,
                venue_order_id=state.venue_order_id, reason=reason,
            )
        )  # fmt: skip

    def on_trade(
        self,
        trade: dict[str, Any],
        default: LiquiditySide = LiquiditySide.NONE,
        *,
        state: OrderState | None = None,
    ) -> None:
        """Publish a venue trade of ours as ``OrderFilled`` (once per trade id)."""
        trade_id = trade.get("id")
        if trade_id is None:
            self.alert("error", f"{self.venue} sent a fill without a trade id: {trade!r}")
            return
        trade_id = str(trade_id)
        if trade_id in self._trade_ids:
            self.duplicate_fills += 1
            return
        info = trade.get("info") if isinstance(trade.get("info"), dict) else {}
        if state is None:
            client_id = trade.get("clientOrderId") or (info or {}).get("c")
            state = self._find(client_id, trade.get("order"))
        try:
            if state is None:
                self._external(trade, trade_id)
                return
            fill = self._fill(state, trade, trade_id, default)
        except (ValueError, ArithmeticError, TypeError) as error:
            self.alert("error", f"{self.venue} fill {trade_id} could not be read: {error}")
            return
        self._trade_ids.add(trade_id)
        if fill.venue_order_id:
            self._accept(state, fill.venue_order_id)
        state.filled_raw += fill.last_qty.raw
        self.inbox.publish(lambda ts: msgspec.structs.replace(fill, ts_init=ts))
        self._try_close(state)

    def _fill(
        self, state: OrderState, trade: dict[str, Any], trade_id: str, default: LiquiditySide
    ) -> OrderFilled:
        order = state.order
        instrument = state.instrument
        return OrderFilled(
            ts_event=ms_to_ns(trade.get("timestamp")) or self.inbox.now_ns(),
            ts_init=0,
            client_order_id=order.client_order_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            venue_order_id=str(trade.get("order") or state.venue_order_id or ""),
            trade_id=trade_id,
            order_side=order.side,
            order_type=order.order_type,
            last_qty=quantity(instrument, trade.get("amount"), "fill amount"),
            last_px=price(instrument, trade.get("price"), "fill price"),
            commission=commission(trade, instrument),
            liquidity_side=liquidity(trade, default),
        )

    def _external(self, trade: dict[str, Any], trade_id: str) -> None:
        instrument = self.instrument_of_symbol.get(str(trade.get("symbol")))
        if instrument is None:
            self.alert(
                "warning",
                f"{self.venue} fill {trade_id} of {trade.get('symbol')} is for no configured "
                f"instrument: not recorded",
            )
            return
        client_id = str(trade.get("clientOrderId") or "")
        fill = OrderFilled(
            ts_event=ms_to_ns(trade.get("timestamp")) or self.inbox.now_ns(),
            ts_init=0,
            client_order_id=client_id,
            strategy_id="EXTERNAL",
            instrument_id=instrument.id,
            venue_order_id=str(trade.get("order") or ""),
            trade_id=trade_id,
            order_side=order_side(trade.get("side")),
            order_type=OrderType.MARKET if trade.get("type") == "market" else OrderType.LIMIT,
            last_qty=quantity(instrument, trade.get("amount"), "fill amount"),
            last_px=price(instrument, trade.get("price"), "fill price"),
            commission=commission(trade, instrument),
            liquidity_side=liquidity(trade, LiquiditySide.NONE),
        )
        self._trade_ids.add(trade_id)
        reason = "fill of an order this client did not send"
        self.inbox.publish(
            lambda ts: ExternalFillRecorded(
                ts_event=fill.ts_event, ts_init=ts, instrument_id=instrument.id,
                client_order_id=client_id, trade_id=trade_id, reason=reason,
                fill=msgspec.structs.replace(fill, ts_init=ts),
            )
        )  # fmt: skip
        self.alert("warning", f"{self.venue} fill {trade_id} recorded as external: {reason}")

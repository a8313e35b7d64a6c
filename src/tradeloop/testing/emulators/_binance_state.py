"""The Binance emulator's venue state: balances, orders and fills over tradeloop's simulated
venue (``venues.sim.SimulatedVenue`` at fidelity ``"quotes"``), in Binance's vocabulary.

Steps of a new order (``submit``), each raising ``BinanceError`` with Binance's code:

1. parameters and enums (-1102, -1116, -1117, -1121, -1106), then the symbol's filters
   (-1013 PRICE_FILTER, LOT_SIZE, NOTIONAL);
2. duplicate client order id among open orders, balance (-2010);
3. the order goes to the simulated venue, which accepts it and fills it against the last
   quote (marketable) or later quotes and prints (resting); its events update the order,
   the balances (Binance's fees: the bought asset pays the commission) and the
   user-data stream (``executionReport``, ``outboundAccountPosition``).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

import msgspec

from tradeloop.core.clock import Clock, LiveClock
from tradeloop.core.fixed import Price, Quantity
from tradeloop.costs.fees import CommissionConfig
from tradeloop.model.commands import CancelOrder, SubmitOrder
from tradeloop.model.data import QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide, OrderSide, OrderType, TimeInForce
from tradeloop.model.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from tradeloop.testing.emulators._binance_types import (
    FEE_RATE,
    MAX_PRICE,
    MAX_QUANTITY,
    MIN_NOTIONAL,
    BinanceError,
    BinanceFill,
    BinanceOrder,
    Listener,
    fmt,
    mandatory,
)
from tradeloop.testing.emulators._market import MarketQuote, MarketTrade, ReplayMarket
from tradeloop.venues.sim import SimulatedVenue, SimVenueConfig

_ILLEGAL = (
    "Illegal characters found in parameter '{name}'; "
    "legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
)
_TIFS = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT")
_VENUE_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "STOP_LOSS": OrderType.STOP_MARKET,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
}
_ALL_TYPES = (
    "LIMIT",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
    "LIMIT_MAKER",
)


class BinanceState:
    """Balances and orders of the emulator's one account, matched by the simulated venue.

    Parameters
    ----------
    market : the replayed market (its instrument is the one symbol traded).
    balances : starting free balances by asset.
    partial_fills : fill at most each quote's displayed size (see ``FaultConfig``).
    clock : the wall clock (``LiveClock``) the venue stamps its events with.
    """

    def __init__(
        self,
        market: ReplayMarket,
        balances: dict[str, Decimal],
        partial_fills: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self.market = market
        self.instrument = market.instrument
        self.symbol = market.symbol
        self.free: dict[str, Decimal] = dict(balances)
        self.locked: dict[str, Decimal] = {asset: Decimal(0) for asset in balances}
        for asset in (market.base_asset, market.quote_asset):
            self.free.setdefault(asset, Decimal(0))
            self.locked.setdefault(asset, Decimal(0))
        self.orders: dict[int, BinanceOrder] = {}
        self.fills: list[BinanceFill] = []
        # every new-order request in arrival order: the order, or the refused request
        self.log: list[BinanceOrder | dict[str, Any]] = []
        self.listeners: list[Listener] = []
        self._next_order_id = 1
        self._next_trade_id = 1
        self._events: list[Event] = []
        self.clock = clock or LiveClock()
        self.venue = SimulatedVenue(
            "BINANCE",
            SimVenueConfig(
                fidelity="quotes",
                limit_fill="touch",
                use_quote_size=partial_fills,
                commission=CommissionConfig(),
            ),
            self.clock,
            {self.instrument.id: self.instrument},
            self._events.append,
        )
        self.tick = Decimal(1).scaleb(-market.price_precision)
        self.step = Decimal(1).scaleb(-market.size_precision)
        self.last_quote: MarketQuote | None = None

    def venue_partial_fills(self, is_on: bool) -> None:
        """Turn partial fills (fills capped at each quote's displayed size) on or off."""
        self.venue.config = msgspec.structs.replace(self.venue.config, use_quote_size=is_on)

    # -- market ---------------------------------------------------------------------------------

    def on_quote(self, quote: MarketQuote) -> None:
        """Feed a quote to the matching engine."""
        self.last_quote = quote
        precision, size_precision = self.market.price_precision, self.market.size_precision
        self.venue.on_quote(
            QuoteTick(
                instrument_id=self.instrument.id,
                bid_price=Price(quote.bid_raw, precision),
                ask_price=Price(quote.ask_raw, precision),
                bid_size=Quantity(quote.bid_size_raw, size_precision),
                ask_size=Quantity(quote.ask_size_raw, size_precision),
                ts_event=quote.ts_ns,
                ts_init=quote.ts_ns,
            )
        )
        self._drain()

    def on_trade(self, trade: MarketTrade) -> None:
        """Feed a print to the matching engine."""
        self.venue.on_trade(
            TradeTick(
                instrument_id=self.instrument.id,
                price=Price(trade.price_raw, self.market.price_precision),
                size=Quantity(trade.size_raw, self.market.size_precision),
                aggressor_side=AggressorSide.SELLER
                if trade.is_buyer_maker
                else AggressorSide.BUYER,
                trade_id=str(trade.trade_id),
                ts_event=trade.ts_ns,
                ts_init=trade.ts_ns,
            )
        )
        self._drain()

    # -- orders ---------------------------------------------------------------------------------

    def find(self, order_id: str | None, client_order_id: str | None) -> BinanceOrder | None:
        """Return the order by id or client id (the newest with that client id)."""
        if order_id is not None:
            try:
                return self.orders.get(int(order_id))
            except ValueError:
                return None
        if client_order_id is not None:
            for order in reversed(self.orders.values()):
                if order.client_order_id == client_order_id:
                    return order
        return None

    def _decimal(self, params: dict[str, str], name: str) -> Decimal:
        text = params.get(name)
        if not text:
            raise mandatory(name)
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise BinanceError(
                400,
                -1100,
                _ILLEGAL.format(name=name),
            ) from None
        if not value.is_finite():
            raise BinanceError(
                400,
                -1100,
                _ILLEGAL.format(name=name),
            )
        return value

    def submit(
        self, params: dict[str, str], now_ms: int, is_rejected: bool = False
    ) -> BinanceOrder:
        """Place a new order (``POST /api/v3/order``) and return it after the venue's answer.

        ``is_rejected`` (the reject fault) refuses a valid order with -2010 after the checks.

        Raises
        ------
        BinanceError
            With Binance's code when the request or the order is refused.
        """
        symbol = params.get("symbol")
        if not symbol:
            raise mandatory("symbol")
        if symbol != self.symbol:
            raise BinanceError(400, -1121, "Invalid symbol.")
        side = params.get("side")
        if not side:
            raise mandatory("side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1117, "Invalid side.")
        order_type = params.get("type")
        if not order_type:
            raise mandatory("type")
        if order_type not in _ALL_TYPES:
            raise BinanceError(400, -1116, "Invalid orderType.")
        if order_type not in _TYPES:
            raise BinanceError(400, -1013, "Take-profit orders are not supported for this symbol.")
        quote = self.last_quote
        if quote is None:
            raise BinanceError(400, -1013, "Market is closed.")
        price = stop = Decimal(0)
        tif = params.get("timeInForce", "")
        if order_type in ("MARKET", "STOP_LOSS"):
            if tif:
                raise BinanceError(400, -1106, "Parameter 'timeInForce' sent when not required.")
            if order_type == "STOP_LOSS":
                quantity = self._decimal(params, "quantity")
                stop = self._decimal(params, "stopPrice")
            elif "quantity" in params:
                quantity = self._decimal(params, "quantity")
            elif "quoteOrderQty" in params:
                cost = self._decimal(params, "quoteOrderQty")
                touch = self._touch(side, quote)
                quantity = (cost / touch).quantize(self.step, ROUND_DOWN)
            else:
                raise BinanceError(
                    400,
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                )
        else:
            quantity = self._decimal(params, "quantity")
            price = self._decimal(params, "price")
            if order_type in ("LIMIT", "STOP_LOSS_LIMIT"):
                if not tif:
                    raise mandatory("timeInForce")
                if tif not in _TIFS:
                    raise BinanceError(400, -1115, "Invalid timeInForce.")
            elif tif:
                raise BinanceError(400, -1106, "Parameter 'timeInForce' sent when not required.")
            if order_type == "STOP_LOSS_LIMIT":
                stop = self._decimal(params, "stopPrice")
        self._check_filters(order_type, price, stop, quantity, side, quote)
        client_order_id = params.get("newClientOrderId") or f"emu{self._next_order_id}"
        if any(o.is_open and o.client_order_id == client_order_id for o in self.orders.values()):
            raise BinanceError(400, -2010, "Duplicate order sent.")
        lock_asset, lock_price = self._lock_need(side, order_type, price, stop, quote)
        lock_amount = quantity if side == "SELL" else lock_price * quantity
        if self.free[lock_asset] < lock_amount:
            raise BinanceError(400, -2010, "Account has insufficient balance for requested action.")
        if is_rejected:
            raise BinanceError(400, -2010, "New order rejected.")
        order = BinanceOrder(
            symbol=symbol,
            order_id=self._next_order_id,
            client_order_id=client_order_id,
            side=side,
            type=order_type,
            time_in_force=tif or "GTC",
            price=price,
            orig_qty=quantity,
            time_ms=now_ms,
            update_time_ms=now_ms,
            stop_price=stop,
            lock_price=lock_price,
        )
        self._next_order_id += 1
        if order_type != "MARKET":
            order.locked = lock_amount
            self.free[lock_asset] -= lock_amount
            self.locked[lock_asset] += lock_amount
        self.orders[order.order_id] = order
        self.log.append(order)
        now_ns = self.clock.timestamp_ns()
        init = OrderInitialized(
            client_order_id=self._venue_id(order),
            strategy_id="emulator",
            instrument_id=self.instrument.id,
            side=OrderSide.BUY if side == "BUY" else OrderSide.SELL,
            order_type=_VENUE_TYPES[order_type],
            quantity=Quantity.from_decimal(quantity, self.market.size_precision),
            price=None if not price else Price.from_decimal(price, self.market.price_precision),
            trigger_price=None
            if not stop
            else Price.from_decimal(stop, self.market.price_precision),
            time_in_force=_TIFS.get(order.time_in_force, TimeInForce.GTC)
            if order_type in ("LIMIT", "STOP_LOSS_LIMIT")
            else TimeInForce.IOC
            if order_type == "MARKET" and not self.venue.config.use_quote_size
            else TimeInForce.GTC,
            is_post_only=order_type == "LIMIT_MAKER",
            ts_event=now_ns,
            ts_init=now_ns,
        )
        self.venue.submit_order(SubmitOrder(order=init, strategy_id="emulator", ts_init=now_ns))
        self._drain()
        if order.status == "REJECTED":
            del self.orders[order.order_id]
            raise BinanceError(400, -2010, order.reject_reason)
        return order

    def refused(self, params: dict[str, str], error: BinanceError, now_ms: int) -> None:
        """Record a new-order request refused before it reached the venue."""
        self.log.append(
            {
                "orderId": None,
                "clientOrderId": params.get("newClientOrderId"),
                "symbol": params.get("symbol"),
                "side": params.get("side"),
                "type": params.get("type"),
                "timeInForce": params.get("timeInForce"),
                "price": params.get("price"),
                "origQty": params.get("quantity"),
                "executedQty": "0.00000000",
                "status": "REJECTED",
                "time": now_ms,
                "updateTime": now_ms,
                "error": error.body(),
                "fills": [],
            }
        )

    def cancel(self, order: BinanceOrder) -> None:
        """Cancel a working order (``DELETE /api/v3/order``).

        Raises
        ------
        BinanceError
            -2011 when the order no longer works.
        """
        if not order.is_open:
            raise BinanceError(400, -2011, "Unknown order sent.")
        now_ns = self.clock.timestamp_ns()
        self.venue.cancel_order(
            CancelOrder(
                strategy_id="emulator",
                instrument_id=self.instrument.id,
                client_order_id=self._venue_id(order),
                reason="canceled by the client",
                ts_init=now_ns,
            )
        )
        self._drain()

    # -- venue events -----------------------------------------------------------------------------

    @staticmethod
    def _venue_id(order: BinanceOrder) -> str:
        return f"O-{order.order_id}"

    def _touch(self, side: str, quote: MarketQuote) -> Decimal:
        raw = quote.ask_raw if side == "BUY" else quote.bid_raw
        return Decimal(raw).scaleb(-self.market.price_precision)

    def _check_filters(
        self,
        order_type: str,
        price: Decimal,
        stop: Decimal,
        quantity: Decimal,
        side: str,
        quote: MarketQuote,
    ) -> None:
        for value in (price, stop):
            if value and (value < self.tick or value > MAX_PRICE or value % self.tick != 0):
                raise BinanceError(400, -1013, "Filter failure: PRICE_FILTER")
        if quantity < self.step or quantity > MAX_QUANTITY or quantity % self.step != 0:
            raise BinanceError(400, -1013, "Filter failure: LOT_SIZE")
        reference = price or stop or self._touch(side, quote)
        if reference * quantity < MIN_NOTIONAL:
            raise BinanceError(400, -1013, "Filter failure: NOTIONAL")
        if stop:  # a stop-loss buy triggers at or above its stop, a sell at or below
            touch = self._touch(side, quote)
            if (side == "BUY" and touch >= stop) or (side == "SELL" and touch <= stop):
                raise BinanceError(400, -2010, "Order would trigger immediately.")

    def _lock_need(
        self, side: str, order_type: str, price: Decimal, stop: Decimal, quote: MarketQuote
    ) -> tuple[str, Decimal]:
        # the asset held and, for buys, the price the quote is held at
        if side == "SELL":
            return self.market.base_asset, Decimal(0)
        if order_type == "MARKET":
            return self.market.quote_asset, self._touch(side, quote)
        return self.market.quote_asset, price or stop

    def _drain(self) -> None:
        while self._events:
            event = self._events.pop(0)
            if not hasattr(event, "client_order_id"):
                continue
            venue_id: str = event.client_order_id
            if not venue_id.startswith("O-"):
                continue
            order = self.orders.get(int(venue_id[2:]))
            if order is None:
                continue
            self._apply(order, event)

    def _apply(self, order: BinanceOrder, event: Event) -> None:
        now_ms = event.ts_event // 1_000_000
        order.update_time_ms = max(order.update_time_ms, now_ms)
        if isinstance(event, OrderAccepted):
            self._report(order, "NEW", None)
        elif isinstance(event, OrderRejected):
            order.status = "REJECTED"
            order.reject_reason = (
                "Order would immediately match and take."
                if "post-only" in event.reason
                else "Order rejected by the venue."
            )
            self._release(order)
        elif isinstance(event, OrderFilled):
            self._fill(order, event, now_ms)
        elif isinstance(event, OrderCanceled | OrderExpired):
            # Binance: a market or IOC/FOK remainder expires, a client cancel cancels
            order.status = (
                "CANCELED"
                if event.__class__ is OrderCanceled
                and ("IOC/FOK" not in getattr(event, "reason", ""))
                else "EXPIRED"
            )
            self._release(order)
            self._report(order, order.status, None)
            self._account_position(now_ms)

    def _fill(self, order: BinanceOrder, event: OrderFilled, now_ms: int) -> None:
        qty = event.last_qty.as_decimal()
        px = event.last_px.as_decimal()
        notional = qty * px
        base, quote_asset = self.market.base_asset, self.market.quote_asset
        is_buy = order.side == "BUY"
        is_maker = event.liquidity_side.name == "MAKER"
        if is_buy:
            commission, commission_asset = qty * FEE_RATE, base
            if order.type == "MARKET":
                self.free[quote_asset] -= notional
            else:
                release = min(order.locked, qty * order.lock_price)
                order.locked -= release
                self.locked[quote_asset] -= release
                self.free[quote_asset] += release - notional
            self.free[base] += qty - commission
        else:
            commission, commission_asset = notional * FEE_RATE, quote_asset
            if order.type == "MARKET":
                self.free[base] -= qty
            else:
                release = min(order.locked, qty)
                order.locked -= release
                self.locked[base] -= release
            self.free[quote_asset] += notional - commission
        fill = BinanceFill(
            trade_id=self._next_trade_id,
            order_id=order.order_id,
            price=px,
            qty=qty,
            commission=commission,
            commission_asset=commission_asset,
            time_ms=now_ms,
            is_buyer=is_buy,
            is_maker=is_maker,
        )
        self._next_trade_id += 1
        order.fills.append(fill)
        self.fills.append(fill)
        order.executed_qty += qty
        order.cummulative_quote_qty += notional
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        if order.status == "FILLED":
            self._release(order)
        self._report(order, "TRADE", fill)
        self._account_position(now_ms)

    def _release(self, order: BinanceOrder) -> None:
        if order.locked:
            asset = self.market.quote_asset if order.side == "BUY" else self.market.base_asset
            self.locked[asset] -= order.locked
            self.free[asset] += order.locked
            order.locked = Decimal(0)

    # -- user data stream -------------------------------------------------------------------------

    def transfer(self, asset: str, amount: Decimal) -> None:
        """Move the free balance of ``asset`` by ``amount`` outside any order (a deposit or a
        withdrawal behind the node's back, for reconciliation tests)."""
        self.free[asset] = self.free.get(asset, Decimal(0)) + amount
        self.locked.setdefault(asset, Decimal(0))

    def balances(self) -> list[dict[str, str]]:
        """Return the balances as ``GET /api/v3/account`` lists them."""
        return [
            {"asset": asset, "free": fmt(self.free[asset]), "locked": fmt(self.locked[asset])}
            for asset in sorted(self.free)
        ]

    def _publish(self, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(event)

    def _report(self, order: BinanceOrder, execution_type: str, fill: BinanceFill | None) -> None:
        now_ms = self.clock.timestamp_ns() // 1_000_000
        self._publish(
            {
                "e": "executionReport",
                "E": now_ms,
                "s": order.symbol,
                "c": order.client_order_id,
                "S": order.side,
                "o": order.type,
                "f": order.time_in_force,
                "q": fmt(order.orig_qty),
                "p": fmt(order.price),
                "P": fmt(order.stop_price),
                "F": "0.00000000",
                "g": -1,
                "C": order.client_order_id if execution_type == "CANCELED" else "",
                "x": execution_type,
                "X": order.status,
                "r": "NONE",
                "i": order.order_id,
                "l": fmt(fill.qty) if fill else "0.00000000",
                "z": fmt(order.executed_qty),
                "L": fmt(fill.price) if fill else "0.00000000",
                "n": fmt(fill.commission) if fill else "0",
                "N": fill.commission_asset if fill else None,
                "T": fill.time_ms if fill else order.update_time_ms,
                "t": fill.trade_id if fill else -1,
                "I": order.order_id * 2 + (1 if fill else 0),
                "w": order.is_open,
                "m": fill.is_maker if fill else False,
                "M": fill is not None,
                "O": order.time_ms,
                "Z": fmt(order.cummulative_quote_qty),
                "Y": fmt(fill.qty * fill.price) if fill else "0.00000000",
                "Q": "0.00000000",
                "W": order.time_ms,
                "V": "EXPIRE_MAKER",
            }
        )

    def _account_position(self, now_ms: int) -> None:
        assets = (self.market.base_asset, self.market.quote_asset)
        self._publish(
            {
                "e": "outboundAccountPosition",
                "E": now_ms,
                "u": now_ms,
                "B": [{"a": a, "f": fmt(self.free[a]), "l": fmt(self.locked[a])} for a in assets],
            }
        )

    # -- inspection -------------------------------------------------------------------------------

    def inspect(self) -> list[dict[str, Any]]:
        """Return every order received, with its client order id, status and fills."""
        return [item if isinstance(item, dict) else self._inspect(item) for item in self.log]

    @staticmethod
    def _inspect(order: BinanceOrder) -> dict[str, Any]:
        return {
            "orderId": order.order_id,
            "clientOrderId": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "type": order.type,
            "timeInForce": order.time_in_force,
            "price": fmt(order.price),
            "origQty": fmt(order.orig_qty),
            "executedQty": fmt(order.executed_qty),
            "status": order.status,
            "time": order.time_ms,
            "updateTime": order.update_time_ms,
            "fills": [
                {
                    "tradeId": f.trade_id,
                    "price": fmt(f.price),
                    "qty": fmt(f.qty),
                    "commission": fmt(f.commission),
                    "commissionAsset": f.commission_asset,
                    "isMaker": f.is_maker,
                    "time": f.time_ms,
                }
                for f in order.fills
            ],
            "error": {"code": -2010, "msg": order.reject_reason} if order.reject_reason else None,
        }

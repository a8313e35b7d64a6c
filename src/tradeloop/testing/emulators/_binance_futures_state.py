"""The Binance emulator's USD-M futures account: a cross-margin USDT wallet, one BTCUSDT
perpetual position (one-way mode, ``positionSide`` ``BOTH``) and its orders, matched by its
own instance of tradeloop's simulated venue over the same replayed market as the spot side.

Steps of a new order (``submit``), each raising ``BinanceError`` with the code the USD-M
API answers:

1. parameters and enums (-1102, -1116, -1117, -1121, -1115, -4061), then the symbol's
   filters as the recorded exchange info states them: PRICE_FILTER (-4014 tick, -4016/-4024
   bounds), LOT_SIZE / MARKET_LOT_SIZE (-1111 step, -4003, -4005), PERCENT_PRICE
   (-4016/-4024), MIN_NOTIONAL (-4164, reduce-only orders exempt);
2. duplicate client order id among open orders (-4116), reduce-only against the position
   (-2022), initial margin against the available balance (-2019);
3. the order goes to the simulated venue; fills move the position (average entry price,
   realized PnL on the reducing part) and the wallet (realized PnL less the commission:
   maker 0.02 %, taker 0.04 %, in USDT), and publish ``ORDER_TRADE_UPDATE`` and
   ``ACCOUNT_UPDATE``. A post-only (``GTX``) order that would take expires, as on Binance.

Margin is Binance's cross margin simplified to one symbol: position initial margin
``|amount| × mark / leverage``, open-order initial margin ``remaining × price / leverage``
for every working order that is not reduce-only, maintenance margin 0.4 % of the notional
(BTCUSDT's first tier). The mark price is the quote's mid; there is no funding and no
liquidation.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from tradeloop.core.clock import Clock
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.enums import OrderSide, OrderType, TimeInForce
from tradeloop.model.events import Event, OrderInitialized, OrderRejected
from tradeloop.testing.emulators._binance_state import BinanceState
from tradeloop.testing.emulators._binance_types import (
    BinanceError,
    BinanceFill,
    BinanceOrder,
    fmt,
    mandatory,
)
from tradeloop.testing.emulators._market import MarketQuote, MarketTrade, ReplayMarket

MAKER_RATE = Decimal("0.0002")
TAKER_RATE = Decimal("0.0004")
MAINT_RATE = Decimal("0.004")
DEFAULT_LEVERAGE = 20
MAX_LEVERAGE = 125
TICK = Decimal("0.10")
STEP = Decimal("0.001")
MIN_PRICE = Decimal("556.80")
MAX_PRICE = Decimal("4529764")
MAX_QTY = Decimal("1000")
MAX_MARKET_QTY = Decimal("120")
MIN_NOTIONAL = Decimal("5")
PERCENT_UP, PERCENT_DOWN = Decimal("1.0500"), Decimal("0.9500")
_TIFS = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK,
         "GTX": TimeInForce.GTC}  # fmt: skip
_SUPPORTED = {"LIMIT": OrderType.LIMIT, "MARKET": OrderType.MARKET,
              "STOP": OrderType.STOP_LIMIT, "STOP_MARKET": OrderType.STOP_MARKET}  # fmt: skip
_ALL_TYPES = ("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
              "TRAILING_STOP_MARKET")  # fmt: skip


def _tick_raw(market: ReplayMarket) -> int:
    return int(TICK.scaleb(market.price_precision))


def perp_quote(quote: MarketQuote, market: ReplayMarket) -> MarketQuote:
    """Return the recorded quote on the perpetual's 0.10 grid: the bid rounded down, the
    ask up (the spread never crosses)."""
    tick = _tick_raw(market)
    return replace(
        quote, bid_raw=quote.bid_raw // tick * tick, ask_raw=-(-quote.ask_raw // tick) * tick
    )


def perp_trade(trade: MarketTrade, market: ReplayMarket) -> MarketTrade:
    """Return the recorded print at the perpetual's nearest 0.10 price."""
    tick = _tick_raw(market)
    return replace(trade, price_raw=(trade.price_raw + tick // 2) // tick * tick)


def fmt_px(value: Decimal) -> str:
    """Return a price as USD-M answers it (two decimals for BTCUSDT)."""
    return f"{value.quantize(Decimal('0.01')):f}"


def fmt_qty(value: Decimal) -> str:
    """Return a quantity as USD-M answers it (three decimals for BTCUSDT)."""
    return f"{value.quantize(STEP):f}"


def fmt_quote(value: Decimal) -> str:
    """Return a quote amount (``cumQuote``, ``quoteQty``) with USD-M's five decimals."""
    return f"{value.quantize(Decimal('0.00001')):f}"


class BinanceFuturesState(BinanceState):
    """The USD-M futures account of the emulator (see the module docstring).

    Parameters
    ----------
    market : the replayed market (shared with the spot side).
    wallet : the starting USDT wallet balance.
    partial_fills, clock : as ``BinanceState``.
    """

    def __init__(
        self,
        market: ReplayMarket,
        wallet: Decimal,
        partial_fills: bool = False,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(market, {}, partial_fills, clock)
        self.free = {}  # the spot balances the base class set up do not exist here
        self.locked = {}
        self.wallet = wallet
        self.position_amt = Decimal(0)
        self.entry_price = Decimal(0)
        self.leverage = DEFAULT_LEVERAGE
        self.position_update_ms = 0
        # when the wallet last changed: funded as the emulator starts (ccxt skips assets whose
        # updateTime is 0 as never funded, as Binance reports them)
        self.wallet_update_ms = self.clock.timestamp_ns() // 1_000_000
        self.tick = TICK
        self.step = STEP

    # -- market ---------------------------------------------------------------------------------

    def on_quote(self, quote: MarketQuote) -> None:
        """Feed a recorded quote, on the perpetual's price grid, to the matching engine."""
        super().on_quote(perp_quote(quote, self.market))

    def on_trade(self, trade: MarketTrade) -> None:
        """Feed a recorded print, on the perpetual's price grid, to the matching engine."""
        super().on_trade(perp_trade(trade, self.market))

    # -- margin -----------------------------------------------------------------------------------

    def mark_price(self) -> Decimal:
        """Return the mark price: the last quote's mid (0 before the first quote)."""
        quote = self.last_quote
        if quote is None:
            return Decimal(0)
        mid = Decimal(quote.bid_raw + quote.ask_raw) / 2
        return mid.scaleb(-self.market.price_precision)

    def unrealized_pnl(self) -> Decimal:
        """Return the position's unrealized profit at the mark price."""
        if not self.position_amt:
            return Decimal(0)
        return self.position_amt * (self.mark_price() - self.entry_price)

    def position_margin(self) -> Decimal:
        """Return the position's initial margin."""
        return abs(self.position_amt) * self.mark_price() / self.leverage

    def maint_margin(self) -> Decimal:
        """Return the position's maintenance margin."""
        return abs(self.position_amt) * self.mark_price() * MAINT_RATE

    def order_margin(self) -> Decimal:
        """Return the initial margin held by working orders that may add to the position."""
        total = Decimal(0)
        for order in self.orders.values():
            if order.is_open and not order.reduce_only:
                price = order.price or order.stop_price or self.mark_price()
                total += (order.orig_qty - order.executed_qty) * price / self.leverage
        return total

    def available(self) -> Decimal:
        """Return the available balance: margin balance less the initial margins."""
        margin_balance = self.wallet + self.unrealized_pnl()
        return margin_balance - self.position_margin() - self.order_margin()

    def liquidation_price(self) -> Decimal:
        """Return the mark price at which the margin balance falls to the maintenance margin
        (0 when there is no position or no such positive price, as Binance answers)."""
        amount = self.position_amt
        if not amount:
            return Decimal(0)
        # wallet + amount × (P − entry) = |amount| × P × maint rate, solved for P
        price = (self.wallet - amount * self.entry_price) / (abs(amount) * MAINT_RATE - amount)
        return max(Decimal(0), price)

    def set_leverage(self, leverage: int) -> None:
        """Change the symbol's leverage (``POST /fapi/v1/leverage``).

        Raises
        ------
        BinanceError
            -4028 when the leverage is outside 1..125.
        """
        if not 1 <= leverage <= MAX_LEVERAGE:
            raise BinanceError(400, -4028, f"Leverage {leverage} is not valid")
        self.leverage = leverage

    # -- orders -----------------------------------------------------------------------------------

    def submit(
        self, params: dict[str, str], now_ms: int, is_rejected: bool = False
    ) -> BinanceOrder:
        """Place a new order (``POST /fapi/v1/order``) and return it after the venue's answer.

        Raises
        ------
        BinanceError
            With the USD-M code when the request or the order is refused.
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
        if order_type not in _SUPPORTED:
            raise BinanceError(400, -1116, f"Order type {order_type} is not served here.")
        if params.get("positionSide", "BOTH") != "BOTH":
            raise BinanceError(400, -4061, "Order's position side does not match user's setting.")
        if params.get("closePosition", "false") == "true":
            raise BinanceError(400, -1116, "closePosition orders are not served here.")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        quote = self.last_quote
        if quote is None:
            raise BinanceError(400, -1013, "Market is closed.")
        quantity = self._decimal(params, "quantity")
        price = stop = Decimal(0)
        tif = params.get("timeInForce", "")
        if order_type in ("LIMIT", "STOP"):
            price = self._decimal(params, "price")
            if not tif:
                raise mandatory("timeInForce")
            if tif not in _TIFS:
                raise BinanceError(400, -1115, "Invalid timeInForce.")
        if order_type in ("STOP", "STOP_MARKET"):
            stop = self._decimal(params, "stopPrice")
        self._check_futures_filters(order_type, price, stop, quantity, side, reduce_only, quote)
        client_order_id = params.get("newClientOrderId") or f"emu{self._next_order_id}"
        if any(o.is_open and o.client_order_id == client_order_id for o in self.orders.values()):
            raise BinanceError(400, -4116, "ClientOrderId is duplicated.")
        signed = quantity if side == "BUY" else -quantity
        if reduce_only and (not self.position_amt or (self.position_amt > 0) == (signed > 0)):
            raise BinanceError(400, -2022, "ReduceOnly Order is rejected.")
        if not reduce_only:
            reference = price or stop or self._touch(side, quote)
            if quantity * reference / self.leverage > self.available():
                raise BinanceError(400, -2019, "Margin is insufficient.")
        if is_rejected:
            raise BinanceError(400, -2010, "New order rejected.")
        if reduce_only:  # never more than the position (Binance trims the order too)
            quantity = min(quantity, abs(self.position_amt))
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
            reduce_only=reduce_only,
        )
        self._next_order_id += 1
        self.orders[order.order_id] = order
        self.log.append(order)
        now_ns = self.clock.timestamp_ns()
        precision = self.market.price_precision
        init = OrderInitialized(
            client_order_id=self._venue_id(order),
            strategy_id="emulator",
            instrument_id=self.instrument.id,
            side=OrderSide.BUY if side == "BUY" else OrderSide.SELL,
            order_type=_SUPPORTED[order_type],
            quantity=Quantity.from_decimal(quantity, self.market.size_precision),
            price=None if not price else Price.from_decimal(price, precision),
            trigger_price=None if not stop else Price.from_decimal(stop, precision),
            time_in_force=_TIFS[tif]
            if tif
            else TimeInForce.IOC
            if order_type == "MARKET" and not self.venue.config.use_quote_size
            else TimeInForce.GTC,
            is_post_only=tif == "GTX",
            ts_event=now_ns,
            ts_init=now_ns,
        )
        self.venue.submit_order(SubmitOrder(order=init, strategy_id="emulator", ts_init=now_ns))
        self._drain()
        if order.status == "REJECTED":
            del self.orders[order.order_id]
            raise BinanceError(400, -2010, order.reject_reason)
        return order

    def _check_futures_filters(
        self,
        order_type: str,
        price: Decimal,
        stop: Decimal,
        quantity: Decimal,
        side: str,
        reduce_only: bool,
        quote: MarketQuote,
    ) -> None:
        for value in (price, stop):
            if not value:
                continue
            if value < MIN_PRICE:
                raise BinanceError(400, -4024, f"Limit price can't be lower than {MIN_PRICE}.")
            if value > MAX_PRICE:
                raise BinanceError(400, -4016, f"Limit price can't be higher than {MAX_PRICE}.")
            if value % TICK != 0:
                raise BinanceError(400, -4014, "Price not increased by tick size.")
        if quantity <= 0:
            raise BinanceError(400, -4003, "Quantity less than or equal to zero.")
        if quantity % STEP != 0:
            raise BinanceError(400, -1111, "Precision is over the maximum defined for this asset.")
        maximum = MAX_MARKET_QTY if order_type in ("MARKET", "STOP_MARKET") else MAX_QTY
        if quantity > maximum:
            raise BinanceError(400, -4005, "Quantity greater than max quantity.")
        mark = self.mark_price()
        if price and order_type == "LIMIT":  # PERCENT_PRICE: within 5 % of the mark
            if price > mark * PERCENT_UP:
                raise BinanceError(
                    400, -4016, f"Limit price can't be higher than {fmt_px(mark * PERCENT_UP)}."
                )
            if price < mark * PERCENT_DOWN:
                raise BinanceError(
                    400, -4024, f"Limit price can't be lower than {fmt_px(mark * PERCENT_DOWN)}."
                )
        reference = price or stop or self._touch(side, quote)
        if not reduce_only and reference * quantity < MIN_NOTIONAL:
            raise BinanceError(
                400,
                -4164,
                f"Order's notional must be no smaller than {MIN_NOTIONAL} "
                "(unless you choose reduce only).",
            )
        if stop:  # a stop buy triggers at or above its stop, a sell at or below
            touch = self._touch(side, quote)
            if (side == "BUY" and touch >= stop) or (side == "SELL" and touch <= stop):
                raise BinanceError(400, -2021, "Order would immediately trigger.")

    # -- venue events -----------------------------------------------------------------------------

    def _apply(self, order: BinanceOrder, event: Event) -> None:
        if isinstance(event, OrderRejected) and order.time_in_force == "GTX":
            # USD-M accepts a post-only order that would take, then expires it
            order.status = "EXPIRED"
            order.update_time_ms = event.ts_event // 1_000_000
            self._report(order, "EXPIRED", None)
            return
        super()._apply(order, event)

    def _fill(self, order: BinanceOrder, event: Any, now_ms: int) -> None:
        qty = event.last_qty.as_decimal()
        px = event.last_px.as_decimal()
        is_buy = order.side == "BUY"
        is_maker = event.liquidity_side.name == "MAKER"
        commission = qty * px * (MAKER_RATE if is_maker else TAKER_RATE)
        realized = self._move_position(qty if is_buy else -qty, px)
        self.wallet += realized - commission
        fill = BinanceFill(
            trade_id=self._next_trade_id,
            order_id=order.order_id,
            price=px,
            qty=qty,
            commission=commission,
            commission_asset=self.market.quote_asset,
            time_ms=now_ms,
            is_buyer=is_buy,
            is_maker=is_maker,
            realized_pnl=realized,
        )
        self._next_trade_id += 1
        order.fills.append(fill)
        self.fills.append(fill)
        order.executed_qty += qty
        order.cummulative_quote_qty += qty * px
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        self.position_update_ms = self.wallet_update_ms = now_ms
        self._report(order, "TRADE", fill)
        self._account_update(now_ms)

    def _move_position(self, signed: Decimal, px: Decimal) -> Decimal:
        """Apply a signed fill to the position; return the profit it realized."""
        amount, entry = self.position_amt, self.entry_price
        new = amount + signed
        realized = Decimal(0)
        if not amount or (amount > 0) == (signed > 0):
            self.entry_price = (abs(amount) * entry + abs(signed) * px) / abs(new)
        else:
            closing = min(abs(signed), abs(amount))
            realized = closing * (px - entry) * (1 if amount > 0 else -1)
            if not new:
                self.entry_price = Decimal(0)
            elif (new > 0) != (amount > 0):
                self.entry_price = px
        self.position_amt = new
        return realized

    def transfer_position(self, signed: Decimal) -> None:
        """Move the position by ``signed`` at the mark price, outside any order (a position
        changed behind the node's back, for reconciliation tests)."""
        self._move_position(signed, self.mark_price())

    def _release(self, order: BinanceOrder) -> None:
        pass  # margin is worked out from the working orders, nothing is held per order

    # -- user data stream -------------------------------------------------------------------------

    def _report(self, order: BinanceOrder, execution_type: str, fill: BinanceFill | None) -> None:
        now_ms = self.clock.timestamp_ns() // 1_000_000
        average = order.cummulative_quote_qty / order.executed_qty if order.executed_qty else 0
        self._publish(
            {
                "e": "ORDER_TRADE_UPDATE",
                "E": now_ms,
                "T": order.update_time_ms,
                "o": {
                    "s": order.symbol,
                    "c": order.client_order_id,
                    "S": order.side,
                    "o": order.type,
                    "f": order.time_in_force,
                    "q": fmt_qty(order.orig_qty),
                    "p": fmt_px(order.price),
                    "ap": fmt_quote(Decimal(average)),
                    "sp": fmt_px(order.stop_price),
                    "x": execution_type,
                    "X": order.status,
                    "i": order.order_id,
                    "l": fmt_qty(fill.qty) if fill else "0",
                    "z": fmt_qty(order.executed_qty),
                    "L": fmt_px(fill.price) if fill else "0",
                    "N": fill.commission_asset if fill else "USDT",
                    "n": fmt(fill.commission) if fill else "0",
                    "T": fill.time_ms if fill else order.update_time_ms,
                    "t": fill.trade_id if fill else 0,
                    "b": "0",
                    "a": "0",
                    "m": fill.is_maker if fill else False,
                    "R": order.reduce_only,
                    "wt": "CONTRACT_PRICE",
                    "ot": order.type,
                    "ps": "BOTH",
                    "cp": False,
                    "rp": fmt(fill.realized_pnl) if fill else "0",
                    "pP": False,
                    "si": 0,
                    "ss": 0,
                    "V": "NONE",
                    "pm": "NONE",
                    "gtd": 0,
                },
            }
        )

    def _account_position(self, now_ms: int) -> None:
        pass  # cancels and expiries move neither the wallet nor the position

    def _account_update(self, now_ms: int) -> None:
        self._publish(
            {
                "e": "ACCOUNT_UPDATE",
                "E": now_ms,
                "T": now_ms,
                "a": {
                    "m": "ORDER",
                    "B": [{"a": "USDT", "wb": fmt(self.wallet), "cw": fmt(self.wallet), "bc": "0"}],
                    "P": [self.position_row()],
                },
            }
        )

    def position_row(self) -> dict[str, Any]:
        """Return the position as ``ACCOUNT_UPDATE`` lists it."""
        return {
            "s": self.symbol,
            "pa": fmt_qty(self.position_amt),
            "ep": fmt(self.entry_price),
            "bep": fmt(self.break_even()),
            "cr": "0",
            "up": fmt(self.unrealized_pnl()),
            "mt": "cross",
            "iw": "0",
            "ps": "BOTH",
        }

    def break_even(self) -> Decimal:
        """Return the break-even price: the entry moved by the taker fee of closing."""
        if not self.position_amt:
            return Decimal(0)
        sign = 1 if self.position_amt > 0 else -1
        return self.entry_price * (1 + sign * TAKER_RATE)

    # -- inspection and queries -------------------------------------------------------------------

    def _inspect(self, order: BinanceOrder) -> dict[str, Any]:  # type: ignore[override]
        return BinanceState._inspect(order) | {"reduceOnly": order.reduce_only}

    # -- queries ----------------------------------------------------------------------------------

    def as_query(self, order: BinanceOrder) -> dict[str, Any]:
        """Return an order as ``GET /fapi/v1/order`` shows it."""
        average = order.cummulative_quote_qty / order.executed_qty if order.executed_qty else 0
        return {
            "orderId": order.order_id,
            "symbol": order.symbol,
            "status": order.status,
            "clientOrderId": order.client_order_id,
            "price": fmt_px(order.price),
            "avgPrice": fmt_quote(Decimal(average)),
            "origQty": fmt_qty(order.orig_qty),
            "executedQty": fmt_qty(order.executed_qty),
            "cumQuote": fmt_quote(order.cummulative_quote_qty),
            "timeInForce": order.time_in_force,
            "type": order.type,
            "reduceOnly": order.reduce_only,
            "closePosition": False,
            "side": order.side,
            "positionSide": "BOTH",
            "stopPrice": fmt_px(order.stop_price),
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": order.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
            "time": order.time_ms,
            "updateTime": order.update_time_ms,
        }

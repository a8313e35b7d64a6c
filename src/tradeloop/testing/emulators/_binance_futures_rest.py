"""The Binance emulator's USD-M futures REST endpoints (``/fapi``), in the JSON shapes of
Binance's recorded USD-M answers: the BTCUSDT perpetual's exchange info, depth, orders,
trades, the margin account, positions and balances (see ``_binance_futures_state``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import ROUND_UP, Decimal
from typing import Any

from tradeloop.testing.emulators._binance_auth import RateLimits
from tradeloop.testing.emulators._binance_futures_state import (
    DEFAULT_LEVERAGE,
    MAKER_RATE,
    MAX_MARKET_QTY,
    MAX_PRICE,
    MAX_QTY,
    MIN_NOTIONAL,
    MIN_PRICE,
    STEP,
    TAKER_RATE,
    TICK,
    BinanceFuturesState,
    fmt_px,
    fmt_qty,
    fmt_quote,
    perp_quote,
)
from tradeloop.testing.emulators._binance_market_rest import _int, _limit
from tradeloop.testing.emulators._binance_types import BinanceError, BinanceOrder, fmt, mandatory
from tradeloop.testing.emulators._market import MarketQuote

_NONE, _USER_STREAM, _SIGNED = 0, 1, 2
FUTURES_LIMITS = RateLimits(weight_per_minute=2400, orders_per_10s=300, orders_per_day=1200 * 1440)
_BRACKETS = (  # BTCUSDT's notional brackets as Binance published them: cap, leverage, mmr, cum
    (50_000, 125, "0.004", 0), (500_000, 100, "0.005", 50), (8_000_000, 50, "0.01", 2_550),
    (50_000_000, 20, "0.025", 122_550), (80_000_000, 10, "0.05", 1_372_550),
    (100_000_000, 5, "0.1", 5_372_550), (200_000_000, 4, "0.125", 7_872_550),
    (400_000_000, 3, "0.15", 12_872_550), (600_000_000, 2, "0.25", 52_872_550),
    (1_000_000_000, 1, "0.5", 202_872_550),
)  # fmt: skip

Route = Callable[..., None]
Book = tuple[list[list[str]], list[list[str]]]


def futures_size(raw: int, precision: int) -> str:
    """Return a recorded size at USD-M's three decimals, rounded up (a level never shows 0)."""
    return fmt_qty(Decimal(raw).scaleb(-precision).quantize(STEP, ROUND_UP))


def futures_depth_weight(params: dict[str, str]) -> int:
    """Return the weight of ``GET /fapi/v1/depth`` for its ``limit``."""
    limit = _int(params, "limit", 500) or 500
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


class BinanceFuturesRest:
    """USD-M REST handlers; ``register`` hands them to the server with weight and security."""

    def __init__(self, state: BinanceFuturesState, roll_reject: Callable[[], bool]) -> None:
        self.state = state
        self.market = state.market
        self.roll_reject = roll_reject

    def register(self, route: Route) -> None:
        """Register every ``/fapi`` endpoint with ``route(method, path, handler, weight,
        security, is_order)``."""
        v1, v2, v3 = "/fapi/v1", "/fapi/v2", "/fapi/v3"
        route("GET", f"{v1}/ping", lambda p, n: {}, 1, _NONE)
        route("GET", f"{v1}/time", lambda p, n: {"serverTime": n}, 1, _NONE)
        route("GET", f"{v1}/exchangeInfo", self.exchange_info, 1, _NONE)
        route("GET", f"{v1}/depth", self.depth, futures_depth_weight, _NONE)
        route("GET", f"{v1}/ticker/bookTicker", self.book_ticker, 2, _NONE)
        route("GET", f"{v1}/premiumIndex", self.premium_index, 1, _NONE)
        route("POST", f"{v1}/order", self.new_order, 1, _SIGNED, True)
        route("GET", f"{v1}/order", self.query_order, 1, _SIGNED)
        route("POST", f"{v1}/batchOrders", self.batch_orders, 5, _SIGNED, True)
        route("DELETE", f"{v1}/order", self.cancel_order, 1, _SIGNED, True)
        route("GET", f"{v1}/openOrder", self.open_order, 1, _SIGNED)
        route("GET", f"{v1}/openOrders", self.open_orders, 1, _SIGNED)
        route("DELETE", f"{v1}/allOpenOrders", self.cancel_all, 1, _SIGNED, True)
        route("GET", f"{v1}/allOrders", self.all_orders, 5, _SIGNED)
        route("GET", f"{v1}/userTrades", self.user_trades, 5, _SIGNED)
        route("GET", f"{v1}/leverageBracket", self.leverage_bracket, 1, _SIGNED)
        route("POST", f"{v1}/leverage", self.change_leverage, 1, _SIGNED)
        route("GET", f"{v1}/positionSide/dual", lambda p, n: {"dualSidePosition": False},
              30, _SIGNED)  # fmt: skip
        route("GET", f"{v1}/commissionRate", self.commission_rate, 20, _SIGNED)
        route("GET", f"{v2}/account", self.account, 5, _SIGNED)
        route("GET", f"{v3}/account", self.account_v3, 5, _SIGNED)
        for version in (v2, v3):
            route("GET", f"{version}/balance", self.balance, 5, _SIGNED)
        route("GET", f"{v2}/positionRisk", self.position_risk_v2, 5, _SIGNED)
        route("GET", f"{v3}/positionRisk", self.position_risk_v3, 5, _SIGNED)

    # -- market data ------------------------------------------------------------------------------

    def _symbol(self, params: dict[str, str], required: bool = True) -> None:
        symbol = params.get("symbol")
        if symbol is None or symbol == "":
            if required:
                raise BinanceError(
                    400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or "
                    "malformed."
                )  # fmt: skip
            return
        if symbol != self.market.symbol:
            raise BinanceError(400, -1121, "Invalid symbol.")

    def exchange_info(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/exchangeInfo``: the BTCUSDT perpetual with the recorded filters."""
        limits = FUTURES_LIMITS
        market = self.market
        return {
            "timezone": "UTC",
            "serverTime": now_ms,
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": limits.weight_per_minute,
                },
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
                {
                    "rateLimitType": "ORDERS",
                    "interval": "SECOND",
                    "intervalNum": 10,
                    "limit": limits.orders_per_10s,
                },
            ],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [
                {
                    "symbol": market.symbol,
                    "pair": market.symbol,
                    "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000,
                    "onboardDate": 1569398400000,
                    "status": "TRADING",
                    "maintMarginPercent": "2.5000",
                    "requiredMarginPercent": "5.0000",
                    "baseAsset": market.base_asset,
                    "quoteAsset": market.quote_asset,
                    "marginAsset": market.quote_asset,
                    "pricePrecision": 2,
                    "quantityPrecision": 3,
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "underlyingType": "COIN",
                    "underlyingSubType": ["PoW"],
                    "settlePlan": 0,
                    "triggerProtect": "0.0500",
                    "liquidationFee": "0.012500",
                    "marketTakeBound": "0.05",
                    "maxMoveOrderLimit": 10000,
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": fmt_px(MIN_PRICE),
                            "maxPrice": str(MAX_PRICE),
                            "tickSize": f"{TICK:f}",
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "stepSize": f"{STEP:f}",
                            "minQty": f"{STEP:f}",
                            "maxQty": str(MAX_QTY),
                        },
                        {
                            "filterType": "MARKET_LOT_SIZE",
                            "stepSize": f"{STEP:f}",
                            "minQty": f"{STEP:f}",
                            "maxQty": str(MAX_MARKET_QTY),
                        },
                        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                        {"filterType": "MIN_NOTIONAL", "notional": str(MIN_NOTIONAL)},
                        {
                            "filterType": "PERCENT_PRICE",
                            "multiplierUp": "1.0500",
                            "multiplierDown": "0.9500",
                            "multiplierDecimal": "4",
                        },
                    ],
                    "orderTypes": [
                        "LIMIT",
                        "MARKET",
                        "STOP",
                        "STOP_MARKET",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_MARKET",
                        "TRAILING_STOP_MARKET",
                    ],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                    "permissionSets": ["GRID", "COPY"],
                }
            ],
        }

    def top_of_book(self, quote: MarketQuote | None) -> Book:
        """Return the quote (on the perpetual's grid) as one USD-M level a side."""
        if quote is None:
            return [], []
        quote = perp_quote(quote, self.market)
        precision = self.market.price_precision
        size = self.market.size_precision
        return (
            [[fmt_px(Decimal(quote.bid_raw).scaleb(-precision)),
              futures_size(quote.bid_size_raw, size)]],
            [[fmt_px(Decimal(quote.ask_raw).scaleb(-precision)),
              futures_size(quote.ask_size_raw, size)]],
        )  # fmt: skip

    def depth(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/depth`` (one level a side: the bundle's top of book)."""
        self._symbol(params)
        limit = _limit(params, 500, 1000)
        if limit not in (5, 10, 20, 50, 100, 500, 1000):
            raise BinanceError(400, -1130, "Invalid data sent for a parameter.")
        quote = self.state.last_quote
        bids, asks = self.top_of_book(quote)
        return {"lastUpdateId": quote.update_id if quote else 0, "E": now_ms, "T": now_ms,
                "bids": bids, "asks": asks}  # fmt: skip

    def book_ticker(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/ticker/bookTicker``."""
        self._symbol(params, required=False)
        quote = self.state.last_quote
        bids, asks = self.top_of_book(quote)
        row = {"symbol": self.market.symbol, "bidPrice": bids[0][0] if bids else "0",
               "bidQty": bids[0][1] if bids else "0", "askPrice": asks[0][0] if asks else "0",
               "askQty": asks[0][1] if asks else "0", "time": now_ms,
               "lastUpdateId": quote.update_id if quote else 0}  # fmt: skip
        return row if params.get("symbol") else [row]

    def premium_index(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/premiumIndex``: the mark price (the mid; no funding here)."""
        self._symbol(params, required=False)
        mark = fmt(self.state.mark_price())
        row = {"symbol": self.market.symbol, "markPrice": mark, "indexPrice": mark,
               "estimatedSettlePrice": mark, "lastFundingRate": "0.00000000",
               "interestRate": "0.00000000", "nextFundingTime": (now_ms // 28_800_000 + 1)
               * 28_800_000, "time": now_ms}  # fmt: skip
        return row if params.get("symbol") else [row]

    # -- orders -----------------------------------------------------------------------------------

    def new_order(self, params: dict[str, str], now_ms: int) -> Any:
        """``POST /fapi/v1/order`` (``ACK``: the order as accepted; ``RESULT``: as it is
        after matching)."""
        response_type = params.get("newOrderRespType") or "ACK"
        if response_type not in ("ACK", "RESULT"):
            raise BinanceError(400, -1116, "Invalid newOrderRespType.")
        order = self.state.submit(params, now_ms, self.roll_reject())
        body = self.state.as_query(order)
        del body["time"]
        body["cumQty"] = body["executedQty"]
        if response_type == "ACK":
            body.update(status="NEW", executedQty="0.000", cumQty="0.000", cumQuote="0.00000",
                        avgPrice="0.00", updateTime=order.time_ms)  # fmt: skip
        return body

    def batch_orders(self, params: dict[str, str], now_ms: int) -> Any:
        """``POST /fapi/v1/batchOrders`` (at most 5; each answer an order or an error)."""
        text = params.get("batchOrders")
        if not text:
            raise mandatory("batchOrders")
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise BinanceError(
                400, -1130, "Data sent for parameter 'batchOrders' is not valid."
            ) from None
        if not isinstance(items, list) or not 1 <= len(items) <= 5:
            raise BinanceError(400, -1130, "Data sent for parameter 'batchOrders' is not valid.")
        answers: list[Any] = []
        for item in items:
            fields = {str(k): str(v).lower() if isinstance(v, bool) else str(v)
                      for k, v in dict(item).items()}  # fmt: skip
            try:
                answers.append(self.new_order(fields, now_ms))
            except BinanceError as error:
                self.state.refused(fields, error, now_ms)
                answers.append(error.body())
        return answers

    def _find(self, params: dict[str, str], missing: BinanceError) -> BinanceOrder:
        self._symbol(params)
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if order_id is None and client_id is None:
            raise BinanceError(
                400, -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )  # fmt: skip
        order = self.state.find(order_id, client_id)
        if order is None:
            raise missing
        return order

    def query_order(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/order``."""
        order = self._find(params, BinanceError(400, -2013, "Order does not exist."))
        return self.state.as_query(order)

    def open_order(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/openOrder`` (-2013 when the order no longer works)."""
        order = self._find(params, BinanceError(400, -2013, "Order does not exist."))
        if not order.is_open:
            raise BinanceError(400, -2013, "Order does not exist.")
        return self.state.as_query(order)

    def cancel_order(self, params: dict[str, str], now_ms: int) -> Any:
        """``DELETE /fapi/v1/order``."""
        order = self._find(params, BinanceError(400, -2011, "Unknown order sent."))
        self.state.cancel(order)
        body = self.state.as_query(order)
        del body["time"]
        body["cumQty"] = body["executedQty"]
        return body

    def cancel_all(self, params: dict[str, str], now_ms: int) -> Any:
        """``DELETE /fapi/v1/allOpenOrders``."""
        self._symbol(params)
        for order in [o for o in self.state.orders.values() if o.is_open]:
            self.state.cancel(order)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def open_orders(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/openOrders``."""
        self._symbol(params, required=False)
        return [self.state.as_query(o) for o in self.state.orders.values() if o.is_open]

    def all_orders(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/allOrders``."""
        self._symbol(params)
        limit = _limit(params, 500, 1000)
        order_id = _int(params, "orderId")
        start_ms, end_ms = _int(params, "startTime"), _int(params, "endTime")
        orders = [
            o
            for o in self.state.orders.values()
            if (order_id is None or o.order_id >= order_id)
            and (start_ms is None or o.time_ms >= start_ms)
            and (end_ms is None or o.time_ms <= end_ms)
        ]
        orders = orders[:limit] if order_id is not None or start_ms is not None else orders[-limit:]
        return [self.state.as_query(o) for o in orders]

    def user_trades(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/userTrades``."""
        self._symbol(params)
        limit = _limit(params, 500, 1000)
        order_id, from_id = _int(params, "orderId"), _int(params, "fromId")
        start_ms, end_ms = _int(params, "startTime"), _int(params, "endTime")
        fills = [
            f
            for f in self.state.fills
            if (order_id is None or f.order_id == order_id)
            and (from_id is None or f.trade_id >= from_id)
            and (start_ms is None or f.time_ms >= start_ms)
            and (end_ms is None or f.time_ms <= end_ms)
        ]
        fills = fills[:limit] if from_id is not None or start_ms is not None else fills[-limit:]
        return [
            {
                "symbol": self.market.symbol,
                "id": f.trade_id,
                "orderId": f.order_id,
                "side": "BUY" if f.is_buyer else "SELL",
                "price": fmt_px(f.price),
                "qty": fmt_qty(f.qty),
                "realizedPnl": fmt(f.realized_pnl),
                "marginAsset": self.market.quote_asset,
                "quoteQty": fmt_quote(f.price * f.qty),
                "commission": fmt(f.commission),
                "commissionAsset": f.commission_asset,
                "time": f.time_ms,
                "positionSide": "BOTH",
                "maker": f.is_maker,
                "buyer": f.is_buyer,
            }
            for f in fills
        ]

    # -- account ----------------------------------------------------------------------------------

    def leverage_bracket(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/leverageBracket``."""
        self._symbol(params, required=False)
        brackets, floor = [], 0
        for number, (cap, leverage, rate, cum) in enumerate(_BRACKETS, start=1):
            brackets.append({"bracket": number, "initialLeverage": leverage, "notionalCap": cap,
                             "notionalFloor": floor, "maintMarginRatio": float(rate),
                             "cum": float(cum)})  # fmt: skip
            floor = cap
        return [{"symbol": self.market.symbol, "notionalCoef": 1.0, "brackets": brackets}]

    def change_leverage(self, params: dict[str, str], now_ms: int) -> Any:
        """``POST /fapi/v1/leverage``."""
        self._symbol(params)
        leverage = _int(params, "leverage")
        if leverage is None:
            raise BinanceError(
                400, -1102, "Mandatory parameter 'leverage' was not sent, was empty/null, or "
                "malformed."
            )  # fmt: skip
        self.state.set_leverage(leverage)
        cap = max(c for c, lev, _, _ in _BRACKETS if lev >= leverage)
        return {"leverage": leverage, "maxNotionalValue": str(cap), "symbol": self.market.symbol}

    def commission_rate(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v1/commissionRate``."""
        self._symbol(params)
        return {"symbol": self.market.symbol, "makerCommissionRate": f"{MAKER_RATE:f}",
                "takerCommissionRate": f"{TAKER_RATE:f}"}  # fmt: skip

    def _asset(self, now_ms: int) -> dict[str, Any]:
        state = self.state
        wallet, upnl = state.wallet, state.unrealized_pnl()
        position_im, order_im = state.position_margin(), state.order_margin()
        available = state.available()
        return {
            "asset": "USDT",
            "walletBalance": fmt(wallet),
            "unrealizedProfit": fmt(upnl),
            "marginBalance": fmt(wallet + upnl),
            "maintMargin": fmt(state.maint_margin()),
            "initialMargin": fmt(position_im + order_im),
            "positionInitialMargin": fmt(position_im),
            "openOrderInitialMargin": fmt(order_im),
            "maxWithdrawAmount": fmt(max(Decimal(0), min(wallet, available))),
            "crossWalletBalance": fmt(wallet),
            "crossUnPnl": fmt(upnl),
            "availableBalance": fmt(available),
            "marginAvailable": True,
            "updateTime": state.wallet_update_ms,
        }

    def account(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v2/account`` and ``/fapi/v3/account`` (one USDT margin asset)."""
        asset = self._asset(now_ms)
        totals = {
            "totalInitialMargin": asset["initialMargin"],
            "totalMaintMargin": asset["maintMargin"],
            "totalWalletBalance": asset["walletBalance"],
            "totalUnrealizedProfit": asset["unrealizedProfit"],
            "totalMarginBalance": asset["marginBalance"],
            "totalPositionInitialMargin": asset["positionInitialMargin"],
            "totalOpenOrderInitialMargin": asset["openOrderInitialMargin"],
            "totalCrossWalletBalance": asset["crossWalletBalance"],
            "totalCrossUnPnl": asset["crossUnPnl"],
            "availableBalance": asset["availableBalance"],
            "maxWithdrawAmount": asset["maxWithdrawAmount"],
        }
        return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
                "tradeGroupId": -1, "updateTime": 0, "multiAssetsMargin": False, **totals,
                "assets": [asset], "positions": [self._account_position()]}  # fmt: skip

    def account_v3(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v3/account`` (positions held only, in v3's shorter form)."""
        body = self.account(params, now_ms)
        for key in ("feeTier", "canTrade", "canDeposit", "canWithdraw", "tradeGroupId",
                    "updateTime", "multiAssetsMargin"):  # fmt: skip
            del body[key]
        keep = ("symbol", "positionSide", "positionAmt", "unrealizedProfit", "isolatedMargin",
                "notional", "isolatedWallet", "initialMargin", "maintMargin",
                "updateTime")  # fmt: skip
        position = body["positions"][0] | {"isolatedMargin": "0"}
        body["positions"] = [{k: position[k] for k in keep}] if self.state.position_amt else []
        return body

    def _account_position(self) -> dict[str, Any]:
        state = self.state
        notional = state.position_amt * state.mark_price()
        return {
            "symbol": self.market.symbol,
            "initialMargin": fmt(state.position_margin() + state.order_margin()),
            "maintMargin": fmt(state.maint_margin()),
            "unrealizedProfit": fmt(state.unrealized_pnl()),
            "positionInitialMargin": fmt(state.position_margin()),
            "openOrderInitialMargin": fmt(state.order_margin()),
            "leverage": str(state.leverage),
            "isolated": False,
            "entryPrice": fmt(state.entry_price),
            "breakEvenPrice": fmt(state.break_even()),
            "maxNotional": str(max(c for c, lev, _, _ in _BRACKETS if lev >= state.leverage)),
            "positionSide": "BOTH",
            "positionAmt": fmt_qty(state.position_amt),
            "notional": fmt(notional),
            "isolatedWallet": "0",
            "updateTime": state.position_update_ms,
            "bidNotional": "0",
            "askNotional": "0",
        }

    def balance(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v2/balance`` and ``/fapi/v3/balance``."""
        asset = self._asset(now_ms)
        return [{"accountAlias": "SgsR", "asset": "USDT", "balance": asset["walletBalance"],
                 "crossWalletBalance": asset["crossWalletBalance"],
                 "crossUnPnl": asset["crossUnPnl"], "availableBalance": asset["availableBalance"],
                 "maxWithdrawAmount": asset["maxWithdrawAmount"], "marginAvailable": True,
                 "updateTime": asset["updateTime"]}]  # fmt: skip

    def _risk_common(self) -> dict[str, Any]:
        state = self.state
        return {
            "symbol": self.market.symbol,
            "positionSide": "BOTH",
            "positionAmt": fmt_qty(state.position_amt),
            "entryPrice": fmt(state.entry_price),
            "breakEvenPrice": fmt(state.break_even()),
            "markPrice": fmt(state.mark_price()),
            "unRealizedProfit": fmt(state.unrealized_pnl()),
            "liquidationPrice": fmt(state.liquidation_price()),
            "isolatedMargin": "0.00000000",
            "notional": fmt(state.position_amt * state.mark_price()),
            "isolatedWallet": "0",
            "updateTime": state.position_update_ms,
        }

    def position_risk_v2(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v2/positionRisk`` (every symbol, with leverage and margin type)."""
        self._symbol(params, required=False)
        state = self.state
        cap = max(c for c, lev, _, _ in _BRACKETS if lev >= state.leverage)
        return [self._risk_common() | {"leverage": str(state.leverage), "marginType": "cross",
                                       "isAutoAddMargin": "false",
                                       "maxNotionalValue": str(cap)}]  # fmt: skip

    def position_risk_v3(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /fapi/v3/positionRisk`` (symbols with a position or working orders)."""
        self._symbol(params, required=False)
        state = self.state
        if not state.position_amt and not any(o.is_open for o in state.orders.values()):
            return []
        return [self._risk_common() | {
            "marginAsset": self.market.quote_asset,
            "initialMargin": fmt(state.position_margin() + state.order_margin()),
            "maintMargin": fmt(state.maint_margin()),
            "positionInitialMargin": fmt(state.position_margin()),
            "openOrderInitialMargin": fmt(state.order_margin()),
            "adl": 0, "bidNotional": "0", "askNotional": "0"}]  # fmt: skip


__all__ = ["DEFAULT_LEVERAGE", "FUTURES_LIMITS", "BinanceFuturesRest"]

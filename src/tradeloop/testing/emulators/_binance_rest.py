"""The Binance emulator's REST endpoints: the routes, account and orders (market data in
``_binance_market_rest``), in Binance's JSON shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradeloop.testing.emulators._binance_market_rest import (
    BinanceMarketRest,
    _int,
    _limit,
    depth_weight,
)
from tradeloop.testing.emulators._binance_types import BinanceError, BinanceOrder, fmt

_NONE, _USER_STREAM, _SIGNED = 0, 1, 2

Route = Callable[..., None]


class BinanceRest(BinanceMarketRest):
    """All REST handlers; ``register`` hands them to the server with weight and security."""

    # -- routes -----------------------------------------------------------------------------------

    def register(self, route: Route) -> None:
        """Register every REST endpoint with ``route(method, path, handler, weight,
        security, is_order)``."""
        v3 = "/api/v3"
        route("GET", f"{v3}/ping", lambda p, n: {}, 1, _NONE)
        route("GET", f"{v3}/time", lambda p, n: {"serverTime": n}, 1, _NONE)
        route("GET", f"{v3}/exchangeInfo", self.exchange_info, 20, _NONE)
        route("GET", f"{v3}/depth", self.depth, depth_weight, _NONE)
        route("GET", f"{v3}/trades", self.trades, 25, _NONE)
        route("GET", f"{v3}/historicalTrades", self.trades, 25, _NONE)
        route("GET", f"{v3}/aggTrades", self.agg_trades, 4, _NONE)
        route("GET", f"{v3}/klines", self.klines, 2, _NONE)
        route("GET", f"{v3}/uiKlines", self.klines, 2, _NONE)
        route("GET", f"{v3}/avgPrice", self.avg_price, 2, _NONE)
        route("GET", f"{v3}/ticker/24hr", self.ticker_24hr, 2, _NONE)
        route("GET", f"{v3}/ticker/price", self.ticker_price, 2, _NONE)
        route("GET", f"{v3}/ticker/bookTicker", self.book_ticker, 2, _NONE)
        route("GET", f"{v3}/account", self.account, 20, _SIGNED)
        route("POST", f"{v3}/order", self.new_order, 1, _SIGNED, True)
        route("GET", f"{v3}/order", self.query_order, 4, _SIGNED)
        route("DELETE", f"{v3}/order", self.cancel_order, 1, _SIGNED, True)
        route("GET", f"{v3}/openOrders", self.open_orders, 6, _SIGNED)
        route("DELETE", f"{v3}/openOrders", self.cancel_open_orders, 1, _SIGNED, True)
        route("GET", f"{v3}/allOrders", self.all_orders, 20, _SIGNED)
        route("GET", f"{v3}/myTrades", self.my_trades, 20, _SIGNED)
        route("GET", f"{v3}/rateLimit/order", self.order_rate_limits, 40, _SIGNED)
        route("GET", "/sapi/v1/capital/config/getall", self.coins, 10, _SIGNED)
        # no margin trading here: ccxt's load_markets asks for the pairs all the same
        route("GET", "/sapi/v1/margin/allPairs", lambda p, n: [], 1, _USER_STREAM)
        route("GET", "/sapi/v1/margin/isolated/allPairs", lambda p, n: [], 10, _SIGNED)
        route("GET", "/dapi/v1/exchangeInfo", self.no_symbols, 1, _NONE)

    # -- account and orders -----------------------------------------------------------------------

    def account(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/account``."""
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": now_ms,
            "accountType": "SPOT",
            "balances": self.state.balances(),
            "permissions": ["SPOT"],
            "uid": 1,
        }

    def new_order(self, params: dict[str, str], now_ms: int) -> Any:
        """``POST /api/v3/order`` (answers ``ACK``, ``RESULT`` or ``FULL``)."""
        response_type = params.get("newOrderRespType") or (
            "FULL" if params.get("type") in ("MARKET", "LIMIT") else "ACK"
        )
        if response_type not in ("ACK", "RESULT", "FULL"):
            raise BinanceError(400, -1177, "Invalid newOrderRespType.")
        order = self.state.submit(params, now_ms, self.roll_reject())
        body: dict[str, Any] = {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "transactTime": order.time_ms,
        }
        if response_type == "ACK":
            return body
        body.update(
            {
                "price": fmt(order.price),
                "origQty": fmt(order.orig_qty),
                "executedQty": fmt(order.executed_qty),
                "origQuoteOrderQty": "0.00000000",
                "cummulativeQuoteQty": fmt(order.cummulative_quote_qty),
                "status": order.status,
                "timeInForce": order.time_in_force,
                "type": order.type,
                "side": order.side,
                "workingTime": order.time_ms,
                "selfTradePreventionMode": "EXPIRE_MAKER",
            }
        )
        if response_type == "FULL":
            body["fills"] = [
                {
                    "price": fmt(f.price),
                    "qty": fmt(f.qty),
                    "commission": fmt(f.commission),
                    "commissionAsset": f.commission_asset,
                    "tradeId": f.trade_id,
                }
                for f in order.fills
            ]
        return body

    def _find(self, params: dict[str, str], missing: BinanceError) -> BinanceOrder:
        self._symbol(params)
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if order_id is None and client_id is None:
            raise BinanceError(
                400,
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        order = self.state.find(order_id, client_id)
        if order is None:
            raise missing
        return order

    def query_order(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/order``."""
        order = self._find(params, BinanceError(400, -2013, "Order does not exist."))
        return order.as_query()

    def _cancel_body(self, order: BinanceOrder, new_client_id: str | None, now_ms: int) -> Any:
        return {
            "symbol": order.symbol,
            "origClientOrderId": order.client_order_id,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": new_client_id or f"cancel{order.order_id}",
            "transactTime": now_ms,
            "price": fmt(order.price),
            "origQty": fmt(order.orig_qty),
            "executedQty": fmt(order.executed_qty),
            "origQuoteOrderQty": "0.00000000",
            "cummulativeQuoteQty": fmt(order.cummulative_quote_qty),
            "status": order.status,
            "timeInForce": order.time_in_force,
            "type": order.type,
            "side": order.side,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def cancel_order(self, params: dict[str, str], now_ms: int) -> Any:
        """``DELETE /api/v3/order``."""
        order = self._find(params, BinanceError(400, -2011, "Unknown order sent."))
        self.state.cancel(order)
        return self._cancel_body(order, params.get("newClientOrderId"), now_ms)

    def cancel_open_orders(self, params: dict[str, str], now_ms: int) -> Any:
        """``DELETE /api/v3/openOrders``."""
        self._symbol(params)
        orders = [o for o in self.state.orders.values() if o.is_open]
        if not orders:
            raise BinanceError(400, -2011, "Unknown order sent.")
        for order in orders:
            self.state.cancel(order)
        return [self._cancel_body(order, None, now_ms) for order in orders]

    def open_orders(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/openOrders``."""
        self._symbol(params, required=False)
        return [o.as_query() for o in self.state.orders.values() if o.is_open]

    def all_orders(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/allOrders``."""
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
        return [o.as_query() for o in orders]

    def my_trades(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/myTrades``."""
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
                "orderListId": -1,
                "price": fmt(f.price),
                "qty": fmt(f.qty),
                "quoteQty": fmt(f.price * f.qty),
                "commission": fmt(f.commission),
                "commissionAsset": f.commission_asset,
                "time": f.time_ms,
                "isBuyer": f.is_buyer,
                "isMaker": f.is_maker,
                "isBestMatch": True,
            }
            for f in fills
        ]

    def order_rate_limits(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/rateLimit/order``."""
        return self._rate_limits()[1:3]

    def coins(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /sapi/v1/capital/config/getall`` (the two assets traded here)."""
        names = {"BTC": "Bitcoin", "USDT": "TetherUS"}
        state = self.state
        return [
            {
                "coin": asset,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "name": names.get(asset, asset),
                "free": fmt(state.free[asset]),
                "locked": fmt(state.locked[asset]),
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [
                    {
                        "network": asset if asset == "BTC" else "ETH",
                        "coin": asset,
                        "withdrawIntegerMultiple": "0.00000001",
                        "isDefault": True,
                        "depositEnable": True,
                        "withdrawEnable": True,
                        "depositDesc": "",
                        "withdrawDesc": "",
                        "specialTips": "",
                        "name": names.get(asset, asset),
                        "resetAddressStatus": False,
                        "addressRegex": "",
                        "memoRegex": "",
                        "withdrawFee": "0",
                        "withdrawMin": "0",
                        "withdrawMax": "9999999999",
                        "minConfirm": 1,
                        "unLockConfirm": 0,
                        "sameAddress": False,
                        "estimatedArrivalTime": 1,
                        "busy": False,
                    }
                ],
            }
            for asset in sorted(state.free)
        ]

"""The Binance emulator's market-data REST endpoints, in Binance's JSON shapes (strings with
eight decimals, millisecond times)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradeloop.testing.emulators._binance_auth import RateLimits
from tradeloop.testing.emulators._binance_state import BinanceState
from tradeloop.testing.emulators._binance_types import BinanceError, fmt, mandatory
from tradeloop.testing.emulators._market import MarketQuote, ReplayMarket

_MS = 1_000_000
KLINE_INTERVALS_S = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
    "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400,
}  # fmt: skip
DEPTH_WEIGHTS = ((100, 5), (500, 25), (1000, 50), (5000, 250))


def _int(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        ) from None


def _limit(params: dict[str, str], default: int, maximum: int) -> int:
    limit = _int(params, "limit", default)
    assert limit is not None
    if limit <= 0 or limit > maximum:
        raise BinanceError(400, -1130, "Invalid data sent for a parameter.")
    return limit


class BinanceMarketRest:
    """Market-data handlers over the state and the market (answers as of ``cursor_ns``)."""

    def __init__(self, state: BinanceState, market: ReplayMarket, limits: RateLimits) -> None:
        self.state = state
        self.market = market
        self.limits = limits
        self.cursor_ns = 0
        self.roll_reject: Callable[[], bool] = lambda: False  # the reject fault
        self._price_scale = market.price_precision
        self._size_scale = market.size_precision

    # -- formatting -------------------------------------------------------------------------------

    def price(self, raw: int) -> str:
        """Return a price raw as Binance's decimal string."""
        return fmt(Decimal(raw).scaleb(-self._price_scale))

    def size(self, raw: int) -> str:
        """Return a size raw as Binance's decimal string."""
        return fmt(Decimal(raw).scaleb(-self._size_scale))

    def notional(self, raw: int) -> str:
        """Return a price × size raw as Binance's decimal string."""
        return fmt(Decimal(raw).scaleb(-self._price_scale - self._size_scale))

    def level_changes(
        self, previous: MarketQuote | None, quotes: list[MarketQuote], is_bid: bool
    ) -> list[list[str]]:
        """Return the depth-diff levels ``[price, qty]`` that take the book from
        ``previous`` through ``quotes`` (qty 0: the level is gone), by price."""

        def level(q: MarketQuote) -> tuple[int, int]:
            return (q.bid_raw, q.bid_size_raw) if is_bid else (q.ask_raw, q.ask_size_raw)

        touched: set[int] = set()
        if previous is not None:
            touched.add(level(previous)[0])
        for quote in quotes:
            touched.add(level(quote)[0])
        final_price, final_size = level(quotes[-1])
        return [
            [self.price(p), self.size(final_size if p == final_price else 0)]
            for p in sorted(touched, reverse=is_bid)
        ]

    def kline_row(self, bar: tuple[int, ...], interval_ns: int) -> list[Any]:
        """Return a bar as Binance's kline array."""
        open_ns, o, h, lo, c, volume, quote_volume, count, buy_volume, buy_quote = bar
        return [
            open_ns // _MS,
            self.price(o),
            self.price(h),
            self.price(lo),
            self.price(c),
            self.size(volume),
            (open_ns + interval_ns) // _MS - 1,
            self.notional(quote_volume),
            count,
            self.size(buy_volume),
            self.notional(buy_quote),
            "0",
        ]

    def _symbol(self, params: dict[str, str], required: bool = True) -> str | None:
        symbol = params.get("symbol")
        if not symbol:
            if required:
                raise mandatory("symbol")
            return None
        if symbol != self.market.symbol:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return symbol

    # -- market data ------------------------------------------------------------------------------

    def _rate_limits(self) -> list[dict[str, Any]]:
        limits = self.limits
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": limits.weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": limits.orders_per_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
             "limit": limits.orders_per_day},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5,
             "limit": 61000},
        ]  # fmt: skip

    def exchange_info(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/exchangeInfo``."""
        symbols = params.get("symbols")
        if params.get("symbol"):
            self._symbol(params)
        elif symbols and self.market.symbol not in symbols:
            raise BinanceError(400, -1121, "Invalid symbol.")
        state = self.state
        market = self.market
        return {
            "timezone": "UTC",
            "serverTime": now_ms,
            "rateLimits": self._rate_limits(),
            "exchangeFilters": [],
            "symbols": [
                {
                    "symbol": market.symbol,
                    "status": "TRADING",
                    "baseAsset": market.base_asset,
                    "baseAssetPrecision": 8,
                    "quoteAsset": market.quote_asset,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "baseCommissionPrecision": 8,
                    "quoteCommissionPrecision": 8,
                    "orderTypes": [
                        "LIMIT",
                        "LIMIT_MAKER",
                        "MARKET",
                        "STOP_LOSS",
                        "STOP_LOSS_LIMIT",
                    ],
                    "icebergAllowed": False,
                    "ocoAllowed": False,
                    "otoAllowed": False,
                    "quoteOrderQtyMarketAllowed": True,
                    "allowTrailingStop": False,
                    "cancelReplaceAllowed": False,
                    "amendAllowed": False,
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": fmt(state.tick),
                            "maxPrice": "1000000.00000000",
                            "tickSize": fmt(state.tick),
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "minQty": fmt(state.step),
                            "maxQty": "9000.00000000",
                            "stepSize": fmt(state.step),
                        },
                        {
                            "filterType": "MARKET_LOT_SIZE",
                            "minQty": "0.00000000",
                            "maxQty": "9000.00000000",
                            "stepSize": "0.00000000",
                        },
                        {
                            "filterType": "NOTIONAL",
                            "minNotional": "5.00000000",
                            "applyMinToMarket": True,
                            "maxNotional": "9000000.00000000",
                            "applyMaxToMarket": False,
                            "avgPriceMins": 5,
                        },
                        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                    ],
                    "permissions": [],
                    "permissionSets": [["SPOT"]],
                    "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                    "allowedSelfTradePreventionModes": [
                        "EXPIRE_TAKER",
                        "EXPIRE_MAKER",
                        "EXPIRE_BOTH",
                    ],
                }
            ],
        }

    def no_symbols(self, params: dict[str, str], now_ms: int) -> Any:
        """Futures ``exchangeInfo``: the emulator lists no futures."""
        return {
            "timezone": "UTC",
            "serverTime": now_ms,
            "futuresType": "U_MARGINED",
            "rateLimits": self._rate_limits()[:2],
            "exchangeFilters": [],
            "assets": [],
            "symbols": [],
        }

    def depth(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/depth`` (one level a side: the bundle's top of book)."""
        self._symbol(params)
        _limit(params, 100, 5000)
        quote = self.state.last_quote
        if quote is None:
            return {"lastUpdateId": 0, "bids": [], "asks": []}
        return {
            "lastUpdateId": quote.update_id,
            "bids": [[self.price(quote.bid_raw), self.size(quote.bid_size_raw)]],
            "asks": [[self.price(quote.ask_raw), self.size(quote.ask_size_raw)]],
        }

    def _recent_trades(self, params: dict[str, str]) -> list[Any]:
        limit = _limit(params, 500, 1000)
        from_id = _int(params, "fromId")
        start_ms, end_ms = _int(params, "startTime"), _int(params, "endTime")
        end_ns = self.cursor_ns if end_ms is None else min(self.cursor_ns, end_ms * _MS)
        if start_ms is not None:
            trades = self.market.trades_between(start_ms * _MS - 1, end_ns)[:limit]
        else:
            trades = self.market.trades_between(end_ns - 3_600_000 * _MS, end_ns, limit)
        if from_id is not None:
            trades = [t for t in trades if t.trade_id >= from_id][:limit]
        return trades

    def trades(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/trades`` and ``historicalTrades``."""
        self._symbol(params)
        return [
            {
                "id": t.trade_id,
                "price": self.price(t.price_raw),
                "qty": self.size(t.size_raw),
                "quoteQty": self.notional(t.price_raw * t.size_raw),
                "time": t.ts_ns // _MS,
                "isBuyerMaker": t.is_buyer_maker,
                "isBestMatch": True,
            }
            for t in self._recent_trades(params)
        ]

    def agg_trades(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/aggTrades`` (each print its own aggregate)."""
        self._symbol(params)
        return [
            {
                "a": t.trade_id,
                "p": self.price(t.price_raw),
                "q": self.size(t.size_raw),
                "f": t.trade_id,
                "l": t.trade_id,
                "T": t.ts_ns // _MS,
                "m": t.is_buyer_maker,
                "M": True,
            }
            for t in self._recent_trades(params)
        ]

    def klines(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/klines``."""
        self._symbol(params)
        interval = params.get("interval")
        if not interval:
            raise mandatory("interval")
        seconds = KLINE_INTERVALS_S.get(interval)
        if seconds is None:
            raise BinanceError(400, -1120, "Invalid interval.")
        limit = _limit(params, 500, 1000)
        start_ms, end_ms = _int(params, "startTime"), _int(params, "endTime")
        end_ns = self.cursor_ns if end_ms is None else min(self.cursor_ns, end_ms * _MS)
        interval_ns = seconds * 1_000_000_000
        bars = self.market.klines(
            interval_ns, end_ns, limit, None if start_ms is None else start_ms * _MS
        )
        return [self.kline_row(bar, interval_ns) for bar in bars]

    def avg_price(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/avgPrice`` (volume-weighted over 5 minutes)."""
        self._symbol(params)
        stats = self.market.window_stats(self.cursor_ns - 300_000 * _MS, self.cursor_ns)
        volume, quote_volume = stats[4], stats[5]
        price = (
            Decimal(quote_volume).scaleb(-self._price_scale - self._size_scale)
            / Decimal(volume).scaleb(-self._size_scale)
            if volume
            else Decimal(0)
        )
        return {"mins": 5, "price": fmt(price), "closeTime": self.cursor_ns // _MS}

    def ticker_24hr(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/ticker/24hr``."""
        symbol = self._symbol(params, required=False)
        start_ns = self.cursor_ns - 86_400_000 * _MS
        o, h, lo, c, volume, quote_volume, count = self.market.window_stats(
            start_ns, self.cursor_ns
        )
        quote = self.state.last_quote
        period_ns = int(self.market.period_ns / self.market.speed) + 1
        first = self.market.trades_between(start_ns, start_ns + period_ns)[:1] if count else []
        last = self.market.trades_between(start_ns, self.cursor_ns, 1)
        change = Decimal(c - o).scaleb(-self._price_scale)
        open_price = Decimal(o).scaleb(-self._price_scale)
        vwap = (
            Decimal(quote_volume).scaleb(-self._price_scale) / Decimal(volume)
            if volume
            else Decimal(0)
        )
        body = {
            "symbol": self.market.symbol,
            "priceChange": fmt(change),
            "priceChangePercent": f"{(change / open_price * 100) if o else Decimal(0):.3f}",
            "weightedAvgPrice": fmt(vwap),
            "prevClosePrice": self.price(o),
            "lastPrice": self.price(c),
            "lastQty": self.size(last[0].size_raw) if last else fmt(Decimal(0)),
            "bidPrice": self.price(quote.bid_raw) if quote else fmt(Decimal(0)),
            "bidQty": self.size(quote.bid_size_raw) if quote else fmt(Decimal(0)),
            "askPrice": self.price(quote.ask_raw) if quote else fmt(Decimal(0)),
            "askQty": self.size(quote.ask_size_raw) if quote else fmt(Decimal(0)),
            "openPrice": self.price(o),
            "highPrice": self.price(h),
            "lowPrice": self.price(lo),
            "volume": self.size(volume),
            "quoteVolume": self.notional(quote_volume),
            "openTime": start_ns // _MS,
            "closeTime": self.cursor_ns // _MS,
            "firstId": first[0].trade_id if first else -1,
            "lastId": last[0].trade_id if last else -1,
            "count": count,
        }
        return body if symbol is not None or "symbols" in params else [body]

    def ticker_price(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/ticker/price``."""
        symbol = self._symbol(params, required=False)
        last = self.market.trades_between(self.cursor_ns - 3_600_000 * _MS, self.cursor_ns, 1)
        body = {"symbol": self.market.symbol, "price": self.price(last[0].price_raw)}
        return body if symbol is not None else [body]

    def book_ticker(self, params: dict[str, str], now_ms: int) -> Any:
        """``GET /api/v3/ticker/bookTicker``."""
        symbol = self._symbol(params, required=False)
        quote = self.state.last_quote
        assert quote is not None
        body = {
            "symbol": self.market.symbol,
            "bidPrice": self.price(quote.bid_raw),
            "bidQty": self.size(quote.bid_size_raw),
            "askPrice": self.price(quote.ask_raw),
            "askQty": self.size(quote.ask_size_raw),
        }
        return body if symbol is not None else [body]


def depth_weight(params: dict[str, str]) -> int:
    """Return the request weight of ``GET /api/v3/depth`` for its ``limit``."""
    try:
        limit = int(params.get("limit") or 100)
    except ValueError:
        return DEPTH_WEIGHTS[0][1]
    return next((weight for most, weight in DEPTH_WEIGHTS if limit <= most), DEPTH_WEIGHTS[-1][1])

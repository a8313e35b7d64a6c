"""The Binance emulator's market streams: the messages one pump step of the replayed market
publishes, in spot's shapes (``stream.binance.com``) and USD-M futures' shapes
(``fstream.binance.com``: ``T`` transaction times, ``pu`` in depth diffs, three-decimal
sizes)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tradeloop.testing.emulators._binance_futures_rest import BinanceFuturesRest, futures_size
from tradeloop.testing.emulators._binance_futures_state import fmt_px, perp_quote, perp_trade
from tradeloop.testing.emulators._binance_market_rest import KLINE_INTERVALS_S, BinanceMarketRest
from tradeloop.testing.emulators._market import MarketQuote, MarketTrade, ReplayMarket

Messages = list[tuple[str, Any]]


class MarketStreams:
    """Builds the stream messages of each pump step (remembers what klines and tickers were
    last sent, and the last depth-diff id for USD-M's ``pu``)."""

    def __init__(
        self, market: ReplayMarket, rest: BinanceMarketRest, futures: BinanceFuturesRest
    ) -> None:
        self.market = market
        self.rest = rest
        self.futures_rest = futures
        self._kline_sent: dict[str, tuple[int, ...]] = {}
        self._ticker_second: dict[str, int] = {"spot": -1, "futures": -1}
        self.futures_last_u = 0  # the previous futures diff's final update id (``pu``)

    def spot(
        self,
        quotes: list[MarketQuote],
        trades: list[MarketTrade],
        previous: MarketQuote | None,
        now_ns: int,
        wanted: set[str],
    ) -> Messages:
        """Return the spot stream messages of one step."""
        symbol = self.market.symbol
        lower = symbol.lower()
        now_ms = now_ns // 1_000_000
        rest = self.rest
        messages: Messages = []
        for trade in trades:
            price, qty = rest.price(trade.price_raw), rest.size(trade.size_raw)
            trade_ms = trade.ts_ns // 1_000_000
            messages.append((f"{lower}@trade", {
                "e": "trade", "E": now_ms, "s": symbol, "t": trade.trade_id, "p": price,
                "q": qty, "T": trade_ms, "m": trade.is_buyer_maker, "M": True}))  # fmt: skip
            messages.append((f"{lower}@aggTrade", {
                "e": "aggTrade", "E": now_ms, "s": symbol, "a": trade.trade_id, "p": price,
                "q": qty, "f": trade.trade_id, "l": trade.trade_id, "T": trade_ms,
                "m": trade.is_buyer_maker, "M": True}))  # fmt: skip
        for quote in quotes:
            messages.append((f"{lower}@bookTicker", {
                "u": quote.update_id, "s": symbol, "b": rest.price(quote.bid_raw),
                "B": rest.size(quote.bid_size_raw), "a": rest.price(quote.ask_raw),
                "A": rest.size(quote.ask_size_raw)}))  # fmt: skip
        if quotes:
            diff = {
                "e": "depthUpdate",
                "E": now_ms,
                "s": symbol,
                "U": quotes[0].update_id,
                "u": quotes[-1].update_id,
                "b": rest.level_changes(previous, quotes, is_bid=True),
                "a": rest.level_changes(previous, quotes, is_bid=False),
            }
            messages.append((f"{lower}@depth", diff))
            messages.append((f"{lower}@depth@100ms", diff))
        messages.extend(self._slow(wanted, now_ns, "spot"))
        return messages

    def futures(
        self,
        quotes: list[MarketQuote],
        trades: list[MarketTrade],
        previous: MarketQuote | None,
        now_ns: int,
        wanted: set[str],
    ) -> Messages:
        """Return the USD-M stream messages of one step (the same recorded market, on the
        perpetual's 0.10 price grid)."""
        quotes = [perp_quote(q, self.market) for q in quotes]
        trades = [perp_trade(t, self.market) for t in trades]
        previous = None if previous is None else perp_quote(previous, self.market)
        symbol = self.market.symbol
        lower = symbol.lower()
        now_ms = now_ns // 1_000_000
        precision, size = self.market.price_precision, self.market.size_precision
        messages: Messages = []
        for trade in trades:
            price = fmt_px(Decimal(trade.price_raw).scaleb(-precision))
            qty = futures_size(trade.size_raw, size)
            trade_ms = trade.ts_ns // 1_000_000
            messages.append((f"{lower}@trade", {
                "e": "trade", "E": now_ms, "T": trade_ms, "s": symbol, "t": trade.trade_id,
                "p": price, "q": qty, "X": "MARKET", "m": trade.is_buyer_maker}))  # fmt: skip
            messages.append((f"{lower}@aggTrade", {
                "e": "aggTrade", "E": now_ms, "s": symbol, "a": trade.trade_id, "p": price,
                "q": qty, "f": trade.trade_id, "l": trade.trade_id, "T": trade_ms,
                "m": trade.is_buyer_maker}))  # fmt: skip
        for quote in quotes:
            (bid,), (ask,) = self.futures_rest.top_of_book(quote)
            messages.append((f"{lower}@bookTicker", {
                "e": "bookTicker", "u": quote.update_id, "s": symbol, "b": bid[0], "B": bid[1],
                "a": ask[0], "A": ask[1], "T": quote.ts_ns // 1_000_000, "E": now_ms}))  # fmt: skip
        if quotes:
            last = quotes[-1]
            bids, asks = self.futures_rest.top_of_book(last)
            base = {"e": "depthUpdate", "E": now_ms, "T": last.ts_ns // 1_000_000, "s": symbol,
                    "ps": symbol,
                    "U": quotes[0].update_id, "u": last.update_id,
                    "pu": self.futures_last_u or quotes[0].update_id - 1}  # fmt: skip
            self.futures_last_u = last.update_id
            diff = base | {
                "b": self._futures_levels(previous, quotes, is_bid=True),
                "a": self._futures_levels(previous, quotes, is_bid=False),
            }
            for speed in ("", "@100ms", "@250ms", "@500ms"):
                messages.append((f"{lower}@depth{speed}", diff))
            for levels in (5, 10, 20):  # partial book: the whole (one-level) book each time
                for speed in ("", "@100ms", "@250ms", "@500ms"):
                    messages.append(
                        (f"{lower}@depth{levels}{speed}", base | {"b": bids, "a": asks})
                    )
        messages.extend(self._slow(wanted, now_ns, "futures"))
        return messages

    def _futures_levels(
        self, previous: MarketQuote | None, quotes: list[MarketQuote], is_bid: bool
    ) -> list[list[str]]:
        levels = self.rest.level_changes(previous, quotes, is_bid=is_bid)
        size = self.market.size_precision
        return [
            [fmt_px(Decimal(price)), "0.000" if Decimal(qty) == 0 else
             futures_size(int(Decimal(qty).scaleb(size)), size)]
            for price, qty in levels
        ]  # fmt: skip

    def _slow(self, wanted: set[str], now_ns: int, surface: str) -> Messages:
        """Return the 24 h tickers (once a second) and the klines that changed."""
        lower = self.market.symbol.lower()
        now_ms = now_ns // 1_000_000
        messages: Messages = []
        if {f"{lower}@ticker", f"{lower}@miniTicker"} & wanted and (
            now_ms // 1000 != self._ticker_second[surface]
        ):  # Binance pushes the 24 h tickers once a second
            self._ticker_second[surface] = now_ms // 1000
            messages.extend(self._ticker_messages(now_ms))
        for stream in sorted(s for s in wanted if s.startswith(f"{lower}@kline_")):
            kline = self._kline_message(stream, now_ns, surface)
            if kline is not None:
                if surface == "futures":  # prices on the perpetual's grid, as its prints
                    for key in ("o", "h", "l", "c"):
                        price = Decimal(kline["k"][key]).quantize(Decimal("0.1"), ROUND_HALF_UP)
                        kline["k"][key] = fmt_px(price)
                messages.append((stream, kline))
        return messages

    def _ticker_messages(self, now_ms: int) -> Messages:
        symbol = self.market.symbol
        lower = symbol.lower()
        day = self.rest.ticker_24hr({"symbol": symbol}, now_ms)
        mini = {"e": "24hrMiniTicker", "E": now_ms, "s": symbol, "c": day["lastPrice"],
                "o": day["openPrice"], "h": day["highPrice"], "l": day["lowPrice"],
                "v": day["volume"], "q": day["quoteVolume"]}  # fmt: skip
        full = {"e": "24hrTicker", "E": now_ms, "s": symbol, "p": day["priceChange"],
                "P": day["priceChangePercent"], "w": day["weightedAvgPrice"],
                "x": day["prevClosePrice"], "c": day["lastPrice"], "Q": day["lastQty"],
                "b": day["bidPrice"], "B": day["bidQty"], "a": day["askPrice"],
                "A": day["askQty"], "o": day["openPrice"], "h": day["highPrice"],
                "l": day["lowPrice"], "v": day["volume"], "q": day["quoteVolume"],
                "O": day["openTime"], "C": day["closeTime"], "F": day["firstId"],
                "L": day["lastId"], "n": day["count"]}  # fmt: skip
        return [(f"{lower}@miniTicker", mini), (f"{lower}@ticker", full)]

    def _kline_message(self, stream: str, now_ns: int, surface: str) -> dict[str, Any] | None:
        interval = stream.rsplit("_", 1)[1]
        seconds = KLINE_INTERVALS_S.get(interval)
        if seconds is None:
            return None
        interval_ns = seconds * 1_000_000_000
        bars = self.market.klines(interval_ns, now_ns, 1)
        if not bars:
            return None
        bar = bars[-1]
        key = f"{surface}:{stream}"
        if self._kline_sent.get(key) == bar:
            return None
        self._kline_sent[key] = bar
        row = self.rest.kline_row(bar, interval_ns)
        symbol = self.market.symbol
        first_id = self.market.trades_between(bar[0] - 1, bar[0] + interval_ns - 1)
        return {
            "e": "kline", "E": now_ns // 1_000_000, "s": symbol,
            "k": {"t": row[0], "T": row[6], "s": symbol, "i": interval,
                  "f": first_id[0].trade_id if first_id else -1,
                  "L": first_id[-1].trade_id if first_id else -1,
                  "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5], "n": row[8],
                  "x": now_ns >= bar[0] + interval_ns, "q": row[7], "V": row[9], "Q": row[10],
                  "B": "0"},
        }  # fmt: skip

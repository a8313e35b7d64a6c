"""``CcxtDataClient``: market data from an exchange's WebSocket streams through ccxt.pro.

Steps, all on the client's own event-loop thread (``LoopThread``):

1. ``connect`` builds a ccxt.pro client and loads the markets (the instruments' symbols are
   resolved there: the configured map, else the market whose id is the symbol).
2. ``subscribe`` starts one stream task per (stream, instrument): ``watch_trades`` for trades
   and bars, ``watch_bids_asks`` (or ``watch_ticker``) for quotes, ``watch_order_book`` for
   the book (ccxt.pro syncs the REST snapshot with the diff stream and checks its sequence).
3. Each message becomes records put in the inbox with ``inbox.publish``: ``TradeTick`` (trade
   ids deduplicated), ``QuoteTick``, and ``Bar`` from the ``BarBuilder`` (closed by the next
   interval's first trade, or by the clock task once the interval plus a grace has passed),
   ``OrderBookDelta`` rows that turn the book last sent into the new one (a snapshot, CLEAR
   then ADDs, after each (re)subscription: a gap resyncs from a snapshot), the last flagged
   ``LAST``.
4. A stream error disconnects the stream: an ``AlertRaised`` is published, the stream is
   watched again after a backoff (ccxt.pro reconnects and resubscribes), and the return is
   counted in ``FeedStatus.reconnects`` and announced. A record that cannot be read is
   quarantined (counted, announced in a rate-limited ``AlertRaised``), never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec

from tradeloop.bus.inbox import InboxPort
from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.data.bar_builder import BarBuilder, BuilderTrade
from tradeloop.data.ports import DATA_KINDS, DataClient, FeedStatus
from tradeloop.model.book import BookFlag
from tradeloop.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide, BookAction, BookSide
from tradeloop.model.events import AlertRaised
from tradeloop.model.instruments import Instrument
from tradeloop.venues.ccxt._config import CcxtConnectionConfig
from tradeloop.venues.ccxt._exchange import (
    LoopThread,
    backoff_s,
    is_transient,
    make_exchange,
    ms_to_ns,
    to_decimal,
    to_venue_error,
)
from tradeloop.venues.ccxt._instruments import resolve_symbols

log = logging.getLogger(__name__)

BAR_GRACE_NS = 2_000_000_000  # trades of an interval may arrive this long after its end
QUARANTINE_ALERT_EVERY_S = 10.0  # at most one quarantine alert per reason this often
_CLOCK_TICK_S = 0.25
_REMEMBER_TRADES = 50_000
_STREAM_OF = {"trades": "trades", "bars": "trades", "quotes": "quotes", "book": "book"}


class QuarantinedMessageError(ValueError):
    """A stream message could not be turned into a record (the reason is the text)."""


def _price(instrument: Instrument, value: Any, what: str) -> Price:
    number = to_decimal(value)
    if number is None or not number.is_finite() or number <= 0:
        raise QuarantinedMessageError(f"{what} {value!r} is not a positive number")
    return instrument.make_price(number)


def _size(instrument: Instrument, value: Any, what: str) -> Quantity:
    number = to_decimal(value)
    if number is None or not number.is_finite() or number < 0:
        raise QuarantinedMessageError(f"{what} {value!r} is not a non-negative number")
    return Quantity.from_decimal(number, instrument.size_precision)


class CcxtDataClient:
    """A ``DataClient`` over ccxt.pro's WebSocket streams (module docstring).

    Parameters
    ----------
    config : the connection.
    name : the feed's name (in ``status()`` and alerts).
    inbox : where every record goes.
    instruments : the instruments that may be subscribed.
    """

    def __init__(
        self,
        config: CcxtConnectionConfig,
        name: str,
        inbox: InboxPort,
        instruments: Sequence[Instrument] | Mapping[str, Instrument],
    ) -> None:
        self.config = config
        self.name = name
        self.inbox = inbox
        items = instruments.values() if isinstance(instruments, Mapping) else instruments
        self.instruments: dict[str, Instrument] = {i.id: i for i in items}
        self.symbols: dict[str, str] = {}
        self._loop: LoopThread | None = None
        self._exchange: Any = None
        self._subscriptions: set[tuple[str, str]] = set()
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._builders: dict[str, BarBuilder] = {}
        self._books: dict[str, dict[BookSide, dict[int, int]]] = {}
        self._seen_trades: dict[str, tuple[set[str], deque[str]]] = {}
        self._down: set[tuple[str, str]] = set()
        self._state = "disconnected"
        self._connected_at = 0.0
        self._last_message_mono = 0.0
        self.last_message_ns = 0
        self.messages = 0
        self.quarantined = 0
        self.quarantine_reasons: dict[str, int] = {}
        self.duplicates = 0
        self.reconnects = 0
        self._last_quarantine_alert: dict[str, float] = {}
        self._clock_task: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def connect(self) -> None:
        """Start the loop thread, build the ccxt.pro client and load the markets.

        Raises
        ------
        TransientVenueError
            If the exchange cannot be reached.
        VenueRejectedError
            If it refuses the request.
        ConfigError
            If an instrument has no market on the exchange.
        """
        if self._loop is not None:
            return
        self._loop = LoopThread(f"tradeloop-data-{self.name}")
        try:
            self._loop.call(self._connect(), timeout_s=self.config.timeout_ms / 1000 * 3 + 5)
        except BaseException:
            self.close()
            raise
        self._state = "connected"
        self._connected_at = time.monotonic()

    async def _connect(self) -> None:
        self._exchange = make_exchange(self.config, None)
        try:
            await self._exchange.load_markets()
        except Exception as error:
            raise to_venue_error(self.config.exchange, error, None) from None
        self.symbols = resolve_symbols(
            self._exchange, sorted(self.instruments), self.config.symbols, self.config.market_type
        )
        self._clock_task = asyncio.get_running_loop().create_task(self._clock())

    def close(self) -> None:
        """Stop every stream, close the ccxt client and join the loop thread."""
        loop = self._loop
        if loop is None:
            self._state = "closed"
            return
        self._loop = None
        if loop.is_running:
            with contextlib.suppress(Exception):
                loop.call(self._close(), timeout_s=10.0)
        loop.stop()
        self._state = "closed"

    async def _close(self) -> None:
        tasks = list(self._tasks.values())
        if self._clock_task is not None:
            tasks.append(self._clock_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._exchange is not None:
            with contextlib.suppress(Exception):
                await self._exchange.close()

    # -- subscriptions --------------------------------------------------------------------------

    def subscribe(self, kind: str, instrument_id: str) -> None:
        """Receive ``kind`` (``trades``, ``quotes``, ``bars`` or ``book``) of ``instrument_id``.

        Raises
        ------
        ConfigError
            If the kind or the instrument is unknown, or the client is not connected.
        """
        if kind not in DATA_KINDS:
            raise ConfigError(f"data kind {kind!r} is not one of {', '.join(DATA_KINDS)}")
        if instrument_id not in self.instruments:
            raise ConfigError(f"feed {self.name} has no instrument {instrument_id}")
        loop = self._loop
        if loop is None:
            raise ConfigError(f"feed {self.name} is not connected (call connect first)")
        loop.call(self._subscribe(kind, instrument_id), timeout_s=10.0)

    async def _subscribe(self, kind: str, instrument_id: str) -> None:
        self._subscriptions.add((kind, instrument_id))
        instrument = self.instruments[instrument_id]
        if kind == "bars" and instrument_id not in self._builders:
            self._builders[instrument_id] = BarBuilder(
                instrument_id,
                self.config.bar_interval_s * 1_000_000_000,
                instrument.price_precision,
                instrument.size_precision,
                grace_ns=BAR_GRACE_NS,
            )
        stream = _STREAM_OF[kind]
        key = (stream, instrument_id)
        if key not in self._tasks:
            symbol = self.symbols[instrument_id]
            if stream == "book":
                task = self._stream(
                    key,
                    lambda: self._exchange.watch_order_book(symbol),
                    lambda result: self._on_book(instrument, result),
                )
            elif stream == "trades":
                task = self._stream(
                    key,
                    lambda: self._exchange.watch_trades(symbol),
                    lambda result: self._on_trades(instrument, result),
                )
            else:
                task = self._stream(
                    key, self._quote_watcher(symbol), self._quote_handler(instrument)
                )
            self._tasks[key] = asyncio.get_running_loop().create_task(task)

    def unsubscribe(self, kind: str, instrument_id: str) -> None:
        """Stop receiving ``kind`` of ``instrument_id`` (the stream stops when unused)."""
        loop = self._loop
        if loop is None:
            return
        loop.call(self._unsubscribe(kind, instrument_id), timeout_s=10.0)

    async def _unsubscribe(self, kind: str, instrument_id: str) -> None:
        self._subscriptions.discard((kind, instrument_id))
        if kind == "bars":
            builder = self._builders.pop(instrument_id, None)
            if builder is not None:
                self._publish_bars(builder.flush())
        stream = _STREAM_OF[kind]
        users = {k for k, v in _STREAM_OF.items() if v == stream}
        if any((user, instrument_id) in self._subscriptions for user in users):
            return
        task = self._tasks.pop((stream, instrument_id), None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._down.discard((stream, instrument_id))

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> FeedStatus:
        """Return how the feed stands (``connected``, ``stale``, ``disconnected``, ``closed``)."""
        state = self._state
        if state == "connected":
            if self._down:
                state = "disconnected"
            elif self._tasks:
                since = self._last_message_mono or self._connected_at
                if time.monotonic() - since > self.config.stale_after_s:
                    state = "stale"
        detail = ""
        if self.quarantine_reasons:
            detail = "quarantined: " + ", ".join(
                f"{reason} ({count})" for reason, count in sorted(self.quarantine_reasons.items())
            )
        return FeedStatus(
            name=self.name,
            state=state,
            last_message_ns=self.last_message_ns,
            messages=self.messages,
            quarantined=self.quarantined,
            reconnects=self.reconnects,
            detail=detail,
        )

    # -- streams --------------------------------------------------------------------------------

    async def _stream(
        self,
        key: tuple[str, str],
        watch: Callable[[], Awaitable[Any]],
        handle: Callable[[Any], None],
    ) -> None:
        attempt = 0
        while True:
            try:
                result = await watch()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                delay = backoff_s(self.config, attempt)
                attempt += 1
                self._down.add(key)
                if key[0] == "book":  # resynced from a snapshot when the stream is back
                    self._books.pop(key[1], None)
                text = to_venue_error(self.config.exchange, error, None)
                severity = "warning" if is_transient(self.config.exchange, error) else "error"
                self._alert(
                    severity,
                    f"feed {self.name} {key[0]} of {key[1]} disconnected ({text}); "
                    f"reconnecting in {delay:.1f} s (attempt {attempt})",
                )
                await asyncio.sleep(delay)
                continue
            if attempt:
                self.reconnects += 1
                self._down.discard(key)
                self._alert(
                    "info",
                    f"feed {self.name} {key[0]} of {key[1]} reconnected after {attempt} attempt(s)",
                )
                attempt = 0
            self._last_message_mono = time.monotonic()
            self.last_message_ns = self.inbox.now_ns()
            handle(result)

    def _quarantine(self, reason: str, detail: str) -> None:
        self.quarantined += 1
        self.quarantine_reasons[reason] = self.quarantine_reasons.get(reason, 0) + 1
        now = time.monotonic()
        last = self._last_quarantine_alert.get(reason)
        if last is not None and now - last < QUARANTINE_ALERT_EVERY_S:
            return
        self._last_quarantine_alert[reason] = now
        self._alert(
            "warning",
            f"feed {self.name} quarantined a message ({reason}: {detail}); "
            f"{self.quarantine_reasons[reason]} so far for this reason",
        )

    def _alert(self, severity: str, message: str) -> None:
        log.warning(message) if severity != "info" else log.info(message)
        now = self.inbox.now_ns()
        self.inbox.publish(
            lambda ts: AlertRaised(
                ts_event=now, ts_init=ts, severity=severity, source=self.name, message=message
            )
        )

    # -- trades and bars ------------------------------------------------------------------------

    def _is_new_trade(self, instrument_id: str, trade_id: str) -> bool:
        seen, order = self._seen_trades.setdefault(instrument_id, (set(), deque()))
        if trade_id in seen:
            return False
        seen.add(trade_id)
        order.append(trade_id)
        if len(order) > _REMEMBER_TRADES:
            seen.discard(order.popleft())
        return True

    def _parse_trade(self, instrument: Instrument, trade: Any) -> TradeTick | None:
        if not isinstance(trade, dict):
            raise QuarantinedMessageError(f"trade {trade!r} is not an object")
        trade_id = trade.get("id")
        if trade_id is None or trade_id == "":
            raise QuarantinedMessageError("trade has no id")
        ts_event = ms_to_ns(trade.get("timestamp"))
        if ts_event is None:
            raise QuarantinedMessageError(f"trade {trade_id} has no timestamp")
        price = _price(instrument, trade.get("price"), f"trade {trade_id} price")
        size = _size(instrument, trade.get("amount"), f"trade {trade_id} amount")
        side = trade.get("side")
        aggressor = (
            AggressorSide.BUYER
            if side == "buy"
            else AggressorSide.SELLER
            if side == "sell"
            else AggressorSide.NONE
        )
        return TradeTick(instrument.id, price, size, aggressor, str(trade_id), ts_event, 0)

    def _on_trades(self, instrument: Instrument, trades: Any) -> None:
        if not isinstance(trades, list):
            self._quarantine("not_a_list", f"watch_trades returned {type(trades).__name__}")
            return
        wants_trades = ("trades", instrument.id) in self._subscriptions
        builder = self._builders.get(instrument.id)
        for raw in trades:
            try:
                tick = self._parse_trade(instrument, raw)
            except (QuarantinedMessageError, ArithmeticError, TypeError, ValueError) as error:
                self._quarantine("bad_trade", str(error))
                continue
            assert tick is not None
            if not self._is_new_trade(instrument.id, tick.trade_id):
                self.duplicates += 1
                continue
            self.messages += 1
            if wants_trades:
                self._publish_trade(tick)
            if builder is not None:
                self._publish_bars(
                    builder.on_trade(
                        BuilderTrade(tick.trade_id, tick.price.raw, tick.size.raw, tick.ts_event)
                    )
                )

    def _publish_trade(self, tick: TradeTick) -> None:
        self.inbox.publish(lambda ts: msgspec.structs.replace(tick, ts_init=ts))

    def _publish_bars(self, drafts: list[Any]) -> None:
        for draft in drafts:
            self.inbox.publish(draft.to_bar)

    async def _clock(self) -> None:
        while True:
            await asyncio.sleep(_CLOCK_TICK_S)
            now = self.inbox.now_ns()
            for builder in list(self._builders.values()):
                self._publish_bars(builder.on_time(now))

    # -- order books ----------------------------------------------------------------------------

    def _on_book(self, instrument: Instrument, book: Any) -> None:
        # ccxt.pro keeps the book in sync (snapshot + diffs, sequence checked; a gap raises and
        # the stream restarts). Each message becomes the deltas that turn the book last sent
        # into this one; the first after a (re)subscription is a snapshot: CLEAR, then ADDs.
        # The last delta of a message is flagged LAST (it ends the venue event).
        if not isinstance(book, dict):
            self._quarantine("bad_book", f"watch_order_book returned {type(book).__name__}")
            return
        try:
            levels = {
                BookSide.BID: self._book_side(instrument, book.get("bids"), "bid"),
                BookSide.ASK: self._book_side(instrument, book.get("asks"), "ask"),
            }
        except (QuarantinedMessageError, ArithmeticError, TypeError, ValueError) as error:
            self._quarantine("bad_book", str(error))
            return
        bids, asks = levels[BookSide.BID], levels[BookSide.ASK]
        if bids and asks and max(bids) >= min(asks):
            self._quarantine("crossed_book", f"best bid {max(bids)} >= best ask {min(asks)}")
            return
        self.messages += 1
        ts_event = ms_to_ns(book.get("timestamp")) or self.inbox.now_ns()
        nonce = book.get("nonce")
        sequence = int(nonce) if isinstance(nonce, int) else 0
        p, z = instrument.price_precision, instrument.size_precision
        rows: list[tuple[BookAction, BookSide, int, int, int]] = []
        old = self._books.get(instrument.id)
        if old is None:
            rows.append((BookAction.CLEAR, BookSide.NONE, 0, 0, int(BookFlag.SNAPSHOT)))
            for side, side_levels in levels.items():
                for price, size in sorted(side_levels.items()):
                    rows.append((BookAction.ADD, side, price, size, int(BookFlag.SNAPSHOT)))
        else:
            for side, side_levels in levels.items():
                before = old[side]
                for price in sorted(before.keys() - side_levels.keys()):
                    rows.append((BookAction.DELETE, side, price, 0, 0))
                for price, size in sorted(side_levels.items()):
                    if price not in before:
                        rows.append((BookAction.ADD, side, price, size, 0))
                    elif before[price] != size:
                        rows.append((BookAction.UPDATE, side, price, size, 0))
        self._books[instrument.id] = levels
        if not rows:
            return
        last = len(rows) - 1
        for index, (action, side, price, size, flags) in enumerate(rows):
            delta = OrderBookDelta(
                instrument.id,
                action,
                side,
                Price(price, p),
                Quantity(size, z),
                0,
                flags | (int(BookFlag.LAST) if index == last else 0),
                sequence,
                ts_event,
                0,
            )
            self.inbox.publish(_stamped(delta))

    @staticmethod
    def _book_side(instrument: Instrument, rows: Any, what: str) -> dict[int, int]:
        if not isinstance(rows, list):
            raise QuarantinedMessageError(f"book {what}s are not a list")
        out: dict[int, int] = {}
        for row in rows:
            if not isinstance(row, list | tuple) or len(row) < 2:
                raise QuarantinedMessageError(f"book {what} level {row!r} is not [price, size]")
            price = _price(instrument, row[0], f"book {what} price")
            size = _size(instrument, row[1], f"book {what} size")
            if size.raw > 0:
                out[price.raw] = size.raw
        return out

    # -- quotes ---------------------------------------------------------------------------------

    def _quote_watcher(self, symbol: str) -> Callable[[], Awaitable[Any]]:
        exchange = self._exchange
        if exchange.has.get("watchBidsAsks"):
            return lambda: exchange.watch_bids_asks([symbol])
        return lambda: exchange.watch_ticker(symbol)

    def _quote_handler(self, instrument: Instrument) -> Callable[[Any], None]:
        symbol = self.symbols[instrument.id]

        def handle(result: Any) -> None:
            ticker = (
                result.get(symbol) if isinstance(result, dict) and "bid" not in result else result
            )
            try:
                quote = self._parse_quote(instrument, ticker)
            except (QuarantinedMessageError, ArithmeticError, TypeError, ValueError) as error:
                self._quarantine("bad_quote", str(error))
                return
            self.messages += 1
            self.inbox.publish(
                lambda ts: QuoteTick(
                    quote.instrument_id, quote.bid_price, quote.ask_price, quote.bid_size,
                    quote.ask_size, quote.ts_event, ts,
                )
            )  # fmt: skip

        return handle

    def _parse_quote(self, instrument: Instrument, ticker: Any) -> QuoteTick:
        if not isinstance(ticker, dict):
            raise QuarantinedMessageError(f"quote {ticker!r} is not an object")
        bid = _price(instrument, ticker.get("bid"), "bid")
        ask = _price(instrument, ticker.get("ask"), "ask")
        if bid > ask:
            raise QuarantinedMessageError(f"bid {bid} is above ask {ask}")
        bid_size = _size(instrument, ticker.get("bidVolume") or 0, "bid size")
        ask_size = _size(instrument, ticker.get("askVolume") or 0, "ask size")
        ts_event = ms_to_ns(ticker.get("timestamp")) or self.inbox.now_ns()
        return QuoteTick(instrument.id, bid, ask, bid_size, ask_size, ts_event, 0)


def _stamped(delta: OrderBookDelta) -> Callable[[int], OrderBookDelta]:
    # The inbox stamps each record with its ts_init as it takes it.
    return lambda ts: msgspec.structs.replace(delta, ts_init=ts)


def _implements_the_port(client: CcxtDataClient) -> DataClient:
    return client  # mypy checks that CcxtDataClient is a DataClient

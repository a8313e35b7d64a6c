"""Alpaca market data as a ``DataClient``: alpaca-py's ``StockDataStream`` (msgpack) on an
event loop of its own.

- ``connect`` checks the credentials over REST (one clear error for a wrong key) and starts
  the loop thread; the stream opens at the first subscription (alpaca-py connects only then).
- Minute bars become ``Bar`` (``ts_event``: the bar's close, Alpaca's ``t`` + 1 minute),
  quotes ``QuoteTick``, trades ``TradeTick``; each goes into the inbox through
  ``inbox.publish``, which stamps ``ts_init``.
- A message that cannot be read (a missing field, a non-positive price, an unknown symbol) is
  counted as quarantined and logged; the stream goes on.
- alpaca-py reconnects with backoff (1 s doubling to 30 s) and renews the subscriptions; each
  lost connection and each reconnect is counted and announced as an ``AlertRaised``.
- ``status`` is ``connected``, ``stale`` (no message for ``stale_after_s``), ``disconnected``
  or ``closed``.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from alpaca.data.live import StockDataStream

from tradeloop.bus.inbox import InboxPort
from tradeloop.core.errors import VenueRejectedError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.data.ports import FeedStatus
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide
from tradeloop.model.events import AlertRaised
from tradeloop.model.instruments import Instrument
from tradeloop.venues.alpaca._loop import LoopThread
from tradeloop.venues.alpaca._rest import call, trading_client
from tradeloop.venues.alpaca.config import (
    AlpacaConnectionConfig,
    AlpacaCredentials,
    alpaca_urls,
    load_credentials,
)

log = logging.getLogger("tradeloop.venues.alpaca.data")
_MINUTE_NS = 60_000_000_000
_CHANNELS = {"bars": "b", "quotes": "q", "trades": "t"}


class MalformedMessageError(ValueError):
    """A market data message that cannot be turned into a record."""


class _HookedDataStream(StockDataStream):
    # alpaca-py's stream, told when each (re)connection is up and when one closes
    def __init__(
        self,
        key: str,
        secret: str,
        url: str,
        on_connected: Callable[[], None],
        on_closed: Callable[[], None],
    ) -> None:
        super().__init__(key, secret, raw_data=True, url_override=url)
        self._on_connected = on_connected
        self._on_closed = on_closed

    async def _start_ws(self) -> None:
        await super()._start_ws()
        self._on_connected()

    async def close(self) -> None:
        await super().close()
        self._on_closed()


def _ts_ns(value: Any) -> int:
    # msgpack Timestamp (alpaca-py's wire format), RFC 3339 text (JSON feeds) or int ns
    if hasattr(value, "to_unix_nano"):
        return int(value.to_unix_nano())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")[:26] + "+00:00")
        return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
    raise MalformedMessageError(f"time {value!r} is not a timestamp")


def _price(message: Mapping[str, Any], key: str, precision: int) -> Price:
    value = message[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise MalformedMessageError(f"price {key}={value!r} must be a positive number")
    return Price.from_float(float(value), precision)


def _size(message: Mapping[str, Any], key: str) -> Quantity:
    value = message[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise MalformedMessageError(f"size {key}={value!r} must be a number >= 0")
    return Quantity.from_float(float(value), 0)


class AlpacaDataClient:
    """Alpaca's stock market data (module docstring).

    Parameters
    ----------
    config : the connection's settings.
    name : the feed's name (in ``status`` and alerts).
    inbox : where records and alerts go.
    instruments : the instruments that may be subscribed (matched by symbol).
    credentials : the key id and secret (default: read as ``config`` says).

    Raises
    ------
    AlpacaConfigError
        If the credentials cannot be read.
    """

    def __init__(
        self,
        config: AlpacaConnectionConfig,
        name: str,
        inbox: InboxPort,
        instruments: Iterable[Instrument],
        credentials: AlpacaCredentials | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self._inbox = inbox
        self._credentials = credentials or load_credentials(config)
        self._by_id = {instrument.id: instrument for instrument in instruments}
        self._by_symbol = {instrument.symbol: instrument for instrument in self._by_id.values()}
        self._lock = threading.Lock()
        self._loop: LoopThread | None = None
        self._stream: _HookedDataStream | None = None
        self._is_started = False
        self._is_connected = False
        self._is_closed = False
        self._connects = 0
        self._connected_ns = 0
        self._last_message_ns = 0
        self._messages = 0
        self._quarantined = 0
        self._reconnects = 0
        self._detail = "not connected"
        self._subscriptions: set[tuple[str, str]] = set()
        self.last_quarantined: list[str] = []
        self._task: concurrent.futures.Future[None] | None = None

    # -- DataClient ------------------------------------------------------------------------------

    def connect(self) -> None:
        """Check the credentials and start the stream's thread.

        Raises
        ------
        VenueRejectedError
            If Alpaca refuses the key.
        TransientVenueError
            If Alpaca cannot be reached.
        """
        client = trading_client(self.config, self._credentials)
        call(f"connect market data feed {self.name}", client.get_clock)
        if self._loop is None:
            self._loop = LoopThread(f"alpaca-data-{self.name}")
            self._loop.start()
            urls = alpaca_urls(self.config)
            self._stream = _HookedDataStream(
                self._credentials.api_key.reveal(),
                self._credentials.secret.reveal(),
                urls.data_stream,
                self._on_connected,
                self._on_closed,
            )
            self._detail = "waiting for a subscription"
        with self._lock:
            pending = sorted(self._subscriptions)
        for kind, symbol in pending:
            self._register(kind, symbol)

    def subscribe(self, kind: str, instrument_id: str) -> None:
        """Receive ``kind`` (bars, quotes or trades) of ``instrument_id``.

        Raises
        ------
        VenueRejectedError
            If ``kind`` is not served by Alpaca's stock stream (``book``) or the instrument is
            unknown to this client.
        """
        symbol = self._symbol(kind, instrument_id)
        with self._lock:
            if (kind, symbol) in self._subscriptions and self._is_started:
                return
            self._subscriptions.add((kind, symbol))
        if self._stream is not None:
            self._register(kind, symbol)

    def unsubscribe(self, kind: str, instrument_id: str) -> None:
        """Stop receiving ``kind`` of ``instrument_id``."""
        symbol = self._symbol(kind, instrument_id)
        with self._lock:
            if (kind, symbol) not in self._subscriptions:
                return
            self._subscriptions.discard((kind, symbol))
        stream = self._stream
        if stream is None or not self._is_started:
            return
        handlers: dict[str, Any] = stream._handlers[kind]
        if symbol in handlers:
            {
                "bars": stream.unsubscribe_bars,
                "quotes": stream.unsubscribe_quotes,
                "trades": stream.unsubscribe_trades,
            }[kind](symbol)

    def status(self) -> FeedStatus:
        """Return how the feed stands."""
        now = self._inbox.now_ns()
        with self._lock:
            if self._is_closed:
                state = "closed"
            elif not self._is_connected:
                state = "disconnected"
            else:
                last = max(self._last_message_ns, self._connected_ns)
                is_stale = now - last > self.config.stale_after_s * 1e9
                state = "stale" if is_stale else "connected"
            return FeedStatus(
                name=self.name,
                state=state,
                last_message_ns=self._last_message_ns,
                messages=self._messages,
                quarantined=self._quarantined,
                reconnects=self._reconnects,
                detail=self._detail,
            )

    def close(self) -> None:
        """Close the stream and stop its thread (idempotent)."""
        with self._lock:
            if self._is_closed:
                return
            self._is_closed = True
        loop, stream = self._loop, self._stream
        if loop is not None and stream is not None:
            future = loop.submit(self._shutdown(stream))
            try:
                future.result(timeout=10)
            except Exception as error:  # the loop is being stopped anyway
                log.warning("market data feed %s closed uncleanly: %s", self.name, error)
        if loop is not None:
            loop.stop()
        with self._lock:
            self._is_connected = False
            self._detail = "closed"

    # -- internals -------------------------------------------------------------------------------

    def _symbol(self, kind: str, instrument_id: str) -> str:
        if kind not in _CHANNELS:
            raise VenueRejectedError(
                f"data kind {kind!r} is not served by Alpaca's stock stream "
                f"(supported: {', '.join(_CHANNELS)})"
            )
        instrument = self._by_id.get(instrument_id)
        if instrument is None:
            raise VenueRejectedError(
                f"instrument {instrument_id} is not among the {len(self._by_id)} instruments "
                f"of Alpaca feed {self.name}"
            )
        return instrument.symbol

    def _register(self, kind: str, symbol: str) -> None:
        stream, loop = self._stream, self._loop
        assert stream is not None
        assert loop is not None
        subscribe = {
            "bars": stream.subscribe_bars,
            "quotes": stream.subscribe_quotes,
            "trades": stream.subscribe_trades,
        }[kind]
        # alpaca-py sends the subscription itself when its stream runs, renews it on reconnect
        subscribe(self._on_message, symbol)
        with self._lock:
            if self._is_started:
                return
            self._is_started = True
            self._detail = "connecting"
        self._task = loop.submit(stream._run_forever())

    async def _shutdown(self, stream: _HookedDataStream) -> None:
        await stream.stop_ws()
        task = self._task
        if task is not None:
            task.cancel()
        await stream.close()

    def _on_connected(self) -> None:
        now = self._inbox.now_ns()
        with self._lock:
            self._connects += 1
            self._is_connected = True
            self._connected_ns = now
            self._detail = f"connected to {alpaca_urls(self.config).data_stream}"
            is_reconnect = self._connects > 1
            if is_reconnect:
                self._reconnects += 1
            renewed = ", ".join(f"{kind} {symbol}" for kind, symbol in sorted(self._subscriptions))
            count = self._reconnects
        if is_reconnect:
            self._alert(
                "warning", f"reconnected (reconnect {count}), subscriptions renewed: {renewed}"
            )

    def _on_closed(self) -> None:
        with self._lock:
            was_connected = self._is_connected and not self._is_closed
            self._is_connected = False
            if was_connected:
                self._detail = "connection lost, reconnecting with backoff"
        if was_connected:
            self._alert("warning", "connection lost, reconnecting with backoff")

    def _alert(self, severity: str, message: str) -> None:
        log.warning("market data feed %s: %s", self.name, message)
        source = f"alpaca.data.{self.name}"
        self._inbox.publish(
            lambda ts: AlertRaised(
                ts_event=ts, ts_init=ts, severity=severity, source=source, message=message
            )
        )

    async def _on_message(self, message: Any) -> None:
        try:
            build = self._builder(message)
        except (MalformedMessageError, KeyError, TypeError, ValueError, ArithmeticError) as error:
            self._quarantine(message, error)
            return
        self._inbox.publish(build)
        now = self._inbox.now_ns()
        with self._lock:
            self._messages += 1
            self._last_message_ns = now

    def _quarantine(self, message: Any, error: Exception) -> None:
        with self._lock:
            self._quarantined += 1
            count = self._quarantined
            self.last_quarantined = [*self.last_quarantined[-9:], f"{error!r}: {message!r}"[:500]]
        if count <= 10 or count % 1000 == 0:  # rate-limited
            log.warning("market data feed %s quarantined message %d: %s", self.name, count, error)

    def _builder(self, message: Any) -> Callable[[int], Bar | QuoteTick | TradeTick]:
        if not isinstance(message, Mapping):
            raise MalformedMessageError(f"message {message!r} is not a map")
        instrument = self._by_symbol.get(str(message.get("S")))
        if instrument is None:
            raise MalformedMessageError(f"symbol {message.get('S')!r} was not subscribed")
        kind, precision, ident = message.get("T"), instrument.price_precision, instrument.id
        ts_event = _ts_ns(message["t"])
        if kind == "b":
            prices = [_price(message, key, precision).raw for key in ("o", "h", "l", "c")]
            if not prices[2] <= min(prices[0], prices[3]) <= max(prices[0], prices[3]) <= prices[1]:
                raise MalformedMessageError(
                    f"bar prices {prices} are not low <= open, close <= high"
                )
            volume = _size(message, "v").raw
            return lambda ts: Bar(
                instrument_id=ident,
                open_raw=prices[0],
                high_raw=prices[1],
                low_raw=prices[2],
                close_raw=prices[3],
                volume_raw=volume,
                price_precision=precision,
                volume_precision=0,
                ts_event=ts_event + _MINUTE_NS,
                ts_init=ts,
            )
        if kind == "q":
            bid, ask = _price(message, "bp", precision), _price(message, "ap", precision)
            bid_size, ask_size = _size(message, "bs"), _size(message, "as")
            return lambda ts: QuoteTick(
                instrument_id=ident,
                bid_price=bid,
                ask_price=ask,
                bid_size=bid_size,
                ask_size=ask_size,
                ts_event=ts_event,
                ts_init=ts,
            )
        if kind == "t":
            price, size = _price(message, "p", precision), _size(message, "s")
            trade_id = str(message["i"])
            return lambda ts: TradeTick(
                instrument_id=ident,
                price=price,
                size=size,
                aggressor_side=AggressorSide.NONE,
                trade_id=trade_id,
                ts_event=ts_event,
                ts_init=ts,
            )
        raise MalformedMessageError(f"message type {kind!r} is not a bar, quote or trade")

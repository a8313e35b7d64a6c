"""Binance emulator: Binance's spot and USD-M REST paths and WebSocket streams on one port.

A client pointed at it by replacing scheme and host of every API URL works unchanged (see
``tradeloop.testing.ccxt_binance``). What it serves:

- REST ``/api/v3``: ``ping``, ``time``, ``exchangeInfo``, ``depth``, ``trades``,
  ``historicalTrades``, ``aggTrades``, ``klines``, ``uiKlines``, ``avgPrice``,
  ``ticker/24hr``, ``ticker/price``, ``ticker/bookTicker``, ``account``, ``order``
  (POST, GET, DELETE), ``openOrders`` (GET, DELETE), ``allOrders``, ``myTrades``,
  ``rateLimit/order``, ``userDataStream`` (listenKey: POST, PUT, DELETE); ``/sapi/v1/capital/
  config/getall`` (ccxt's currencies); ``/dapi/v1/exchangeInfo`` with no symbols (no COIN-M
  futures here), so ccxt's default ``load_markets`` works.
- USD-M futures (``_binance_futures_rest``, ``_binance_futures_state``): ``/fapi/v1``,
  ``/fapi/v2``, ``/fapi/v3`` for the BTCUSDT perpetual and a cross-margin USDT account, its
  listenKey, and the ``fstream`` streams on ``/public/ws``, ``/market/ws`` and
  ``/private/ws?listenKey=`` (``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE``).
- WebSocket ``/ws``, ``/ws/<stream>[/<stream>...]`` (raw messages) and
  ``/stream?streams=a/b`` (``{"stream", "data"}``), with ``SUBSCRIBE``, ``UNSUBSCRIBE``
  and ``LIST_SUBSCRIPTIONS`` frames; streams ``<symbol>@trade``, ``@aggTrade``,
  ``@bookTicker``, ``@ticker`` and ``@miniTicker`` (once a second), ``@depth`` and
  ``@depth@100ms`` (diffs with ``U``/``u`` update ids that continue the REST snapshot's
  ``lastUpdateId``), ``@kline_<interval>``; a listenKey as a stream gives the user data.
- WebSocket API ``/ws-api/v3``: ``userDataStream.subscribe.signature`` (what ccxt.pro uses for
  spot user data), ``userDataStream.unsubscribe``, ``ping``, ``time``; user data arrives as
  ``{"subscriptionId", "event"}`` (``executionReport``, ``outboundAccountPosition``).
- Control: ``GET /_emulator/orders`` (every order received, with its client order id, status
  and fills; ``?clientOrderId=`` picks one client id), ``GET``/``POST /_emulator/faults``
  (read or change ``FaultConfig`` fields), ``GET /_emulator/balances`` (spot balances, the
  USD-M wallet and position) and ``POST /_emulator/transfer`` (move a spot balance or the
  USD-M position outside any order: ``{"asset": "USDT", "amount": "-5"}``,
  ``{"market": "usdm", "position": "0.002"}``).

Security, errors and rate limits are Binance's (``_binance_auth``); the market is the bundled
BTCUSDT recording looped on the clock (``_market``); orders match in tradeloop's simulated
venue (``_binance_state``). A pump task replays the market every ``pump_interval_ms``: it
feeds quotes and prints to the venue in time order, then publishes the streams.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import WSMsgType, web

from tradeloop.core.clock import Clock, LiveClock
from tradeloop.testing.emulators._binance_auth import (
    RateLimitedError,
    RateLimiter,
    RateLimits,
    check_api_key,
    check_signed,
)
from tradeloop.testing.emulators._binance_futures_rest import FUTURES_LIMITS, BinanceFuturesRest
from tradeloop.testing.emulators._binance_futures_state import (
    BinanceFuturesState,
    fmt_qty,
    fmt_quote,
)
from tradeloop.testing.emulators._binance_rest import BinanceRest
from tradeloop.testing.emulators._binance_state import BinanceState
from tradeloop.testing.emulators._binance_streams import MarketStreams
from tradeloop.testing.emulators._binance_types import BinanceError
from tradeloop.testing.emulators._faults import FaultConfig, Faults, replace_faults
from tradeloop.testing.emulators._market import MarketQuote, MarketTrade, ReplayMarket
from tradeloop.testing.emulators._server import EmulatorThread, PumpedApp, serve_forever
from tradeloop.testing.emulators._ws import WsSession

DEFAULT_API_KEY = "emulator-key"
DEFAULT_SECRET = "emulator-secret"
_NONE, _USER_STREAM, _SIGNED = 0, 1, 2


def _default_balances() -> dict[str, str]:
    return {"BTC": "1", "USDT": "100000"}


class BinanceEmulatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of a Binance emulator.

    Attributes
    ----------
    api_key, secret : the one credential pair accepted (defaults ``emulator-key`` /
        ``emulator-secret``).
    speed : market replay speed (1.0: as recorded).
    balances : starting free balances by asset (decimal strings).
    faults : the faults to inject (``FaultConfig``; all off by default).
    limits : the rate limits (Binance spot's by default).
    futures_balance : the USD-M futures account's starting USDT wallet balance.
    futures_limits : the USD-M rate limits (2400 weight a minute, 300 orders per 10 s).
    pump_interval_ms : how often the market advances and streams publish.
    """

    api_key: str = DEFAULT_API_KEY
    secret: str = DEFAULT_SECRET
    speed: float = 1.0
    balances: dict[str, str] = msgspec.field(default_factory=_default_balances)
    faults: FaultConfig = FaultConfig()
    limits: RateLimits = RateLimits()
    futures_balance: str = "100000"
    futures_limits: RateLimits = FUTURES_LIMITS
    pump_interval_ms: int = 100


Handler = Callable[[dict[str, str], int], Any]
Weight = int | Callable[[dict[str, str]], int]  # a request's weight, or how to work it out


class BinanceEmulator(PumpedApp):
    """The Binance spot emulator's application (build it inside a running event loop)."""

    def __init__(
        self, config: BinanceEmulatorConfig | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config or BinanceEmulatorConfig()
        self.clock = clock or LiveClock()
        cfg = self.config
        self.market = ReplayMarket(self.clock.timestamp_ns(), cfg.speed)
        self.faults = Faults(cfg.faults, "binance")
        self.state = BinanceState(
            self.market,
            {asset: Decimal(amount) for asset, amount in cfg.balances.items()},
            partial_fills=cfg.faults.partial_fills,
            clock=self.clock,
        )
        self.limiter = RateLimiter(cfg.limits)
        self.futures_state = BinanceFuturesState(
            self.market, Decimal(cfg.futures_balance), cfg.faults.partial_fills, self.clock
        )
        self.futures_limiter = RateLimiter(cfg.futures_limits)
        self.futures_rest = BinanceFuturesRest(
            self.futures_state, lambda: self.faults.roll("reject_probability")
        )
        self.futures_sessions: list[WsSession] = []
        self.futures_listen_key: str | None = None
        self.keys = {cfg.api_key: cfg.secret}
        self.rest = BinanceRest(self.state, self.market, cfg.limits)
        self.rest.roll_reject = lambda: self.faults.roll("reject_probability")
        self.sessions: list[WsSession] = []
        self.listen_keys: dict[str, str] = {}
        self._next_subscription = 0
        start_ns = self.clock.timestamp_ns()
        self._cursor_ns = start_ns
        self.rest.cursor_ns = start_ns
        self._pump_task: asyncio.Task[None] | None = None
        self._hanging: set[asyncio.Task[Any]] = set()  # requests never to be answered
        self.streams = MarketStreams(self.market, self.rest, self.futures_rest)
        self.state.listeners.append(self._on_user_event)
        self.futures_state.listeners.append(self._on_futures_user_event)
        opening = self.market.quote_at(start_ns)  # the book as the market opens
        self.state.on_quote(opening)
        self.futures_state.on_quote(opening)
        self.streams.futures_last_u = opening.update_id
        self.routes: dict[tuple[str, str], tuple[Handler, Weight, int, bool]] = {}
        self.rest.register(self._route)
        self.futures_rest.register(self._route)
        self._route("POST", "/fapi/v1/listenKey", self._futures_key_new, 1, _USER_STREAM)
        self._route("PUT", "/fapi/v1/listenKey", self._futures_key_keep, 1, _USER_STREAM)
        self._route("DELETE", "/fapi/v1/listenKey", self._futures_key_close, 1, _USER_STREAM)
        self._route("POST", "/api/v3/userDataStream", self._listen_key_new, 2, _USER_STREAM)
        self._route("PUT", "/api/v3/userDataStream", self._listen_key_keep, 2, _USER_STREAM)
        self._route("DELETE", "/api/v3/userDataStream", self._listen_key_close, 2, _USER_STREAM)

    def _now_ms(self) -> int:
        return self.clock.timestamp_ns() // 1_000_000

    def _route(
        self,
        method: str,
        path: str,
        handler: Handler,
        weight: Weight,
        security: int,
        is_order: bool = False,
    ) -> None:
        self.routes[(method, path)] = (handler, weight, security, is_order)

    # -- application ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """Return the aiohttp application (starts the market pump with the app)."""
        app = web.Application()
        app.router.add_get("/_emulator/orders", self._inspect_orders)
        app.router.add_get("/_emulator/faults", self._get_faults)
        app.router.add_post("/_emulator/faults", self._set_faults)
        app.router.add_get("/_emulator/balances", self._get_balances)
        app.router.add_post("/_emulator/transfer", self._transfer)
        app.router.add_get("/ws", self._ws_raw)
        app.router.add_get("/ws/{streams:.*}", self._ws_raw)
        app.router.add_get("/stream", self._ws_combined)
        app.router.add_get("/ws-api/v3", self._ws_api)
        for category in ("public", "market", "private"):  # USD-M: fstream.binance.com/<category>
            app.router.add_get(f"/{category}/ws", self._futures_ws_raw)
            app.router.add_get(f"/{category}/ws/{{streams:.*}}", self._futures_ws_raw)
            app.router.add_get(f"/{category}/stream", self._futures_ws_combined)
        app.router.add_route("*", "/{path:.*}", self._rest)
        self._add_lifecycle(app)
        return app

    # -- REST -------------------------------------------------------------------------------------

    def _error(self, error: BinanceError, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(error.body(), status=error.status, headers=headers)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get((request.method, request.path))
        if route is None:
            known = any(path == request.path for _, path in self.routes)
            if known:
                return web.json_response({"code": -1, "msg": "Method not allowed."}, status=405)
            return web.Response(status=404, text="")
        handler, weight, security, is_order = route
        delay = self.faults.delay_s()
        if delay > 0:
            await asyncio.sleep(delay)
        now_ms = self._now_ms()
        if self.faults.roll("ban_probability"):
            until = now_ms + 120_000
            return web.json_response(
                {
                    "code": -1003,
                    "msg": f"Way too many requests; IP(127.0.0.1) banned until {until}. "
                    "Please use the websocket for live updates to avoid bans.",
                },
                status=418,
                headers={"Retry-After": "120"},
            )
        if self.faults.roll("rate_limit_probability"):
            return web.json_response(
                {
                    "code": -1003,
                    "msg": "Too many requests; current limit of IP(127.0.0.1) request weight per "
                    f"minute is {self.limiter.limits.weight_per_minute}. Please use WebSocket "
                    "Streams for live updates to avoid polling the API.",
                },
                status=429,
                headers={
                    "Retry-After": "1",
                    "X-MBX-USED-WEIGHT-1M": str(self.limiter.used_weight()),
                },
            )
        if self.faults.roll("server_error_probability"):
            return web.json_response(
                {
                    "code": -1008,
                    "msg": "Server is currently overloaded with other requests. "
                    "Please try again in a few minutes.",
                },
                status=503,
            )
        raw_query = request.query_string
        raw_body = (await request.text()) if request.can_read_body else ""
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        params.update(parse_qsl(raw_body, keep_blank_values=True))
        headers: dict[str, str] = {}
        try:
            cost = weight(params) if callable(weight) else weight
            is_futures = request.path.startswith("/fapi/")
            limiter = self.futures_limiter if is_futures else self.limiter
            headers = limiter.spend(cost, is_order, now_ms)
        except RateLimitedError as limited:
            headers = limited.headers | {"Retry-After": str(limited.retry_after_s)}
            return self._error(limited.error, headers)
        try:
            if security != _NONE:
                secret = check_api_key(request.headers.get("X-MBX-APIKEY"), self.keys)
                if security == _SIGNED:
                    check_signed(secret, raw_query, raw_body, params, now_ms)
            body = handler(params, now_ms)
        except BinanceError as error:
            if (request.method, request.path) == ("POST", "/api/v3/order"):
                self.state.refused(params, error, now_ms)
            elif (request.method, request.path) == ("POST", "/fapi/v1/order"):
                self.futures_state.refused(params, error, now_ms)
            return self._error(error, headers)
        if is_order and self.faults.roll("timeout_probability"):
            task = asyncio.current_task()
            assert task is not None
            self._hanging.add(task)
            await asyncio.sleep(86_400)  # carried out, never answered
        return web.json_response(body, headers=headers)

    def _listen_key_new(self, _params: dict[str, str], now_ms: int) -> Any:
        key = hashlib.sha256(f"{self.config.api_key}:{now_ms}:{len(self.listen_keys)}".encode())
        listen_key = key.hexdigest()[:60]
        self.listen_keys[listen_key] = self.config.api_key
        return {"listenKey": listen_key}

    def _listen_key_keep(self, params: dict[str, str], _now_ms: int) -> Any:
        if params.get("listenKey") not in self.listen_keys:
            raise BinanceError(400, -1125, "This listenKey does not exist.")
        return {}

    def _listen_key_close(self, params: dict[str, str], _now_ms: int) -> Any:
        if self.listen_keys.pop(params.get("listenKey", ""), None) is None:
            raise BinanceError(400, -1125, "This listenKey does not exist.")
        return {}

    def _futures_key_new(self, _params: dict[str, str], now_ms: int) -> Any:
        # USD-M keeps one listenKey per account: asking again returns the one that works
        if self.futures_listen_key is None:
            key = hashlib.sha256(f"fapi:{self.config.api_key}:{now_ms}".encode())
            self.futures_listen_key = key.hexdigest()[:64]
        return {"listenKey": self.futures_listen_key}

    def _futures_key_keep(self, _params: dict[str, str], _now_ms: int) -> Any:
        if self.futures_listen_key is None:
            raise BinanceError(400, -1125, "This listenKey does not exist.")
        return {"listenKey": self.futures_listen_key}

    def _futures_key_close(self, _params: dict[str, str], _now_ms: int) -> Any:
        if self.futures_listen_key is None:
            raise BinanceError(400, -1125, "This listenKey does not exist.")
        self.futures_listen_key = None
        return {}

    # -- control ----------------------------------------------------------------------------------

    async def _inspect_orders(self, request: web.Request) -> web.Response:
        spot = [o | {"market": "spot"} for o in self.state.inspect()]
        usdm = [o | {"market": "usdm"} for o in self.futures_state.inspect()]
        wanted = request.query.get("market")
        orders = spot if wanted == "spot" else usdm if wanted == "usdm" else spot + usdm
        client_id = request.query.get("clientOrderId")
        if client_id is not None:
            orders = [o for o in orders if o["clientOrderId"] == client_id]
        return web.json_response(orders)

    async def _get_faults(self, _request: web.Request) -> web.Response:
        return web.json_response(_fault_dict(self.faults.config))

    async def _set_faults(self, request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object of FaultConfig fields")
            config = replace_faults(self.faults.config, changes)
        except (ValueError, json.JSONDecodeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self.faults.update(config)
        self.state.venue_partial_fills(config.partial_fills)
        self.futures_state.venue_partial_fills(config.partial_fills)
        return web.json_response(_fault_dict(config))

    async def _get_balances(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "spot": self.state.balances(),
                "usdm": {
                    "wallet": fmt_quote(self.futures_state.wallet),
                    "position": fmt_qty(self.futures_state.position_amt),
                },
            }
        )

    async def _transfer(self, request: web.Request) -> web.Response:
        # Moves an account behind the node's back (a deposit, a withdrawal, a manual trade):
        # {"asset": "USDT", "amount": "-5"} for a spot balance, {"market": "usdm",
        # "position": "0.002"} for the USD-M position (at the mark price).
        try:
            body = await request.json()
            if body.get("market") == "usdm":
                self.futures_state.transfer_position(Decimal(str(body["position"])))
            else:
                self.state.transfer(str(body["asset"]), Decimal(str(body["amount"])))
        except (ValueError, KeyError, ArithmeticError, json.JSONDecodeError) as error:
            return web.json_response({"error": f"bad transfer: {error!r}"}, status=400)
        return await self._get_balances(request)

    # -- WebSocket streams ------------------------------------------------------------------------

    async def _ws_raw(self, request: web.Request) -> web.WebSocketResponse:
        # ccxt.pro connects to /ws/<n> (a connection number, not a stream) and subscribes
        streams = [
            s
            for s in request.match_info.get("streams", "").split("/")
            if "@" in s or s in self.listen_keys
        ]
        return await self._ws_session(request, streams, combined=False)

    async def _ws_combined(self, request: web.Request) -> web.WebSocketResponse:
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        return await self._ws_session(request, streams, combined=True)

    async def _futures_ws_raw(self, request: web.Request) -> web.WebSocketResponse:
        # ccxt.pro: /public/ws/<n> and /market/ws/<n>, then SUBSCRIBE; user data at
        # /private/ws?listenKey=<key>
        names = [
            *request.match_info.get("streams", "").split("/"),
            request.query.get("listenKey", ""),
        ]
        streams = [s for s in names if "@" in s or (s and s == self.futures_listen_key)]
        return await self._ws_session(request, streams, combined=False, futures=True)

    async def _futures_ws_combined(self, request: web.Request) -> web.WebSocketResponse:
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        return await self._ws_session(request, streams, combined=True, futures=True)

    async def _ws_session(
        self, request: web.Request, streams: list[str], combined: bool, futures: bool = False
    ) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True, heartbeat=None)
        await socket.prepare(request)
        session = WsSession(socket, self.faults, combined)
        sessions = self.futures_sessions if futures else self.sessions
        for stream in streams:
            self._subscribe(session, stream)
        sessions.append(session)
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                self._on_stream_request(session, message.data)
        finally:
            sessions.remove(session)
            await session.close()
        return socket

    def _subscribe(self, session: WsSession, stream: str) -> None:
        if stream in self.listen_keys or (stream and stream == self.futures_listen_key):
            session.listen_key = stream
        else:
            session.streams.add(stream)

    def _on_stream_request(self, session: WsSession, text: str) -> None:
        try:
            request = json.loads(text)
        except json.JSONDecodeError:
            session.reply({"error": {"code": 3, "msg": "Invalid JSON: expected value"}})
            return
        if not isinstance(request, dict):
            session.reply({"error": {"code": 3, "msg": "Invalid request"}})
            return
        method, params, request_id = request.get("method"), request.get("params"), request.get("id")
        if method == "SUBSCRIBE" and isinstance(params, list):
            for stream in params:
                self._subscribe(session, str(stream))
            session.reply({"result": None, "id": request_id})
        elif method == "UNSUBSCRIBE" and isinstance(params, list):
            for stream in params:
                session.streams.discard(str(stream))
            session.reply({"result": None, "id": request_id})
        elif method == "LIST_SUBSCRIPTIONS":
            session.reply({"result": sorted(session.streams), "id": request_id})
        else:
            session.reply(
                {"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                 "id": request_id}
            )  # fmt: skip

    # -- WebSocket API ----------------------------------------------------------------------------

    async def _ws_api(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True, heartbeat=None)
        await socket.prepare(request)
        session = WsSession(socket, self.faults, combined=False)
        self.sessions.append(session)
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    session.reply(self._ws_api_call(session, message.data))
        finally:
            self.sessions.remove(session)
            await session.close()
        return socket

    def _ws_api_call(self, session: WsSession, text: str) -> dict[str, Any]:
        try:
            request = json.loads(text)
            request_id = request.get("id")
            method = request["method"]
            params = request.get("params") or {}
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError):
            return {"id": None, "status": 400, "error": {"code": -1102, "msg": "Invalid request."}}
        limits = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                   "limit": self.limiter.limits.weight_per_minute,
                   "count": self.limiter.used_weight()}]  # fmt: skip
        try:
            if method == "ping":
                result: Any = {}
            elif method == "time":
                result = {"serverTime": self._now_ms()}
            elif method == "userDataStream.subscribe.signature":
                self._check_ws_signature({str(k): str(v) for k, v in params.items()})
                session.user_subscription = self._next_subscription
                self._next_subscription += 1
                result = {"subscriptionId": session.user_subscription}
            elif method == "userDataStream.unsubscribe":
                session.user_subscription = None
                result = {}
            else:
                raise BinanceError(400, -1102, f"Unknown method '{method}'.")
        except BinanceError as error:
            return {"id": request_id, "status": error.status, "error": error.body(),
                    "rateLimits": limits}  # fmt: skip
        return {"id": request_id, "status": 200, "result": result, "rateLimits": limits}

    def _check_ws_signature(self, params: dict[str, str]) -> None:
        # WebSocket API: the payload is the parameters but the signature, sorted by name
        secret = check_api_key(params.get("apiKey"), self.keys)
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "signature")
        signature = params.get("signature", "")
        check_signed(secret, payload + f"&signature={signature}", "", params, self._now_ms())

    # -- market pump ------------------------------------------------------------------------------

    async def _pump(self) -> None:
        interval = self.config.pump_interval_ms / 1000.0
        while True:
            await asyncio.sleep(interval)
            self._advance(self.clock.timestamp_ns())

    def _advance(self, now_ns: int) -> None:
        start = self._cursor_ns
        if now_ns <= start:
            return
        self._cursor_ns = now_ns
        self.rest.cursor_ns = now_ns
        quotes = self.market.quotes_between(start, now_ns)
        trades = self.market.trades_between(start, now_ns)
        events: list[MarketQuote | MarketTrade] = [*quotes, *trades]
        events.sort(key=lambda e: (e.ts_ns, isinstance(e, MarketTrade)))
        previous = self.state.last_quote
        for event in events:
            for state in (self.state, self.futures_state):
                if isinstance(event, MarketQuote):
                    state.on_quote(event)
                else:
                    state.on_trade(event)
        for sessions, build in (
            (self.sessions, self.streams.spot),
            (self.futures_sessions, self.streams.futures),
        ):
            if not sessions:
                if build == self.streams.futures and quotes:
                    self.streams.futures_last_u = quotes[-1].update_id
                continue
            wanted = set().union(*(s.streams for s in sessions))
            messages = build(quotes, trades, previous, now_ns, wanted)
            for session in list(sessions):
                for stream, message in messages:
                    if stream in session.streams:
                        session.publish(stream, message)

    def _on_user_event(self, event: dict[str, Any]) -> None:
        for session in list(self.sessions):
            if session.user_subscription is not None:
                session.publish(None, {"subscriptionId": session.user_subscription,
                                       "event": event})  # fmt: skip
            elif session.listen_key is not None:
                session.publish(None, event)

    def _on_futures_user_event(self, event: dict[str, Any]) -> None:
        for session in list(self.futures_sessions):
            if session.listen_key is not None and session.listen_key == self.futures_listen_key:
                session.publish(None, event)


def _fault_dict(config: FaultConfig) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.structs.asdict(config)
    return result


async def _build(config: BinanceEmulatorConfig) -> web.Application:
    return BinanceEmulator(config).app()


def start_binance_emulator(
    config: BinanceEmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> EmulatorThread:
    """Start a Binance emulator in a background thread and return it (``.url``, ``.stop()``).

    ``port=0`` picks a free port. Use it as a context manager to stop it on exit.
    """
    settings = config or BinanceEmulatorConfig()

    def factory() -> Awaitable[web.Application]:
        return _build(settings)

    return EmulatorThread(factory, host, port).start()


def run_binance_emulator(
    config: BinanceEmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 8765
) -> None:
    """Serve a Binance emulator in this thread until interrupted (``tradeloop emulate
    binance``)."""
    settings = config or BinanceEmulatorConfig()
    serve_forever(lambda: _build(settings), host, port)

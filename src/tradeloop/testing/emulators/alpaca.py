"""Alpaca emulator: Alpaca's trading and market-data REST paths and its two WebSocket
streams on one port, so alpaca-py works with every ``url_override`` pointed at it.

- Trading REST (``TradingClient(url_override="http://host:port")``): ``/v2/account``,
  ``/v2/orders`` (GET, POST with ``client_order_id``, DELETE), ``/v2/orders/{id}`` (GET,
  DELETE), ``/v2/orders:by_client_order_id``, ``/v2/positions`` (GET, DELETE: close all),
  ``/v2/positions/{symbol}`` (GET, DELETE: close), ``/v2/assets``, ``/v2/assets/{symbol}``,
  ``/v2/clock``, ``/v2/account/activities/FILL`` (``after``, ``until``, ``direction``).
- Market data REST (``StockHistoricalDataClient(url_override=...)``): ``/v2/stocks/bars``,
  ``/v2/stocks/{symbol}/bars``, ``/v2/stocks/bars/latest``.
- ``/stream`` (``TradingStream(url_override="ws://host:port/stream")``): ``authenticate``,
  ``listen`` to ``trade_updates``.
- ``/v2/iex``, ``/v2/sip`` (``StockDataStream(url_override="ws://host:port/v2/iex")``):
  ``connected``, ``auth``, ``subscribe`` to ``bars``; msgpack when the client asks for it
  (alpaca-py does), JSON otherwise. The bundled equity data are bars only: with each closed
  bar, ``trades`` subscribers get one trade at its close (size: the bar's volume) and
  ``quotes`` subscribers one quote around it (bid at the close, ask one tick above, 100
  shares each), both stamped with the bar's close time.
- Control: ``GET /_emulator/orders`` (``?client_order_id=`` picks one client id),
  ``GET``/``POST /_emulator/faults``, ``POST
  /_emulator/data`` (send the JSON list in the body to every data stream subscriber as it is,
  for malformed-message tests), ``POST /_emulator/disconnect`` (close every stream
  connection, so clients must reconnect), ``POST /_emulator/transfer`` (move the cash or a
  position outside any order: ``{"cash": "-100"}``, ``{"symbol": "AAPL", "qty": "3"}``).

Every REST request needs ``APCA-API-KEY-ID`` and ``APCA-API-SECRET-KEY`` (401 otherwise);
answers carry ``X-Ratelimit-Limit``, ``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset`` (200
requests a minute, then 429). The market is ``_bars_market`` (bundled daily bars replayed as
minute bars); orders match in tradeloop's simulated venue (``_alpaca_state``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import msgpack
import msgspec
from aiohttp import WSMsgType, web

from tradeloop.core.clock import Clock, LiveClock
from tradeloop.testing.emulators._alpaca_state import (
    AlpacaError,
    AlpacaState,
    rfc3339,
    stable_id,
)
from tradeloop.testing.emulators._alpaca_wire import json_frame, msgpack_frame, parse_time
from tradeloop.testing.emulators._bars_market import BarsMarket, ReplayBar
from tradeloop.testing.emulators._faults import FaultConfig, Faults, replace_faults
from tradeloop.testing.emulators._server import EmulatorThread, PumpedApp, serve_forever
from tradeloop.testing.emulators._ws import WsSession

DEFAULT_ALPACA_KEY_ID = "emulator-key"
DEFAULT_ALPACA_SECRET = "emulator-secret"
_UNAUTHORIZED = AlpacaError(401, 40110000, "request is not authorized")
_TIMEFRAME = re.compile(r"^(\d+)(Min|T|Hour|H)$")
_DATA_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds",
                  "corrections", "cancelErrors")  # fmt: skip


class AlpacaEmulatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of an Alpaca emulator.

    Attributes
    ----------
    api_key, secret : the key id and secret accepted (defaults ``emulator-key`` /
        ``emulator-secret``).
    speed : replay speed (1.0: one bar a minute).
    cash : starting cash in USD.
    faults : the faults to inject (``FaultConfig``).
    requests_per_minute : the REST rate limit.
    pump_interval_ms : how often the market advances and streams publish.
    """

    api_key: str = DEFAULT_ALPACA_KEY_ID
    secret: str = DEFAULT_ALPACA_SECRET
    speed: float = 1.0
    cash: str = "100000"
    faults: FaultConfig = FaultConfig()
    requests_per_minute: int = 200
    pump_interval_ms: int = 100


class AlpacaEmulator(PumpedApp):
    """The Alpaca emulator's application (build it inside a running event loop)."""

    def __init__(self, config: AlpacaEmulatorConfig | None = None, clock: Clock | None = None):
        self.config = config or AlpacaEmulatorConfig()
        self.clock = clock or LiveClock()
        now = self.clock.timestamp_ns()
        self.created_ns = now
        self.market = BarsMarket(now, self.config.speed)
        self.faults = Faults(self.config.faults, "alpaca")
        self.state = AlpacaState(self.market, Decimal(self.config.cash), self.clock)
        self.state.listeners.append(self._on_trade_update)
        self.sessions: list[WsSession] = []
        self._pump_task: asyncio.Task[None] | None = None
        self._hanging: set[asyncio.Task[Any]] = set()
        self._minute = -1
        self._used = 0
        self._trade_count = 0
        self._next_index = self.market.index_at(now)  # the first bar still open
        for symbol in self.market.symbols:  # the market as it opens: the last closed bar
            self.state.on_bar(self.market.bar(symbol, self._next_index - 1))

    def _now_ns(self) -> int:
        return self.clock.timestamp_ns()

    def app(self) -> web.Application:
        """Return the aiohttp application (starts the market pump with the app)."""
        app = web.Application()
        app.router.add_get("/_emulator/orders", self._inspect_orders)
        app.router.add_get("/_emulator/faults", self._get_faults)
        app.router.add_post("/_emulator/faults", self._set_faults)
        app.router.add_post("/_emulator/data", self._inject_data)
        app.router.add_post("/_emulator/disconnect", self._disconnect)
        app.router.add_post("/_emulator/transfer", self._transfer)
        app.router.add_get("/stream", self._trading_stream)
        app.router.add_get("/v2/{feed:iex|sip|test}", self._data_stream)
        app.router.add_route("*", "/{path:.*}", self._rest)
        self._add_lifecycle(app)
        return app

    # -- REST -------------------------------------------------------------------------------------

    def _rate_headers(self, now_ns: int) -> dict[str, str]:
        minute = now_ns // 60_000_000_000
        if minute != self._minute:
            self._minute, self._used = minute, 0
        self._used += 1
        limit = self.config.requests_per_minute
        return {
            "X-Ratelimit-Limit": str(limit),
            "X-Ratelimit-Remaining": str(max(0, limit - self._used)),
            "X-Ratelimit-Reset": str((minute + 1) * 60),
        }

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        delay = self.faults.delay_s()
        if delay > 0:
            await asyncio.sleep(delay)
        now = self._now_ns()
        headers = self._rate_headers(now)
        too_many = AlpacaError(429, 42910000, "rate limit exceeded")
        if self._used > self.config.requests_per_minute or self.faults.roll(
            "rate_limit_probability"
        ):
            return web.json_response(too_many.body(), status=429, headers=headers)
        if self.faults.roll("ban_probability"):
            return web.json_response({"code": 40310000, "message": "forbidden"}, status=403)
        if self.faults.roll("server_error_probability"):
            return web.json_response(
                {"code": 50010000, "message": "internal server error occurred"}, status=500
            )
        key = request.headers.get("APCA-API-KEY-ID")
        secret = request.headers.get("APCA-API-SECRET-KEY")
        path = request.path
        try:
            if key != self.config.api_key or secret != self.config.secret:
                raise _UNAUTHORIZED
            body: Any = None
            if request.can_read_body:
                try:
                    body = await request.json()
                except json.JSONDecodeError:
                    raise AlpacaError(400, 40010000, "request body format is invalid") from None
            status, answer = self._dispatch(request.method, path, dict(request.query), body)
        except AlpacaError as error:
            if (request.method, path) == ("POST", "/v2/orders") and isinstance(body, dict):
                self.state.refused(body, error)
            return web.json_response(error.body(), status=error.status, headers=headers)
        is_order = request.method in ("POST", "DELETE", "PATCH") and path.startswith("/v2/orders")
        if is_order and self.faults.roll("timeout_probability"):
            task = asyncio.current_task()
            assert task is not None
            self._hanging.add(task)
            await asyncio.sleep(86_400)  # carried out, never answered
        if status == 204:
            return web.Response(status=204, headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        state = self.state
        if path == "/v2/account" and method == "GET":
            return 200, state.account_json(self.created_ns)
        if path == "/v2/clock" and method == "GET":
            return 200, self._clock()
        if path in ("/v2/account/activities/FILL", "/v2/account/activities") and method == "GET":
            types = query.get("activity_types", "FILL")
            if path.endswith("/activities") and types != "FILL":
                raise AlpacaError(422, 40010001, f"activity_types {types} not supported here")
            return 200, self.state.fill_activities(
                parse_time(query["after"]) if "after" in query else None,
                parse_time(query["until"]) if "until" in query else None,
                query.get("direction", "desc") == "asc",
            )
        if path == "/v2/orders":
            if method == "POST":
                if not isinstance(body, dict):
                    raise AlpacaError(422, 40010001, "request body must be a JSON object")
                order = state.submit(body, self.faults.roll("reject_probability"))
                return 200, order.as_json()
            if method == "GET":
                return 200, self._list_orders(query)
            if method == "DELETE":
                answers = []
                for order in [o for o in state.orders.values() if o.is_open]:
                    state.cancel(order)
                    answers.append({"id": order.id, "status": 200, "body": order.as_json()})
                return 207, answers
        if path == "/v2/orders:by_client_order_id" and method == "GET":
            client_id = query.get("client_order_id", "")
            by_client = state.by_client_id(client_id)
            if by_client is None:
                raise AlpacaError(404, 40410000, f"order not found for {client_id}")
            return 200, by_client.as_json()
        if path.startswith("/v2/orders/"):
            order_id = path.removeprefix("/v2/orders/")
            found = state.orders.get(order_id)
            if found is None:
                raise AlpacaError(404, 40410000, f"order not found for {order_id}")
            if method == "GET":
                return 200, found.as_json()
            if method == "DELETE":
                state.cancel(found)
                return 204, None
            if method == "PATCH":
                if not isinstance(body, dict):
                    raise AlpacaError(422, 40010001, "request body must be a JSON object")
                return 200, state.replace(found, body).as_json()
        if path == "/v2/positions" and method == "GET":
            return 200, [state.position_json(s) for s in sorted(state.positions)]
        if path == "/v2/positions" and method == "DELETE":
            if query.get("cancel_orders") == "true":
                for open_order in [o for o in state.orders.values() if o.is_open]:
                    state.cancel(open_order)
            closed = [(s, self._close_position(s)) for s in sorted(state.positions)]
            return 207, [{"symbol": s, "status": 200, "body": o.as_json()} for s, o in closed]
        if path.startswith("/v2/positions/"):
            symbol = path.removeprefix("/v2/positions/")
            if symbol not in state.positions:
                raise AlpacaError(404, 40410000, "position does not exist")
            if method == "GET":
                return 200, state.position_json(symbol)
            if method == "DELETE":
                return 200, self._close_position(symbol).as_json()
        if path == "/v2/assets" and method == "GET":
            return 200, [self._asset(s) for s in self.market.symbols]
        if path.startswith("/v2/assets/") and method == "GET":
            symbol = path.removeprefix("/v2/assets/")
            if symbol not in self.market.series:
                raise AlpacaError(404, 40410000, "asset not found")
            return 200, self._asset(symbol)
        if path.startswith("/v2/stocks/") and method == "GET":
            return 200, self._bars(path, query)
        raise AlpacaError(404, 40410000, "endpoint not found")

    def _close_position(self, symbol: str) -> Any:
        # closing a position is a market order for all of it (long only here)
        qty = self.state.positions[symbol][0]
        order = {"symbol": symbol, "qty": f"{qty:f}", "side": "sell", "type": "market",
                 "time_in_force": "day"}  # fmt: skip
        return self.state.submit(order)

    def _clock(self) -> dict[str, Any]:
        # The replay trades around the clock: the market is always open, the "session"
        # closes at the next UTC midnight and reopens at once.
        now = self._now_ns()
        day = 86_400_000_000_000
        next_close = now - now % day + day
        return {
            "timestamp": rfc3339(now),
            "is_open": True,
            "next_open": rfc3339(next_close),
            "next_close": rfc3339(next_close),
        }

    def _asset(self, symbol: str) -> dict[str, Any]:
        instrument = self.market.instrument(symbol)
        venue = instrument.id.split(".")[-1]
        exchange = {"XNAS": "NASDAQ", "ARCX": "ARCA", "XNYS": "NYSE"}.get(venue, "NASDAQ")
        tick = Decimal(1).scaleb(-instrument.price_precision)
        return {
            "id": stable_id("asset", symbol),
            "class": "us_equity",
            "exchange": exchange,
            "symbol": symbol,
            "name": symbol,
            "status": "active",
            "tradable": True,
            "marginable": False,
            "maintenance_margin_requirement": 100,
            "margin_requirement_long": "100",
            "margin_requirement_short": "100",
            "shortable": False,
            "easy_to_borrow": False,
            "fractionable": False,
            "min_order_size": "1",
            "min_trade_increment": "1",
            "price_increment": f"{tick:f}",
            "attributes": [],
        }

    def _list_orders(self, query: dict[str, str]) -> list[dict[str, Any]]:
        status = query.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise AlpacaError(422, 40010001, f"invalid status {status}")
        limit = int(query.get("limit", "50"))
        symbols = set(filter(None, query.get("symbols", "").split(",")))
        orders = [
            o
            for o in self.state.orders.values()
            if (status == "all" or (status == "open") == o.is_open)
            and (not symbols or o.symbol in symbols)
        ]
        if query.get("direction", "desc") == "desc":
            orders.reverse()
        return [o.as_json() for o in orders[:limit]]

    # -- market data ------------------------------------------------------------------------------

    def _bar_json(self, symbol: str, bar: tuple[int, int, int, int, int, int, int]) -> Any:
        open_ns, o, h, lo, c, volume, count = bar
        scale = Decimal(1).scaleb(-self.market.precision(symbol))
        typical = Decimal(h + lo + c) * scale / 3  # the recording has no VWAP
        return {
            "t": rfc3339(open_ns).split(".")[0] + "Z",
            "o": float(o * scale),
            "h": float(h * scale),
            "l": float(lo * scale),
            "c": float(c * scale),
            "v": volume,
            "n": count,
            "vw": float(round(typical, 6)),
        }

    def _bars(self, path: str, query: dict[str, str]) -> Any:
        parts = path.strip("/").split("/")  # v2 stocks [symbol] bars [latest]
        is_latest = parts[-1] == "latest"
        single = parts[2] if len(parts) >= 4 and parts[3] == "bars" else None
        if single is None and parts[2] != "bars":
            raise AlpacaError(404, 40410000, "endpoint not found")
        names = [single] if single else [s for s in query.get("symbols", "").split(",") if s]
        if not names:
            raise AlpacaError(400, 40010001, "missing symbols")
        unknown = [s for s in names if s not in self.market.series]
        if unknown:
            raise AlpacaError(400, 40010001, f"invalid symbol: {unknown[0]}")
        last_closed = self.market.index_at(self._now_ns()) - 1
        if is_latest:
            bars = {s: self._bar_json(s, self.market.bars(s, last_closed, last_closed)[0])
                    for s in names}  # fmt: skip
            return {"symbol": single, "bar": bars[single]} if single else {"bars": bars}
        match = _TIMEFRAME.match(query.get("timeframe", ""))
        if match is None:
            raise AlpacaError(422, 42210000, "invalid timeframe (supported: <n>Min, <n>Hour)")
        group = int(match.group(1)) * (60 if match.group(2) in ("Hour", "H") else 1)
        limit = min(int(query.get("limit", "1000")), 10000)
        end_index = last_closed
        if "end" in query:
            end_index = min(end_index, self.market.index_at(parse_time(query["end"])))
        if "start" in query:
            start_index = -(-(parse_time(query["start"]) - self.market.origin_ns) //
                            self.market.interval_ns)  # fmt: skip
            start_index -= start_index % group
        else:
            start_index = end_index - end_index % group - (limit - 1) * group
        result = {}
        for symbol in names:
            rows = self.market.bars(symbol, start_index, end_index, group)
            if group > 1 and rows and (end_index + 1) % group:
                rows = rows[:-1]  # the last group is still open
            result[symbol] = [self._bar_json(symbol, row) for row in rows[:limit]]
        if single:
            return {"bars": result[single], "symbol": single, "next_page_token": None}
        return {"bars": result, "next_page_token": None}

    # -- control ----------------------------------------------------------------------------------

    async def _inspect_orders(self, request: web.Request) -> web.Response:
        orders = self.state.inspect()
        client_id = request.query.get("client_order_id")
        if client_id is not None:
            orders = [o for o in orders if o["client_order_id"] == client_id]
        return web.json_response(orders)

    async def _get_faults(self, _request: web.Request) -> web.Response:
        return web.json_response(msgspec.structs.asdict(self.faults.config))

    async def _set_faults(self, request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object of FaultConfig fields")
            config = replace_faults(self.faults.config, changes)
        except (ValueError, json.JSONDecodeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self.faults.update(config)
        return web.json_response(msgspec.structs.asdict(config))

    async def _inject_data(self, request: web.Request) -> web.Response:
        try:
            messages = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": "the body must be a JSON list"}, status=400)
        if not isinstance(messages, list):
            return web.json_response({"error": "the body must be a JSON list"}, status=400)
        sent = 0
        for session in list(self.sessions):
            if session.state.get("data_auth"):
                session.publish(None, messages)
                sent += 1
        return web.json_response({"sessions": sent})

    async def _disconnect(self, _request: web.Request) -> web.Response:
        sessions = list(self.sessions)
        for session in sessions:
            await session.socket.close()
        return web.json_response({"closed": len(sessions)})

    async def _transfer(self, request: web.Request) -> web.Response:
        # Moves the account behind the node's back: {"cash": "-100"} or {"symbol": "AAPL",
        # "qty": "3"} (shares added at no cost, or removed).
        try:
            body = await request.json()
            if "cash" in body:
                self.state.cash += Decimal(str(body["cash"]))
            else:
                self.state.transfer_shares(str(body["symbol"]), Decimal(str(body["qty"])))
        except (ValueError, KeyError, ArithmeticError, json.JSONDecodeError) as error:
            return web.json_response({"error": f"bad transfer: {error!r}"}, status=400)
        return web.json_response({"cash": f"{self.state.cash:f}"})

    # -- streams ----------------------------------------------------------------------------------

    async def _trading_stream(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        session = WsSession(socket, self.faults, combined=False)
        self.sessions.append(session)
        try:
            async for message in socket:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    frame = json.loads(message.data)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                self._trading_request(session, frame)
        finally:
            self.sessions.remove(session)
            await session.close()
        return socket

    def _trading_request(self, session: WsSession, frame: Any) -> None:
        action = frame.get("action") if isinstance(frame, dict) else None
        data = frame.get("data") or {} if isinstance(frame, dict) else {}
        if action in ("authenticate", "auth"):
            key = data.get("key_id", frame.get("key"))
            secret = data.get("secret_key", frame.get("secret"))
            ok = key == self.config.api_key and secret == self.config.secret
            session.state["trading_auth"] = ok
            status = "authorized" if ok else "unauthorized"
            session.reply({"stream": "authorization",
                           "data": {"status": status, "action": "authenticate"}})  # fmt: skip
        elif action == "listen":
            if not session.state.get("trading_auth"):
                session.reply({"stream": "authorization",
                               "data": {"status": "unauthorized", "action": "listen"}})  # fmt: skip
                return
            streams = [s for s in data.get("streams", []) if s == "trade_updates"]
            session.state["trade_updates"] = bool(streams)
            session.reply({"stream": "listening", "data": {"streams": streams}})

    def _on_trade_update(self, update: dict[str, Any]) -> None:
        for session in list(self.sessions):
            if session.state.get("trade_updates"):
                session.publish(None, {"stream": "trade_updates", "data": update})

    async def _data_stream(self, request: web.Request) -> web.WebSocketResponse:
        is_msgpack = request.headers.get("Content-Type", "") == "application/msgpack"
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        session = WsSession(
            socket, self.faults, combined=False, encode=msgpack_frame if is_msgpack else json_frame
        )
        session.state["channels"] = {name: set() for name in _DATA_CHANNELS}
        self.sessions.append(session)
        session.reply([{"T": "success", "msg": "connected"}])
        try:
            async for message in socket:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    frame = (
                        msgpack.unpackb(message.data)
                        if message.type == WSMsgType.BINARY
                        else json.loads(message.data)
                    )
                except (ValueError, msgpack.ExtraData):
                    session.reply([{"T": "error", "code": 400, "msg": "invalid syntax"}])
                    continue
                self._data_request(session, frame)
        finally:
            self.sessions.remove(session)
            await session.close()
        return socket

    def _data_request(self, session: WsSession, frame: Any) -> None:
        action = frame.get("action") if isinstance(frame, dict) else None
        if action == "auth":
            if frame.get("key") == self.config.api_key and frame.get("secret") == (
                self.config.secret
            ):
                session.state["data_auth"] = True
                session.reply([{"T": "success", "msg": "authenticated"}])
            else:
                session.reply([{"T": "error", "code": 402, "msg": "auth failed"}])
            return
        if not session.state.get("data_auth"):
            session.reply([{"T": "error", "code": 401, "msg": "not authenticated"}])
            return
        if action in ("subscribe", "unsubscribe"):
            channels: dict[str, set[str]] = session.state["channels"]
            for name in _DATA_CHANNELS:
                symbols = frame.get(name) or []
                if action == "subscribe":
                    channels[name].update(symbols)
                else:
                    channels[name].difference_update(symbols)
            session.reply([{"T": "subscription"} | {k: sorted(v) for k, v in channels.items()}])
        else:
            session.reply([{"T": "error", "code": 400, "msg": "invalid syntax"}])

    # -- pump ------------------------------------------------------------------------------------

    async def _pump(self) -> None:
        interval = self.config.pump_interval_ms / 1000.0
        while True:
            await asyncio.sleep(interval)
            self._advance(self._now_ns())

    def _advance(self, now_ns: int) -> None:
        open_index = self.market.index_at(now_ns)
        while self._next_index < open_index:  # bars that closed since the last pump
            index = self._next_index
            self._next_index += 1
            for symbol in self.market.symbols:
                bar = self.market.bar(symbol, index)
                self.state.on_bar(bar)
                self._publish_bar(bar)

    def _publish_bar(self, bar: ReplayBar) -> None:
        row = (bar.open_ns, bar.open_raw, bar.high_raw, bar.low_raw, bar.close_raw, bar.volume, 1)
        message = {"T": "b", "S": bar.symbol} | self._bar_json(bar.symbol, row)
        message["t"] = bar.open_ns
        scale = Decimal(1).scaleb(-self.market.precision(bar.symbol))
        close_ns = bar.open_ns + self.market.interval_ns
        close = bar.close_raw * scale
        self._trade_count += 1
        trade = {"T": "t", "S": bar.symbol, "i": self._trade_count, "x": "V",
                 "p": float(close), "s": max(bar.volume, 1), "t": close_ns, "c": ["@"],
                 "z": "B"}  # fmt: skip
        quote = {"T": "q", "S": bar.symbol, "bx": "V", "bp": float(close), "bs": 100,
                 "ax": "V", "ap": float(close + scale), "as": 100, "t": close_ns, "c": ["R"],
                 "z": "B"}  # fmt: skip
        for session in list(self.sessions):
            channels = session.state.get("channels")
            if channels is None:
                continue
            wanted = {bar.symbol, "*"}
            batch = [
                item
                for name, item in (("bars", message), ("trades", trade), ("quotes", quote))
                if wanted & channels[name]
            ]
            if batch:
                session.publish(None, batch)


async def _build(config: AlpacaEmulatorConfig) -> web.Application:
    return AlpacaEmulator(config).app()


def start_alpaca_emulator(
    config: AlpacaEmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> EmulatorThread:
    """Start an Alpaca emulator in a background thread and return it (``.url``, ``.stop()``).

    ``port=0`` picks a free port. Use it as a context manager to stop it on exit.
    """
    settings = config or AlpacaEmulatorConfig()

    def factory() -> Awaitable[web.Application]:
        return _build(settings)

    return EmulatorThread(factory, host, port).start()


def run_alpaca_emulator(
    config: AlpacaEmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 8766
) -> None:
    """Serve an Alpaca emulator in this thread until interrupted (``tradeloop emulate
    alpaca``)."""
    settings = config or AlpacaEmulatorConfig()
    serve_forever(lambda: _build(settings), host, port)

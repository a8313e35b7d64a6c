"""``CcxtExecutionClient``: orders through ccxt (REST) and the venue's user-data streams
(ccxt.pro ``watch_orders`` and ``watch_my_trades``), on the client's own event-loop thread.

Steps of an order:

1. ``submit_order`` returns at once; on the loop the client checks the client order id
   against the venue's rule and the order against what ccxt can send (else ``OrderRejected``)
   and sends ``create_order`` with the client order id as the venue's client id.
2. The answer and the streams become events: ``OrderAccepted`` once (the venue order id),
   one ``OrderFilled`` per venue trade id (the same trade seen in the REST answer and in the
   stream is published once), ``OrderCanceled`` once the order's fills are all published.
3. A transient failure (``TransientVenueError``: network, timeout, rate limit, venue busy)
   is retried with exponential backoff, at most ``max_retries`` times, each retry announced
   by an ``AlertRaised``. After a failure whose outcome is unknown (a timeout, a 5xx) the
   order is first looked up by its client order id and sent again only if the venue does not
   know it. A refusal (``VenueRejectedError``) is never retried: ``OrderRejected`` with the
   venue's code and text.
4. Fills of unknown orders are kept as ``ExternalFillRecorded`` with an alert. While a stream
   is down, every working order is looked up after each reconnect wait so that no fill is
   missed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from tradeloop.bus.inbox import InboxPort
from tradeloop.core.errors import ConfigError, TransientVenueError, VenueError, VenueRejectedError
from tradeloop.core.fixed import Quantity
from tradeloop.execution.ports import LiveExecutionClient
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.enums import OrderType
from tradeloop.model.events import (
    AlertRaised,
    OrderInitialized,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from tradeloop.model.instruments import Instrument
from tradeloop.model.reports import BalanceReport, FillReport, OrderStatusReport, PositionReport
from tradeloop.venues.ccxt._config import (
    CcxtConnectionConfig,
    check_real_money,
    resolve_credentials,
)
from tradeloop.venues.ccxt._exchange import (
    NOT_PROCESSED_ERRORS,
    LoopThread,
    backoff_s,
    is_transient,
    make_exchange,
    to_venue_error,
)
from tradeloop.venues.ccxt._instruments import resolve_symbols
from tradeloop.venues.ccxt._orders import OrderBook, order_request
from tradeloop.venues.ccxt._translate import (
    balance_reports,
    client_id_error,
    fill_report,
    order_report,
    position_report,
    quantity,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_QUERY_TIMEOUT_S = 60.0
_CLIENT_IDS_KEPT = 100_000  # the venue order ids whose client id a fill query looked up


class CcxtExecutionClient:
    """A ``LiveExecutionClient`` over ccxt (module docstring).

    Parameters
    ----------
    config : the connection (with credentials; loopback or ``confirm_real_money``).
    venue : the venue name of the events and reports (``"BINANCE"``).
    inbox : where every order event and alert goes.
    instruments : the instruments that may be traded.

    Raises
    ------
    ConfigError
        If the connection could trade real money without ``confirm_real_money``, names no
        credentials, or they cannot be read.
    """

    def __init__(
        self,
        config: CcxtConnectionConfig,
        venue: str,
        inbox: InboxPort,
        instruments: Sequence[Instrument] | Mapping[str, Instrument],
    ) -> None:
        check_real_money(config)
        if not config.has_credentials:
            raise ConfigError(
                f"connection {venue} names no credentials: set api_key_env and secret_env, "
                f"or secrets_file, to send orders"
            )
        self.config = config
        self.venue = venue
        self.inbox = inbox
        items = instruments.values() if isinstance(instruments, Mapping) else instruments
        self.instruments: dict[str, Instrument] = {i.id: i for i in items}
        self.credentials = resolve_credentials(config)
        self.symbols: dict[str, str] = {}
        self._instrument_of_symbol: dict[str, Instrument] = {}
        self._loop: LoopThread | None = None
        self._exchange: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self.book = OrderBook(venue, inbox, self._alert)
        self._client_ids: dict[str, str] = {}  # venue order id -> client id, once asked
        self.retries = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, check the credentials and start the order and fill streams.

        Raises
        ------
        VenueRejectedError
            If the venue refuses the credentials (one line naming where they came from).
        TransientVenueError
            If the venue cannot be reached.
        """
        if self._loop is not None:
            return
        self._loop = LoopThread(f"tradeloop-exec-{self.venue}")
        try:
            self._loop.call(self._connect(), timeout_s=self.config.timeout_ms / 1000 * 4 + 5)
        except BaseException:
            self.disconnect()
            raise

    async def _connect(self) -> None:
        import ccxt

        self._exchange = make_exchange(self.config, self.credentials)
        try:
            await self._exchange.load_markets()
            await self._exchange.fetch_balance()
        except ccxt.AuthenticationError as error:
            text = self._error(error)
            source = self.credentials.source if self.credentials else "the connection"
            raise VenueRejectedError(
                f"{self.venue}: {self.config.exchange} refused the API key from {source} ({text})"
            ) from None
        except Exception as error:
            raise self._error(error) from None
        self.symbols = resolve_symbols(
            self._exchange, sorted(self.instruments), self.config.symbols, self.config.market_type
        )
        self._instrument_of_symbol = {s: self.instruments[i] for i, s in self.symbols.items()}
        self.book.instrument_of_symbol = self._instrument_of_symbol
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._stream("orders", self._exchange.watch_orders, self._on_orders)),
            loop.create_task(
                self._stream("fills", self._exchange.watch_my_trades, self._on_trades)
            ),
        ]
        await self._wait_streams_connected()

    async def _wait_streams_connected(self) -> None:
        # ccxt.pro opens the sockets on the first watch; wait (bounded) until they are open so
        # that an order sent right after connect() has its stream events seen.
        deadline = asyncio.get_running_loop().time() + 5.0
        while asyncio.get_running_loop().time() < deadline:
            clients = list(getattr(self._exchange, "clients", {}).values())
            subscriptions = [getattr(c, "subscriptions", {}) for c in clients]
            if clients and all(c.connected.done() for c in clients) and any(subscriptions):
                await asyncio.sleep(0.2)  # the subscription request's answer
                return
            await asyncio.sleep(0.05)

    def disconnect(self) -> None:
        """Stop the streams, close the ccxt client and join the loop thread."""
        loop = self._loop
        if loop is None:
            return
        self._loop = None
        if loop.is_running:
            with contextlib.suppress(Exception):
                loop.call(self._close(), timeout_s=10.0)
        loop.stop()

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, *self.book.pending, return_exceptions=True)
        if self._exchange is not None:
            with contextlib.suppress(Exception):
                await self._exchange.close()

    # -- helpers --------------------------------------------------------------------------------

    def _error(self, error: BaseException) -> VenueError:
        last_body = getattr(self._exchange, "last_http_response", None)
        return to_venue_error(self.config.exchange, error, self.credentials, last_body)

    def _alert(self, severity: str, message: str) -> None:
        log.warning(message) if severity != "info" else log.info(message)
        now = self.inbox.now_ns()
        self.inbox.publish(
            lambda ts: AlertRaised(
                ts_event=now, ts_init=ts, severity=severity, source=self.venue, message=message
            )
        )

    def _running_loop(self) -> LoopThread:
        loop = self._loop
        if loop is None:
            raise TransientVenueError(f"{self.venue} is not connected (call connect first)")
        return loop

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        # Run an idempotent request with the retry policy; raise the typed error at the end.
        attempt = 0
        while True:
            try:
                return await call()
            except Exception as error:
                if not is_transient(self.config.exchange, error):
                    raise self._error(error) from None
                if attempt >= self.config.max_retries:
                    raise self._error(error) from None
                delay = backoff_s(self.config, attempt)
                attempt += 1
                self.retries += 1
                self._alert(
                    "warning",
                    f"{self.venue} {what} failed ({self._error(error)}); retry {attempt} of "
                    f"{self.config.max_retries} in {delay:.1f} s",
                )
                await asyncio.sleep(delay)

    # -- commands -------------------------------------------------------------------------------

    def submit_order(self, command: SubmitOrder) -> None:
        """Send a new order; every answer arrives later as an event in the inbox."""
        order = command.order
        loop = self._loop
        if loop is None:
            now = self.inbox.now_ns()
            self.inbox.publish(
                lambda ts: OrderRejected(
                    ts_event=now, ts_init=ts, client_order_id=order.client_order_id,
                    strategy_id=order.strategy_id, instrument_id=order.instrument_id,
                    reason=f"{self.venue} is not connected",
                )
            )  # fmt: skip
            return
        self._spawn(loop, f"submit client_order_id={order.client_order_id}", self._submit(command))

    def _spawn(self, loop: LoopThread, what: str, coroutine: Coroutine[Any, Any, None]) -> None:
        # A command runs on the loop; an unexpected failure in it becomes an error alert.
        future = loop.spawn(coroutine)

        def check(done: concurrent.futures.Future[Any]) -> None:
            if done.cancelled():
                return
            error = done.exception()
            if error is not None:
                text = repr(error)
                if self.credentials is not None:
                    text = self.credentials.scrub(text)
                self._alert("error", f"{self.venue} {what} failed unexpectedly: {text}")

        future.add_done_callback(check)

    async def _submit(self, command: SubmitOrder) -> None:
        order = command.order
        cid = order.client_order_id
        problem = client_id_error(self.config.exchange, cid)
        instrument = self.instruments.get(order.instrument_id)
        if problem is None and instrument is None:
            problem = f"instrument {order.instrument_id} is not traded on {self.venue}"
        if problem is None and self.book.get(cid) is not None:
            problem = f"client order id {cid} was already sent to {self.venue}"
        request = None
        if problem is None:
            assert instrument is not None
            request, problem = order_request(
                order, self.symbols[instrument.id], self.config.market_type, self._exchange
            )
        if problem is not None or request is None or instrument is None:
            self.book.reject_unsent(order, problem or "order cannot be sent")
            return
        state = self.book.add(order, instrument, request.symbol)
        may_exist = False  # a send whose outcome is unknown happened
        last_error = ""
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                delay = backoff_s(self.config, attempt - 1)
                self.retries += 1
                self._alert(
                    "warning",
                    f"{self.venue} submit client_order_id={cid} failed ({last_error}); "
                    f"retry {attempt} of {self.config.max_retries} in {delay:.1f} s"
                    + (", after asking the venue whether it has the order" if may_exist else ""),
                )
                await asyncio.sleep(delay)
            if may_exist:
                try:
                    found = await self._lookup(state.symbol, cid)
                except Exception as error:
                    last_error = str(self._error(error))
                    if not is_transient(self.config.exchange, error):
                        break  # the order's fate stays unknown: never resend blindly
                    continue
                if found is not None:
                    self.book.on_order(found, immediate=True)
                    return
                may_exist = False
            try:
                answer = await self._exchange.create_order(
                    request.symbol, request.type, request.side, request.amount, request.price,
                    dict(request.params),
                )  # fmt: skip
            except Exception as error:
                if not is_transient(self.config.exchange, error):
                    self.book.reject(state, str(self._error(error)))
                    return
                may_exist = not isinstance(error, NOT_PROCESSED_ERRORS)
                last_error = str(self._error(error))
                continue
            self.book.on_order(answer, immediate=True, state=state)
            return
        if may_exist:
            self._alert(
                "error",
                f"{self.venue} submit client_order_id={cid}: outcome unknown after "
                f"{self.config.max_retries} retries ({last_error}); reconciliation must ask the "
                f"venue for this client order id before anything is sent again",
            )
        else:
            self.book.reject(
                state, f"{last_error} (gave up after {self.config.max_retries} retries)"
            )

    async def _lookup(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        import ccxt

        try:
            found: dict[str, Any] = await self._exchange.fetch_order(
                None, symbol, {"clientOrderId": client_order_id}
            )
        except ccxt.OrderNotFound:
            return None
        return found

    def cancel_order(self, command: CancelOrder) -> None:
        """Ask the venue to cancel an order (``OrderCanceled`` or ``OrderCancelRejected``)."""
        what = f"cancel client_order_id={command.client_order_id}"
        self._spawn(self._running_loop(), what, self._cancel(command))

    async def _cancel(self, command: CancelOrder) -> None:
        state = self.book.get(command.client_order_id)
        if state is None:
            self.book.cancel_rejected_unknown(command, "the client order id is unknown here")
            return
        if state.is_closed:
            self.book.cancel_rejected(state, f"the order is already {state.closed_as}")
            return
        state.cancel_reason = command.reason
        params = {} if state.venue_order_id else {"clientOrderId": state.client_order_id}
        try:
            answer = await self._retrying(
                f"cancel client_order_id={state.client_order_id}",
                lambda: self._exchange.cancel_order(state.venue_order_id, state.symbol, params),
            )
        except VenueRejectedError as error:
            await self._refresh(state)  # it may have filled or been canceled meanwhile
            if not state.is_closed:
                self.book.cancel_rejected(state, str(error))
            return
        except TransientVenueError as error:
            self.book.cancel_rejected(state, f"{error} (cancel outcome unknown)")
            return
        self.book.on_order(answer, state=state)
        if not state.is_closed and answer.get("status") in ("canceled", "expired"):
            await self._refresh(state)

    def modify_order(self, command: ModifyOrder) -> None:
        """Ask the venue to modify an order with ccxt's ``edit_order`` (``OrderUpdated`` or
        ``OrderModifyRejected``)."""
        what = f"modify client_order_id={command.client_order_id}"
        self._spawn(self._running_loop(), what, self._modify(command))

    async def _modify(self, command: ModifyOrder) -> None:
        state = self.book.get(command.client_order_id)
        now = self.inbox.now_ns()

        def refuse(reason: str) -> None:
            self.inbox.publish(
                lambda ts: OrderModifyRejected(
                    ts_event=now, ts_init=ts, client_order_id=command.client_order_id,
                    strategy_id=command.strategy_id, instrument_id=command.instrument_id,
                    reason=reason,
                )
            )  # fmt: skip

        if state is None or state.is_closed:
            refuse("the order is unknown or no longer working")
            return
        if command.trigger_price is not None:
            refuse(f"{self.venue}: changing a trigger price is not supported")
            return
        if not self._exchange.has.get("editOrder"):
            refuse(f"{self.config.exchange} cannot modify orders: cancel and submit a new one")
            return
        order = state.order
        new_qty = command.quantity or order.quantity
        new_price = command.price or state.price
        try:
            answer = await self._exchange.edit_order(
                state.venue_order_id, state.symbol, "market" if order.order_type is
                OrderType.MARKET else "limit", order.side.value.lower(), float(new_qty),
                None if new_price is None else float(new_price),
                {"clientOrderId": state.client_order_id},
            )  # fmt: skip
        except Exception as error:
            refuse(str(self._error(error)))
            return
        venue_id = str(answer.get("id") or state.venue_order_id)
        self.book.rebind(state, venue_id)
        state.price = new_price
        instrument = state.instrument
        qty = quantity(instrument, answer.get("amount") or float(new_qty), "order amount")
        self.inbox.publish(
            lambda ts: OrderUpdated(
                ts_event=now, ts_init=ts, client_order_id=state.client_order_id,
                strategy_id=order.strategy_id, instrument_id=order.instrument_id,
                venue_order_id=venue_id, quantity=qty, price=new_price,
            )
        )  # fmt: skip

    # -- streams --------------------------------------------------------------------------------

    async def _stream(
        self, name: str, watch: Callable[[], Awaitable[Any]], handle: Callable[[Any], None]
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
                self._alert(
                    "warning",
                    f"{self.venue} {name} stream disconnected ({self._error(error)}); "
                    f"reconnecting in {delay:.1f} s (attempt {attempt}); working orders are "
                    f"looked up meanwhile",
                )
                await asyncio.sleep(delay)
                # what the stream would have said while it was down: ask for every working
                # order (no new message may ever come to show the stream is back)
                for state in self.book.working():
                    with contextlib.suppress(VenueError):
                        await self._refresh(state)
                continue
            if attempt:
                attempt = 0
                self._alert("info", f"{self.venue} {name} stream reconnected")
            handle(result)

    def _on_orders(self, orders: Any) -> None:
        for order in orders if isinstance(orders, list) else []:
            self.book.on_order(order)

    def _on_trades(self, trades: Any) -> None:
        for trade in trades if isinstance(trades, list) else []:
            self.book.on_trade(trade)
        for state in self.book.waiting_for_fills():
            self.book.spawn(self._refresh_later(state))

    async def _refresh_later(self, state: Any) -> None:
        await asyncio.sleep(1.0)
        if not state.is_closed:
            with contextlib.suppress(VenueError):
                await self._refresh(state)

    async def _refresh(self, state: Any) -> None:
        # Ask the venue for the order and, if it filled more than we published, its trades.
        found = await self._retrying(
            f"query client_order_id={state.client_order_id}",
            lambda: self._lookup(state.symbol, state.client_order_id),
        )
        if found is None:
            return
        self.book.on_order(found, state=state)
        if self.book.missing_fills(state, found):
            trades = await self._retrying(
                f"fills of client_order_id={state.client_order_id}",
                lambda: self._exchange.fetch_my_trades(state.symbol, state.submitted_ms),
            )
            for trade in trades:
                if str(trade.get("order")) == state.venue_order_id:
                    self.book.on_trade(trade)

    # -- queries (blocking, from any thread) ----------------------------------------------------

    def _query(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        return self._running_loop().call(self._retrying(what, call), timeout_s=_QUERY_TIMEOUT_S)

    def restore_order(
        self, order: OrderInitialized, venue_order_id: str | None, filled_qty: Quantity
    ) -> None:
        """Track an order sent before a restart (``--resume``): its cancels, fills and closing
        are then handled as those of an order this client sent."""
        instrument = self._instrument(order.instrument_id)
        state = self.book.add(order, instrument, self.symbols[order.instrument_id])
        state.filled_raw = filled_qty.raw
        state.submitted_ms = order.ts_init // 1_000_000 - 60_000
        if venue_order_id:
            self.book.rebind(state, venue_order_id)
            state.is_accepted = True

    def query_order(self, client_order_id: str, instrument_id: str) -> OrderStatusReport | None:
        """Return the venue's report of the order with this client order id (None: unknown)."""
        instrument = self._instrument(instrument_id)
        symbol = self.symbols[instrument_id]
        found = self._query(
            f"query client_order_id={client_order_id}",
            lambda: self._lookup(symbol, client_order_id),
        )
        if found is None:
            return None
        return order_report(self.venue, instrument, found, self.inbox.now_ns())

    def open_orders(self, instrument_id: str | None = None) -> list[OrderStatusReport]:
        """Return the venue's open orders (of one instrument, or of every configured one)."""
        reports: list[OrderStatusReport] = []
        for iid in self._instrument_ids(instrument_id):
            instrument, symbol = self.instruments[iid], self.symbols[iid]
            orders: list[dict[str, Any]] = self._query(
                f"open orders of {iid}", functools.partial(self._exchange.fetch_open_orders, symbol)
            )
            now = self.inbox.now_ns()
            reports.extend(order_report(self.venue, instrument, o, now) for o in orders)
        return sorted(reports, key=lambda r: (r.ts_last, r.venue_order_id))

    def fills_since(self, ts_ns: int, instrument_id: str | None = None) -> list[FillReport]:
        """Return the venue's fills at or after ``ts_ns``, oldest first."""
        reports: list[FillReport] = []
        for iid in self._instrument_ids(instrument_id):
            instrument, symbol = self.instruments[iid], self.symbols[iid]
            trades: list[dict[str, Any]] = self._query(
                f"fills of {iid}",
                functools.partial(self._exchange.fetch_my_trades, symbol, ts_ns // 1_000_000),
            )
            now = self.inbox.now_ns()
            for trade in trades:
                cid = self._client_id_of(symbol, str(trade.get("order")))
                reports.append(fill_report(self.venue, instrument, trade, cid, now))
        return sorted(
            (r for r in reports if r.ts_event >= ts_ns), key=lambda r: (r.ts_event, r.trade_id)
        )

    def _client_id_of(self, symbol: str, venue_order_id: str) -> str:
        state = self.book.by_venue_id(venue_order_id)
        if state is not None:
            return state.client_order_id
        known = self._client_ids.get(venue_order_id)
        if known is not None:
            return known  # asked once: an order's client id never changes
        order: dict[str, Any] = self._query(
            f"order {venue_order_id}", lambda: self._exchange.fetch_order(venue_order_id, symbol)
        )
        client_id = str(order.get("clientOrderId") or "")
        if len(self._client_ids) >= _CLIENT_IDS_KEPT:
            self._client_ids.pop(next(iter(self._client_ids)))
        self._client_ids[venue_order_id] = client_id
        return client_id

    @property
    def trades_derivatives(self) -> bool:
        """Return whether this connection trades derivatives (``market_type`` not spot): its
        holdings are positions, whatever the instruments' kinds say."""
        return self.config.market_type != "spot"

    def positions(self) -> list[PositionReport]:
        """Return the venue's positions (none for spot: spot holdings are balances)."""
        if self.config.market_type == "spot":
            return []
        symbols = [self.symbols[i] for i in sorted(self.instruments)]
        found = self._query("positions", lambda: self._exchange.fetch_positions(symbols))
        now = self.inbox.now_ns()
        reports = [
            position_report(self.venue, self._instrument_of_symbol[p["symbol"]], p, now)
            for p in found
            if p.get("symbol") in self._instrument_of_symbol
        ]
        return sorted(reports, key=lambda r: r.instrument_id)

    def balances(self) -> list[BalanceReport]:
        """Return the venue's balances, one per currency with a non-zero total."""
        balance = self._query("balances", lambda: self._exchange.fetch_balance())
        return balance_reports(self.venue, balance, self.inbox.now_ns())

    def _instrument(self, instrument_id: str) -> Instrument:
        instrument = self.instruments.get(instrument_id)
        if instrument is None or instrument_id not in self.symbols:
            raise VenueRejectedError(f"instrument {instrument_id} is not traded on {self.venue}")
        return instrument

    def _instrument_ids(self, instrument_id: str | None) -> list[str]:
        if instrument_id is None:
            return sorted(self.symbols)
        self._instrument(instrument_id)
        return [instrument_id]


def _implements_the_port(client: CcxtExecutionClient) -> LiveExecutionClient:
    return client  # mypy checks that CcxtExecutionClient is a LiveExecutionClient

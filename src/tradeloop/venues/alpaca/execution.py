"""Alpaca orders as a ``LiveExecutionClient``: alpaca-py's ``TradingClient`` (REST) on a worker
thread and its ``TradingStream`` (``trade_updates``) on an event loop of its own.

1. ``submit_order`` / ``cancel_order`` queue the request on the worker and return at once.
   The order goes out with tradeloop's client order id as Alpaca's ``client_order_id``.
2. A transient failure (HTTP 429, 5xx, a timeout, no connection) is retried with bounded
   exponential backoff (``RetryPolicy``); each retry is announced as an ``AlertRaised``.
   Before a new order is sent again, Alpaca is asked for it by client order id: an order
   whose first attempt reached Alpaca is taken as sent, never duplicated.
3. Alpaca's refusal (403 insufficient buying power, 422 invalid quantity …) becomes
   ``OrderRejected`` with Alpaca's status, code and message (``OrderCancelRejected`` for a
   cancel); it is never retried.
4. ``modify_order`` replaces the order at Alpaca (``venues.alpaca._replace``): the new Alpaca
   order's events are this order's, and ``OrderUpdated`` gives its new quantity and price; a
   refused replacement is ``OrderModifyRejected`` (the order works on unchanged).
5. ``trade_updates`` become events: new/accepted -> ``OrderAccepted``, fill/partial_fill ->
   ``OrderFilled`` (trade id ``fill_trade_id``: order id + cumulative quantity, so a
   duplicated update is dropped), canceled -> ``OrderCanceled``, expired -> ``OrderExpired``,
   rejected -> ``OrderRejected``. After the stream reconnects, the fills it may have missed
   are fetched from the account activities and published (same trade ids, no doubles).
6. The queries (``query_order``, ``open_orders``, ``fills_since``, ``positions``,
   ``balances``) block the caller, with the same retries.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec
from alpaca.trading.requests import (
    OrderRequest,
)

from tradeloop.bus.inbox import InboxPort
from tradeloop.core.errors import TransientVenueError, VenueRejectedError
from tradeloop.core.fixed import Money, Quantity
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderType
from tradeloop.model.events import (
    AlertRaised,
    Event,
    OrderAccepted,
    OrderCancelRejected,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from tradeloop.model.instruments import Instrument
from tradeloop.model.reports import BalanceReport, FillReport, OrderStatusReport, PositionReport
from tradeloop.venues.alpaca._loop import LoopThread
from tradeloop.venues.alpaca._orders import (
    HookedTradingStream,
    Tracked,
    order_request,
    terminal_event,
)
from tradeloop.venues.alpaca._queries import VenueQueries
from tradeloop.venues.alpaca._replace import replace_request, replacement_id
from tradeloop.venues.alpaca._rest import (
    AlpacaRejectedError,
    RetryPolicy,
    call,
    trading_client,
    with_retries,
)
from tradeloop.venues.alpaca._translate import (
    USD,
    exact_price,
    exact_quantity,
    fill_trade_id,
    ts_ns,
)
from tradeloop.venues.alpaca.config import (
    AlpacaConnectionConfig,
    AlpacaCredentials,
    alpaca_urls,
    load_credentials,
)

log = logging.getLogger("tradeloop.venues.alpaca.execution")
T = TypeVar("T")
_ACCEPTED = ("new", "accepted", "pending_new", "accepted_for_bidding")


class AlpacaExecutionClient:
    """Orders on Alpaca (module docstring).

    Parameters
    ----------
    config : the connection's settings.
    venue : the venue's name in events and reports.
    inbox : where every event goes.
    instruments : the instruments that may be traded (matched by symbol).
    credentials : the key id and secret (default: read as ``config`` says).

    Raises
    ------
    AlpacaConfigError
        If the credentials cannot be read.
    """

    def __init__(
        self,
        config: AlpacaConnectionConfig,
        venue: str,
        inbox: InboxPort,
        instruments: Iterable[Instrument],
        credentials: AlpacaCredentials | None = None,
    ) -> None:
        self.venue = venue
        self.config = config
        self._inbox = inbox
        self._credentials = credentials or load_credentials(config)
        self._by_id = {instrument.id: instrument for instrument in instruments}
        self._by_symbol = {instrument.symbol: instrument for instrument in self._by_id.values()}
        self._policy = RetryPolicy.from_config(config)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._orders: dict[str, Tracked] = {}
        self._aliases: dict[str, str] = {}  # a replacement's client order id -> the order's
        self._trade_ids: set[str] = set()
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None
        self._loop: LoopThread | None = None
        self._stream: HookedTradingStream | None = None
        self._stream_task: concurrent.futures.Future[None] | None = None
        self._stream_up = threading.Event()
        self._connects = 0
        self._last_connected_ns = 0
        self.duplicates_dropped = 0
        self.retries = 0
        self.malformed_updates = 0
        self.fills_caught_up = 0
        self._client = trading_client(config, self._credentials)  # the worker's
        self._query_client = trading_client(config, self._credentials)  # the callers'
        self._queries = VenueQueries(
            venue,
            self._query_client,
            self._by_id,
            self._policy,
            self._stop,
            self._on_retry,
            self._alert,
            inbox.now_ns,
        )

    # -- lifecycle -------------------------------------------------------------------------------

    def connect(self) -> None:
        """Check the credentials, start the worker and the ``trade_updates`` stream.

        Raises
        ------
        VenueRejectedError
            If Alpaca refuses the key (one line naming the HTTP status and where the key
            came from, never the key).
        TransientVenueError
            If Alpaca cannot be reached or the stream does not come up in time.
        """
        where = self.config.secrets_file or f"{self.config.api_key_env}/{self.config.secret_env}"
        try:
            account = call(f"connect venue {self.venue}", self._query_client.get_account)
        except AlpacaRejectedError as error:
            raise VenueRejectedError(
                f"Alpaca refused the credentials of venue {self.venue} (HTTP {error.status} "
                f"{error.code} {error.text}): check the key in {where}"
            ) from None
        if not isinstance(account, Mapping) or "cash" not in account:
            raise VenueRejectedError(f"Alpaca's /v2/account answered no account for {self.venue}")
        self._stop.clear()
        if self._worker is None:
            self._worker = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"alpaca-orders-{self.venue}"
            )
        if self._loop is None:
            self._loop = LoopThread(f"alpaca-trade-updates-{self.venue}")
            self._loop.start()
            self._stream = HookedTradingStream(
                self._credentials.api_key.reveal(),
                self._credentials.secret.reveal(),
                self.config.paper,
                alpaca_urls(self.config).trading_stream,
                self._on_stream_connected,
            )
            self._stream.subscribe_trade_updates(self._on_update)
            self._stream_task = self._loop.submit(self._stream._run_forever())  # type: ignore[no-untyped-call]
        if not self._stream_up.wait(max(5.0, self.config.request_timeout_s)):
            self.disconnect()
            raise TransientVenueError(
                f"Alpaca's trade_updates stream for venue {self.venue} did not connect in time"
            )

    def disconnect(self) -> None:
        """Stop the stream, its thread and the worker (idempotent)."""
        self._stop.set()
        loop, stream = self._loop, self._stream
        if loop is not None and stream is not None:
            try:
                loop.submit(self._shutdown(stream)).result(timeout=10)
            except Exception as error:  # the loop is stopped anyway
                log.warning("trade_updates stream of %s closed uncleanly: %s", self.venue, error)
        if loop is not None:
            loop.stop()
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=False)
        self._loop = self._stream = self._worker = None
        self._stream_up.clear()

    async def _shutdown(self, stream: HookedTradingStream) -> None:
        await stream.stop_ws()
        if self._stream_task is not None:
            self._stream_task.cancel()
        await stream.close()

    # -- commands --------------------------------------------------------------------------------

    def submit_order(self, command: SubmitOrder) -> None:
        """Send a new order (on the worker; answers arrive as events in the inbox)."""
        order = command.order
        with self._lock:
            self._orders.setdefault(
                order.client_order_id,
                Tracked(
                    order.client_order_id,
                    command.strategy_id,
                    order.instrument_id,
                    order.side,
                    order.order_type,
                    quantity_raw=order.quantity.raw,
                ),
            )
        try:
            request = order_request(order, self._by_id, self.venue)
        except VenueRejectedError as error:
            self._reject(order.client_order_id, str(error), order.ts_init)
            return
        if not self._run(self._send, order, request):
            self._reject(order.client_order_id, f"venue {self.venue} is not connected", 0)

    def restore_order(
        self, order: OrderInitialized, venue_order_id: str | None, filled_qty: Quantity
    ) -> None:
        """Track an order sent before a restart (``--resume``) as one this client sent."""
        with self._lock:
            self._orders.setdefault(
                order.client_order_id,
                Tracked(
                    order.client_order_id,
                    order.strategy_id,
                    order.instrument_id,
                    order.side,
                    order.order_type,
                    venue_order_id=venue_order_id or "",
                    is_accepted=bool(venue_order_id),
                ),
            )

    def cancel_order(self, command: CancelOrder) -> None:
        """Ask Alpaca to cancel an order (on the worker)."""
        if not self._run(self._cancel, command):
            reason = f"venue {self.venue} is not connected"
            self._publish(
                lambda ts: OrderCancelRejected(
                    client_order_id=command.client_order_id,
                    strategy_id=command.strategy_id,
                    instrument_id=command.instrument_id,
                    reason=reason,
                    ts_event=ts,
                    ts_init=ts,
                )
            )

    def modify_order(self, command: ModifyOrder) -> None:
        """Ask Alpaca to replace the order (on the worker; ``_replace`` says how)."""
        if not self._run(self._replace, command):
            self._modify_rejected(command, f"venue {self.venue} is not connected")

    def _modify_rejected(self, command: ModifyOrder, reason: str) -> None:
        self._publish(
            lambda ts: OrderModifyRejected(
                client_order_id=command.client_order_id,
                strategy_id=command.strategy_id,
                instrument_id=command.instrument_id,
                reason=reason,
                ts_event=ts,
                ts_init=ts,
            )
        )

    def _replace(self, command: ModifyOrder) -> None:
        # Alpaca replaces an order with a new one (venues.alpaca._replace): sent with the
        # client order id <id>-r<n>, its events mapped back to this order.
        client_id = command.client_order_id
        with self._lock:
            tracked = self._orders.get(client_id)
            if tracked is None or tracked.is_done or not tracked.venue_order_id:
                self._modify_rejected(command, f"order {client_id} is not working at Alpaca")
                return
            if tracked.pending_replacement:
                self._modify_rejected(command, f"order {client_id} is being replaced already")
                return
            try:
                new_id = replacement_id(client_id, tracked.replacements + 1)
                request, total = replace_request(
                    command, tracked, self._by_id[tracked.instrument_id], new_id
                )
            except VenueRejectedError as error:
                self._modify_rejected(command, str(error))
                return
            old_venue_id = tracked.venue_order_id
            tracked.pending_replacement = new_id
            self._aliases[new_id] = client_id
        what = f"replace order client_order_id={client_id} venue={self.venue}"
        answer: Any = None
        try:
            answer = call(what, lambda: self._client.replace_order_by_id(old_venue_id, request))
        except AlpacaRejectedError as error:
            reason = f"HTTP {error.status} {error.code} {error.text}"
        except TransientVenueError as error:  # not resent: did it reach Alpaca?
            answer = self._lookup(new_id)
            reason = f"{error}; Alpaca has no replacement {new_id}: the order is unchanged"
        with self._lock:
            tracked.pending_replacement = ""
            if not isinstance(answer, Mapping):
                self._aliases.pop(new_id, None)
                self._modify_rejected(command, reason)
                return
            tracked.replacements += 1
            tracked.replaced_ids.add(old_venue_id)
            tracked.filled_before_raw = tracked.filled_raw
            tracked.quantity_raw = total.raw
            tracked.venue_order_id = str(answer["id"])
            self._queries.remember(tracked.venue_order_id, client_id)
            venue_order_id = tracked.venue_order_id
        self._publish(
            lambda ts: OrderUpdated(
                client_order_id=client_id,
                strategy_id=command.strategy_id,
                instrument_id=command.instrument_id,
                venue_order_id=venue_order_id,
                quantity=total,
                price=command.price,
                trigger_price=command.trigger_price,
                ts_event=ts,
                ts_init=ts,
            )
        )

    def _run(self, task: Callable[..., None], *args: Any) -> bool:
        # queue a task on the worker; False when there is none (not connected)
        worker = self._worker
        if worker is None:
            return False
        try:
            worker.submit(self._guarded, task, *args)
        except RuntimeError:  # shut down by disconnect() meanwhile
            return False
        return True

    def _guarded(self, task: Callable[..., None], *args: Any) -> None:
        try:
            task(*args)
        except Exception as error:  # a worker task must never die silently
            log.exception("order task failed on venue %s", self.venue)
            self._alert("error", f"order task failed: {type(error).__name__}: {error}")

    def _send(self, order: OrderInitialized, request: OrderRequest) -> None:
        client_id = order.client_order_id
        what = f"submit order client_order_id={client_id} venue={self.venue}"
        try:
            answer: Any = with_retries(
                what,
                lambda: self._client.submit_order(request),
                self._policy,
                self._stop,
                self._on_retry,
                recover=lambda: self._lookup(client_id),
            )
        except AlpacaRejectedError as error:
            if error.status == 422 and "client_order_id" in error.text:
                # an earlier attempt reached Alpaca after all: take that order
                found = self._lookup(client_id)
                if found is not None:
                    self._on_order(found)
                    return
            self._reject(client_id, f"HTTP {error.status} {error.code} {error.text}", order.ts_init)
            return
        except TransientVenueError as error:
            found = self._lookup(client_id)
            if found is not None:
                self._on_order(found)
                return
            self._alert(
                "error",
                f"order client_order_id={client_id} may not have reached Alpaca ({error}); "
                "not resent: reconcile it with query_order",
            )
            return
        self._on_order(answer)

    def _lookup(self, client_order_id: str) -> Mapping[str, Any] | None:
        # the order with this client order id, None when Alpaca has none (or cannot say now)
        try:
            found: Any = call(
                f"query order client_order_id={client_order_id}",
                lambda: self._client.get_order_by_client_id(client_order_id),
            )
        except AlpacaRejectedError as error:
            if error.status == 404:
                return None
            raise
        except TransientVenueError:
            return None
        return found if isinstance(found, Mapping) else None

    def _cancel(self, command: CancelOrder) -> None:
        client_id = command.client_order_id
        with self._lock:
            tracked = self._orders.get(client_id)
            venue_id = tracked.venue_order_id if tracked is not None else ""
        what = f"cancel order client_order_id={client_id} venue={self.venue}"
        try:
            if not venue_id:
                found = with_retries(
                    what,
                    lambda: self._client.get_order_by_client_id(client_id),
                    self._policy,
                    self._stop,
                    self._on_retry,
                )
                venue_id = str(found["id"]) if isinstance(found, Mapping) else ""
            with_retries(
                what,
                lambda: self._client.cancel_order_by_id(venue_id),
                self._policy,
                self._stop,
                self._on_retry,
            )
        except (AlpacaRejectedError, TransientVenueError) as error:
            reason = (
                f"HTTP {error.status} {error.code} {error.text}"
                if isinstance(error, AlpacaRejectedError)
                else str(error)
            )
            self._publish(
                lambda ts: OrderCancelRejected(
                    client_order_id=client_id,
                    strategy_id=command.strategy_id,
                    instrument_id=command.instrument_id,
                    reason=reason,
                    ts_event=ts,
                    ts_init=ts,
                )
            )

    # -- events ----------------------------------------------------------------------------------

    def _publish(self, build: Callable[[int], Event]) -> None:
        self._inbox.publish(build)

    def _alert(self, severity: str, message: str) -> None:
        (log.error if severity == "error" else log.warning)("venue %s: %s", self.venue, message)
        source = f"alpaca.execution.{self.venue}"
        self._publish(
            lambda ts: AlertRaised(
                ts_event=ts, ts_init=ts, severity=severity, source=source, message=message
            )
        )

    def _on_retry(self, retry: int, error: TransientVenueError, delay_s: float) -> None:
        with self._lock:
            self.retries += 1
        self._alert(
            "warning", f"{error}; retry {retry} of {self._policy.max_retries} in {delay_s:.2f} s"
        )

    def _reject(self, client_order_id: str, reason: str, ts_event: int) -> None:
        with self._lock:
            tracked = self._orders.get(client_order_id)
            if tracked is None or tracked.is_done:
                return
            tracked.is_done = True
            self._publish(
                lambda ts: OrderRejected(
                    client_order_id=client_order_id,
                    strategy_id=tracked.strategy_id,
                    instrument_id=tracked.instrument_id,
                    reason=reason,
                    ts_event=ts,
                    ts_init=ts,
                )
            )

    def _on_order(self, order: Mapping[str, Any]) -> None:
        # a REST answer about an order this client sent: accepted unless Alpaca rejected it
        status = str(order.get("status"))
        if status == "rejected":
            self._reject(
                str(order["client_order_id"]), "rejected by Alpaca", ts_ns(str(order["updated_at"]))
            )
            return
        with self._lock:
            tracked = self._orders.get(str(order["client_order_id"]))
            if tracked is not None:
                self._accept(tracked, str(order["id"]), ts_ns(str(order["created_at"])))

    def _accept(self, tracked: Tracked, venue_order_id: str, ts_event: int) -> None:
        if venue_order_id not in tracked.replaced_ids:  # a late event of a replaced order
            tracked.venue_order_id = venue_order_id
        self._queries.remember(venue_order_id, tracked.client_order_id)
        if tracked.is_accepted:
            return
        tracked.is_accepted = True
        self._publish(
            lambda ts: OrderAccepted(
                client_order_id=tracked.client_order_id,
                strategy_id=tracked.strategy_id,
                instrument_id=tracked.instrument_id,
                venue_order_id=venue_order_id,
                ts_event=ts_event,
                ts_init=ts,
            )
        )

    def _on_stream_connected(self) -> None:
        with self._lock:
            self._connects += 1
            is_reconnect = self._connects > 1
            since = self._last_connected_ns
            self._last_connected_ns = self._inbox.now_ns()
        self._stream_up.set()
        if is_reconnect and self._worker is not None:
            self._alert(
                "warning", f"trade_updates stream reconnected (reconnect {self._connects - 1})"
            )
            self._run(self._catch_up, since)

    def _catch_up(self, since_ns: int) -> None:
        # fills the stream may have missed while it was down, from the account activities
        for report in self.fills_since(since_ns):
            with self._lock:
                tracked = self._orders.get(report.client_order_id)
                if tracked is not None and report.trade_id not in self._trade_ids:
                    self._accept(tracked, report.venue_order_id, report.ts_event)
                    self._fill(
                        tracked, report.venue_order_id, report.trade_id, report, report.ts_event
                    )
                    self.fills_caught_up += 1

    async def _on_update(self, message: Any) -> None:
        try:
            data = message["data"]
            with self._lock:
                self._apply(data)
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            with self._lock:
                self.malformed_updates += 1
            self._alert(
                "warning", f"trade update could not be read ({type(error).__name__}: {error})"
            )

    def _apply(self, data: Mapping[str, Any]) -> None:
        event, order = str(data["event"]), data["order"]
        client_id, venue_id = str(order["client_order_id"]), str(order["id"])
        client_id = self._aliases.get(client_id, client_id)  # a replacement is the same order
        ts_event = ts_ns(str(data.get("timestamp") or order["updated_at"]))
        tracked = self._orders.get(client_id)
        if tracked is None:
            tracked = self._adopt(order)
            if tracked is None:
                return
        if event in _ACCEPTED:
            self._accept(tracked, venue_id, ts_event)
        elif event in ("fill", "partial_fill"):
            self._accept(tracked, venue_id, ts_event)
            trade_id = fill_trade_id(venue_id, order["filled_qty"])
            if trade_id in self._trade_ids:
                self.duplicates_dropped += 1
                return
            self._fill(tracked, venue_id, trade_id, data, ts_event)
        elif event == "replaced" and (
            tracked.pending_replacement or venue_id in tracked.replaced_ids
        ):
            return  # replaced at this client's request: the order lives on in its replacement
        elif event in ("canceled", "expired", "rejected", "replaced") and not tracked.is_done:
            tracked.is_done = True
            self._publish(lambda ts: terminal_event(tracked, event, venue_id, ts_event, ts))
        elif event == "order_cancel_rejected":
            self._publish(
                lambda ts: OrderCancelRejected(
                    client_order_id=client_id,
                    strategy_id=tracked.strategy_id,
                    instrument_id=tracked.instrument_id,
                    reason="Alpaca could not cancel the order",
                    ts_event=ts_event,
                    ts_init=ts,
                )
            )

    def _adopt(self, order: Mapping[str, Any]) -> Tracked | None:
        # an order this client did not send (another session, the web UI): tracked so its fills
        # are never dropped, with an alert; the kernel records them as external fills
        instrument = self._by_symbol.get(str(order.get("symbol")))
        client_id = str(order["client_order_id"])
        if instrument is None:
            self._alert(
                "warning", f"update of order {client_id} in untracked symbol {order.get('symbol')}"
            )
            return None
        tracked = Tracked(
            client_id,
            "",
            instrument.id,
            OrderSide.BUY if order.get("side") == "buy" else OrderSide.SELL,
            OrderType.LIMIT if order.get("type") == "limit" else OrderType.MARKET,
        )
        self._orders[client_id] = tracked
        self._alert(
            "warning", f"update of order client_order_id={client_id} this client did not send"
        )
        return tracked

    def _fill(
        self, tracked: Tracked, venue_id: str, trade_id: str, fill: Any, ts_event: int
    ) -> None:
        instrument = self._by_id[tracked.instrument_id]
        if isinstance(fill, FillReport):
            qty, price = fill.last_qty, fill.last_px
        else:
            qty = exact_quantity(fill["qty"], instrument)
            price = exact_price(fill["price"], instrument)
        self._trade_ids.add(trade_id)
        tracked.filled_raw += qty.raw
        liquidity = (
            LiquiditySide.TAKER if tracked.order_type is OrderType.MARKET else LiquiditySide.NONE
        )
        self._publish(
            lambda ts: OrderFilled(
                client_order_id=tracked.client_order_id,
                strategy_id=tracked.strategy_id,
                instrument_id=tracked.instrument_id,
                venue_order_id=venue_id,
                trade_id=trade_id,
                order_side=tracked.side,
                order_type=tracked.order_type,
                last_qty=qty,
                last_px=price,
                commission=Money.zero(USD),
                liquidity_side=liquidity,
                ts_event=ts_event,
                ts_init=ts,
            )
        )

    # -- queries (blocking, with the same retries) ----------------------------------------------

    def query_order(self, client_order_id: str, instrument_id: str) -> OrderStatusReport | None:
        """Return Alpaca's report of the order with this client order id (None: unknown).

        Raises
        ------
        VenueError
            If Alpaca cannot answer after the retries, or refuses.
        """
        with self._lock:
            tracked = self._orders.get(client_order_id)
            latest = client_order_id
            if tracked is not None and tracked.replacements:
                latest = replacement_id(client_order_id, tracked.replacements)
        report = self._queries.query_order(latest, instrument_id)
        return None if report is None else self._as_ours(report)

    def _as_ours(self, report: OrderStatusReport) -> OrderStatusReport:
        # A replacement's report, as the tradeloop order it continues: its client order id,
        # its total quantity and everything that filled of it.
        with self._lock:
            client_id = self._aliases.get(report.client_order_id)
            tracked = None if client_id is None else self._orders.get(client_id)
            if client_id is None or tracked is None:
                return report
            filled = report.filled_qty.raw + tracked.filled_before_raw
            precision = report.quantity.precision
            return msgspec.structs.replace(
                report,
                client_order_id=client_id,
                quantity=Quantity(tracked.quantity_raw, precision),
                filled_qty=Quantity(filled, precision),
            )

    def open_orders(self, instrument_id: str | None = None) -> list[OrderStatusReport]:
        """Return Alpaca's open orders (of one instrument, or all), oldest first."""
        return [self._as_ours(report) for report in self._queries.open_orders(instrument_id)]

    def fills_since(self, ts_ns: int, instrument_id: str | None = None) -> list[FillReport]:
        """Return Alpaca's fills at or after ``ts_ns`` (account activities ``FILL``), oldest
        first, with the same trade ids as the stream's fills."""
        return self._queries.fills_since(ts_ns, instrument_id)

    def positions(self) -> list[PositionReport]:
        """Return Alpaca's positions (US equities; ``is_short`` for short ones)."""
        return self._queries.positions()

    def balances(self) -> list[BalanceReport]:
        """Return the account's cash as one USD balance."""
        return self._queries.balances()

"""The Alpaca emulator's account: cash, positions and orders over tradeloop's simulated venue
(``venues.sim.SimulatedVenue`` at fidelity ``"bars"``, market orders filled at the last bar's
close), in Alpaca's JSON shapes.

A new order is checked (symbol, quantity, type, prices; 422), against buying power or the
position (403; no short selling here), then sent to the venue; the venue's events update the
order, the cash and the position, and go out on ``trade_updates`` (``new``, ``fill``,
``partial_fill``, ``canceled``, ``expired``, ``rejected``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradeloop.core.clock import Clock
from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.commands import CancelOrder, SubmitOrder
from tradeloop.model.data import Bar
from tradeloop.model.enums import OrderSide, OrderType, TimeInForce
from tradeloop.model.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from tradeloop.testing.emulators._bars_market import BarsMarket, ReplayBar
from tradeloop.venues.sim import SimulatedVenue, SimVenueConfig

_IDS = uuid.UUID("5f2a1c3e-7b1d-4c43-9c1e-2d7c1a9e0b11")  # namespace of the emulator's ids
_EXCHANGES = {"XNAS": "NASDAQ", "ARCX": "ARCA", "XNYS": "NYSE"}


class AlpacaError(Exception):
    """An Alpaca error answer: HTTP status and ``{"code", "message"}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """Return the JSON body Alpaca sends."""
        return {"code": self.code, "message": self.message}


def stable_id(kind: str, key: str) -> str:
    """Return a UUID built from a tag and a key (the same on every run)."""
    return str(uuid.uuid5(_IDS, f"{kind}:{key}"))


def rfc3339(ts_ns: int) -> str:
    """Return ``ts_ns`` as Alpaca's RFC 3339 UTC time with nanoseconds."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


@dataclass(slots=True)
class AlpacaOrder:
    """An order as the emulator's venue holds it."""

    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    created_ns: int
    status: str = "accepted"
    filled_qty: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)
    updated_ns: int = 0
    filled_ns: int | None = None
    canceled_ns: int | None = None
    expired_ns: int | None = None
    failed_ns: int | None = None
    fills: list[dict[str, Any]] = field(default_factory=list)
    fill_ns: list[int] = field(default_factory=list)
    reject_reason: str = ""
    replaced_ns: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    is_replacing: bool = False

    @property
    def is_open(self) -> bool:
        """Return whether the order still works."""
        return self.status in ("accepted", "new", "partially_filled")

    def as_json(self) -> dict[str, Any]:
        """Return the order as Alpaca's REST API shows it."""
        average = self.filled_notional / self.filled_qty if self.filled_qty else None

        def at(ts: int | None) -> str | None:
            return None if ts is None else rfc3339(ts)

        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": rfc3339(self.created_ns),
            "updated_at": rfc3339(self.updated_ns or self.created_ns),
            "submitted_at": rfc3339(self.created_ns),
            "filled_at": at(self.filled_ns),
            "expired_at": at(self.expired_ns),
            "canceled_at": at(self.canceled_ns),
            "failed_at": at(self.failed_ns),
            "replaced_at": at(self.replaced_ns),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": stable_id("asset", self.symbol),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": _text(self.qty),
            "filled_qty": _text(self.filled_qty),
            "filled_avg_price": None if average is None else f"{average:f}",
            "order_class": "",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": "buy_to_open" if self.side == "buy" else "sell_to_close",
            "time_in_force": self.time_in_force,
            "limit_price": _text(self.limit_price),
            "stop_price": None,
            "status": self.status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "subtag": None,
            "source": None,
        }


Listener = Callable[[dict[str, Any]], None]


class AlpacaState:
    """Cash, positions and orders of the emulator's one account.

    Parameters
    ----------
    market : the replayed bars (one instrument per symbol).
    cash : starting cash in USD.
    clock : the wall clock the venue stamps its events with.
    """

    def __init__(self, market: BarsMarket, cash: Decimal, clock: Clock) -> None:
        self.market = market
        self.clock = clock
        self.cash = cash
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}  # qty, cost basis
        self.orders: dict[str, AlpacaOrder] = {}
        self.log: list[AlpacaOrder | dict[str, Any]] = []
        self.listeners: list[Listener] = []
        self.last_bars: dict[str, ReplayBar] = {}
        self._events: list[Event] = []
        self._count = 0
        self.venue = SimulatedVenue(
            "ALPACA",
            SimVenueConfig(fidelity="bars", market_fill="close", limit_fill="touch"),
            clock,
            {market.instrument(s).id: market.instrument(s) for s in market.symbols},
            self._events.append,
        )
        self._by_instrument = {market.instrument(s).id: s for s in market.symbols}

    # -- market ---------------------------------------------------------------------------------

    def on_bar(self, bar: ReplayBar) -> None:
        """Feed a closed bar to the matching engine."""
        self.last_bars[bar.symbol] = bar
        instrument = self.market.instrument(bar.symbol)
        close_ns = bar.open_ns + self.market.interval_ns
        self.venue.on_bar(
            Bar(
                instrument_id=instrument.id,
                open_raw=bar.open_raw,
                high_raw=bar.high_raw,
                low_raw=bar.low_raw,
                close_raw=bar.close_raw,
                volume_raw=bar.volume,
                price_precision=instrument.price_precision,
                volume_precision=0,
                ts_event=close_ns,
                ts_init=close_ns,
            )
        )
        self._drain()

    def last_price(self, symbol: str) -> Decimal:
        """Return the last close of ``symbol``."""
        bar = self.last_bars[symbol]
        return Decimal(bar.close_raw).scaleb(-self.market.precision(symbol))

    # -- orders ---------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any], is_rejected: bool = False) -> AlpacaOrder:
        """Place a new order (``POST /v2/orders``).

        Raises
        ------
        AlpacaError
            422 for a malformed order, 403 for missing buying power or shares.
        """
        symbol = body.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise AlpacaError(422, 40010001, "symbol is required")
        if symbol not in self.market.series:
            raise AlpacaError(422, 40010001, f"asset {symbol} not found")
        side, order_type = body.get("side"), body.get("type", "market")
        if side not in ("buy", "sell"):
            raise AlpacaError(422, 40010001, "side must be buy or sell")
        if order_type not in ("market", "limit"):
            raise AlpacaError(422, 40010001, f"order type {order_type} is not supported here")
        tif = body.get("time_in_force")
        if tif not in ("day", "gtc", "ioc", "fok", "opg", "cls"):
            raise AlpacaError(422, 40010001, "invalid time_in_force")
        if body.get("notional") is not None:
            raise AlpacaError(422, 40010001, "notional orders are not supported for this asset")
        try:
            qty = Decimal(str(body.get("qty")))
        except ArithmeticError:
            raise AlpacaError(422, 40010001, "qty is required") from None
        if not qty.is_finite() or qty <= 0:
            raise AlpacaError(422, 40010001, "qty must be > 0")
        if qty != qty.to_integral_value():
            raise AlpacaError(422, 40010001, "qty must be integer")
        limit: Decimal | None = None
        if order_type == "limit":
            try:
                limit = Decimal(str(body.get("limit_price")))
            except ArithmeticError:
                raise AlpacaError(422, 40010001, "limit_price is required") from None
            tick = Decimal(1).scaleb(-self.market.precision(symbol))
            if not limit.is_finite() or limit <= 0 or limit % tick != 0:
                raise AlpacaError(422, 40010001, f"invalid limit_price {body.get('limit_price')}")
        client_id = body.get("client_order_id") or stable_id("client", str(self._count + 1))
        if any(o.client_order_id == client_id for o in self.orders.values()):
            raise AlpacaError(422, 40010001, "client_order_id must be unique")
        if side == "buy":
            reference = limit if limit is not None else self.last_price(symbol)
            committed = sum(
                (o.qty - o.filled_qty) * (o.limit_price or self.last_price(o.symbol))
                for o in self.orders.values()
                if o.is_open and o.side == "buy"
            )
            if qty * reference > self.cash - committed:
                raise AlpacaError(403, 40310000, "insufficient buying power")
        else:
            held = self.positions.get(symbol, (Decimal(0), Decimal(0)))[0]
            selling = sum(
                o.qty - o.filled_qty
                for o in self.orders.values()
                if o.is_open and o.side == "sell" and o.symbol == symbol
            )
            if qty > held - selling:
                raise AlpacaError(
                    403,
                    40310000,
                    f"insufficient qty available for order (requested: {qty}, "
                    f"available: {held - selling})",
                )
        if is_rejected:
            raise AlpacaError(403, 40310000, "order rejected by the venue")
        self._count += 1
        now = self.clock.timestamp_ns()
        order = AlpacaOrder(
            id=stable_id("order", str(self._count)),
            client_order_id=str(client_id),
            symbol=symbol,
            side=side,
            type=order_type,
            time_in_force=str(tif),
            qty=qty,
            limit_price=limit,
            created_ns=now,
            updated_ns=now,
        )
        self.orders[order.id] = order
        self.log.append(order)
        instrument = self.market.instrument(symbol)
        init = OrderInitialized(
            client_order_id=order.id,
            strategy_id="emulator",
            instrument_id=instrument.id,
            side=OrderSide.BUY if side == "buy" else OrderSide.SELL,
            order_type=OrderType.LIMIT if limit is not None else OrderType.MARKET,
            quantity=Quantity.from_decimal(qty, 0),
            price=None if limit is None else Price.from_decimal(limit, instrument.price_precision),
            # DAY orders are kept working (the replay has no sessions); IOC/FOK take or cancel
            time_in_force=TimeInForce.IOC if tif in ("ioc", "fok") else TimeInForce.GTC,
            ts_event=now,
            ts_init=now,
        )
        self.venue.submit_order(SubmitOrder(order=init, strategy_id="emulator", ts_init=now))
        self._drain()
        return order

    def refused(self, body: dict[str, Any], error: AlpacaError) -> None:
        """Record a new-order request refused before it reached the venue."""
        self.log.append(
            {
                "id": None,
                "client_order_id": body.get("client_order_id"),
                "symbol": body.get("symbol"),
                "side": body.get("side"),
                "type": body.get("type"),
                "qty": body.get("qty"),
                "status": "rejected",
                "error": error.body(),
                "fills": [],
            }
        )

    def cancel(self, order: AlpacaOrder) -> None:
        """Cancel a working order.

        Raises
        ------
        AlpacaError
            422 when the order no longer works.
        """
        if not order.is_open:
            raise AlpacaError(422, 42210000, f'order is already in "{order.status}" state')
        now = self.clock.timestamp_ns()
        self.venue.cancel_order(
            CancelOrder(
                strategy_id="emulator",
                instrument_id=self.market.instrument(order.symbol).id,
                client_order_id=order.id,
                reason="canceled by the client",
                ts_init=now,
            )
        )
        self._drain()

    def replace(self, order: AlpacaOrder, body: dict[str, Any]) -> AlpacaOrder:
        """Replace a working order (``PATCH /v2/orders/{id}``): a new order with the fields
        given and the old one's others (``qty``: what the new order trades; ``replaces``
        names the old one); the old one ends ``replaced`` (``replaced_by``). Both events go
        out on ``trade_updates``: the new order's (``new``), then ``replaced`` for the old one.

        Raises
        ------
        AlpacaError
            422 when the order no longer works or the new fields are invalid, 403 without the
            buying power or shares (the old order then keeps working).
        """
        if not order.is_open:
            raise AlpacaError(422, 42210000, f'order is already in "{order.status}" state')
        unknown = sorted(set(body) - {"qty", "limit_price", "time_in_force", "client_order_id"})
        if unknown:
            raise AlpacaError(422, 40010001, f"{', '.join(unknown)} cannot be replaced here")
        if "limit_price" in body and order.type != "limit":
            raise AlpacaError(422, 40010001, "limit_price can only be replaced on limit orders")
        fields: dict[str, Any] = {
            "symbol": order.symbol,
            "side": order.side,
            "type": order.type,
            "time_in_force": body.get("time_in_force") or order.time_in_force,
            "qty": body.get("qty") or str(order.qty - order.filled_qty),
            "client_order_id": body.get("client_order_id"),
        }
        if order.type == "limit":
            fields["limit_price"] = body.get("limit_price") or str(order.limit_price)
        previous = order.status
        order.status = "pending_replace"  # its commitment is not counted against the new one
        try:
            replacement = self.submit(fields)
        except AlpacaError:
            order.status = previous
            raise
        order.is_replacing = True
        order.replaced_by = replacement.id
        replacement.replaces = order.id
        order.status = previous
        now = self.clock.timestamp_ns()
        self.venue.cancel_order(
            CancelOrder(
                strategy_id="emulator",
                instrument_id=self.market.instrument(order.symbol).id,
                client_order_id=order.id,
                reason="replaced",
                ts_init=now,
            )
        )
        self._drain()
        return replacement

    def by_client_id(self, client_order_id: str) -> AlpacaOrder | None:
        """Return the order with ``client_order_id``."""
        for order in self.orders.values():
            if order.client_order_id == client_order_id:
                return order
        return None

    # -- venue events -----------------------------------------------------------------------------

    def _drain(self) -> None:
        while self._events:
            event = self._events.pop(0)
            order = self.orders.get(getattr(event, "client_order_id", ""))
            if order is not None:
                self._apply(order, event)

    def _apply(self, order: AlpacaOrder, event: Event) -> None:
        now = event.ts_event
        order.updated_ns = now
        if isinstance(event, OrderAccepted):
            order.status = "new"
            self._publish("new", order, None)
        elif isinstance(event, OrderRejected):
            order.status, order.failed_ns = "rejected", now
            self._publish("rejected", order, None)
        elif isinstance(event, OrderFilled):
            qty, price = event.last_qty.as_decimal(), event.last_px.as_decimal()
            held, cost = self.positions.get(order.symbol, (Decimal(0), Decimal(0)))
            if order.side == "buy":
                self.cash -= qty * price
                held, cost = held + qty, cost + qty * price
            else:
                self.cash += qty * price
                cost = cost - cost * qty / held if held else Decimal(0)
                held -= qty
            if held:
                self.positions[order.symbol] = (held, cost)
            else:
                self.positions.pop(order.symbol, None)
            order.filled_qty += qty
            order.filled_notional += qty * price
            is_done = order.filled_qty >= order.qty
            order.status = "filled" if is_done else "partially_filled"
            if is_done:
                order.filled_ns = now
            fill = {
                "price": f"{price:f}",
                "qty": f"{qty:f}",
                "timestamp": rfc3339(now),
                "execution_id": stable_id("fill", f"{order.id}:{len(order.fills)}"),
            }
            order.fills.append(fill)
            order.fill_ns.append(now)
            self._publish("fill" if is_done else "partial_fill", order, fill, held)
        elif isinstance(event, OrderCanceled) and order.is_replacing:
            order.status, order.replaced_ns = "replaced", now
            self._publish("replaced", order, None)
        elif isinstance(event, OrderCanceled):
            order.status, order.canceled_ns = "canceled", now
            self._publish("canceled", order, None)
        elif isinstance(event, OrderExpired):
            order.status, order.expired_ns = "expired", now
            self._publish("expired", order, None)

    def _publish(
        self,
        name: str,
        order: AlpacaOrder,
        fill: dict[str, Any] | None,
        position_qty: Decimal | None = None,
    ) -> None:
        update: dict[str, Any] = {
            "event": name,
            "timestamp": rfc3339(order.updated_ns),
            "order": order.as_json(),
        }
        if fill is not None:
            update.update(
                {
                    "execution_id": fill["execution_id"],
                    "price": fill["price"],
                    "qty": fill["qty"],
                    "position_qty": f"{position_qty or 0:f}",
                }
            )
        for listener in list(self.listeners):
            listener(update)

    # -- account ----------------------------------------------------------------------------------

    def position_json(self, symbol: str) -> dict[str, Any]:
        """Return the position in ``symbol`` as Alpaca shows it."""
        qty, cost = self.positions[symbol]
        price = self.last_price(symbol)
        value = qty * price
        exchange = _EXCHANGES.get(self.market.instrument(symbol).id.split(".")[-1], "NASDAQ")
        return {
            "asset_id": stable_id("asset", symbol),
            "symbol": symbol,
            "exchange": exchange,
            "asset_class": "us_equity",
            "asset_marginable": False,
            "qty": f"{qty:f}",
            "avg_entry_price": f"{cost / qty:f}",
            "side": "long",
            "market_value": f"{value:f}",
            "cost_basis": f"{cost:f}",
            "unrealized_pl": f"{value - cost:f}",
            "unrealized_plpc": f"{(value - cost) / cost:f}" if cost else "0",
            "unrealized_intraday_pl": f"{value - cost:f}",
            "unrealized_intraday_plpc": f"{(value - cost) / cost:f}" if cost else "0",
            "current_price": f"{price:f}",
            "lastday_price": f"{price:f}",
            "change_today": "0",
            "qty_available": f"{qty:f}",
        }

    def transfer_shares(self, symbol: str, qty: Decimal) -> None:
        """Move the position in ``symbol`` by ``qty`` shares outside any order (for
        reconciliation tests)."""
        held, cost = self.positions.get(symbol, (Decimal(0), Decimal(0)))
        if held + qty:
            self.positions[symbol] = (held + qty, cost)
        else:
            self.positions.pop(symbol, None)

    def account_json(self, created_ns: int) -> dict[str, Any]:
        """Return the account as ``GET /v2/account`` shows it (cash account, no margin)."""
        long_value = sum(
            (qty * self.last_price(symbol) for symbol, (qty, _) in self.positions.items()),
            Decimal(0),
        )
        equity = self.cash + long_value
        cash = f"{self.cash:f}"
        return {
            "id": stable_id("account", "emulator"),
            "account_number": "PA0EMULATOR",
            "status": "ACTIVE",
            "crypto_status": "INACTIVE",
            "currency": "USD",
            "buying_power": cash,
            "regt_buying_power": cash,
            "daytrading_buying_power": "0",
            "effective_buying_power": cash,
            "non_marginable_buying_power": cash,
            "options_buying_power": cash,
            "bod_dtbp": "0",
            "cash": cash,
            "accrued_fees": "0",
            "pending_transfer_in": "0",
            "portfolio_value": f"{equity:f}",
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "created_at": rfc3339(created_ns),
            "trade_suspended_by_user": False,
            "multiplier": "1",
            "shorting_enabled": False,
            "equity": f"{equity:f}",
            "last_equity": f"{equity:f}",
            "long_market_value": f"{long_value:f}",
            "short_market_value": "0",
            "position_market_value": f"{long_value:f}",
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
            "balance_asof": rfc3339(self.clock.timestamp_ns())[:10],
            "options_approved_level": 0,
            "options_trading_level": 0,
            "intraday_adjustments": "0",
            "pending_reg_taf_fees": "0",
        }

    def fill_activities(
        self, after_ns: int | None, until_ns: int | None, is_ascending: bool
    ) -> list[dict[str, Any]]:
        """Return the fills as ``GET /v2/account/activities/FILL`` shows them."""
        rows: list[tuple[int, int, dict[str, Any]]] = []
        for sequence, order in enumerate(self.orders.values()):
            cumulative = Decimal(0)
            for fill, ts in zip(order.fills, order.fill_ns, strict=True):
                cumulative += Decimal(fill["qty"])
                # Alpaca's after/until compare at microseconds, as its times are written
                if (after_ns is not None and ts // 1000 <= after_ns // 1000) or (
                    until_ns is not None and ts // 1000 > until_ns // 1000
                ):
                    continue
                leaves = order.qty - cumulative
                stamp = dt.datetime.fromtimestamp(ts // 1_000_000_000, tz=dt.UTC)
                activity = {
                    "id": f"{stamp:%Y%m%d%H%M%S}{ts // 1_000_000 % 1000:03d}::"
                    + fill["execution_id"],
                    "activity_type": "FILL",
                    "transaction_time": rfc3339(ts),
                    "type": "fill" if leaves == 0 else "partial_fill",
                    "price": fill["price"],
                    "qty": fill["qty"],
                    "side": order.side,
                    "symbol": order.symbol,
                    "leaves_qty": _text(leaves),
                    "order_id": order.id,
                    "cum_qty": _text(cumulative),
                    "order_status": "filled" if leaves == 0 else "partially_filled",
                }
                rows.append((ts, sequence, activity))
        rows.sort(key=lambda row: (row[0], row[1]), reverse=not is_ascending)
        return [activity for _, _, activity in rows]

    def inspect(self) -> list[dict[str, Any]]:
        """Return every order received, with its client order id, status and fills."""
        return [
            item
            if isinstance(item, dict)
            else item.as_json() | {"fills": list(item.fills), "error": None}
            for item in self.log
        ]

"""Build ``OrderInitialized`` requests with deterministic client order ids and arrival prices."""

from __future__ import annotations

from collections.abc import Callable

from tradeloop.core.clock import Clock
from tradeloop.core.fixed import Price, Quantity
from tradeloop.core.ids import IdGenerator
from tradeloop.model.enums import OrderSide, OrderType, TimeInForce
from tradeloop.model.events import OrderInitialized

MarkPrice = Callable[[str], Price | None]
"""``mark_price(instrument_id)``: the instrument's current mark (None before its first price)."""


class OrderFactory:
    """Create orders for one strategy; ids are ``O-<strategy_id>-<n>``, or
    ``O-<scope>-<strategy_id>-<n>`` with an ``id_scope``.

    A backtest (and a paper run on a replay) has no scope: its ids are deterministic and equal
    between the two. A run against live data gets a scope of its own (the engine derives it
    from the run's start), so client order ids never repeat across runs and restarts at a
    venue that keeps them.

    With ``mark_price``, every order carries the instrument's mark at its creation as its
    ``arrival_price`` (the reference of its execution costs); without, it carries none.
    """

    def __init__(
        self,
        strategy_id: str,
        clock: Clock,
        mark_price: MarkPrice | None = None,
        id_scope: str = "",
    ) -> None:
        self.strategy_id = strategy_id
        self.clock = clock
        self.mark_price = mark_price
        self._ids = IdGenerator("O", f"{id_scope}-{strategy_id}" if id_scope else strategy_id)

    def _make(
        self,
        instrument_id: str,
        side: OrderSide,
        quantity: Quantity,
        order_type: OrderType,
        *,
        price: Price | None = None,
        trigger_price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        reduce_only: bool = False,
        post_only: bool = False,
        parent_order_id: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> OrderInitialized:
        now = self.clock.timestamp_ns()
        return OrderInitialized(
            client_order_id=self._ids.next(),
            strategy_id=self.strategy_id,
            instrument_id=instrument_id,
            side=side,
            order_type=order_type,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
            time_in_force=time_in_force,
            expire_time_ns=expire_time_ns,
            is_reduce_only=reduce_only,
            is_post_only=post_only,
            parent_order_id=parent_order_id,
            tags=tags,
            arrival_price=None if self.mark_price is None else self.mark_price(instrument_id),
            ts_event=now,
            ts_init=now,
        )

    def market(
        self,
        instrument_id: str,
        side: OrderSide,
        quantity: Quantity,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        parent_order_id: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> OrderInitialized:
        """Return a market order."""
        return self._make(
            instrument_id,
            side,
            quantity,
            OrderType.MARKET,
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            parent_order_id=parent_order_id,
            tags=tags,
        )

    def limit(
        self,
        instrument_id: str,
        side: OrderSide,
        quantity: Quantity,
        price: Price,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        reduce_only: bool = False,
        post_only: bool = False,
        parent_order_id: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> OrderInitialized:
        """Return a limit order."""
        return self._make(
            instrument_id,
            side,
            quantity,
            OrderType.LIMIT,
            price=price,
            time_in_force=time_in_force,
            expire_time_ns=expire_time_ns,
            reduce_only=reduce_only,
            post_only=post_only,
            parent_order_id=parent_order_id,
            tags=tags,
        )

    def stop_market(
        self,
        instrument_id: str,
        side: OrderSide,
        quantity: Quantity,
        trigger_price: Price,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        reduce_only: bool = False,
        parent_order_id: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> OrderInitialized:
        """Return a stop (market) order that triggers at ``trigger_price``."""
        return self._make(
            instrument_id,
            side,
            quantity,
            OrderType.STOP_MARKET,
            trigger_price=trigger_price,
            time_in_force=time_in_force,
            expire_time_ns=expire_time_ns,
            reduce_only=reduce_only,
            parent_order_id=parent_order_id,
            tags=tags,
        )

    def stop_limit(
        self,
        instrument_id: str,
        side: OrderSide,
        quantity: Quantity,
        price: Price,
        trigger_price: Price,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        reduce_only: bool = False,
        parent_order_id: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> OrderInitialized:
        """Return a stop-limit order: at ``trigger_price`` it becomes a limit at ``price``."""
        return self._make(
            instrument_id,
            side,
            quantity,
            OrderType.STOP_LIMIT,
            price=price,
            trigger_price=trigger_price,
            time_in_force=time_in_force,
            expire_time_ns=expire_time_ns,
            reduce_only=reduce_only,
            parent_order_id=parent_order_id,
            tags=tags,
        )

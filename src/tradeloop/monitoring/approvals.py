"""Human approval boundaries: orders above a notional wait for a person (``[approvals]``).

``ApprovalGate`` wraps the risk engine's pre-trade check (the order manager's only check,
installed by the monitor when the node starts), so every order still passes every risk check
first. Then a new order whose notional (base currency, at its limit, trigger or mark price)
exceeds ``order_notional`` is **held**: it is denied with the reason ``held for approval
A-<n> …`` (journaled as ``OrderDenied``; nothing reached a venue) and kept in the queue.
Reduce-only orders are never held (a liquidation must not wait).

A person approves or rejects it (API, dashboard, ``tradeloop ctl approve|reject``), on the
kernel thread: an approval journals a ``ControlActionTaken`` and submits a copy of the order
under a new client order id (``O-<scope>-approved-<n>``, tagged with the approval) through
the order manager, so it passes the risk engine again (a node killed meanwhile denies it);
a rejection journals a ``ControlActionTaken`` only. An order not decided within
``timeout_s`` is rejected by ``approvals`` (the safe default).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import MONEY_PRECISION, format_raw
from tradeloop.core.ids import IdGenerator
from tradeloop.core.time import ns_to_iso
from tradeloop.model.events import OrderInitialized
from tradeloop.monitoring.control import Actor, ControllableKernel, ControlSurface


class PreTradeCheck(Protocol):
    """The order manager's pre-trade check (``execution.order_manager.PreTradeCheck``)."""

    def check_submit(self, order: OrderInitialized) -> str | None:
        """Return a denial reason or None."""
        ...


@dataclass
class HeldOrder:
    """An order waiting for approval."""

    approval_id: str
    order: OrderInitialized
    notional: str
    deadline_monotonic: float

    def as_json(self) -> dict[str, Any]:
        """Return it for the API."""
        order = self.order
        return {
            "id": self.approval_id,
            "client_order_id": order.client_order_id,
            "strategy_id": order.strategy_id,
            "instrument_id": order.instrument_id,
            "side": str(order.side),
            "type": str(order.order_type),
            "quantity": str(order.quantity),
            "price": None if order.price is None else str(order.price),
            "notional": self.notional,
            "created": ns_to_iso(order.ts_init),
            "seconds_left": max(0.0, round(self.deadline_monotonic - time.monotonic(), 1)),
        }


class ApprovalGate:
    """Hold orders above a notional for a person's approval (module docstring)."""

    def __init__(
        self,
        kernel: ControllableKernel,
        inner: PreTradeCheck,
        control: ControlSurface,
        order_notional: str,
        timeout_s: float,
    ) -> None:
        self.kernel = kernel
        self.inner = inner
        self.control = control
        self.limit_raw = int(Decimal(order_notional).scaleb(MONEY_PRECISION))
        self.timeout_s = timeout_s
        self.pending: dict[str, HeldOrder] = {}
        self._count = 0
        self._approved: set[str] = set()
        scope = kernel.order_id_scope
        self._ids = IdGenerator("O", f"{scope}-approved" if scope else "approved")

    def check_submit(self, order: OrderInitialized) -> str | None:
        """Run the risk checks, then hold an order above the notional."""
        reason = self.inner.check_submit(order)
        if reason is not None:
            return reason
        if order.client_order_id in self._approved:
            self._approved.discard(order.client_order_id)
            return None
        if order.is_reduce_only:
            return None
        notional_raw = self._notional_raw(order)
        if notional_raw is None or notional_raw <= self.limit_raw:
            return None
        self._count += 1
        approval_id = f"A-{self._count}"
        notional = format_raw(notional_raw, MONEY_PRECISION)
        self.pending[approval_id] = HeldOrder(
            approval_id, order, notional, time.monotonic() + self.timeout_s
        )
        return (
            f"held for approval {approval_id}: notional {notional} exceeds the approval limit "
            f"{format_raw(self.limit_raw, MONEY_PRECISION)} (tradeloop ctl approve {approval_id})"
        )

    def _notional_raw(self, order: OrderInitialized) -> int | None:
        instrument = self.kernel.portfolio.instruments.get(order.instrument_id)
        if instrument is None:
            return None
        price = (
            order.price
            or order.trigger_price
            or self.kernel.portfolio.mark_price(order.instrument_id)
        )
        if price is None:
            return None
        return instrument.notional(order.quantity, price).raw

    def _take(self, approval_id: str) -> HeldOrder:
        held = self.pending.pop(approval_id, None)
        if held is None:
            waiting = ", ".join(sorted(self.pending)) or "none"
            raise ConfigError(f"no order waits for approval {approval_id!r} (waiting: {waiting})")
        return held

    def approve(self, approval_id: str, actor: Actor, reason: str) -> dict[str, object]:
        """Send the held order (kernel thread) as a new order; return what happened.

        Raises
        ------
        ConfigError
            If no order waits under ``approval_id``.
        """
        held = self._take(approval_id)
        kernel = self.kernel
        now = kernel.clock.timestamp_ns()
        new_id = self._ids.next()
        order = msgspec.structs.replace(
            held.order,
            client_order_id=new_id,
            tags=(*held.order.tags, f"approved {approval_id} by {actor.name}"),
            arrival_price=kernel.portfolio.mark_price(held.order.instrument_id),
            ts_event=now,
            ts_init=now,
        )
        self.control.journal_action(
            kernel, "approve", actor, reason, approval_id, f"sent as {new_id}"
        )
        self._approved.add(new_id)
        sent = kernel.order_manager.submit(order)
        self._approved.discard(new_id)
        kernel.drain()
        return {
            "action": "approve",
            "id": approval_id,
            "client_order_id": new_id,
            "status": str(sent.status),
        }

    def reject(self, approval_id: str, actor: Actor, reason: str) -> dict[str, object]:
        """Drop the held order (kernel thread); return what happened.

        Raises
        ------
        ConfigError
            If no order waits under ``approval_id``.
        """
        held = self._take(approval_id)
        self.control.journal_action(
            self.kernel,
            "reject",
            actor,
            reason,
            approval_id,
            f"order {held.order.client_order_id} not sent",
        )
        return {"action": "reject", "id": approval_id, "status": "REJECTED"}

    def expire(self, now: float | None = None) -> None:
        """Reject every order whose approval timed out (kernel thread)."""
        now = time.monotonic() if now is None else now
        for approval_id, held in sorted(self.pending.items()):
            if now >= held.deadline_monotonic:
                self.reject(
                    approval_id,
                    Actor("approvals", "automation"),
                    f"not approved within {self.timeout_s:g} s",
                )

    def waiting(self) -> list[dict[str, Any]]:
        """Return the orders waiting, oldest first."""
        return [
            held.as_json() for held in sorted(self.pending.values(), key=lambda h: h.order.ts_init)
        ]

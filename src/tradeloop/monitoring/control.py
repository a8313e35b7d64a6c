"""Control actions on a running node: pause, resume, kill, flatten one instrument, cancel all.

Each action is a function run on the kernel thread (a ``KernelCall``), so it sees and changes
the node's state between two records, as a strategy would. Each goes through the same
components a strategy uses: the trading state through ``set_trading_state`` (journaled
``TradingStateChanged``), cancels through the order manager (journaled ``CancelOrder``) and
liquidations as reduce-only market orders through the risk engine (no order bypasses risk;
HALTED lets exactly these through). Every action is journaled as a ``ControlActionTaken``
with who did it, their role and why, before anything else it causes.

- ``pause``: trading state REDUCING (orders that reduce a position still go); a HALTED
  node stays HALTED;
- ``resume``: ACTIVE;
- ``kill``: cancel every open order, HALTED, then flatten every position;
- ``flatten``: cancel the instrument's open orders and close its positions (the trading
  state is unchanged);
- ``cancel_all``: cancel every open order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.core.fixed import Quantity
from tradeloop.core.ids import IdGenerator
from tradeloop.model.enums import OrderSide, OrderStatus, OrderType, TradingState
from tradeloop.model.events import ControlActionTaken, OrderInitialized
from tradeloop.monitoring.snapshot import KernelView

ACTIONS = ("pause", "resume", "kill", "flatten", "cancel_all")


class ControlDeniedError(TradeloopError):
    """The actor's role does not allow the action in the node's state (nothing changed)."""


class ControllableKernel(KernelView, Protocol):
    """What a control action needs of the kernel besides what it reads."""

    def set_trading_state(self, state: TradingState, reason: str) -> None:
        """Change the trading state and journal it."""
        ...


@dataclass(frozen=True)
class Actor:
    """Who acts: a token's ``name`` and its ``role`` (or an alert rule: ``alert:<rule>``)."""

    name: str
    role: str


class ControlSurface:
    """Build the kernel-thread functions of the control actions (module docstring)."""

    def __init__(self, on_action: Callable[[ControlActionTaken], None] | None = None) -> None:
        self._ids: IdGenerator | None = None
        self._on_action = on_action

    def journal_action(
        self,
        kernel: ControllableKernel,
        action: str,
        actor: Actor,
        reason: str,
        target: str = "",
        outcome: str = "",
    ) -> ControlActionTaken:
        """Journal ``action`` as a ``ControlActionTaken`` and count it (kernel thread)."""
        now = kernel.clock.timestamp_ns()
        event = ControlActionTaken(
            action=action,
            actor=actor.name,
            role=actor.role,
            reason=reason,
            target=target,
            outcome=outcome,
            ts_event=now,
            ts_init=now,
        )
        kernel.journal.append(event)
        if self._on_action is not None:
            self._on_action(event)
        return event

    def run(
        self,
        kernel: ControllableKernel,
        action: str,
        actor: Actor,
        reason: str,
        target: str = "",
    ) -> dict[str, object]:
        """Take ``action`` now (kernel thread); return what it did.

        Raises
        ------
        ConfigError
            If ``action`` is unknown, or ``flatten`` names no known instrument.
        ControlDeniedError
            If a non-admin resumes a HALTED (killed) node.
        """
        if action not in ACTIONS:
            raise ConfigError(f"control action {action!r} is not one of {', '.join(ACTIONS)}")
        if action == "flatten" and target not in kernel.portfolio.instruments:
            known = ", ".join(sorted(kernel.portfolio.instruments))
            raise ConfigError(f"flatten: instrument {target!r} is not traded here ({known})")
        before = kernel.risk.trading_state
        if action == "resume" and before is TradingState.HALTED and actor.role != "admin":
            raise ControlDeniedError(
                f"the node was killed (HALTED): only an admin may resume it, not {actor.name} "
                f"({actor.role})"
            )
        why = f"{action} by {actor.name} ({actor.role}): {reason or 'no reason given'}"
        if action == "pause":
            outcome = (
                f"trading state {before} -> REDUCING"
                if before is TradingState.ACTIVE
                else f"trading state stays {before}"
            )
        elif action == "resume":
            outcome = f"trading state {before} -> ACTIVE"
        elif action == "kill":
            outcome = f"trading state {before} -> HALTED; open orders canceled; positions flattened"
        elif action == "flatten":
            outcome = f"open orders of {target} canceled; its positions flattened"
        else:
            outcome = "every open order canceled"
        event = self.journal_action(kernel, action, actor, reason, target, outcome)
        canceled = sent = 0
        if action == "pause":
            # Pausing never lifts a kill: a HALTED node stays HALTED.
            if before is TradingState.ACTIVE:
                kernel.set_trading_state(TradingState.REDUCING, why)
        elif action == "resume":
            if before is not TradingState.ACTIVE:
                kernel.set_trading_state(TradingState.ACTIVE, why)
        elif action == "kill":
            canceled = self._cancel(kernel, None, why)
            if before is not TradingState.HALTED:
                kernel.set_trading_state(TradingState.HALTED, why)
            sent = self._flatten(kernel, None, why)
        elif action == "flatten":
            canceled = self._cancel(kernel, target, why)
            sent = self._flatten(kernel, target, why)
        else:
            canceled = self._cancel(kernel, None, why)
        kernel.drain()
        return {
            "action": action,
            "actor": actor.name,
            "outcome": event.outcome,
            "orders_canceled": canceled,
            "liquidation_orders": sent,
            "trading_state": str(kernel.risk.trading_state),
        }

    @staticmethod
    def _cancel(kernel: ControllableKernel, instrument_id: str | None, why: str) -> int:
        count = 0
        for order in kernel.order_manager.open_orders(instrument_id):
            if kernel.order_manager.cancel(order.client_order_id, why):
                count += 1
        return count

    def _flatten(self, kernel: ControllableKernel, instrument_id: str | None, why: str) -> int:
        # Reduce-only market orders for each strategy's position, less what reduce-only orders
        # still working (a strategy's own liquidation) already close.
        if self._ids is None:
            scope = kernel.order_id_scope
            self._ids = IdGenerator("O", f"{scope}-operator" if scope else "operator")
        sent = 0
        now = kernel.clock.timestamp_ns()
        for position in kernel.portfolio.open_positions():
            if instrument_id is not None and position.instrument_id != instrument_id:
                continue
            side = OrderSide.SELL if position.signed_raw > 0 else OrderSide.BUY
            working = sum(
                order.leaves_qty.raw
                for order in kernel.order_manager.open_orders(
                    position.instrument_id, position.strategy_id
                )
                if order.is_reduce_only
                and order.side is side
                and order.status is not OrderStatus.PENDING_CANCEL
            )
            left = abs(position.signed_raw) - working
            if left <= 0:
                continue
            init = OrderInitialized(
                client_order_id=self._ids.next(),
                strategy_id=position.strategy_id,
                instrument_id=position.instrument_id,
                side=side,
                order_type=OrderType.MARKET,
                quantity=Quantity(left, position.size_precision),
                is_reduce_only=True,
                tags=("operator", why[:200]),
                arrival_price=kernel.portfolio.mark_price(position.instrument_id),
                ts_event=now,
                ts_init=now,
            )
            kernel.order_manager.submit(init)
            sent += 1
        return sent

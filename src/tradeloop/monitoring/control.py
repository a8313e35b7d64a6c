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
from tradeloop.core.ids import IdGenerator
from tradeloop.execution.liquidation import cancel_open_orders, flatten_positions
from tradeloop.model.enums import TradingState
from tradeloop.model.events import ControlActionTaken
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
            canceled = cancel_open_orders(kernel.order_manager, None, why)
            if before is not TradingState.HALTED:
                kernel.set_trading_state(TradingState.HALTED, why)
            sent = self._flatten(kernel, None, why)
        elif action == "flatten":
            canceled = cancel_open_orders(kernel.order_manager, target, why)
            sent = self._flatten(kernel, target, why)
        else:
            canceled = cancel_open_orders(kernel.order_manager, None, why)
        kernel.drain()
        return {
            "action": action,
            "actor": actor.name,
            "outcome": event.outcome,
            "orders_canceled": canceled,
            "liquidation_orders": sent,
            "trading_state": str(kernel.risk.trading_state),
        }

    def _flatten(self, kernel: ControllableKernel, instrument_id: str | None, why: str) -> int:
        if self._ids is None:
            scope = kernel.order_id_scope
            self._ids = IdGenerator("O", f"{scope}-operator" if scope else "operator")
        portfolio = kernel.portfolio
        return flatten_positions(
            kernel.order_manager,
            portfolio.open_positions(),
            portfolio.mark_price,
            kernel.clock,
            self._ids,
            instrument_id,
            why,
            "operator",
        )

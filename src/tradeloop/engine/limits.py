"""The kernel's side of the portfolio limits (``risk.limits``): check them at every instant,
journal each breach and set the trading state.

Steps, at each instant (before the strategies' ``on_step``; ``Kernel.fire_step``):

1. ``PortfolioLimits.on_equity`` with the account's equity (cash plus marked positions);
2. each breach is journaled and published as a ``RiskLimitBreached`` (``decision_id``
   ``limit-<n>``; the liquidation orders are tagged with it);
3. the kill switch: cancel every open order, HALTED (``TradingStateChanged``), then flatten
   every position with reduce-only market orders (``execution.liquidation``; ids
   ``O-<scope>-risk-<n>``), after the strategies heard of HALTED (a strategy's own
   liquidation counts against what is left to close);
4. a pause or a daily stop: REDUCING, unless the state is already as strict; when the limits
   clear, ACTIVE again, but only if the limits set the current state (an operator's pause
   stays until a person resumes).

A state set from outside (an operator, an alert rule, a strategy) is followed: HALTED stops
the limits (``kill``); leaving HALTED starts them afresh (``resume``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeloop.core.fixed import MONEY_PRECISION
from tradeloop.core.ids import IdGenerator
from tradeloop.execution.liquidation import cancel_open_orders, flatten_positions
from tradeloop.model.decisions import RiskLimitBreached
from tradeloop.model.enums import TradingState
from tradeloop.risk.limits import PortfolioLimits

if TYPE_CHECKING:
    from tradeloop.engine.kernel import Kernel

_STRICTNESS = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class LimitGuard:
    """Apply the portfolio limits to a kernel (module docstring)."""

    def __init__(self, kernel: Kernel, limits: PortfolioLimits) -> None:
        self.kernel = kernel
        self.limits = limits
        self.is_state_from_limits = False
        self._decisions = 0
        scope = kernel.order_id_scope
        self._ids = IdGenerator("O", f"{scope}-risk" if scope else "risk")

    def restore_decisions(self, number: int) -> None:
        """Continue the breach decision ids after ``limit-<number>`` (a resumed run)."""
        self._decisions = max(self._decisions, number)
        self.limits.breaches = max(self.limits.breaches, number)

    def on_state_set(self, before: TradingState, state: TradingState, by_limits: bool) -> None:
        """Follow a trading state change (any origin)."""
        self.is_state_from_limits = by_limits
        if by_limits:
            return
        if state is TradingState.HALTED:
            self.limits.kill()
        elif before is TradingState.HALTED:
            self.limits.resume()

    def check(self, ts_ns: int) -> None:
        """Check the limits at instant ``ts_ns`` (steps 1-4 of the module docstring)."""
        kernel = self.kernel
        limits = self.limits
        breaches = limits.on_equity(ts_ns, kernel.portfolio.equity_raw())
        current = kernel.risk.trading_state
        wanted = limits.state
        if not breaches:
            if (
                wanted is TradingState.ACTIVE
                and current is TradingState.REDUCING
                and self.is_state_from_limits
            ):
                kernel.set_trading_state(TradingState.ACTIVE, "limits cleared", by_limits=True)
            return
        now = kernel.clock.timestamp_ns()
        decision = ""
        for breach in breaches:
            self._decisions += 1
            decision = f"limit-{self._decisions}"
            kernel.publish_event(
                RiskLimitBreached(
                    rule=breach.rule,
                    instrument_id=None,
                    value=breach.value,
                    limit=breach.limit,
                    action=breach.action,
                    decision_id=decision,
                    ts_event=ts_ns,
                    ts_init=now,
                )
            )
        reason = breaches[-1].action
        if wanted is TradingState.HALTED:
            why = f"{reason} ({decision})"
            manager = kernel.order_manager
            cancel_open_orders(manager, None, why)
            if current is not TradingState.HALTED:
                kernel.set_trading_state(TradingState.HALTED, reason, by_limits=True)
            portfolio = kernel.portfolio
            flatten_positions(
                manager,
                portfolio.open_positions(),
                portfolio.mark_price,
                kernel.clock,
                self._ids,
                None,
                why,
                decision,
            )
        elif _STRICTNESS[wanted] > _STRICTNESS[current]:
            kernel.set_trading_state(wanted, reason, by_limits=True)

    def status(self) -> dict[str, object]:
        """Return the limits and where the account stands against them (for the API)."""
        status = self.limits.status(10**MONEY_PRECISION)
        status["is_state_from_limits"] = self.is_state_from_limits
        return status

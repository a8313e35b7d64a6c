"""The risk stage: review every proposed change (``RiskReviewed``); police the in-trade rules
on every bar (``RiskLimitBreached``) and flatten on a kill, exiting through the execution
stage by command (``ExitPosition``, ``CancelExecutions``). The portfolio limits (daily loss,
drawdown pause, kill switch) are the kernel's (``risk.limits``): the stage follows the trading
state they set."""

from __future__ import annotations

import math

from tradeloop.core.time import ns_to_iso
from tradeloop.model.data import Bar
from tradeloop.model.decisions import (
    ExecutionCompleted,
    ExecutionPlanned,
    RiskLimitBreached,
    RiskReviewed,
    TargetsProposed,
)
from tradeloop.model.enums import TradingState
from tradeloop.pipeline.stages.host import CancelExecutions, ExitPosition, Host, daily_sigma
from tradeloop.risk.review import ProposedChange, RiskReviewer


class RiskStage:
    """Review every proposed change (``RiskReviewed``); police the portfolio and positions.

    Rules the stage adds around ``RiskReviewer``:

    - **Binding exits.** An instrument with a risk exit at this instant (stop-loss,
      take-profit, trailing stop, liquidation) or one still working is held out of the
      rebalance: its changes are denied naming the exit, so a rebalance never cancels an exit
      nor adds to the instrument on that bar. While an exit is working no new in-trade exit
      is sent for the instrument.
    - **Kill switch.** ``kill`` (on demand, from strategy code) or a HALTED trading state set
      by the kernel (its kill switch drawdown, ``risk.limits``) or from outside (an operator,
      a monitor) halts trading and flattens every position with reduce-only market orders,
      which the risk engine lets through while halted. While halted no in-trade exit fires;
      a position left open with no working liquidation gets a new one on the next step, at most
      ``LIQUIDATION_ATTEMPTS`` times per instrument.
    - **Market hours and price band.** Each change carries whether the decision instant lies
      in a session of the instrument's exchange calendar (``data.calendars.session_at``) and
      the previous close as the independent reference of the price band.
    """

    LIQUIDATION_ATTEMPTS = 3

    def __init__(self, host: Host) -> None:
        self.host = host
        self.reviewer = RiskReviewer(
            host.config.risk, {i: host.instrument(i) for i in self._instruments()}
        )
        self._decisions = 0
        # instrument -> (ts of the exit, its decision id, rule)
        self._exits: dict[str, tuple[int, str, str]] = {}
        self._kill_decision: str | None = None
        self._liquidations: dict[str, int] = {}
        # instrument -> (parent order id, decision id) of the plan working on it, from the
        # execution stage's events: a risk exit is a plan whose decision is ``risk-N``.
        self._working: dict[str, tuple[str, str]] = {}
        host.subscribe_decisions(TargetsProposed, self.on_targets)
        host.subscribe_decisions(ExecutionPlanned, self.on_execution_planned)
        host.subscribe_decisions(ExecutionCompleted, self.on_execution_completed)

    def on_execution_planned(self, event: ExecutionPlanned) -> None:
        """Track the plan now working on the instrument (a new plan supersedes the old)."""
        self._working[event.instrument_id] = (event.parent_order_id, event.rebalance_id)

    def on_execution_completed(self, event: ExecutionCompleted) -> None:
        """Forget a plan that is done (filled, canceled, timed out or denied)."""
        working = self._working.get(event.instrument_id)
        if working is not None and working[0] == event.parent_order_id:
            del self._working[event.instrument_id]

    def working_exit(self, instrument_id: str) -> str | None:
        """Return the decision id of the risk exit working on ``instrument_id``, if any."""
        working = self._working.get(instrument_id)
        if working is None or not working[1].startswith("risk-"):
            return None
        return working[1]

    def _next_decision(self) -> str:
        self._decisions += 1
        return f"risk-{self._decisions}"

    def _instruments(self) -> list[str]:
        config = self.host.config
        return [
            *config.universe,
            *(
                [config.benchmark]
                if config.benchmark and config.benchmark not in config.universe
                else []
            ),
        ]

    def binding_exits(self, ts_ns: int) -> dict[str, str]:
        """Return the instruments whose risk exit binds at ``ts_ns``, with the exit named."""
        out: dict[str, str] = {}
        for instrument_id, (ts, decision, rule) in sorted(self._exits.items()):
            if ts == ts_ns:
                out[instrument_id] = f"risk exit {decision} ({rule}) sent this bar"
            elif self.working_exit(instrument_id) == decision:
                out[instrument_id] = f"risk exit {decision} ({rule}) still working"
        return out

    def _session(self, instrument_id: str, ts_ns: int) -> tuple[bool, str]:
        from tradeloop.data.calendars import session_at

        calendar = self.host.instrument(instrument_id).exchange_calendar
        status = session_at(calendar, ts_ns)
        if status.is_open:
            return True, ""
        note = f"{calendar} has no session at {ns_to_iso(ts_ns)[:16]}Z"
        if status.next_open_ns is not None:
            note += f"; next open {ns_to_iso(status.next_open_ns)[:16]}Z"
        return False, note

    def on_targets(self, event: TargetsProposed) -> None:
        """Approve, resize or deny each change."""
        host = self.host
        now = host.now_ns()
        changes = []
        for target in event.targets:
            if target.delta_qty == 0:
                continue
            sigma = daily_sigma(host.history, target.instrument_id, 20)
            closes = host.history.closes(target.instrument_id, 2)
            is_open, note = self._session(target.instrument_id, now)
            changes.append(
                ProposedChange(
                    instrument_id=target.instrument_id,
                    current_qty=target.current_qty,
                    delta_qty=target.delta_qty,
                    reference_price=target.reference_price,
                    band_reference_price=float(closes[0]) if len(closes) == 2 else None,
                    annual_volatility=None if sigma is None else sigma * math.sqrt(252.0),
                    is_session_open=is_open,
                    session_note=note,
                    is_hedge=target.is_hedge,
                )
            )
        decisions = self.reviewer.review(
            changes, host.equity_value(), host.cash_value(), self.binding_exits(now)
        )
        host.publish(
            RiskReviewed(
                rebalance_id=event.rebalance_id,
                decisions=tuple(decisions),
                trading_state=str(self.reviewer.state),
                ts_event=now,
                ts_init=now,
            )
        )

    def on_step(self, ts_ns: int) -> None:
        """While halted, send again a liquidation that ended without closing its position."""
        if self.reviewer.state is TradingState.HALTED:
            self._liquidate_leftovers()

    def kill(self, reason: str, *, is_external: bool = False) -> None:
        """Engage the kill switch now: halt trading and flatten every position.

        ``is_external``: the trading state was already set to HALTED outside the pipeline (the
        kernel's kill switch drawdown, an operator); only the liquidation is left to do. The
        ``RiskLimitBreached`` it journals (no measured value: 0) is the decision its
        liquidation orders are tagged with.
        """
        if self.reviewer.state is TradingState.HALTED:
            return
        host = self.host
        self.reviewer.kill()
        decision = self._next_decision()
        now = host.now_ns()
        host.publish(
            RiskLimitBreached(
                rule="kill_switch_external" if is_external else "kill_switch_on_demand",
                instrument_id=None,
                value=0.0,
                limit=0.0,
                action=f"kill switch ({reason}): flatten every position and halt trading",
                decision_id=decision,
                ts_event=now,
                ts_init=now,
            )
        )
        if not is_external:
            host.set_trading_state(TradingState.HALTED, f"kill switch: {reason}")
        self._kill_decision = decision
        self._liquidations.clear()
        self.flatten(f"kill switch: {reason}", decision)

    def resume(self) -> None:
        """Release the kill switch (the trading state was set back from outside)."""
        if self.reviewer.state is TradingState.HALTED:
            self.reviewer.resume()
            self._kill_decision = None

    def flatten(self, reason: str, decision_id: str) -> None:
        """Close every position at once (emergency liquidation, reduce-only market orders)."""
        self.host.send(CancelExecutions(reason=f"{reason} ({decision_id})"))
        for instrument_id in self._instruments():
            self._liquidate(instrument_id, reason, decision_id)

    def _liquidate(self, instrument_id: str, reason: str, decision_id: str) -> None:
        qty = self.host.held_qty(instrument_id)
        if qty == 0:
            return
        self._liquidations[instrument_id] = self._liquidations.get(instrument_id, 0) + 1
        self._exits[instrument_id] = (self.host.now_ns(), decision_id, "liquidation")
        self.host.send(
            ExitPosition(
                instrument_id=instrument_id, delta_qty=-qty, reason=reason, decision_id=decision_id
            )
        )

    def _liquidate_leftovers(self) -> None:
        # A liquidation that ended without closing the position (canceled, rejected) is sent
        # again, a bounded number of times.
        decision = self._kill_decision
        if decision is None:
            return
        for instrument_id in self._instruments():
            if (
                self.host.held_qty(instrument_id) != 0
                and self.working_exit(instrument_id) is None
                and self._liquidations.get(instrument_id, 0) < self.LIQUIDATION_ATTEMPTS
            ):
                self._liquidate(instrument_id, "kill switch: position still open", decision)

    def on_bar(self, bar: Bar) -> None:
        """Apply the in-trade rules (stop-loss, take-profit, trailing stop) to this position."""
        host = self.host
        instrument_id = bar.instrument_id
        if self.reviewer.state is TradingState.HALTED:
            return  # the liquidation handles every position
        qty = host.held_qty(instrument_id)
        if qty == 0 and instrument_id not in self.reviewer._entry_best:
            return
        if self.working_exit(instrument_id) is not None:
            return  # one exit at a time: the working one already closes (part of) it
        price = bar.close_raw / 10**bar.price_precision
        exit_ = self.reviewer.check_position(
            instrument_id, qty, host.average_entry(instrument_id), price
        )
        if exit_ is None:
            return
        decision = self._next_decision()
        host.publish(
            RiskLimitBreached(
                rule=exit_.rule,
                instrument_id=instrument_id,
                value=exit_.value,
                limit=exit_.limit,
                action=f"exit {exit_.delta_qty:+g} at market",
                decision_id=decision,
                ts_event=bar.ts_init,
                ts_init=host.now_ns(),
            )
        )
        self._exits[instrument_id] = (host.now_ns(), decision, exit_.rule)
        host.send(
            ExitPosition(
                instrument_id=instrument_id,
                delta_qty=exit_.delta_qty,
                reason=exit_.rule,
                decision_id=decision,
            )
        )

"""A small stand-in for the pipeline: publishes every decision event of ``model.decisions``.

Every ``period`` steps it runs one rebalance ``R-<n>``: betas to the benchmark, a trend regime
of the benchmark, two signal agents (momentum, mean reversion) and a third that fails once,
an ensemble, long-only targets, a risk review that caps the quantity, a cost assessment, and
an execution plan per change whose children are tagged ``("rebalance:R-n", "algo:<name>")``
with the plan's parent order id: ``twap`` (two market slices on two steps) or
``limit_then_market`` (a limit at the last close, converted after one step). At its last
rebalance it leaves a far limit order working, so a run ends with an open order.

The reports tests run it through the real engine (``pipeline.toml``) to get journals with
the whole causal chain before the real pipeline lands.
"""

from __future__ import annotations

import numpy as np

from tradeloop.model import (
    BetaEstimate,
    BetasEstimated,
    CostAssessed,
    CostDecisionRecord,
    EnsembleScore,
    EnsembleScored,
    ExecutionCompleted,
    ExecutionPlanned,
    ExecutionProgressed,
    OrderFilled,
    OrderSide,
    RegimeChanged,
    RegimeModelFitted,
    RiskDecision,
    RiskReviewed,
    Signal,
    SignalsEmitted,
    TargetPosition,
    TargetsProposed,
)
from tradeloop.model.data import Bar
from tradeloop.model.decisions import AgentFailed
from tradeloop.strategy import Strategy, StrategyConfig


class MiniPipeline(Strategy):
    """Rebalance a long-only book from two agents' scores, publishing each stage's decision."""

    class Config(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
        """Instruments, benchmark, rebalance period (steps), lookback and the size cap."""

        instrument_ids: list[str]
        benchmark_id: str
        period: int = 10
        lookback: int = 20
        quantity: int = 300
        max_quantity: int = 250
        last_rebalance: int = 1_000_000

    def on_start(self) -> None:
        """Subscribe to every instrument's bars and to the steps."""
        config = self.config
        self.closes: dict[str, list[float]] = {}
        self.last_bar: dict[str, Bar] = {}
        for instrument_id in [*config.instrument_ids, config.benchmark_id]:
            self.closes[instrument_id] = []
            self.subscribe_bars(instrument_id)
        self.subscribe_steps()
        self.steps = 0
        self.rebalances = 0
        self.regime: str | None = None
        self.plans: dict[str, dict[str, object]] = {}
        self.child_parent: dict[str, str] = {}

    def on_bar(self, bar: Bar) -> None:
        """Keep the closes."""
        self.closes[bar.instrument_id].append(float(bar.close))
        self.last_bar[bar.instrument_id] = bar

    def on_fill(self, fill: OrderFilled) -> None:
        """Report the execution's progress and completion."""
        parent = self.child_parent.get(fill.client_order_id)
        if parent is None:
            return
        plan = self.plans[parent]
        plan["filled"] = float(plan["filled"]) + fill.last_qty.as_float()  # type: ignore[arg-type]
        plan["notional"] = (
            float(plan["notional"]) + fill.last_qty.as_float() * fill.last_px.as_float()
        )  # type: ignore[arg-type]
        remaining = float(plan["quantity"]) - float(plan["filled"])  # type: ignore[arg-type]
        now = self.clock.timestamp_ns()
        self.publish(
            ExecutionProgressed(
                parent_order_id=parent,
                instrument_id=fill.instrument_id,
                algorithm=str(plan["algorithm"]),
                filled_qty=float(plan["filled"]),  # type: ignore[arg-type]
                remaining_qty=remaining,
                child_orders=int(plan["children"]),  # type: ignore[call-overload]
                note=f"fill {fill.trade_id}",
                ts_event=now,
                ts_init=now,
            )
        )
        if remaining <= 0:
            self.publish(
                ExecutionCompleted(
                    parent_order_id=parent,
                    instrument_id=fill.instrument_id,
                    algorithm=str(plan["algorithm"]),
                    filled_qty=float(plan["filled"]),  # type: ignore[arg-type]
                    average_price=float(plan["notional"]) / float(plan["filled"]),  # type: ignore[arg-type]
                    arrival_price=float(plan["arrival"]),  # type: ignore[arg-type]
                    outcome="filled",
                    ts_event=now,
                    ts_init=now,
                )
            )
            del self.plans[parent]

    def on_step(self, ts_ns: int) -> None:
        """Work the executions, then rebalance every ``period`` steps."""
        self.steps += 1
        self._work_executions()
        if self.steps % self.config.period == 0 and self.steps > self.config.lookback + 1:
            self._rebalance(ts_ns)

    # -- the stages -------------------------------------------------------------------------------

    def _rebalance(self, ts: int) -> None:
        config = self.config
        self.rebalances += 1
        if self.rebalances > config.last_rebalance:
            return
        rid = f"R-{self.rebalances}"
        bench = np.array(self.closes[config.benchmark_id][-config.lookback - 1 :])
        bench_r = np.diff(bench) / bench[:-1]
        estimates = []
        for instrument_id in config.instrument_ids:
            px = np.array(self.closes[instrument_id][-config.lookback - 1 :])
            r = np.diff(px) / px[:-1]
            beta = float(np.cov(r, bench_r, ddof=1)[0, 1] / np.var(bench_r, ddof=1))
            estimates.append(
                BetaEstimate(instrument_id, beta, float(np.mean(r - beta * bench_r)), beta, len(r))
            )
        self.publish(
            BetasEstimated(
                rebalance_id=rid,
                benchmark_id=config.benchmark_id,
                method="ols",
                window=config.lookback,
                estimates=tuple(estimates),
                ts_event=ts,
                ts_init=ts,
            )
        )
        if self.rebalances == 1:
            self.publish(
                RegimeModelFitted(
                    detector_id="trend",
                    model_version="trend-1",
                    fit_start_ns=ts,
                    fit_end_ns=ts,
                    observations=config.lookback,
                    score=0.0,
                    labels=("bull", "bear"),
                    ts_event=ts,
                    ts_init=ts,
                )
            )
        label = "bull" if bench[-1] >= bench.mean() else "bear"
        if label != self.regime:
            self.publish(
                RegimeChanged(
                    detector_id="trend",
                    model_version="trend-1",
                    label=label,
                    previous_label=self.regime,
                    probabilities={
                        "bull": 0.8 if label == "bull" else 0.2,
                        "bear": 0.2 if label == "bull" else 0.8,
                    },
                    confidence=0.8,
                    ts_event=ts,
                    ts_init=ts,
                )
            )
            self.regime = label
        signals: list[Signal] = []
        for instrument_id in config.instrument_ids:
            px = np.array(self.closes[instrument_id][-config.lookback :])
            momentum = float(np.clip((px[-1] / px[0] - 1) * 5, -1, 1))
            z = float((px[-1] - px.mean()) / (px.std() or 1.0))
            signals.append(Signal("momentum", instrument_id, momentum, 0.7, "20-bar return"))
            signals.append(
                Signal("meanrev", instrument_id, float(np.clip(-z / 2, -1, 1)), 0.5, "z-score")
            )
        failed: tuple[str, ...] = ()
        if self.rebalances == 2:
            failed = ("broken",)
            self.publish(
                AgentFailed(
                    rebalance_id=rid,
                    agent_id="broken",
                    error="ZeroDivisionError: division by zero",
                    is_disabled=False,
                    ts_event=ts,
                    ts_init=ts,
                )
            )
        self.publish(
            SignalsEmitted(
                rebalance_id=rid,
                regime=label,
                signals=tuple(signals),
                failed_agents=failed,
                agent_versions={"broken": "1+0", "meanrev": "1+0", "momentum": "1+0"},
                ts_event=ts,
                ts_init=ts,
            )
        )
        weights = {"momentum": 0.6, "meanrev": 0.4}
        scores = []
        for instrument_id in config.instrument_ids:
            contributions = {
                s.agent_id: weights[s.agent_id] * s.score
                for s in signals
                if s.instrument_id == instrument_id
            }
            scores.append(
                EnsembleScore(instrument_id, sum(contributions.values()), 0.6, contributions, ())
            )
        self.publish(
            EnsembleScored(
                rebalance_id=rid,
                regime=label,
                weights=weights,
                scores=tuple(scores),
                model_version="ensemble-fixed-weights",
                ts_event=ts,
                ts_init=ts,
            )
        )
        targets = []
        for score in scores:
            instrument_id = score.instrument_id
            current = self.position(instrument_id)
            held = 0.0 if current is None else current.signed_qty
            working = sum(
                float(o.leaves_qty) * (1 if o.side is OrderSide.BUY else -1)
                for o in self.open_orders(instrument_id)
            )
            target = float(config.quantity) if score.score > 0.05 else 0.0
            delta = target - held - working
            targets.append(
                TargetPosition(
                    instrument_id,
                    0.1 if target else 0.0,
                    target,
                    held,
                    delta,
                    self.closes[instrument_id][-1],
                    score.score * 100.0,
                )
            )
        self.publish(
            TargetsProposed(
                rebalance_id=rid,
                method="threshold",
                regime=label,
                regime_multiplier=1.0,
                equity=self.equity.as_float(),
                gross_exposure=0.0,
                net_exposure=0.0,
                turnover=0.0,
                targets=tuple(targets),
                model_version="threshold-1",
                ts_event=ts,
                ts_init=ts,
            )
        )
        decisions = []
        for target in targets:
            requested = target.delta_qty
            approved = max(-config.max_quantity, min(config.max_quantity, requested))
            decision = "approved" if approved == requested else "resized"
            reasons = () if decision == "approved" else (f"max order {config.max_quantity}",)
            decisions.append(
                RiskDecision(target.instrument_id, decision, requested, approved, reasons)
            )
        self.publish(
            RiskReviewed(
                rebalance_id=rid,
                decisions=tuple(decisions),
                trading_state="ACTIVE",
                ts_event=ts,
                ts_init=ts,
            )
        )
        assessments = []
        for decision, target in zip(decisions, targets, strict=True):
            qty = decision.approved_qty
            gross = abs(target.expected_alpha_bps)
            cost = 3.0
            out = qty if gross > cost or qty < 0 else 0.0
            assessments.append(
                CostDecisionRecord(
                    target.instrument_id,
                    "trade" if out else "skip",
                    qty,
                    out,
                    gross,
                    cost,
                    gross - cost,
                    1.0,
                    1.0,
                    1.0,
                    0.0,
                    "net alpha positive" if out else "net alpha below cost",
                )
            )
        self.publish(
            CostAssessed(rebalance_id=rid, assessments=tuple(assessments), ts_event=ts, ts_init=ts)
        )
        for index, assessment in enumerate(assessments):
            qty = assessment.quantity_out
            if qty == 0:
                continue
            instrument_id = assessment.instrument_id
            algorithm = "twap" if index % 2 == 0 else "limit_then_market"
            parent = f"P-{rid}-{instrument_id}"
            arrival = self.closes[instrument_id][-1]
            self.publish(
                ExecutionPlanned(
                    rebalance_id=rid,
                    instrument_id=instrument_id,
                    algorithm=algorithm,
                    side="BUY" if qty > 0 else "SELL",
                    quantity=abs(qty),
                    parent_order_id=parent,
                    start_ns=ts,
                    end_ns=ts,
                    slices=2 if algorithm == "twap" else 1,
                    arrival_price=arrival,
                    reason="rebalance",
                    ts_event=ts,
                    ts_init=ts,
                )
            )
            self.plans[parent] = {
                "rebalance": rid,
                "instrument": instrument_id,
                "algorithm": algorithm,
                "quantity": abs(qty),
                "side": OrderSide.BUY if qty > 0 else OrderSide.SELL,
                "sent": 0.0,
                "filled": 0.0,
                "notional": 0.0,
                "children": 0,
                "arrival": arrival,
                "limit_id": None,
                "age": 0,
            }
        if self.rebalances == config.last_rebalance:
            instrument_id = config.instrument_ids[0]
            far = self.closes[instrument_id][-1] * 0.5
            self.buy(instrument_id, 1, self.price(instrument_id, round(far, 2)))
        self._work_executions()

    def _work_executions(self) -> None:
        for parent in sorted(self.plans):
            plan = self.plans[parent]
            instrument_id = str(plan["instrument"])
            total = float(plan["quantity"])  # type: ignore[arg-type]
            sent = float(plan["sent"])  # type: ignore[arg-type]
            side = plan["side"]
            assert isinstance(side, OrderSide)
            tags = (f"rebalance:{plan['rebalance']}", f"algo:{plan['algorithm']}")
            if plan["algorithm"] == "twap":
                if sent >= total:
                    continue
                qty = total - sent if sent else float(int(total // 2) or total)
                self._child(parent, plan, instrument_id, side, qty, None, tags)
            else:
                plan["age"] = int(plan["age"]) + 1  # type: ignore[call-overload]
                limit_id = plan["limit_id"]
                if limit_id is None and sent == 0:
                    price = self.price(instrument_id, round(self.closes[instrument_id][-1], 2))
                    order = self._child(parent, plan, instrument_id, side, total, price, tags)
                    plan["limit_id"] = order
                elif limit_id is not None and int(plan["age"]) > 2:  # type: ignore[call-overload]
                    order = self.order(str(limit_id))
                    if order is not None and order.is_open:
                        self.cancel_order(order)
                        leaves = float(order.leaves_qty)
                        plan["limit_id"] = None
                        plan["sent"] = total  # the market child takes the rest
                        self._child(
                            parent, plan, instrument_id, side, leaves, None, tags, count_sent=False
                        )

    def _child(self, parent, plan, instrument_id, side, qty, price, tags, count_sent=True):  # type: ignore[no-untyped-def]
        quantity = self.quantity(instrument_id, qty)
        factory = self.order_factory
        if price is None:
            init = factory.market(instrument_id, side, quantity, parent_order_id=parent, tags=tags)
        else:
            init = factory.limit(
                instrument_id, side, quantity, price, parent_order_id=parent, tags=tags
            )
        self.child_parent[init.client_order_id] = parent
        if count_sent:
            plan["sent"] = float(plan["sent"]) + qty
        plan["children"] = int(plan["children"]) + 1
        self.submit_order(init)
        return init.client_order_id

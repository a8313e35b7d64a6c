"""The cost stage: weigh each approved change's expected alpha against its cost
(``CostAssessed``); at the end of a run, each instrument's tradability and the strategy's
capacity (``CapacityEstimated``)."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN
from typing import TYPE_CHECKING

import msgspec
import numpy as np

from tradeloop.core.errors import InvariantViolation
from tradeloop.model.decisions import (
    CapacityEstimated,
    CostAssessed,
    CostDecisionRecord,
    InstrumentCapacity,
    RiskReviewed,
    TargetsProposed,
)
from tradeloop.model.enums import OrderSide
from tradeloop.model.instruments import Instrument
from tradeloop.pipeline.algorithm_choice import choose_algorithm, execution_profile
from tradeloop.pipeline.stages.host import Host, daily_sigma

if TYPE_CHECKING:
    from tradeloop.costs.execution_profile import ExecutionProfile


class _Traded:
    """Running sums of one instrument's traded changes (for tradability and capacity)."""

    __slots__ = ("alpha_notional", "count", "fraction", "notional")

    def __init__(self) -> None:
        self.count = 0
        self.notional = self.fraction = self.alpha_notional = 0.0

    def add(self, notional: float, equity: float, alpha_bps: float) -> None:
        self.count += 1
        self.notional += notional
        self.fraction += notional / equity
        self.alpha_notional += alpha_bps * notional


class CostStage:
    """Weigh each approved change's expected alpha against its cost (``CostAssessed``).

    It also keeps what was traded, so that at the end of a run ``estimate_capacity`` can
    publish each instrument's tradability and the strategy's capacity (``CapacityEstimated``).
    """

    def __init__(self, host: Host) -> None:
        self.host = host
        self.targets: dict[str, TargetsProposed] = {}  # the rebalance being assessed
        self.latest: CostAssessed | None = None
        self.rebalances = 0
        self._traded: dict[str, _Traded] = {}
        # Before the risk stage subscribes to TargetsProposed (``Pipeline.on_start`` builds
        # this stage first): the review of a rebalance arrives while its targets are published.
        host.subscribe_decisions(TargetsProposed, self.on_targets)
        host.subscribe_decisions(RiskReviewed, self.on_review)

    def on_targets(self, event: TargetsProposed) -> None:
        """Remember the targets of the rebalance the risk stage is about to review."""
        self.targets = {event.rebalance_id: event}

    def on_review(self, event: RiskReviewed) -> None:
        """Assess the approved changes of one rebalance, each with the execution algorithm it
        will get (``pipeline.algorithm_choice``)."""
        from tradeloop.costs.assessment import TradeIntent, assess_trade

        host = self.host
        spec = host.config.costs
        proposed = self.targets.get(event.rebalance_id)
        if proposed is None:
            raise InvariantViolation(
                f"cost stage got the review of {event.rebalance_id} without its targets "
                f"(it has {sorted(self.targets)}): it must subscribe to TargetsProposed before "
                "the risk stage does"
            )
        targets = {t.instrument_id: t for t in proposed.targets} if proposed else {}
        records: list[CostDecisionRecord] = []
        for decision in event.decisions:
            quantity = decision.approved_qty
            target = targets.get(decision.instrument_id)
            if quantity == 0 or target is None:
                continue
            algorithm = choose_algorithm(host, decision.instrument_id, quantity)
            profile = execution_profile(host, decision.instrument_id, algorithm, quantity)
            current = target.current_qty
            adds = abs(current + quantity) > abs(current)
            if target.is_hedge or not adds:
                why = (
                    "hedge leg: not alpha-gated"
                    if target.is_hedge
                    else "reduces exposure: not alpha-gated"
                )
                records.append(
                    CostDecisionRecord(
                        decision.instrument_id,
                        "TRADE",
                        quantity,
                        quantity,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        why,
                        algorithm=algorithm,
                        taker_fraction=profile.taker_fraction,
                        expected_delay_ns=profile.delay_ns,
                    )
                )
                continue
            instrument = host.instrument(decision.instrument_id)
            sigma = daily_sigma(host.history, decision.instrument_id, spec.adv_window) or 0.0
            volumes = host.history.volumes(decision.instrument_id, spec.adv_window)
            adv = float(np.mean(volumes)) if len(volumes) else 0.0
            if adv <= 0:
                records.append(
                    CostDecisionRecord(
                        decision.instrument_id,
                        "SKIP",
                        quantity,
                        0.0,
                        target.expected_alpha_bps,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        "no volume history to estimate costs",
                        algorithm=algorithm,
                        taker_fraction=profile.taker_fraction,
                        expected_delay_ns=profile.delay_ns,
                    )
                )
                continue
            intent = TradeIntent(
                instrument_id=decision.instrument_id,
                side=OrderSide.BUY if quantity > 0 else OrderSide.SELL,
                quantity=instrument.make_quantity(abs(quantity), ROUND_DOWN),
                reference_price=instrument.make_price(target.reference_price),
                daily_volatility=sigma,
                average_daily_volume=adv,
                spread_bps=spec.spread_bps.get(decision.instrument_id, spec.default_spread_bps),
                gross_alpha_bps=target.expected_alpha_bps,
                delay_ns=profile.delay_ns,
                taker_fraction=profile.taker_fraction,
                slices=profile.slices,
            )
            assessment = assess_trade(intent, instrument, spec.assessment)
            out = float(assessment.recommended_quantity)
            cost = assessment.cost
            records.append(
                CostDecisionRecord(
                    instrument_id=decision.instrument_id,
                    decision=str(assessment.decision),
                    quantity_in=quantity,
                    quantity_out=math.copysign(out, quantity) if out else 0.0,
                    gross_alpha_bps=target.expected_alpha_bps,
                    cost_bps=cost.total_bps,
                    net_alpha_bps=assessment.net_alpha_bps,
                    commission_bps=cost.commission_bps,
                    spread_bps=cost.spread_bps,
                    impact_bps=cost.impact_bps,
                    delay_bps=cost.delay_bps,
                    reason=f"{assessment.reason} ({_execution_note(profile)})",
                    algorithm=algorithm,
                    taker_fraction=profile.taker_fraction,
                    expected_delay_ns=profile.delay_ns,
                )
            )
        now = host.now_ns()
        self.latest = CostAssessed(
            rebalance_id=event.rebalance_id, assessments=tuple(records), ts_event=now, ts_init=now
        )
        self.rebalances += 1
        if proposed is not None and proposed.equity > 0:
            for record in records:
                if record.quantity_out == 0:
                    continue
                instrument = host.instrument(record.instrument_id)
                price = targets[record.instrument_id].reference_price
                notional = abs(record.quantity_out) * price * _multiplier(instrument)
                self._traded.setdefault(record.instrument_id, _Traded()).add(
                    notional, proposed.equity, record.gross_alpha_bps
                )
        host.publish(self.latest)

    def estimate_capacity(self) -> CapacityEstimated | None:
        """Return each traded instrument's tradability and the strategy's capacity.

        The typical trade of an instrument is the mean of the run's traded changes (its
        notional and fraction of equity; gross alpha weighted by notional, none for
        reductions and hedge trades); costs use the market inputs as of now (σ and ADV over
        ``adv_window`` bars, the configured spread and delay). The strategy's capacity is the
        capital at which the summed net alpha of a typical rebalance reaches zero
        (``costs.capacity.strategy_capacity``). ``None`` before any trade.
        """
        from tradeloop.costs.assessment import TradeIntent, cost_curve
        from tradeloop.costs.capacity import (
            CapacityLeg,
            capacity_estimate,
            strategy_capacity,
            tradability_report,
        )

        if not self._traded or self.rebalances == 0:
            return None
        host = self.host
        spec = host.config.costs
        legs: list[CapacityLeg] = []
        rows: list[InstrumentCapacity] = []
        algorithms: set[str] = set()
        for instrument_id in sorted(self._traded):
            traded = self._traded[instrument_id]
            instrument = host.instrument(instrument_id)
            notional = traded.notional / traded.count
            fraction = traded.fraction / traded.count
            alpha = traded.alpha_notional / traded.notional if traded.notional > 0 else 0.0
            price = host.history.last_close(instrument_id) or 0.0
            volumes = host.history.volumes(instrument_id, spec.adv_window)
            adv = float(np.mean(volumes)) if len(volumes) else 0.0
            if price <= 0 or adv <= 0 or notional <= 0:
                continue
            quantity = instrument.make_quantity(
                notional / (price * _multiplier(instrument)), ROUND_DOWN
            )
            if quantity.raw <= 0:
                quantity = instrument.lot_size
            # Costed as the cost assessment costs a buy of that size: with its algorithm.
            algorithm = choose_algorithm(host, instrument_id, float(quantity))
            profile = execution_profile(host, instrument_id, algorithm, float(quantity))
            algorithms.add(algorithm)
            intent = TradeIntent(
                instrument_id=instrument_id,
                side=OrderSide.BUY,
                quantity=quantity,
                reference_price=instrument.make_price(price),
                daily_volatility=daily_sigma(host.history, instrument_id, spec.adv_window) or 0.0,
                average_daily_volume=adv,
                spread_bps=spec.spread_bps.get(instrument_id, spec.default_spread_bps),
                gross_alpha_bps=alpha,
                delay_ns=profile.delay_ns,
                taker_fraction=profile.taker_fraction,
                slices=profile.slices,
            )
            # At scale a passive limit cannot be counted on to fill: the largest size within
            # the alpha and the capacity give passive fills no credit.
            scaled = execution_profile(
                host, instrument_id, algorithm, float(quantity), passive_credit=False
            )
            at_scale = msgspec.structs.replace(
                intent,
                delay_ns=scaled.delay_ns,
                taker_fraction=scaled.taker_fraction,
                slices=scaled.slices,
            )
            report = tradability_report(intent, instrument, spec.assessment, alpha)
            scale_report = tradability_report(at_scale, instrument, spec.assessment, alpha)
            legs.append(
                CapacityLeg(
                    curve=cost_curve(at_scale, instrument, spec.assessment),
                    gross_alpha_bps=alpha,
                    trade_fraction_of_capital=fraction,
                    trades_per_rebalance=traded.count / self.rebalances,
                )
            )
            capacity: float | None = None
            note = "no alpha of its own (hedge or reductions): cost only"
            if alpha > 0:
                note = ""
                capacity = capacity_estimate(
                    at_scale, instrument, spec.assessment, fraction
                ).capacity_capital
            rows.append(
                InstrumentCapacity(
                    instrument_id=instrument_id,
                    trades=traded.count,
                    typical_trade_notional=notional,
                    trade_fraction_of_capital=fraction,
                    gross_alpha_bps=alpha,
                    cost_bps=report.cost_bps,
                    net_alpha_bps=alpha - report.cost_bps,
                    participation=report.participation,
                    max_notional_within_alpha=scale_report.max_notional_within_budget,
                    capacity_capital=capacity,
                    note=note,
                )
            )
        now = host.now_ns()
        return CapacityEstimated(
            capacity_capital=strategy_capacity(legs) if legs else None,
            equity=host.equity_value(),
            rebalances=self.rebalances,
            instruments=tuple(rows),
            basis=(
                f"typical traded change per instrument over {self.rebalances} rebalances; "
                f"sigma and ADV over the last {spec.adv_window} bars; spread, delay "
                f"{spec.delay_ns / 3.6e12:.1f} h to the next execution and commission of the "
                f"cost assessment; costs at the typical size with the algorithm it gets "
                f"({', '.join(sorted(algorithms)) or 'none'}); the largest size within the "
                "alpha and the capacity with no credit for passive fills"
            ),
            ts_event=now,
            ts_init=now,
        )


def _execution_note(profile: ExecutionProfile) -> str:
    # What the cost assumed about the execution, for the reason.
    note = f"costed for {profile.algorithm}"
    if profile.fill_probability is not None:
        note += f": {profile.fill_probability:.0%} expected to fill at the limit"
    if profile.slices > 1:
        note += f" in {profile.slices} slices"
    return f"{note}, expected delay {profile.delay_ns / 3.6e12:.1f} h"


def _multiplier(instrument: Instrument) -> float:
    mult_raw, mult_precision = instrument.multiplier_parts
    return float(mult_raw) / 10.0**mult_precision

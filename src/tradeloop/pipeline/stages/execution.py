"""The execution stage: turn the changes that survived the cost assessment, and the risk
stage's exits, into orders through execution algorithms (``ExecutionPlanned``)."""

from __future__ import annotations

from decimal import ROUND_DOWN
from typing import TYPE_CHECKING, Any

import numpy as np

from tradeloop.analytics.volume_profile import IntradayVolumeProfile
from tradeloop.execution.algos import ExecutionAlgorithm, ExecutionPlan, make_algorithm
from tradeloop.model.data import Bar
from tradeloop.model.decisions import CostAssessed, ExecutionPlanned
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import OrderEvent
from tradeloop.model.orders import Order
from tradeloop.pipeline.algorithm_choice import choose_algorithm
from tradeloop.pipeline.stages.host import CancelExecutions, ExitPosition, Host, daily_sigma

if TYPE_CHECKING:
    from tradeloop.model.order_factory import OrderFactory


class ExecutionStage:
    """Turn approved changes into orders through execution algorithms (``ExecutionPlanned``)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.algorithms: dict[str, ExecutionAlgorithm] = {}
        self.by_instrument: dict[str, str] = {}
        self.children: dict[str, str] = {}
        self._parents = 0
        self._cancel_reason = ""
        # VWAP slices follow each instrument's intraday volume profile, estimated from the
        # bars seen so far (kept only when a VWAP plan may be made).
        spec = host.config.execution
        self.volume_profiles: dict[str, IntradayVolumeProfile] | None = (
            {} if "vwap" in (spec.algorithm, spec.large_algorithm) else None
        )
        host.subscribe_decisions(CostAssessed, self.on_costs)
        host.subscribe_commands(ExitPosition, self.on_exit)
        host.subscribe_commands(CancelExecutions, self.on_cancel_all)

    def on_exit(self, command: ExitPosition) -> None:
        """Send the risk stage's exit at once (``exit_now``)."""
        self.exit_now(command.instrument_id, command.delta_qty, command.reason, command.decision_id)

    def on_cancel_all(self, command: CancelExecutions) -> None:
        """Cancel every running algorithm for the risk stage (``cancel_all``)."""
        self.cancel_all(command.reason)

    def on_costs(self, event: CostAssessed) -> None:
        """Plan the execution of every change that survived the cost assessment."""
        for record in event.assessments:
            if record.quantity_out == 0:
                continue
            self._start(
                record.instrument_id,
                record.quantity_out,
                event.rebalance_id,
                record.reason,
                reduce_only=False,
                algorithm=record.algorithm or None,  # the one it was costed with
            )

    def exit_now(self, instrument_id: str, delta_qty: float, reason: str, decision_id: str) -> None:
        """Send a risk exit at once (reduce-only market order) tagged with ``decision_id``."""
        self._start(
            instrument_id, delta_qty, decision_id, reason, reduce_only=True, algorithm="immediate"
        )

    def cancel_all(self, reason: str) -> None:
        """Cancel every running algorithm; ``reason`` goes on each child's cancel."""
        for parent in list(self.algorithms):
            self._cancel(parent, reason)
        self._sweep()

    def working_exit(self, instrument_id: str) -> str | None:
        """Return the decision id of the risk exit working on ``instrument_id``, if any."""
        parent = self.by_instrument.get(instrument_id)
        algorithm = None if parent is None else self.algorithms.get(parent)
        if algorithm is None or algorithm.is_done or not algorithm.plan.reduce_only:
            return None
        decision = algorithm.plan.rebalance_id
        return decision if decision.startswith("risk-") else None

    def _cancel(self, parent: str, reason: str) -> None:
        # The reason travels on the CancelOrder command and back on OrderCanceled.
        self._cancel_reason = reason
        try:
            self.algorithms[parent].cancel()
        finally:
            self._cancel_reason = ""

    def _start(
        self,
        instrument_id: str,
        delta_qty: float,
        rebalance_id: str,
        reason: str,
        *,
        reduce_only: bool,
        algorithm: str | None = None,
    ) -> None:
        host = self.host
        instrument = host.instrument(instrument_id)
        running = self.by_instrument.get(instrument_id)
        if running is not None and running in self.algorithms:
            # A new decision supersedes the old plan.
            self._cancel(running, f"{running} superseded by {rebalance_id}")
            self._sweep()
        quantity = instrument.make_quantity(abs(delta_qty), ROUND_DOWN)
        if quantity.raw <= 0:
            return
        spec = host.config.execution
        name = algorithm or choose_algorithm(host, instrument_id, delta_qty)
        self._parents += 1
        parent = f"P-{host.order_factory.strategy_id}-{self._parents}"
        close = host.history.last_close(instrument_id) or 0.0
        extra: dict[str, Any] = {}
        if name == "implementation_shortfall":
            extra = self._shortfall_settings(instrument_id, close)
            if not extra:
                name = "twap"  # no volume history for the Almgren–Chriss coefficients
        elif name == "vwap":
            extra = self._vwap_settings(instrument_id, spec.slices)
        elif name == "iceberg":
            shown = instrument.make_quantity(float(quantity) * spec.display_fraction, ROUND_DOWN)
            if shown.raw <= 0:
                shown = instrument.lot_size
            extra = {"display_quantity": shown, "limit_price": instrument.make_price(close)}
        plan = ExecutionPlan(
            instrument_id=instrument_id,
            side=OrderSide.BUY if delta_qty > 0 else OrderSide.SELL,
            quantity=quantity,
            algorithm=name,
            parent_order_id=parent,
            rebalance_id=rebalance_id,
            arrival_price=instrument.make_price(close),
            slices=spec.slices if name in ("twap", "vwap", "implementation_shortfall") else 1,
            rate=spec.rate,
            timeout_bars=spec.timeout_bars,
            offset_ticks=spec.offset_ticks,
            reduce_only=reduce_only,
            **extra,
        )
        now = host.now_ns()
        host.publish(
            ExecutionPlanned(
                rebalance_id=rebalance_id,
                instrument_id=instrument_id,
                algorithm=name,
                side=str(plan.side),
                quantity=float(quantity),
                parent_order_id=parent,
                start_ns=now,
                end_ns=now,
                slices=plan.slices,
                arrival_price=close,
                reason=reason,
                weights=plan.weights,
                ts_event=now,
                ts_init=now,
            )
        )
        algo = make_algorithm(
            plan, instrument, _Gateway(host, self, parent, name), host.clock, host.publish
        )
        self.algorithms[parent] = algo
        self.by_instrument[instrument_id] = parent
        algo.start()
        self._sweep()

    def _vwap_settings(self, instrument_id: str, slices: int) -> dict[str, Any]:
        # Slice k executes in the k-th bar interval after now: weight it by the volume the
        # profile expects there (no profile yet, e.g. on the first day: equal slices).
        profiles = self.volume_profiles
        profile = None if profiles is None else profiles.get(instrument_id)
        times = self.host.history.timestamps(instrument_id, 21)
        if profile is None or len(times) < 2:
            return {}
        interval = int(np.median(np.diff(times)))
        if interval <= 0:
            return {}
        weights = profile.slice_weights(self.host.now_ns(), slices, interval)
        return {} if weights is None else {"weights": weights}

    def _shortfall_settings(self, instrument_id: str, price: float) -> dict[str, Any]:
        from tradeloop.costs.almgren_chriss import almgren_chriss_rule_of_thumb

        config = self.host.config
        volumes = self.host.history.volumes(instrument_id, config.costs.adv_window)
        sigma = daily_sigma(self.host.history, instrument_id, config.costs.adv_window)
        adv = float(np.mean(volumes)) if len(volumes) else 0.0
        if adv <= 0 or sigma is None or price <= 0:
            return {}
        spread_bps = config.costs.spread_bps.get(instrument_id, config.costs.default_spread_bps)
        model = almgren_chriss_rule_of_thumb(
            price * spread_bps / 10_000, adv, config.execution.risk_aversion
        )
        return {
            "almgren_chriss": model,
            "volatility": sigma * price,
            "horizon_days": config.execution.horizon_days,
        }

    def on_bar(self, bar: Bar) -> None:
        """Update the bar's volume profile (VWAP); drive the algorithms of its instrument."""
        profiles = self.volume_profiles
        if profiles is not None:
            profile = profiles.get(bar.instrument_id)
            if profile is None:
                spec = self.host.config.execution
                profile = profiles[bar.instrument_id] = IntradayVolumeProfile(
                    spec.volume_bucket_ns, spec.volume_profile_days
                )
            profile.update(bar.ts_init, bar.volume_raw / 10**bar.volume_precision)
        parent = self.by_instrument.get(bar.instrument_id)
        if parent is not None and parent in self.algorithms:
            self.algorithms[parent].on_bar(bar)
            self._sweep()

    def on_order_event(self, event: OrderEvent) -> None:
        """Forward a child order's event to its algorithm."""
        parent = self.children.get(event.client_order_id)
        if parent is not None and parent in self.algorithms:
            self.algorithms[parent].on_order_event(event)
            self._sweep()

    def _sweep(self) -> None:
        for parent in [p for p, a in self.algorithms.items() if a.is_done]:
            algo = self.algorithms.pop(parent)
            if self.by_instrument.get(algo.plan.instrument_id) == parent:
                del self.by_instrument[algo.plan.instrument_id]


class _Gateway:
    """The algorithms' path to the order manager: records which parent each child has."""

    def __init__(self, host: Host, stage: ExecutionStage, parent: str, algorithm: str) -> None:
        self._host, self._stage, self._parent = host, stage, parent
        self._algorithm = algorithm

    @property
    def order_factory(self) -> OrderFactory:
        return self._host.order_factory

    def submit_order(self, order: Any) -> Order:
        self._stage.children[order.client_order_id] = self._parent
        return self._host.submit_order(order)

    def cancel_order(self, order: Order | str) -> bool:
        reason = self._stage._cancel_reason or f"{self._algorithm} algorithm of {self._parent}"
        return self._host.cancel_order(order, reason)

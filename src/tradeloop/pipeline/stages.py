"""The pipeline's stages as components on the bus.

Each stage subscribes to the decision event of the stage before it and publishes its own
(journaled), all within one rebalance:

    BetasEstimated → SignalsEmitted → EnsembleScored → TargetsProposed → RiskReviewed
    → CostAssessed → ExecutionPlanned (→ child orders, ExecutionProgressed, ExecutionCompleted)

``RegimeChanged`` / ``RegimeModelFitted`` come from the regime stage as bars arrive; the
risk stage also acts between rebalances (portfolio limits on every step, stop-loss and
trailing rules on every bar) through ``RiskLimitBreached`` and immediate exits.

The stages hold no order or position state of their own: they read the account through
the host (the ``Pipeline`` strategy) and act only through it.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import numpy as np

from tradeloop.agents.base import AgentContext
from tradeloop.agents.ensemble import Ensemble
from tradeloop.agents.host import AgentHost
from tradeloop.analytics.history import BarHistory
from tradeloop.analytics.volume_profile import IntradayVolumeProfile
from tradeloop.core.clock import Clock
from tradeloop.core.fixed import Money, Price
from tradeloop.core.ids import content_hash
from tradeloop.core.time import ns_to_iso
from tradeloop.execution.algos import ExecutionAlgorithm, ExecutionPlan, make_algorithm
from tradeloop.model.data import Bar
from tradeloop.model.decisions import (
    AgentFailed,
    BetaEstimate,
    BetasEstimated,
    CapacityEstimated,
    CostAssessed,
    CostDecisionRecord,
    EnsembleScored,
    ExecutionPlanned,
    InstrumentCapacity,
    RegimeChanged,
    RegimeModelFitted,
    RiskLimitBreached,
    RiskReviewed,
    SignalsEmitted,
    TargetPosition,
    TargetsProposed,
)
from tradeloop.model.enums import OrderSide, TradingState
from tradeloop.model.events import Event, OrderEvent
from tradeloop.model.instruments import Instrument
from tradeloop.model.orders import Order
from tradeloop.pipeline.algorithm_choice import choose_algorithm, execution_profile
from tradeloop.pipeline.config import PipelineConfig
from tradeloop.risk.review import ProposedChange, RiskReviewer

if TYPE_CHECKING:
    from tradeloop.costs.execution_profile import ExecutionProfile
    from tradeloop.model.order_factory import OrderFactory


class Host(Protocol):
    """What stages need from the pipeline strategy."""

    config: PipelineConfig
    history: BarHistory

    @property
    def clock(self) -> Clock: ...

    def instrument(self, instrument_id: str) -> Instrument: ...
    def publish(self, event: Event) -> None: ...
    def subscribe_decisions(self, event_type: type[Event], handler: Any) -> None: ...
    def now_ns(self) -> int: ...
    def equity_value(self) -> float: ...
    def cash_value(self) -> float: ...
    def held_qty(self, instrument_id: str) -> float: ...
    def held_raw(self, instrument_id: str) -> int: ...
    def average_entry(self, instrument_id: str) -> float: ...
    def set_trading_state(self, state: TradingState, reason: str) -> None: ...
    @property
    def order_factory(self) -> OrderFactory: ...
    def submit_order(self, order: Any) -> Order: ...
    def cancel_order(self, order: Order | str, reason: str = "") -> bool: ...


def _log_returns(history: BarHistory, instrument_id: str, n: int) -> np.ndarray[Any, Any]:
    closes = history.closes(instrument_id, n + 1)
    return np.diff(np.log(closes)) if len(closes) > 1 else np.empty(0)


def daily_sigma(history: BarHistory, instrument_id: str, n: int) -> float | None:
    """Return the standard deviation of the last ``n`` log returns (None if too short)."""
    returns = _log_returns(history, instrument_id, n)
    return float(np.std(returns, ddof=1)) if len(returns) >= 2 else None


# -- beta ---------------------------------------------------------------------------------------


class BetaStage:
    """Betas of the universe to the benchmark at each rebalance (``BetasEstimated``)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.latest: dict[str, float] = {}

    def run(self, rebalance_id: str) -> None:
        """Estimate every beta and publish them (this starts the chain)."""
        from tradeloop.analytics.beta import ewma_beta, rolling_beta

        config = self.host.config
        spec = config.beta
        benchmark = config.benchmark
        estimates: list[BetaEstimate] = []
        if benchmark is not None:
            for instrument_id in config.universe:
                if instrument_id == benchmark:
                    continue
                returns = self.host.history.aligned_returns([instrument_id, benchmark], spec.window)
                if len(returns) < spec.window:
                    continue
                r, b = returns[:, 0], returns[:, 1]
                if spec.method == "ols":
                    out = rolling_beta(r, b, spec.window)
                else:
                    out = ewma_beta(r, b, halflife=spec.halflife)
                beta, alpha = float(out.beta[-1]), float(out.alpha[-1])
                if not math.isfinite(beta):
                    continue
                price = self.host.history.last_close(instrument_id) or 0.0
                bench_price = self.host.history.last_close(benchmark) or 0.0
                hedge = beta * price / bench_price if bench_price > 0 else 0.0
                estimates.append(BetaEstimate(instrument_id, beta, alpha, hedge, len(r)))
                self.latest[instrument_id] = beta
        now = self.host.now_ns()
        self.host.publish(
            BetasEstimated(
                rebalance_id=rebalance_id,
                benchmark_id=benchmark or "",
                method=spec.method,
                window=spec.window,
                estimates=tuple(estimates),
                ts_event=now,
                ts_init=now,
            )
        )


# -- regime -------------------------------------------------------------------------------------


class RegimeStage:
    """Detect the regime from the regime instrument's bars; publish fits and changes."""

    def __init__(self, host: Host) -> None:
        from tradeloop.regime.changes import RegimeChangeFilter
        from tradeloop.regime.features import RegimeFeatureBuilder
        from tradeloop.regime.hmm import GaussianHMMRegimeModel
        from tradeloop.regime.multipliers import RegimeMultipliers
        from tradeloop.regime.rules import TrendVolatilityClassifier
        from tradeloop.regime.walk_forward import WalkForwardHMMDetector

        self.host = host
        spec = host.config.regime
        self.spec = spec
        self.instrument_id = spec.instrument or host.config.benchmark
        self.label: str | None = None
        self.detector: Any = None
        self.features = RegimeFeatureBuilder(spec.volatility_period)
        self._version: str | None = None
        self._filter = RegimeChangeFilter(spec.change)
        self.multipliers: Any = None
        labels: tuple[str, ...] = ()
        if spec.detector == "hmm":
            self.detector = WalkForwardHMMDetector(
                GaussianHMMRegimeModel(spec.hmm), spec.walk_forward
            )
            labels = self.detector.labels
        elif spec.detector == "rules":
            self.detector = TrendVolatilityClassifier(spec.rules)
            labels = self.detector.labels
        if labels:
            table = {label: spec.multipliers.get(label, 1.0) for label in labels}
            self.multipliers = RegimeMultipliers(labels, table)

    def multiplier(self) -> float:
        """Return the sizing multiplier of the current regime (1 without a detector)."""
        if self.multipliers is None or self.label is None:
            return 1.0
        return float(self.multipliers.multiplier_for(self.label))

    def on_bar(self, bar: Bar) -> None:
        """Update the detector with a bar of the regime instrument."""
        if self.detector is None or bar.instrument_id != self.instrument_id:
            return
        close = bar.close_raw / 10**bar.price_precision
        if self.spec.detector == "rules":
            estimate = self.detector.update(bar.ts_init, close)
        else:
            row = self.features.update(close)
            if row is None:
                return
            estimate = self.detector.update(bar.ts_init, row)
            model = self.detector.current_model
            if model is not None and model.model_version != self._version:
                self._version = model.model_version
                window = model.fit_window
                self.host.publish(
                    RegimeModelFitted(
                        detector_id=self.spec.hmm.model_id,
                        model_version=model.model_version,
                        fit_start_ns=window.fit_start_ns,
                        fit_end_ns=window.fit_end_ns,
                        observations=window.n_rows,
                        score=float(getattr(model, "log_likelihood", float("nan"))),
                        labels=tuple(model.labels),
                        ts_event=bar.ts_init,
                        ts_init=self.host.now_ns(),
                    )
                )
        if estimate is None:
            return
        changed = self._filter.update(estimate)
        if changed is None or changed.label == self.label:
            return
        previous, self.label = self.label, changed.label
        self.host.publish(
            RegimeChanged(
                detector_id=changed.model_id,
                model_version=changed.model_version,
                label=changed.label,
                previous_label=previous,
                probabilities=dict(zip(changed.labels, changed.probabilities, strict=True)),
                confidence=changed.confidence,
                ts_event=bar.ts_init,
                ts_init=self.host.now_ns(),
            )
        )


# -- signals and ensemble --------------------------------------------------------------------------


class SignalStage:
    """Run the agents on ``BetasEstimated``; publish ``SignalsEmitted`` (and ``AgentFailed``)."""

    def __init__(self, host: Host, agents: AgentHost, regime: RegimeStage) -> None:
        self.host, self.agents, self.regime = host, agents, regime
        host.subscribe_decisions(BetasEstimated, self.on_betas)

    def on_betas(self, event: BetasEstimated) -> None:
        """Score the universe for the rebalance ``event`` started."""
        config = self.host.config
        now = self.host.now_ns()
        context = AgentContext(
            ts_ns=now,
            regime=self.regime.label,
            universe=tuple(config.universe),
            benchmark_id=config.benchmark,
        )
        signals, failures = self.agents.run(self.host.history, context)
        for failure in failures:
            self.host.publish(
                AgentFailed(
                    rebalance_id=event.rebalance_id,
                    agent_id=failure.agent_id,
                    error=failure.error,
                    is_disabled=failure.is_disabled,
                    ts_event=now,
                    ts_init=now,
                )
            )
        self.host.publish(
            SignalsEmitted(
                rebalance_id=event.rebalance_id,
                regime=self.regime.label,
                signals=tuple(signals),
                failed_agents=tuple(f.agent_id for f in failures),
                agent_versions={a.id: a.agent_version for a in self.agents.agents},
                ts_event=now,
                ts_init=now,
            )
        )


class EnsembleStage:
    """Combine the signals (``EnsembleScored``)."""

    def __init__(self, host: Host, ensemble: Ensemble) -> None:
        self.host, self.ensemble = host, ensemble
        host.subscribe_decisions(SignalsEmitted, self.on_signals)

    def on_signals(self, event: SignalsEmitted) -> None:
        """Combine one rebalance's signals."""
        universe = [i for i in self.host.config.universe if i != self.host.config.benchmark]
        scores = self.ensemble.combine(event.signals, event.regime, universe)
        now = self.host.now_ns()
        self.host.publish(
            EnsembleScored(
                rebalance_id=event.rebalance_id,
                regime=event.regime,
                weights=self.ensemble.weights_for(event.regime),
                scores=tuple(scores),
                model_version=self.ensemble.model_version,
                ts_event=now,
                ts_init=now,
            )
        )


# -- portfolio construction ---------------------------------------------------------------


class TargetStage:
    """From ensemble scores to sized targets (``TargetsProposed``)."""

    def __init__(self, host: Host, betas: BetaStage, regime: RegimeStage) -> None:
        self.host, self.betas, self.regime = host, betas, regime
        host.subscribe_decisions(EnsembleScored, self.on_scores)
        config = host.config
        settings = {
            "construction": config.construction,
            "beta": config.beta,
            "regime_multipliers": config.regime.multipliers,
            "benchmark": config.benchmark,
        }
        # The model that turns scores into targets: a hash of every setting it reads.
        self.model_version = "construction-" + content_hash(
            msgspec.json.encode(settings, order="sorted")
        )

    def _weights(
        self, names: list[str], scores: dict[str, float], current: dict[str, float]
    ) -> tuple[dict[str, float], list[str]]:
        from tradeloop.portfolio.construction import (
            PortfolioConstraints,
            PortfolioConstructionError,
            ledoit_wolf_covariance,
            mean_variance_weights,
            minimum_variance_weights,
            project_to_constraints,
            risk_parity_weights,
            sample_covariance,
            volatility_target_weights,
        )

        spec = self.host.config.construction
        reasons: list[str] = []
        active = [n for n in names if abs(scores.get(n, 0.0)) >= spec.min_abs_score]
        if not spec.allow_short:
            active = [n for n in active if scores[n] > 0]
        if not active:
            return {}, ["no instrument has a score strong enough"]
        returns = self.host.history.aligned_returns(active, spec.lookback)
        if len(returns) < max(20, spec.lookback // 2):
            return {}, [f"only {len(returns)} common returns for the covariance"]
        covariance = (
            ledoit_wolf_covariance(returns).covariance
            if spec.shrinkage
            else sample_covariance(returns)
        )
        sigma = np.sqrt(np.diag(covariance))
        conviction = np.array([scores[n] for n in active])
        constraints = PortfolioConstraints(
            max_abs_weight=spec.max_weight,
            allow_short=spec.allow_short,
            max_gross_exposure=spec.max_gross_exposure,
            min_net_exposure=spec.min_net_exposure,
            max_net_exposure=spec.max_net_exposure,
            # The turnover limit applies to the whole book after sizing (names sold off and
            # the hedge leg included), not to the names with a score alone.
            max_turnover=None,
        )
        now_weights = np.array([current.get(n, 0.0) for n in active])
        try:
            if spec.method in ("inverse_vol", "vol_target"):
                inverse = 1.0 / sigma
                weights = spec.max_gross_exposure * conviction * inverse / inverse.sum()
                if spec.method == "vol_target":
                    weights = volatility_target_weights(
                        weights,
                        covariance,
                        spec.target_volatility,
                        max_gross_exposure=spec.max_gross_exposure,
                    )
                weights = project_to_constraints(weights, constraints, now_weights)
            elif spec.method == "risk_parity":
                base = risk_parity_weights(covariance)
                weights = project_to_constraints(
                    spec.max_gross_exposure * base * np.abs(conviction) * np.sign(conviction),
                    constraints,
                    now_weights,
                )
            elif spec.method == "min_variance":
                signs = np.sign(conviction)
                if np.any(signs < 0):
                    # Least variance on the side each score points to: long-only in the space
                    # where short-scored names' returns are flipped, then flipped back and
                    # projected onto the book's bounds (the net bounds are on signed weights).
                    budget = min(spec.max_gross_exposure, spec.max_weight * len(active))
                    sided = PortfolioConstraints(
                        max_abs_weight=spec.max_weight,
                        max_gross_exposure=spec.max_gross_exposure,
                        min_net_exposure=budget,
                        max_net_exposure=budget,
                    )
                    flipped = minimum_variance_weights(
                        covariance * np.outer(signs, signs), sided, now_weights * signs
                    )
                    weights = project_to_constraints(signs * flipped, constraints, now_weights)
                else:
                    weights = minimum_variance_weights(covariance, constraints, now_weights)
            else:
                expected = conviction * spec.alpha_bps_per_score / 10_000
                weights = mean_variance_weights(
                    expected, covariance, constraints, now_weights, risk_aversion=spec.risk_aversion
                )
        except PortfolioConstructionError as error:
            reasons.append(f"construction failed, keeping current weights: {error}")
            return dict(current), reasons
        reasons.append(f"{spec.method} over {len(active)} names, {len(returns)} returns")
        # Optimizers leave round-off (a weight of -5e-23) where the answer is zero.
        return {
            n: float(w) if abs(w) > 1e-12 else 0.0 for n, w in zip(active, weights, strict=True)
        }, reasons

    def on_scores(self, event: EnsembleScored) -> None:
        """Build, hedge and size the targets of one rebalance."""
        from tradeloop.portfolio.sizing import size_target_weights
        from tradeloop.portfolio.turnover import book_turnover, limit_turnover

        host = self.host
        config = host.config
        spec = config.construction
        equity = host.equity_value()
        scores = {s.instrument_id: s.score * s.confidence for s in event.scores}
        names = [n for n in config.universe if n != config.benchmark]
        prices: dict[str, Price] = {}
        for instrument_id in [*names, *([config.benchmark] if config.benchmark else [])]:
            close = host.history.last_close(instrument_id)
            if close is not None:
                prices[instrument_id] = host.instrument(instrument_id).make_price(close)
        current_weights = {
            n: host.held_qty(n) * float(prices[n]) / equity
            for n in names
            if n in prices and equity > 0
        }
        weights, reasons = self._weights([n for n in names if n in prices], scores, current_weights)
        multiplier = self.regime.multiplier()
        if multiplier != 1.0:
            reasons.append(f"regime {self.regime.label}: sizing multiplier {multiplier:g}")
        hedge_ids: set[str] = set()
        if config.beta.hedge and config.benchmark in prices:
            from tradeloop.analytics.beta import beta_hedge_weight

            betas = self.betas.latest
            covered = [n for n in weights if n in betas]
            hedge = beta_hedge_weight(
                {n: weights[n] for n in covered}, {n: betas[n] for n in covered}
            )
            weights[config.benchmark] = float(hedge)
            hedge_ids.add(config.benchmark)
            reasons.append(f"beta hedge: benchmark weight {hedge:+.3f}")
        held = [
            i
            for i in [*names, *([config.benchmark] if config.benchmark else [])]
            if host.held_raw(i) != 0
        ]
        for instrument_id in held:
            weights.setdefault(instrument_id, 0.0)
        targets: list[TargetPosition] = []
        turnover = 0.0
        if weights and equity > 0:
            base_currency = host.instrument(next(iter(weights))).quote_currency
            result = size_target_weights(
                {k: v for k, v in weights.items() if k in prices},
                equity=Money.from_float(equity, base_currency),
                prices={k: prices[k] for k in weights if k in prices},
                instruments={k: host.instrument(k) for k in weights if k in prices},
                current_signed_raw={k: host.held_raw(k) for k in weights if k in prices},
                regime_multiplier=multiplier,
                min_trade_notional=Money.from_float(spec.min_trade_notional, base_currency),
            )
            current_raw = {k: host.held_raw(k) for k in result.target_signed_raw}
            skipped_ids = {s.instrument_id for s in result.skipped}
            final_raw = {
                k: current_raw[k] if k in skipped_ids else v
                for k, v in result.target_signed_raw.items()
            }
            if spec.max_turnover is not None:
                limited = limit_turnover(
                    final_raw,
                    current_raw,
                    prices=prices,
                    instruments={k: host.instrument(k) for k in final_raw},
                    equity=Money.from_float(equity, base_currency),
                    max_turnover=spec.max_turnover,
                )
                if limited.scale < 1.0:
                    reasons.append(
                        f"turnover {limited.turnover_before:.3f} of the whole book (sales and "
                        f"hedge included) above max_turnover {spec.max_turnover:g}: every "
                        f"trade scaled by {limited.scale:.3f}"
                    )
                final_raw = dict(limited.target_signed_raw)
            turnover = book_turnover(
                final_raw,
                current_raw,
                prices=prices,
                instruments={k: host.instrument(k) for k in final_raw},
                equity=Money.from_float(equity, base_currency),
            )
            for instrument_id in sorted(final_raw):
                instrument = host.instrument(instrument_id)
                scale = 10**instrument.size_precision
                target = final_raw[instrument_id] / scale
                current = host.held_raw(instrument_id) / scale
                delta = target - current
                price = float(prices[instrument_id])
                is_hedge = instrument_id in hedge_ids
                alpha = 0.0
                if not is_hedge and delta != 0:
                    alpha = (
                        spec.alpha_bps_per_score
                        * scores.get(instrument_id, 0.0)
                        * math.copysign(1.0, delta)
                    )
                targets.append(
                    TargetPosition(
                        instrument_id=instrument_id,
                        weight=weights.get(instrument_id, 0.0) * multiplier,
                        target_qty=target,
                        current_qty=current,
                        delta_qty=delta,
                        reference_price=price,
                        expected_alpha_bps=alpha,
                        is_hedge=is_hedge,
                    )
                )
            for skipped in result.skipped:
                reasons.append(f"{skipped.instrument_id}: {skipped.reason}")
        gross = (
            sum(abs(t.target_qty) * t.reference_price for t in targets) / equity
            if equity > 0
            else 0.0
        )
        net = sum(t.target_qty * t.reference_price for t in targets) / equity if equity > 0 else 0.0
        now = host.now_ns()
        host.publish(
            TargetsProposed(
                rebalance_id=event.rebalance_id,
                method=spec.method,
                regime=event.regime,
                regime_multiplier=multiplier,
                equity=equity,
                gross_exposure=gross,
                net_exposure=net,
                turnover=turnover,
                targets=tuple(targets),
                reasons=tuple(reasons),
                model_version=self.model_version,
                ts_event=now,
                ts_init=now,
            )
        )


# -- risk ------------------------------------------------------------------------------------------


class RiskStage:
    """Review every proposed change (``RiskReviewed``); police the portfolio and positions.

    Rules the stage adds around ``RiskReviewer``:

    - **Binding exits.** An instrument with a risk exit at this instant (stop-loss,
      take-profit, trailing stop, liquidation) or one still working is held out of the
      rebalance: its changes are denied naming the exit, so a rebalance never cancels an exit
      nor adds to the instrument on that bar. While an exit is working no new in-trade exit
      is sent for the instrument.
    - **Kill switch.** A kill switch drawdown, ``kill`` (on demand, from strategy code) or a
      HALTED trading state set from outside (the kernel's ``set_trading_state``) halts trading
      and flattens every position with reduce-only market orders, which the risk engine lets
      through while halted. While halted no in-trade exit fires; a position left open with no
      working liquidation gets a new one on the next step, at most
      ``LIQUIDATION_ATTEMPTS`` times per instrument.
    - **Market hours and price band.** Each change carries whether the decision instant lies
      in a session of the instrument's exchange calendar (``data.calendars.session_at``) and
      the previous close as the independent reference of the price band.
    """

    LIQUIDATION_ATTEMPTS = 3

    def __init__(self, host: Host, execution: ExecutionStage) -> None:
        self.host, self.execution = host, execution
        self.reviewer = RiskReviewer(
            host.config.risk, {i: host.instrument(i) for i in self._instruments()}
        )
        self.targets: dict[str, TargetsProposed] = {}
        self._decisions = 0
        # instrument -> (ts of the exit, its decision id, rule)
        self._exits: dict[str, tuple[int, str, str]] = {}
        self._kill_decision: str | None = None
        self._liquidations: dict[str, int] = {}
        host.subscribe_decisions(TargetsProposed, self.on_targets)

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
            elif self.execution.working_exit(instrument_id) == decision:
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
        self.targets = {event.rebalance_id: event}
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
        """Check the portfolio limits with the equity at this step."""
        host = self.host
        before = self.reviewer.state
        breaches = self.reviewer.on_step(host.equity_value(), ts_ns // 86_400_000_000_000)
        decision = None
        for breach in breaches:
            decision = self._next_decision()
            host.publish(
                RiskLimitBreached(
                    rule=breach.rule,
                    instrument_id=None,
                    value=breach.value,
                    limit=breach.limit,
                    action=breach.action,
                    decision_id=decision,
                    ts_event=ts_ns,
                    ts_init=host.now_ns(),
                )
            )
        if self.reviewer.state is not before:
            reason = breaches[-1].action if breaches else "limits cleared"
            host.set_trading_state(self.reviewer.state, reason)
            if self.reviewer.state is TradingState.HALTED:
                self._kill_decision = decision or self._next_decision()
                self._liquidations.clear()
                self.flatten("kill switch", self._kill_decision)
        elif self.reviewer.state is TradingState.HALTED:
            self._liquidate_leftovers()

    def kill(self, reason: str, *, is_external: bool = False) -> None:
        """Engage the kill switch now: halt trading and flatten every position.

        ``is_external``: the trading state was already set to HALTED from outside the
        pipeline (the kernel's ``set_trading_state``); only the liquidation is left to do.
        """
        if self.reviewer.state is TradingState.HALTED:
            return
        host = self.host
        peak = self.reviewer.peak_equity
        equity = host.equity_value()
        drawdown = 1.0 - equity / peak if peak else 0.0
        self.reviewer.kill()
        decision = self._next_decision()
        now = host.now_ns()
        host.publish(
            RiskLimitBreached(
                rule="kill_switch_external" if is_external else "kill_switch_on_demand",
                instrument_id=None,
                value=drawdown,
                limit=self.reviewer.config.kill_switch_drawdown_pct or 0.0,
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
        self.execution.cancel_all(f"{reason} ({decision_id})")
        for instrument_id in self._instruments():
            self._liquidate(instrument_id, reason, decision_id)

    def _liquidate(self, instrument_id: str, reason: str, decision_id: str) -> None:
        qty = self.host.held_qty(instrument_id)
        if qty == 0:
            return
        self._liquidations[instrument_id] = self._liquidations.get(instrument_id, 0) + 1
        self._exits[instrument_id] = (self.host.now_ns(), decision_id, "liquidation")
        self.execution.exit_now(instrument_id, -qty, reason, decision_id)

    def _liquidate_leftovers(self) -> None:
        # A liquidation that ended without closing the position (canceled, rejected) is sent
        # again, a bounded number of times.
        decision = self._kill_decision
        if decision is None:
            return
        for instrument_id in self._instruments():
            if (
                self.host.held_qty(instrument_id) != 0
                and self.execution.working_exit(instrument_id) is None
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
        if self.execution.working_exit(instrument_id) is not None:
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
        self.execution.exit_now(instrument_id, exit_.delta_qty, exit_.rule, decision)


# -- costs -----------------------------------------------------------------------------------------


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

    def __init__(self, host: Host, risk: RiskStage) -> None:
        self.host, self.risk = host, risk
        self.latest: CostAssessed | None = None
        self.rebalances = 0
        self._traded: dict[str, _Traded] = {}
        host.subscribe_decisions(RiskReviewed, self.on_review)

    def on_review(self, event: RiskReviewed) -> None:
        """Assess the approved changes of one rebalance, each with the execution algorithm it
        will get (``pipeline.algorithm_choice``)."""
        from tradeloop.costs.assessment import TradeIntent, assess_trade

        host = self.host
        spec = host.config.costs
        proposed = self.risk.targets.get(event.rebalance_id)
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


# -- execution -------------------------------------------------------------------------------------


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

"""The target stage (portfolio construction): from ensemble scores to sized, hedged targets
(``TargetsProposed``)."""

from __future__ import annotations

import math

import msgspec
import numpy as np

from tradeloop.core.errors import InvariantViolation
from tradeloop.core.fixed import Money, Price
from tradeloop.core.ids import content_hash
from tradeloop.model.decisions import (
    BetasEstimated,
    EnsembleScored,
    ModelFallback,
    RegimeChanged,
    TargetPosition,
    TargetsProposed,
)
from tradeloop.pipeline.stages.host import Host


class TargetStage:
    """From ensemble scores to sized targets (``TargetsProposed``)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        # What the stage needs from earlier decisions, as their events told it: the latest
        # beta of each instrument (kept across rebalances) and the current regime label.
        self.betas: dict[str, float] = {}
        self._betas_rebalance: str | None = None
        self.regime: str | None = None
        host.subscribe_decisions(BetasEstimated, self.on_betas)
        host.subscribe_decisions(RegimeChanged, self.on_regime)
        host.subscribe_decisions(ModelFallback, self.on_fallback)
        host.subscribe_decisions(EnsembleScored, self.on_scores)
        # instrument -> (fraction of the position kept, why) of this rebalance's fallbacks
        self._fallbacks: dict[str, tuple[float, str]] = {}
        self._fallbacks_rebalance: str | None = None

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

    def on_fallback(self, event: ModelFallback) -> None:
        """Remember a model's safe position for the rebalance (applied to its targets)."""
        if self._fallbacks_rebalance != event.rebalance_id:
            self._fallbacks, self._fallbacks_rebalance = {}, event.rebalance_id
        fraction = event.position_fraction
        previous = self._fallbacks.get(event.instrument_id)
        if previous is not None and previous[0] <= fraction:
            return  # two models fell back: the safer (smaller) position wins
        self._fallbacks[event.instrument_id] = (
            fraction,
            f"model {event.model} v{event.model_version} fell back ({event.reason}: "
            f"{event.detail}): {event.action}, {fraction:g} of the position kept",
        )

    def on_betas(self, event: BetasEstimated) -> None:
        """Remember the betas of the rebalance ``event`` starts (for the hedge)."""
        for estimate in event.estimates:
            self.betas[estimate.instrument_id] = estimate.beta
        self._betas_rebalance = event.rebalance_id

    def on_regime(self, event: RegimeChanged) -> None:
        """Remember the regime (for its sizing multiplier)."""
        self.regime = event.label

    def multiplier(self) -> float:
        """Return the sizing multiplier of the current regime (1 before any regime; labels
        without a configured multiplier get 1, as the regime stage's table does)."""
        if self.regime is None:
            return 1.0
        return float(self.host.config.regime.multipliers.get(self.regime, 1.0))

    def _weights(
        self, names: list[str], scores: dict[str, float], current: dict[str, float]
    ) -> tuple[dict[str, float], list[str]]:
        from tradeloop.portfolio.construction import (
            PortfolioConstraints,
            PortfolioConstructionError,
            ledoit_wolf_covariance,
            risk_parity_weights,
            sample_covariance,
            volatility_target_weights,
        )
        from tradeloop.portfolio.optimize import (
            mean_variance_weights,
            minimum_variance_weights,
            project_to_constraints,
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
        if self._betas_rebalance != event.rebalance_id:
            raise InvariantViolation(
                f"target stage got the scores of {event.rebalance_id} before its betas "
                f"(last betas: {self._betas_rebalance}): it must subscribe to BetasEstimated "
                "before the signal stage does"
            )
        multiplier = self.multiplier()
        if multiplier != 1.0:
            reasons.append(f"regime {self.regime}: sizing multiplier {multiplier:g}")
        hedge_ids: set[str] = set()
        if config.beta.hedge and config.benchmark in prices:
            from tradeloop.analytics.beta import beta_hedge_weight

            betas = self.betas
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
        if self._fallbacks_rebalance != event.rebalance_id:
            self._fallbacks = {}
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
            for instrument_id, (fraction, why) in sorted(self._fallbacks.items()):
                if instrument_id not in current_raw:
                    continue
                # The safe position is exact: after sizing and the turnover limit.
                lot = host.instrument(instrument_id).lot_size_raw
                kept = int(current_raw[instrument_id] * fraction)
                final_raw[instrument_id] = kept - int(math.fmod(kept, lot))
                reasons.append(f"{instrument_id}: {why}")
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

"""The beta stage: betas of the universe to the benchmark at each rebalance
(``BetasEstimated``), which starts the rebalance's chain of decisions."""

from __future__ import annotations

import math

from tradeloop.model.decisions import BetaEstimate, BetasEstimated
from tradeloop.pipeline.stages.host import Host


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

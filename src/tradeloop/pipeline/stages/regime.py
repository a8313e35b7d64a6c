"""The regime stage: detect the regime from the regime instrument's bars; publish model fits
(``RegimeModelFitted``) and changes (``RegimeChanged``)."""

from __future__ import annotations

from typing import Any

from tradeloop.model.data import Bar
from tradeloop.model.decisions import RegimeChanged, RegimeModelFitted
from tradeloop.pipeline.stages.host import Host


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

"""Drift of the live inputs and outputs of the node's models from their training windows.

A model registered by ``tradeloop models train`` carries a ``DriftReference``: the training
window's distribution of each feature and of its prediction (``analytics.drift``). On the
node:

1. ``attach`` finds the model agents with a reference (a strategy's ``drift_sources()``, the
   pipeline's) and asks each to keep its last ``window`` feature rows (one per bar: a
   ``deque.append`` of the row it computes anyway) and predictions;
2. ``collect`` runs on the kernel thread with the monitor's probe (about once a second) and,
   every ``interval_s`` wall seconds only, copies those windows (no statistics on the kernel
   thread); then ``compute_pending`` runs on the probe thread, off the loop, and computes for
   each feature and each model's prediction with at least ``min_samples`` finite live
   values: PSI over the reference's decile bins, the two-sample KS statistic against the
   reference's sample and its p-value;
3. the results are a tuple of frozen ``DriftMeasure`` read by the metrics
   (``tradeloop_drift_psi{model,kind,name}`` …), the API and the alert rules (``drift_psi``,
   ``drift_ks``, ``signal_drift_psi``: the largest values).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tradeloop.analytics.drift import Reference, drift
from tradeloop.config.operations import DriftSection

_log = logging.getLogger(__name__)


class DriftSource(Protocol):
    """A model agent whose live values drift is measured on (``models.ModelAgent``)."""

    model: str
    drift_reference: Any  # models.DriftReference

    def keep_drift_window(self, size: int) -> None:
        """Start keeping the last ``size`` feature rows and predictions."""
        ...

    def drift_window(self) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
        """Return each feature's live values (by name) and the predictions."""
        ...


@dataclass(frozen=True)
class DriftMeasure:
    """One series' drift: ``kind`` is ``feature`` or ``signal`` (the model's prediction)."""

    model: str
    kind: str
    name: str
    psi: float
    ks: float
    ks_pvalue: float
    samples: int

    def as_json(self) -> dict[str, Any]:
        """Return it for the API."""
        return {
            "model": self.model,
            "kind": self.kind,
            "name": self.name,
            "psi": round(self.psi, 6),
            "ks": round(self.ks, 6),
            "ks_pvalue": self.ks_pvalue,
            "samples": self.samples,
        }


def _sources(kernel: Any) -> list[DriftSource]:
    found: list[DriftSource] = []
    for strategy in getattr(kernel, "strategies", ()):
        method = getattr(strategy, "drift_sources", None)
        if method is not None:
            found.extend(method())
    return found


class DriftMonitor:
    """Measure drift on a schedule (module docstring)."""

    def __init__(self, config: DriftSection | None = None) -> None:
        self.config = config or DriftSection()
        self.sources: list[DriftSource] = []
        self.measures: tuple[DriftMeasure, ...] = ()
        self.computed = 0
        self.error: str | None = None
        self._pending: list[tuple[str, Any, dict[str, Any], Any]] | None = None
        self._last = -float("inf")

    def attach(self, kernel: Any) -> None:
        """Find the model agents with a reference and start their live windows."""
        self.sources = _sources(kernel)
        for source in self.sources:
            source.keep_drift_window(self.config.window)

    def collect(self, now: float | None = None) -> bool:
        """Copy the live windows if ``interval_s`` passed since the last time (kernel thread:
        a copy of a few bounded deques, no statistics); return whether it did."""
        now = time.monotonic() if now is None else now
        if not self.sources or now - self._last < self.config.interval_s:
            return False
        self._last = now
        try:
            self._pending = [
                (source.model, source.drift_reference, *source.drift_window())
                for source in self.sources
            ]
        except Exception as error:  # a monitoring failure never stops the loop
            self.error = f"{type(error).__name__}: {error}"
            _log.warning("drift windows could not be read: %s", self.error)
            return False
        return True

    def compute_pending(self) -> bool:
        """Compute the statistics of the windows ``collect`` copied, if any (the monitor's
        probe thread, off the kernel); return whether it did."""
        pending, self._pending = self._pending, None
        if pending is None:
            return False
        try:
            self.measures = self._measure(pending)
        except Exception as error:  # reported, never raised into the probe
            self.error = f"{type(error).__name__}: {error}"
            _log.warning("drift computation failed: %s", self.error)
            return False
        self.error = None
        self.computed += 1
        return True

    def maybe_update(self, now: float | None = None) -> bool:
        """``collect`` then ``compute_pending`` on the calling thread; return whether it
        computed."""
        return self.collect(now) and self.compute_pending()

    def update(self) -> tuple[DriftMeasure, ...]:
        """Compute every measure now, on the calling thread; return them."""
        self._last = -float("inf")
        self.maybe_update()
        return self.measures

    def _measure(
        self, pending: list[tuple[str, Any, dict[str, Any], Any]]
    ) -> tuple[DriftMeasure, ...]:
        out: list[DriftMeasure] = []
        for model, reference, features, predictions in pending:
            series: list[tuple[str, str, Reference, Sequence[float] | np.ndarray[Any, Any]]] = [
                ("feature", name, reference.features[name], values)
                for name, values in features.items()
                if name in reference.features
            ]
            series.append(("signal", "prediction", reference.prediction, predictions))
            for kind, name, ref, values in series:
                stats = drift(ref, values[-self.config.window :])
                if stats is None or stats.count < self.config.min_samples:
                    continue
                out.append(
                    DriftMeasure(
                        model=model,
                        kind=kind,
                        name=name,
                        psi=stats.psi,
                        ks=stats.ks,
                        ks_pvalue=stats.ks_pvalue,
                        samples=stats.count,
                    )
                )
        return tuple(out)

    def maxima(self) -> dict[str, float]:
        """Return the largest PSI and KS (all series) and PSI of the predictions (0: none)."""
        measures = self.measures
        return {
            "drift_psi": max((m.psi for m in measures), default=0.0),
            "drift_ks": max((m.ks for m in measures), default=0.0),
            "signal_drift_psi": max((m.psi for m in measures if m.kind == "signal"), default=0.0),
        }

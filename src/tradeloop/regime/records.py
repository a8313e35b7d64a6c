"""What a regime detector outputs: a ``RegimeEstimate`` per bar, or a ``RegimeSeries`` in bulk.

An estimate carries its label, the probabilities of every label (aligned with ``labels``),
the confidence (the largest probability), the model that made it (id and a content-hash
version) and the window that model was fitted on (``None`` for rules, which fit nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError

__all__ = ["FitWindow", "RegimeEstimate", "RegimeSeries"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Probabilities come from exp() of normalised log-probabilities; their sum may miss 1 by ulps.
_SUM_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class FitWindow:
    """The rows a model was fitted on: ``fit_start_ns <= ts_ns <= fit_end_ns``, ``n_rows`` used.

    Raises
    ------
    InvalidValueError
        If the window ends before it starts or holds no rows.
    """

    fit_start_ns: int
    fit_end_ns: int
    n_rows: int

    def __post_init__(self) -> None:
        if self.fit_end_ns < self.fit_start_ns:
            raise InvalidValueError(
                f"fit window ends at {self.fit_end_ns} before it starts at {self.fit_start_ns}"
            )
        if self.n_rows < 1:
            raise InvalidValueError(f"fit window holds {self.n_rows} rows; it needs at least 1")


@dataclass(frozen=True, slots=True)
class RegimeEstimate:
    """The regime at ``ts_ns`` as one detector sees it, using data up to ``ts_ns`` only.

    Raises
    ------
    InvalidValueError
        If the probabilities are not a distribution over ``labels``, or ``label`` and
        ``confidence`` are not the most probable label (the first on ties) and its
        probability.
    """

    ts_ns: int
    label: str
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    confidence: float
    model_id: str
    model_version: str
    fit_window: FitWindow | None

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.probabilities) or not self.labels:
            raise InvalidValueError(
                f"regime estimate has {len(self.labels)} labels and "
                f"{len(self.probabilities)} probabilities; they must align"
            )
        if len(set(self.labels)) != len(self.labels):
            raise InvalidValueError(f"regime labels {self.labels} are not unique")
        total = 0.0
        for label, probability in zip(self.labels, self.probabilities, strict=True):
            if not 0.0 <= probability <= 1.0:
                raise InvalidValueError(
                    f"probability {probability!r} of regime {label} is outside [0, 1]"
                )
            total += probability
        if not math.isclose(total, 1.0, rel_tol=0.0, abs_tol=_SUM_TOLERANCE):
            raise InvalidValueError(f"regime probabilities sum to {total!r}, not 1")
        best = max(range(len(self.probabilities)), key=self.probabilities.__getitem__)
        if self.label != self.labels[best] or self.confidence != self.probabilities[best]:
            raise InvalidValueError(
                f"regime estimate says {self.label} at {self.confidence!r}, but the most "
                f"probable label is {self.labels[best]} at {self.probabilities[best]!r}"
            )

    def probability_of(self, label: str) -> float:
        """Return the probability of ``label``.

        Raises
        ------
        InvalidValueError
            If ``label`` is not one of this estimate's labels.
        """
        try:
            return self.probabilities[self.labels.index(label)]
        except ValueError:
            raise InvalidValueError(
                f"regime {label!r} is not one of {self.labels} of model {self.model_id}"
            ) from None


@dataclass(frozen=True, slots=True)
class RegimeSeries:
    """Regime estimates of many bars, columnar (bulk research and backtests).

    Row ``i`` is the estimate at ``ts_ns[i]``: ``label_index[i]`` indexes ``labels`` (-1
    before the first estimate), ``probabilities[i]`` is aligned with ``labels`` (NaN
    before the first estimate), ``confidence[i]`` is the largest probability, and
    ``model_index[i]`` indexes ``model_versions`` and ``fit_windows`` (-1 before the first
    estimate). ``estimate(i)`` rebuilds the per-bar record.
    """

    model_id: str
    labels: tuple[str, ...]
    ts_ns: I64
    label_index: I64
    probabilities: F64
    confidence: F64
    model_index: I64
    model_versions: tuple[str, ...]
    fit_windows: tuple[FitWindow | None, ...]

    def __len__(self) -> int:
        return len(self.ts_ns)

    def label_at(self, i: int) -> str | None:
        """Return the label of row ``i``, or ``None`` before the first estimate."""
        index = int(self.label_index[i])
        return None if index < 0 else self.labels[index]

    def estimate(self, i: int) -> RegimeEstimate | None:
        """Return row ``i`` as a ``RegimeEstimate``, or ``None`` before the first estimate."""
        index = int(self.label_index[i])
        if index < 0:
            return None
        model = int(self.model_index[i])
        return RegimeEstimate(
            ts_ns=int(self.ts_ns[i]),
            label=self.labels[index],
            labels=self.labels,
            probabilities=tuple(float(p) for p in self.probabilities[i]),
            confidence=float(self.confidence[i]),
            model_id=self.model_id,
            model_version=self.model_versions[model],
            fit_window=self.fit_windows[model],
        )

    @classmethod
    def from_estimates(
        cls,
        model_id: str,
        labels: tuple[str, ...],
        ts_ns: npt.ArrayLike,
        estimates: list[RegimeEstimate | None],
    ) -> RegimeSeries:
        """Return the columnar form of per-bar ``estimates`` (``None`` before the first).

        Raises
        ------
        InvalidValueError
            If the lengths differ or an estimate has other labels than ``labels``.
        """
        times = np.asarray(ts_ns, dtype=np.int64)
        if len(times) != len(estimates):
            raise InvalidValueError(
                f"regime series has {len(times)} timestamps and {len(estimates)} estimates"
            )
        n = len(times)
        label_index = np.full(n, -1, dtype=np.int64)
        model_index = np.full(n, -1, dtype=np.int64)
        probabilities = np.full((n, len(labels)), np.nan)
        confidence = np.full(n, np.nan)
        versions: list[str] = []
        windows: list[FitWindow | None] = []
        known: dict[tuple[str, FitWindow | None], int] = {}
        for i, estimate in enumerate(estimates):
            if estimate is None:
                continue
            if estimate.labels != labels:
                raise InvalidValueError(
                    f"estimate at {estimate.ts_ns} has labels {estimate.labels}, not {labels}"
                )
            key = (estimate.model_version, estimate.fit_window)
            if key not in known:
                known[key] = len(versions)
                versions.append(estimate.model_version)
                windows.append(estimate.fit_window)
            model_index[i] = known[key]
            label_index[i] = labels.index(estimate.label)
            probabilities[i] = estimate.probabilities
            confidence[i] = estimate.confidence
        return cls(
            model_id=model_id,
            labels=labels,
            ts_ns=times,
            label_index=label_index,
            probabilities=probabilities,
            confidence=confidence,
            model_index=model_index,
            model_versions=tuple(versions),
            fit_windows=tuple(windows),
        )

"""Walk-forward HMM regimes: refit on a schedule, filter causally between refits.

Steps of ``WalkForwardHMMDetector.update(ts_ns, row)`` (one call per bar):

1. Rows before the first row without a NaN are the features' warm-up and are skipped.
2. The valid row joins the history (the last ``max(window_bars, filter_warmup_bars)``
   rows, or every row for an expanding window).
3. A refit is due at the first bar with ``min_fit_bars`` valid rows, then every
   ``refit_every_bars`` bars. The fit window is the last ``window_bars`` valid rows up to
   and including this bar (all of them when ``window_bars`` is ``None``): ``fit_start_ns``
   is its first row's time, ``fit_end_ns`` this bar's. Each fit's window is recorded in
   the fitted model and in every estimate it makes.
4. After a refit, a fresh forward filter of the new model runs over the last
   ``filter_warmup_bars`` valid rows (this bar included) and gives this bar's estimate;
   later bars update that filter one row at a time until the next refit.

Every step reads only rows up to the current bar. The bulk ``walk_forward_regimes`` is a
loop over the detector, so backtests and live runs get the same estimates, bit for bit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError, DataIntegrityError, InvalidValueError
from tradeloop.regime.hmm import FittedGaussianHMM, ForwardFilter, GaussianHMMRegimeModel
from tradeloop.regime.labels import hmm_state_labels
from tradeloop.regime.records import RegimeEstimate, RegimeSeries

__all__ = ["WalkForwardConfig", "WalkForwardHMMDetector", "walk_forward_regimes"]


class WalkForwardConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Refit schedule of ``WalkForwardHMMDetector``.

    Attributes
    ----------
    refit_every_bars : bars between two refits (1 refits every bar).
    window_bars : rows of the trailing fit window; ``None`` for an expanding window.
    min_fit_bars : valid rows needed before the first fit (at most ``window_bars``).
    filter_warmup_bars : rows a new model's forward filter runs over before its first
        estimate (the filter forgets its starting prior geometrically fast).
    """

    refit_every_bars: int = 21
    window_bars: int | None = 1000
    min_fit_bars: int = 250
    filter_warmup_bars: int = 250

    def __post_init__(self) -> None:
        for name, value in (
            ("refit_every_bars", self.refit_every_bars),
            ("min_fit_bars", self.min_fit_bars),
            ("filter_warmup_bars", self.filter_warmup_bars),
            ("window_bars", 1 if self.window_bars is None else self.window_bars),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"walk-forward {name} {value!r} must be an integer >= 1")
        if self.window_bars is not None and self.min_fit_bars > self.window_bars:
            raise ConfigError(
                f"walk-forward min_fit_bars {self.min_fit_bars} exceeds window_bars "
                f"{self.window_bars}: the first fit could never happen"
            )


class WalkForwardHMMDetector:
    """Incremental walk-forward regime detection with an HMM (see the module docstring).

    Parameters
    ----------
    model
        The model to refit.
    config
        The refit schedule.
    """

    __slots__ = (
        "_bars_since_fit",
        "_filter",
        "_history_rows",
        "_history_ts",
        "_last_ts",
        "_n_valid",
        "config",
        "fits",
        "model",
    )

    model: GaussianHMMRegimeModel
    config: WalkForwardConfig
    fits: list[FittedGaussianHMM]

    def __init__(self, model: GaussianHMMRegimeModel, config: WalkForwardConfig) -> None:
        self.model = model
        self.config = config
        self.reset()

    def __repr__(self) -> str:
        return f"WalkForwardHMMDetector({self.model.config.model_id}, {self.config!r})"

    @property
    def labels(self) -> tuple[str, ...]:
        """Return the labels of every estimate, in probability order."""
        return hmm_state_labels(self.model.config.n_states)

    @property
    def current_model(self) -> FittedGaussianHMM | None:
        """Return the model in use, or ``None`` before the first fit."""
        return self.fits[-1] if self.fits else None

    def reset(self) -> None:
        """Forget every row and every fit."""
        keep = self.config.window_bars
        if keep is not None:
            keep = max(keep, self.config.filter_warmup_bars)
        self._history_ts: deque[int] = deque(maxlen=keep)
        self._history_rows: deque[tuple[float, ...]] = deque(maxlen=keep)
        self._filter: ForwardFilter | None = None
        self._bars_since_fit = 0
        self._n_valid = 0
        self._last_ts: int | None = None
        self.fits = []

    def update(self, ts_ns: int, row: Sequence[float]) -> RegimeEstimate | None:
        """Add one bar's features; return its regime, or ``None`` before the first fit.

        Raises
        ------
        DataIntegrityError
            If ``ts_ns`` does not increase, or a row after the warm-up holds a NaN or an
            infinity.
        InvalidValueError
            If the row's width differs from earlier rows, or as
            ``GaussianHMMRegimeModel.fit`` when a refit fails.
        RegimeFitError
            As ``GaussianHMMRegimeModel.fit``.
        """
        ts_ns = int(ts_ns)
        if self._last_ts is not None and ts_ns <= self._last_ts:
            raise DataIntegrityError(
                f"regime detector received ts_ns {ts_ns} after {self._last_ts}; "
                "bars must arrive in increasing time"
            )
        self._last_ts = ts_ns
        values = tuple(float(v) for v in row)
        finite = all(v - v == 0.0 for v in values)
        if not finite:
            if self._n_valid == 0 and not any(abs(v) == float("inf") for v in values):
                return None
            raise DataIntegrityError(
                f"regime features {list(values)} at {ts_ns} hold a NaN or an infinity after "
                "the warm-up"
            )
        if self._history_rows and len(values) != len(self._history_rows[-1]):
            raise InvalidValueError(
                f"regime features at {ts_ns} have {len(values)} values; earlier rows had "
                f"{len(self._history_rows[-1])}"
            )
        self._history_ts.append(ts_ns)
        self._history_rows.append(values)
        self._n_valid += 1
        config = self.config
        if self._filter is None:
            if self._n_valid < config.min_fit_bars:
                return None
            return self._refit(ts_ns)
        self._bars_since_fit += 1
        if self._bars_since_fit >= config.refit_every_bars:
            return self._refit(ts_ns)
        probabilities = self._filter.update(values)
        return self._filter.model.estimate(ts_ns, probabilities)

    def _refit(self, ts_ns: int) -> RegimeEstimate:
        config = self.config
        times = np.fromiter(self._history_ts, dtype=np.int64, count=len(self._history_ts))
        rows = np.array(self._history_rows, dtype=np.float64)
        if config.window_bars is not None and len(times) > config.window_bars:
            times = times[-config.window_bars :]
            rows = rows[-config.window_bars :]
        fitted = self.model.fit(rows, times, int(times[0]), ts_ns)
        self.fits.append(fitted)
        forward = fitted.forward_filter()
        warmup = list(self._history_rows)[-config.filter_warmup_bars :]
        probabilities: tuple[float, ...] = ()
        for warm_row in warmup:
            probabilities = forward.update(warm_row)
        self._filter = forward
        self._bars_since_fit = 0
        return fitted.estimate(ts_ns, probabilities)


def walk_forward_regimes(
    model: GaussianHMMRegimeModel,
    config: WalkForwardConfig,
    features: npt.ArrayLike,
    ts_ns: npt.ArrayLike,
) -> tuple[RegimeSeries, tuple[FittedGaussianHMM, ...]]:
    """Return the walk-forward regimes of every row and the models fitted along the way.

    A loop over ``WalkForwardHMMDetector.update``: row ``t`` of the series depends only on
    rows ``0..t``.

    Parameters
    ----------
    model
        The model to refit.
    config
        The refit schedule.
    features
        ``(n, n_features)`` causal features, rows in time order (leading NaN rows skipped).
    ts_ns
        ``(n,)`` increasing nanosecond timestamps.

    Returns
    -------
    tuple[RegimeSeries, tuple[FittedGaussianHMM, ...]]
        The per-bar estimates and every fitted model, in fit order.

    Raises
    ------
    InvalidValueError
        If the shapes disagree.
    DataIntegrityError, RegimeFitError
        As ``WalkForwardHMMDetector.update``.
    """
    rows = np.asarray(features, dtype=np.float64)
    if rows.ndim == 1:
        rows = rows[:, None]
    times = np.asarray(ts_ns, dtype=np.int64)
    if rows.ndim != 2 or times.ndim != 1 or len(times) != len(rows):
        raise InvalidValueError(
            f"walk-forward features {rows.shape} and timestamps {times.shape} do not align"
        )
    detector = WalkForwardHMMDetector(model, config)
    estimates = [
        detector.update(ts, row) for ts, row in zip(times.tolist(), rows.tolist(), strict=True)
    ]
    series = RegimeSeries.from_estimates(model.config.model_id, detector.labels, times, estimates)
    return series, tuple(detector.fits)

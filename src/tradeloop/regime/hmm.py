"""A Gaussian hidden Markov model of regimes, fitted on an explicit window, filtered causally.

Steps of ``GaussianHMMRegimeModel.fit(features, ts_ns, fit_start_ns, fit_end_ns)``:

1. Select the rows with ``fit_start_ns <= ts_ns <= fit_end_ns`` (``_select_window``); no
   other row is read, so data after ``fit_end_ns`` cannot change the fit. Leading rows
   with a NaN (feature warm-up) are dropped; a NaN later is a ``DataIntegrityError``.
2. Standardize each column by its mean and population std over the window (stored in the
   fitted model and reused, never refitted, when filtering). This keeps hmmlearn's
   ``min_covar`` (added to every variance) meaningful whatever the features' units.
3. Run hmmlearn's ``GaussianHMM`` EM (Baum-Welch) with the configured states, covariance
   type, ``n_iter``, ``tol`` and integer ``seed`` (its k-means initialization is the only
   random step), on one BLAS/OpenMP thread.
4. Order the states by what they mean, not by hmmlearn's arbitrary numbering
   (``_state_order``): by the state's mean of the volatility column (or, without one, the
   variance of the return column), calmest first; with four states the two calmer and the
   two more volatile states are each split by mean return, bull (higher) first. The
   parameters are permuted into that order and named with ``labels.hmm_state_labels``, so
   a refit on a shifted window that finds the same regimes gives them the same names.
5. Precompute what the forward filter needs: log transition matrix, Cholesky factors and
   log normalizers of the emissions, and the prior (the stationary distribution of the
   transition matrix). The model version is a content hash of all of it and the window.

Filtering (``ForwardFilter``) is the forward algorithm alone, in log space:
``log a_t(j) = log b_j(x_t) + logsumexp_i(log p_{t-1}(i) + log A_ij)``, normalised by its
logsumexp into ``log p_t`` = log P(state_t | x_1..x_t). It never looks at a row after
``t``. hmmlearn's ``predict_proba``/``predict`` are forward-backward smoothing and Viterbi,
which use the whole sequence (future rows included), and are deliberately not used. The
filter starts from the prior at the first row it is given. ``FittedGaussianHMM.filter`` (bulk)
is a loop over ``ForwardFilter.update``, so both give bit-identical probabilities.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from typing import Final, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import (
    ConfigError,
    DataIntegrityError,
    InvalidValueError,
    TradeloopError,
)
from tradeloop.core.ids import content_hash
from tradeloop.regime.labels import hmm_state_labels
from tradeloop.regime.records import FitWindow, RegimeEstimate, RegimeSeries

__all__ = [
    "CovarianceType",
    "FittedGaussianHMM",
    "ForwardFilter",
    "GaussianHMMConfig",
    "GaussianHMMRegimeModel",
    "RegimeFitError",
]

F64 = npt.NDArray[np.float64]

CovarianceType = Literal["full", "diag", "spherical", "tied"]
_COVARIANCE_TYPES: Final = ("full", "diag", "spherical", "tied")
_LOG_TWO_PI: Final = math.log(2.0 * math.pi)
_NEG_INF: Final = -math.inf


class RegimeFitError(TradeloopError):
    """A regime model could not be fitted on its window (degenerate data or parameters)."""


class GaussianHMMConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Configuration of ``GaussianHMMRegimeModel``.

    Attributes
    ----------
    n_states : 2, 3 or 4 (see ``labels.hmm_state_labels`` for their names).
    covariance_type : hmmlearn's ``"full"``, ``"diag"``, ``"spherical"`` or ``"tied"``.
    n_iter, tol : EM iterations at most, and the log-likelihood gain that stops EM.
    seed : seed of hmmlearn's k-means initialization (the fit's only randomness).
    min_covar : floor added to every variance, in standardized units.
    return_column : feature column holding the return (orders bull before bear).
    volatility_column : feature column holding the volatility (orders calm before
        volatile); ``None`` orders by the variance of the return column instead.
    min_fit_rows : fewest usable rows a fit accepts.
    model_id : the model's name in every ``RegimeEstimate``.
    """

    n_states: int = 3
    covariance_type: CovarianceType = "full"
    n_iter: int = 100
    tol: float = 1e-4
    seed: int = 0
    min_covar: float = 1e-3
    return_column: int = 0
    volatility_column: int | None = 1
    min_fit_rows: int = 100
    model_id: str = "gaussian_hmm"

    def __post_init__(self) -> None:
        hmm_state_labels(self.n_states)
        if self.covariance_type not in _COVARIANCE_TYPES:
            raise ConfigError(
                f"HMM covariance_type {self.covariance_type!r} is unknown; "
                f"choose one of {', '.join(_COVARIANCE_TYPES)}"
            )
        _check_int("HMM n_iter", self.n_iter, 1)
        _check_int("HMM seed", self.seed, 0)
        _check_int("HMM return_column", self.return_column, 0)
        if self.volatility_column is not None:
            _check_int("HMM volatility_column", self.volatility_column, 0)
            if self.volatility_column == self.return_column:
                raise ConfigError(
                    f"HMM volatility_column {self.volatility_column} is the return column"
                )
        _check_int("HMM min_fit_rows", self.min_fit_rows, 2 * self.n_states)
        for name, value in (("tol", self.tol), ("min_covar", self.min_covar)):
            if not 0.0 < value < math.inf:
                raise ConfigError(f"HMM {name} {value!r} must be a finite number above 0")
        if not self.model_id:
            raise ConfigError("HMM model_id must not be empty")


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} {value!r} is invalid; it must be an integer >= {minimum}")


def _as_features(features: npt.ArrayLike) -> F64:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InvalidValueError(
            f"regime features have shape {array.shape}; they must be (rows, columns)"
        )
    return array


def _first_valid_row(features: F64, what: str) -> int:
    # Index of the first all-finite row; only leading rows may hold a NaN (warm-up).
    finite: npt.NDArray[np.bool_] = np.asarray(np.isfinite(features).all(axis=1))
    if not finite.any():
        return len(features)
    first = int(np.argmax(finite))
    bad = np.flatnonzero(~finite[first:])
    if bad.size:
        index = first + int(bad[0])
        raise DataIntegrityError(
            f"{what} row {index} holds {features[index].tolist()}; only leading rows (the "
            "features' warm-up) may hold a NaN"
        )
    if np.isinf(features[:first]).any():
        raise DataIntegrityError(f"{what} holds an infinity in its warm-up rows")
    return first


def _select_window(
    features: F64, ts_ns: npt.NDArray[np.int64], fit_start_ns: int, fit_end_ns: int
) -> F64:
    mask = (ts_ns >= fit_start_ns) & (ts_ns <= fit_end_ns)
    rows = np.ascontiguousarray(features[mask])
    times = ts_ns[mask]
    if len(times) > 1 and not bool(np.all(times[1:] > times[:-1])):
        raise DataIntegrityError("regime fit window timestamps are not strictly increasing")
    first = _first_valid_row(rows, "regime fit window")
    return np.ascontiguousarray(rows[first:])


def _state_order(
    means: F64, covars: F64, return_column: int, volatility_column: int | None
) -> list[int]:
    n_states = len(means)
    returns = means[:, return_column]
    if volatility_column is None:
        volatility = covars[:, return_column, return_column]
    else:
        volatility = means[:, volatility_column]
    by_volatility = sorted(range(n_states), key=lambda s: (volatility[s], -returns[s], s))
    if n_states != 4:
        return by_volatility
    calm = sorted(by_volatility[:2], key=lambda s: (-returns[s], volatility[s], s))
    volatile = sorted(by_volatility[2:], key=lambda s: (-returns[s], volatility[s], s))
    return calm + volatile


def _stationary_distribution(transmat: F64) -> F64:
    n_states = len(transmat)
    system = np.vstack([transmat.T - np.eye(n_states), np.ones(n_states)])
    target = np.zeros(n_states + 1)
    target[-1] = 1.0
    solution = np.linalg.lstsq(system, target, rcond=None)[0]
    solution = np.clip(solution, 0.0, None)
    total = float(solution.sum())
    if not math.isfinite(total) or total <= 0.0:
        return np.full(n_states, 1.0 / n_states)
    return np.asarray(solution / total, dtype=np.float64)


def _log(value: float) -> float:
    return _NEG_INF if value <= 0.0 else math.log(value)


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    if top == _NEG_INF:
        return _NEG_INF
    total = 0.0
    for value in values:
        total += math.exp(value - top)
    return top + math.log(total)


def _read_only(array: npt.ArrayLike) -> F64:
    out = np.array(array, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


class FittedGaussianHMM:
    """A fitted, immutable regime HMM: its parameters (in label order) and its fit window.

    Build it with ``GaussianHMMRegimeModel.fit``. ``startprob``, ``transmat``, ``means`` and
    ``covariances`` are in standardized feature units (``(x - center) / scale``);
    ``state_means`` and ``state_covariances`` are in the features' own units.
    """

    __slots__ = (
        "_center",
        "_cholesky",
        "_log_normalizer",
        "_log_prior",
        "_log_transmat",
        "_mean_rows",
        "_scale",
        "center",
        "config",
        "converged",
        "covariances",
        "fit_window",
        "labels",
        "log_likelihood",
        "means",
        "model_version",
        "n_iter_run",
        "prior",
        "scale",
        "startprob",
        "transmat",
    )

    config: GaussianHMMConfig
    labels: tuple[str, ...]
    fit_window: FitWindow
    center: F64
    scale: F64
    startprob: F64
    transmat: F64
    means: F64
    covariances: F64
    prior: F64
    converged: bool
    n_iter_run: int
    log_likelihood: float
    model_version: str

    def __init__(
        self,
        *,
        config: GaussianHMMConfig,
        fit_window: FitWindow,
        center: F64,
        scale: F64,
        startprob: F64,
        transmat: F64,
        means: F64,
        covariances: F64,
        converged: bool,
        n_iter_run: int,
        log_likelihood: float,
    ) -> None:
        self.config = config
        self.labels = hmm_state_labels(config.n_states)
        self.fit_window = fit_window
        self.center = _read_only(center)
        self.scale = _read_only(scale)
        self.startprob = _read_only(startprob)
        self.transmat = _read_only(transmat)
        self.means = _read_only(means)
        self.covariances = _read_only(covariances)
        self.prior = _read_only(_stationary_distribution(self.transmat))
        self.converged = converged
        self.n_iter_run = n_iter_run
        self.log_likelihood = log_likelihood
        n_features = self.means.shape[1]
        cholesky = []
        normalizer = []
        for state, label in enumerate(self.labels):
            try:
                factor = np.linalg.cholesky(self.covariances[state])
            except np.linalg.LinAlgError:
                raise RegimeFitError(
                    f"HMM state {label} has a covariance that is not positive definite"
                ) from None
            cholesky.append(tuple(tuple(float(v) for v in row) for row in factor))
            log_det_half = float(np.sum(np.log(np.diag(factor))))
            normalizer.append(-0.5 * n_features * _LOG_TWO_PI - log_det_half)
        self._cholesky = tuple(cholesky)
        self._center = tuple(float(v) for v in self.center)
        self._scale = tuple(float(v) for v in self.scale)
        self._mean_rows = tuple(tuple(float(v) for v in row) for row in self.means)
        self._log_normalizer = tuple(normalizer)
        self._log_transmat = tuple(tuple(_log(float(p)) for p in row) for row in self.transmat)
        self._log_prior = tuple(_log(float(p)) for p in self.prior)
        self.model_version = content_hash(
            config.model_id,
            msgspec.json.encode(config),
            fit_window.fit_start_ns,
            fit_window.fit_end_ns,
            fit_window.n_rows,
            *(
                array.tobytes()
                for array in (
                    self.center,
                    self.scale,
                    self.startprob,
                    self.transmat,
                    self.means,
                    self.covariances,
                )
            ),
        )

    def __repr__(self) -> str:
        return (
            f"FittedGaussianHMM(model_id={self.model_id!r}, version={self.model_version}, "
            f"labels={self.labels}, fit_window={self.fit_window})"
        )

    @property
    def model_id(self) -> str:
        """Return the configured model id."""
        return self.config.model_id

    @property
    def n_features(self) -> int:
        """Return the number of feature columns the model was fitted on."""
        return int(self.means.shape[1])

    @property
    def state_means(self) -> F64:
        """Return each state's mean in the features' own units (rows in label order)."""
        return np.asarray(self.means * self.scale + self.center, dtype=np.float64)

    @property
    def state_covariances(self) -> F64:
        """Return each state's covariance in the features' own units."""
        outer = np.outer(self.scale, self.scale)
        return np.asarray(self.covariances * outer, dtype=np.float64)

    def forward_filter(self) -> ForwardFilter:
        """Return a new incremental forward filter of this model, starting from its prior."""
        return ForwardFilter(self)

    def filter(self, features: npt.ArrayLike) -> F64:
        """Return the causal filtered state probabilities of every row of ``features``.

        Row ``t`` is P(state | rows first..t), from a filter started at the first row
        without a NaN; it does not depend on any later row.

        Parameters
        ----------
        features
            ``(n, n_features)`` rows in time order; leading rows with a NaN are skipped.

        Returns
        -------
        numpy.ndarray
            ``(n, n_states)`` probabilities aligned with ``labels``; NaN on skipped rows.

        Raises
        ------
        InvalidValueError
            If ``features`` has the wrong number of columns.
        DataIntegrityError
            If a row after the first valid one holds a NaN or an infinity, or has zero
            likelihood under every state.
        """
        rows = _as_features(features)
        if rows.shape[1] != self.n_features:
            raise InvalidValueError(
                f"features have {rows.shape[1]} columns; the model was fitted on {self.n_features}"
            )
        out = np.full((len(rows), len(self.labels)), np.nan)
        first = _first_valid_row(rows, "regime features")
        forward = self.forward_filter()
        for i, row in enumerate(rows[first:].tolist(), start=first):
            out[i] = forward.update(row)
        return out

    def estimate(self, ts_ns: int, probabilities: Sequence[float]) -> RegimeEstimate:
        """Return the ``RegimeEstimate`` of filtered ``probabilities`` at ``ts_ns``."""
        values = tuple(float(p) for p in probabilities)
        best = max(range(len(values)), key=values.__getitem__)
        return RegimeEstimate(
            ts_ns=int(ts_ns),
            label=self.labels[best],
            labels=self.labels,
            probabilities=values,
            confidence=values[best],
            model_id=self.model_id,
            model_version=self.model_version,
            fit_window=self.fit_window,
        )

    def series(self, features: npt.ArrayLike, ts_ns: npt.ArrayLike) -> RegimeSeries:
        """Return the filtered regimes of every row as a ``RegimeSeries`` (one model).

        Raises
        ------
        InvalidValueError, DataIntegrityError
            As ``filter``, or if ``ts_ns`` and ``features`` differ in length.
        """
        times = np.asarray(ts_ns, dtype=np.int64)
        probabilities = self.filter(features)
        if len(times) != len(probabilities):
            raise InvalidValueError(
                f"{len(times)} timestamps for {len(probabilities)} feature rows"
            )
        estimates: list[RegimeEstimate | None] = [
            None if math.isnan(row[0]) else self.estimate(int(ts), row)
            for ts, row in zip(times.tolist(), probabilities.tolist(), strict=True)
        ]
        return RegimeSeries.from_estimates(self.model_id, self.labels, times, estimates)

    # The forward step, shared by every caller so that bulk == incremental by construction.
    def _log_emissions(self, row: Sequence[float]) -> list[float]:
        center = self._center
        scale = self._scale
        z = [(row[k] - center[k]) / scale[k] for k in range(len(row))]
        out = []
        for factor, mean, normalizer in zip(
            self._cholesky, self._mean_rows, self._log_normalizer, strict=True
        ):
            solved: list[float] = []
            quadratic = 0.0
            for i, factor_row in enumerate(factor):
                accumulated = z[i] - mean[i]
                for j in range(i):
                    accumulated -= factor_row[j] * solved[j]
                value = accumulated / factor_row[i]
                solved.append(value)
                quadratic += value * value
            out.append(normalizer - 0.5 * quadratic)
        return out


class ForwardFilter:
    """Incremental forward algorithm of one fitted HMM: P(state_t | rows up to t).

    Starts from the model's prior (the stationary distribution of its transition matrix).
    """

    __slots__ = ("_log_probabilities", "count", "model")

    model: FittedGaussianHMM
    count: int
    _log_probabilities: list[float] | None

    def __init__(self, model: FittedGaussianHMM) -> None:
        self.model = model
        self.reset()

    def __repr__(self) -> str:
        return f"ForwardFilter(model_version={self.model.model_version}, count={self.count})"

    def reset(self) -> None:
        """Forget every row: back to the prior."""
        self._log_probabilities = None
        self.count = 0

    def update(self, row: Sequence[float]) -> tuple[float, ...]:
        """Add one row of features; return the filtered probabilities, aligned with labels.

        Raises
        ------
        InvalidValueError
            If the row has the wrong number of values.
        DataIntegrityError
            If a value is NaN or infinite, or the row has zero likelihood under every state.
        """
        model = self.model
        if len(row) != model.n_features:
            raise InvalidValueError(
                f"feature row has {len(row)} values; the model was fitted on {model.n_features}"
            )
        for value in row:
            if value - value != 0.0:
                raise DataIntegrityError(
                    f"feature row {list(row)} holds a NaN or an infinity; regime features "
                    "must be finite once the warm-up is over"
                )
        emissions = model._log_emissions(row)
        previous = self._log_probabilities
        n_states = len(emissions)
        if previous is None:
            joint = [model._log_prior[j] + emissions[j] for j in range(n_states)]
        else:
            log_transmat = model._log_transmat
            joint = [
                emissions[j]
                + _logsumexp([previous[i] + log_transmat[i][j] for i in range(n_states)])
                for j in range(n_states)
            ]
        normalizer = _logsumexp(joint)
        if normalizer == _NEG_INF or normalizer != normalizer:
            raise DataIntegrityError(
                f"feature row {list(row)} has zero likelihood under every state of "
                f"{model.model_id} {model.model_version}"
            )
        current = [value - normalizer for value in joint]
        self._log_probabilities = current
        self.count += 1
        return tuple(math.exp(value) for value in current)


class GaussianHMMRegimeModel:
    """Fit Gaussian HMM regime models on explicit windows (see the module docstring).

    Parameters
    ----------
    config
        States, covariance type, EM settings, seed and feature columns.
    """

    __slots__ = ("config",)

    def __init__(self, config: GaussianHMMConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"GaussianHMMRegimeModel({self.config!r})"

    def fit(
        self,
        features: npt.ArrayLike,
        ts_ns: npt.ArrayLike,
        fit_start_ns: int,
        fit_end_ns: int,
    ) -> FittedGaussianHMM:
        """Fit on the rows with ``fit_start_ns <= ts_ns <= fit_end_ns`` and nothing else.

        Parameters
        ----------
        features
            ``(n, n_features)`` causal features (``regime_features``), rows in time order.
        ts_ns
            ``(n,)`` nanosecond timestamps of the rows.
        fit_start_ns, fit_end_ns
            The window, both ends included.

        Returns
        -------
        FittedGaussianHMM
            Parameters in label order, the window and a content-hash version.

        Raises
        ------
        InvalidValueError
            If the shapes disagree, a configured column does not exist, the window is
            reversed, or it holds fewer than ``min_fit_rows`` usable rows.
        DataIntegrityError
            If the window's timestamps are not increasing or a row after the warm-up holds
            a NaN or an infinity.
        RegimeFitError
            If a feature is constant over the window or EM produced invalid parameters.
        """
        # hmmlearn is imported here: it pulls in scikit-learn, which the rest of the
        # package (and the rule-based classifier) does not need.
        from hmmlearn.hmm import GaussianHMM

        threadpoolctl = importlib.import_module("threadpoolctl")  # scikit-learn's, untyped

        config = self.config
        rows = _as_features(features)
        times = np.asarray(ts_ns, dtype=np.int64)
        if times.ndim != 1 or len(times) != len(rows):
            raise InvalidValueError(
                f"{times.shape} timestamps do not match {rows.shape[0]} feature rows"
            )
        n_features = rows.shape[1]
        for name, column in (
            ("return_column", config.return_column),
            ("volatility_column", config.volatility_column),
        ):
            if column is not None and column >= n_features:
                raise InvalidValueError(
                    f"HMM {name} {column} does not exist in features with {n_features} columns"
                )
        if fit_end_ns < fit_start_ns:
            raise InvalidValueError(f"fit window ends at {fit_end_ns} before {fit_start_ns}")
        window = _select_window(rows, times, int(fit_start_ns), int(fit_end_ns))
        if len(window) < config.min_fit_rows:
            raise InvalidValueError(
                f"fit window [{fit_start_ns}, {fit_end_ns}] holds {len(window)} usable rows; "
                f"{config.model_id} needs at least {config.min_fit_rows}"
            )
        center = window.mean(axis=0)
        scale = window.std(axis=0)
        constant = np.flatnonzero(~(scale > 0.0))
        if constant.size:
            raise RegimeFitError(
                f"feature column {int(constant[0])} is constant over the fit window "
                f"[{fit_start_ns}, {fit_end_ns}]"
            )
        standardized = np.ascontiguousarray((window - center) / scale)
        hmm = GaussianHMM(
            n_components=config.n_states,
            covariance_type=config.covariance_type,
            min_covar=config.min_covar,
            n_iter=config.n_iter,
            tol=config.tol,
            random_state=config.seed,
            params="stmc",
            init_params="stmc",
            implementation="log",
        )
        # One BLAS/OpenMP thread: k-means (OpenMP) and hmmlearn (BLAS) otherwise fight over
        # the cores (a 60x slowdown measured on 2 cores), and a single thread makes the fit
        # independent of the machine's thread count.
        with threadpoolctl.threadpool_limits(limits=1):
            hmm.fit(standardized)
        startprob = np.asarray(hmm.startprob_, dtype=np.float64)
        transmat = np.asarray(hmm.transmat_, dtype=np.float64)
        means = np.asarray(hmm.means_, dtype=np.float64)
        covariances = np.asarray(hmm.covars_, dtype=np.float64)
        for name, array in (
            ("start probabilities", startprob),
            ("transition matrix", transmat),
            ("means", means),
            ("covariances", covariances),
        ):
            if not np.isfinite(array).all():
                raise RegimeFitError(
                    f"HMM EM produced non-finite {name} on window [{fit_start_ns}, {fit_end_ns}]"
                )
        order = _state_order(means, covariances, config.return_column, config.volatility_column)
        # hmmlearn's ``monitor_.converged`` is also true when EM merely ran out of
        # iterations; converged here means the last gain was below ``tol``.
        history = list(hmm.monitor_.history)
        converged = len(history) >= 2 and history[-1] - history[-2] < config.tol
        return FittedGaussianHMM(
            config=config,
            fit_window=FitWindow(int(fit_start_ns), int(fit_end_ns), len(window)),
            center=center,
            scale=scale,
            startprob=startprob[order],
            transmat=transmat[np.ix_(order, order)],
            means=means[order],
            covariances=covariances[order],
            converged=converged,
            n_iter_run=int(hmm.monitor_.iter),
            log_likelihood=float(history[-1]) if history else math.nan,
        )

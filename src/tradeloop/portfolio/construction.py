"""Target construction: from expected returns (or scores) and a covariance to target weights.

Weights are fractions of equity, one per asset, in the caller's asset order; a negative
weight is a short. Covariances are per bar (of the returns they were estimated from);
``annualization_factor`` converts volatilities where a target is annual.

Covariance estimators
    ``sample_covariance`` (ddof 1 by default) and ``ledoit_wolf_covariance`` (shrinkage
    towards a scaled identity, Ledoit and Wolf 2004, the same estimator and conventions as
    scikit-learn's ``LedoitWolf``: centred data, the biased 1/T sample covariance).

Heuristics (closed form or Newton, no solver)
    ``inverse_volatility_weights``, ``risk_parity_weights`` (equal risk contributions, or
    any risk budget: the convex problem of Spinu (2013), ``min 1/2 y'Sy - sum b_i log y_i``,
    solved by damped Newton to machine precision, then ``w = y / sum(y)``) and
    ``volatility_target_weights`` (scale to an annual volatility, capped in gross).

Optimizers
    ``minimum_variance_weights``, ``mean_variance_weights`` and ``project_to_constraints``
    are in ``portfolio.optimize`` (cvxpy); they take ``PortfolioConstraints`` from here and
    raise the errors below: ``InfeasibleConstraintsError`` naming the constraint no weights
    can meet, ``OptimizationError`` with the solver and its status (never a silent
    fallback).
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError, InvalidValueError, TradeloopError

__all__ = [
    "FEASIBILITY_TOLERANCE",
    "InfeasibleConstraintsError",
    "LedoitWolfEstimate",
    "OptimizationError",
    "PortfolioConstraints",
    "PortfolioConstructionError",
    "inverse_volatility_weights",
    "ledoit_wolf_covariance",
    "portfolio_volatility",
    "risk_contributions",
    "risk_parity_weights",
    "sample_covariance",
    "volatility_target_weights",
]

F64 = npt.NDArray[np.float64]

FEASIBILITY_TOLERANCE: Final = 1e-7
"""Largest violation of a gross, net or turnover bound accepted from a solver (weight units).
Per-asset bounds are exact: solutions are clipped to them."""

# Newton stops when g' H^-1 g (scaled units) is rounding noise or a step no longer decreases
# the objective; the result is then accepted if every risk contribution is within
# _RISK_PARITY_ACCEPT of its budget.
_NEWTON_DECREMENT_FLOOR: Final = 1e-30
_RISK_PARITY_ACCEPT: Final = 1e-9


class PortfolioConstructionError(TradeloopError):
    """Target weights could not be constructed."""


class InfeasibleConstraintsError(PortfolioConstructionError):
    """No weights satisfy the constraints; ``constraint`` names the one that cannot be met."""

    def __init__(self, constraint: str, message: str) -> None:
        super().__init__(f"{constraint}: {message}")
        self.constraint = constraint


class OptimizationError(PortfolioConstructionError):
    """A solver failed or returned an unusable solution; ``status`` is the solver's status."""

    def __init__(self, solver: str, status: str, message: str) -> None:
        super().__init__(f"solver {solver} returned status {status}: {message}")
        self.solver = solver
        self.status = status


class PortfolioConstraints(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Constraints of the optimizers. Defaults: long-only, fully invested, no leverage.

    Attributes
    ----------
    max_abs_weight : largest ``|w_i|`` of any asset.
    allow_short : whether weights may be negative.
    max_gross_exposure : largest ``sum |w_i|``.
    min_net_exposure, max_net_exposure : bounds of ``sum w_i`` (``0, 0`` for dollar
        neutral). A lower bound on gross exposure is not offered: it is not convex.
    max_turnover : largest ``sum |w_i - current_i|``; ``None`` for no limit (a limit needs
        the current weights).

    Raises
    ------
    ConfigError
        If a bound is not finite or the bounds contradict each other whatever the assets.
    """

    max_abs_weight: float = 1.0
    allow_short: bool = False
    max_gross_exposure: float = 1.0
    min_net_exposure: float = 1.0
    max_net_exposure: float = 1.0
    max_turnover: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_abs_weight", "max_gross_exposure", "min_net_exposure"):
            _finite_config(name, getattr(self, name))
        _finite_config("max_net_exposure", self.max_net_exposure)
        if self.max_abs_weight <= 0.0:
            raise ConfigError(f"max_abs_weight {self.max_abs_weight!r} must be above 0")
        if self.max_gross_exposure <= 0.0:
            raise ConfigError(f"max_gross_exposure {self.max_gross_exposure!r} must be above 0")
        if self.min_net_exposure > self.max_net_exposure:
            raise ConfigError(
                f"min_net_exposure {self.min_net_exposure!r} exceeds "
                f"max_net_exposure {self.max_net_exposure!r}"
            )
        if not self.allow_short and self.max_net_exposure < 0.0:
            raise ConfigError(
                f"max_net_exposure {self.max_net_exposure!r} is below 0 without allow_short"
            )
        if self.min_net_exposure > self.max_gross_exposure:
            raise ConfigError(
                f"min_net_exposure {self.min_net_exposure!r} exceeds max_gross_exposure "
                f"{self.max_gross_exposure!r}: net exposure is at most the gross"
            )
        if self.max_net_exposure < -self.max_gross_exposure:
            raise ConfigError(
                f"max_net_exposure {self.max_net_exposure!r} is below minus max_gross_exposure "
                f"{self.max_gross_exposure!r}: net exposure is at least minus the gross"
            )
        if self.max_turnover is not None:
            _finite_config("max_turnover", self.max_turnover)
            if self.max_turnover < 0.0:
                raise ConfigError(f"max_turnover {self.max_turnover!r} must be 0 or above")


def _finite_config(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"portfolio constraint {name} {value!r} must be a finite number")


def _vector(name: str, values: npt.ArrayLike, size: int | None = None) -> F64:
    array = np.array(values, dtype=np.float64, copy=True)
    if array.ndim != 1:
        raise InvalidValueError(f"{name} has shape {array.shape}; it must be one-dimensional")
    if size is not None and len(array) != size:
        raise InvalidValueError(f"{name} has {len(array)} values for {size} assets")
    if not np.isfinite(array).all():
        raise InvalidValueError(f"{name} holds a NaN or an infinity")
    return array


def _covariance(covariance: npt.ArrayLike) -> F64:
    matrix = np.array(covariance, dtype=np.float64, copy=True)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise InvalidValueError(f"covariance has shape {matrix.shape}; it must be square (n, n)")
    if not np.isfinite(matrix).all():
        raise InvalidValueError("covariance holds a NaN or an infinity")
    scale = max(float(np.max(np.abs(np.diag(matrix)))), np.finfo(np.float64).tiny)
    if not np.allclose(matrix, matrix.T, rtol=0.0, atol=1e-12 * scale):
        raise InvalidValueError("covariance is not symmetric")
    if np.any(np.diag(matrix) < 0.0):
        raise InvalidValueError("covariance has a negative variance on its diagonal")
    return np.asarray((matrix + matrix.T) / 2.0, dtype=np.float64)


def _volatilities(covariance: F64) -> F64:
    variances = np.diag(covariance)
    zero = np.flatnonzero(variances <= 0.0)
    if zero.size:
        raise InvalidValueError(
            f"asset {int(zero[0])} has zero variance; its volatility cannot weight it"
        )
    return np.asarray(np.sqrt(variances), dtype=np.float64)


# -- covariance estimators -----------------------------------------------------------------------


class LedoitWolfEstimate(NamedTuple):
    """A Ledoit-Wolf covariance and its shrinkage intensity (0: sample, 1: scaled identity)."""

    covariance: F64
    shrinkage: float


def _returns_matrix(returns: npt.ArrayLike, minimum_rows: int) -> F64:
    matrix = np.array(returns, dtype=np.float64, copy=True)
    if matrix.ndim != 2:
        raise InvalidValueError(
            f"returns have shape {matrix.shape}; they must be (observations, assets)"
        )
    if matrix.shape[0] < minimum_rows or matrix.shape[1] == 0:
        raise InvalidValueError(
            f"returns have {matrix.shape[0]} observations of {matrix.shape[1]} assets; "
            f"a covariance needs at least {minimum_rows} observations and one asset"
        )
    if not np.isfinite(matrix).all():
        raise InvalidValueError("returns hold a NaN or an infinity")
    return matrix


def sample_covariance(returns: npt.ArrayLike, ddof: int = 1) -> F64:
    """Return the sample covariance of ``returns`` (rows are observations, columns assets).

    Parameters
    ----------
    returns
        ``(T, n)`` per-bar returns.
    ddof
        Delta degrees of freedom: 1 (unbiased, default) or 0.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` covariance per bar.

    Raises
    ------
    InvalidValueError
        If ``returns`` is not a finite 2-D array with more than ``ddof`` rows, or ``ddof``
        is not 0 or 1.
    """
    if ddof not in (0, 1) or isinstance(ddof, bool):
        raise InvalidValueError(f"sample covariance ddof {ddof!r} must be 0 or 1")
    matrix = _returns_matrix(returns, ddof + 1)
    centred = matrix - matrix.mean(axis=0)
    return np.asarray(centred.T @ centred / (len(matrix) - ddof), dtype=np.float64)


def ledoit_wolf_covariance(returns: npt.ArrayLike) -> LedoitWolfEstimate:
    """Return the Ledoit-Wolf shrunk covariance of ``returns`` and its shrinkage.

    ``(1 - s) * S + s * mu * I`` with ``S`` the biased (1/T) covariance of the centred
    returns, ``mu = trace(S) / n`` and ``s`` Ledoit and Wolf's (2004) optimal intensity,
    clipped to [0, 1]; scikit-learn's ``LedoitWolf`` gives the same values.

    Parameters
    ----------
    returns
        ``(T, n)`` per-bar returns, ``T >= 2``.

    Returns
    -------
    LedoitWolfEstimate
        The ``(n, n)`` covariance per bar and the shrinkage.

    Raises
    ------
    InvalidValueError
        If ``returns`` is not a finite 2-D array with at least 2 rows.
    """
    matrix = _returns_matrix(returns, 2)
    n_samples, n_features = matrix.shape
    centred = matrix - matrix.mean(axis=0)
    sample = centred.T @ centred / n_samples
    mu = float(np.trace(sample)) / n_features
    if n_features == 1:
        return LedoitWolfEstimate(np.asarray(sample, dtype=np.float64), 0.0)
    squared = centred**2
    beta_sum = float(np.sum(squared.T @ squared))
    delta_sum = float(np.sum((centred.T @ centred) ** 2)) / n_samples**2
    beta = (beta_sum / n_samples - delta_sum) / (n_features * n_samples)
    delta = (delta_sum - 2.0 * mu * float(np.trace(sample)) + n_features * mu**2) / n_features
    beta = min(beta, delta)
    shrinkage = 0.0 if beta == 0.0 else beta / delta
    shrunk = (1.0 - shrinkage) * sample
    shrunk.flat[:: n_features + 1] += shrinkage * mu
    return LedoitWolfEstimate(np.asarray(shrunk, dtype=np.float64), float(shrinkage))


# -- risk measures -------------------------------------------------------------------------------


def portfolio_volatility(
    weights: npt.ArrayLike, covariance: npt.ArrayLike, annualization_factor: float = 1.0
) -> float:
    """Return ``sqrt(w' S w * annualization_factor)``.

    Raises
    ------
    InvalidValueError
        If the shapes disagree, a value is not finite, or ``annualization_factor`` is not
        above 0.
    """
    matrix = _covariance(covariance)
    w = _vector("weights", weights, len(matrix))
    if not 0.0 < annualization_factor < math.inf:
        raise InvalidValueError(f"annualization_factor {annualization_factor!r} must be above 0")
    return math.sqrt(max(float(w @ matrix @ w), 0.0) * annualization_factor)


def risk_contributions(weights: npt.ArrayLike, covariance: npt.ArrayLike) -> F64:
    """Return each asset's share of the portfolio variance, ``w_i (S w)_i / w' S w`` (sum 1).

    Raises
    ------
    InvalidValueError
        If the shapes disagree, a value is not finite, or the portfolio variance is 0.
    """
    matrix = _covariance(covariance)
    w = _vector("weights", weights, len(matrix))
    marginal = matrix @ w
    variance = float(w @ marginal)
    if variance <= 0.0:
        raise InvalidValueError("portfolio variance is 0: risk contributions are undefined")
    return np.asarray(w * marginal / variance, dtype=np.float64)


# -- heuristics ----------------------------------------------------------------------------------


def inverse_volatility_weights(
    covariance: npt.ArrayLike, scores: npt.ArrayLike | None = None
) -> F64:
    """Return weights proportional to ``1 / volatility``, with gross exposure 1.

    Parameters
    ----------
    covariance
        ``(n, n)`` covariance; every variance must be above 0.
    scores
        Optional signal per asset: its sign sets the direction of the asset (0 leaves it
        out). Without scores every weight is positive.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` weights, ``sum |w| = 1`` (all zero when every score is 0).

    Raises
    ------
    InvalidValueError
        If the covariance is invalid or an asset has zero variance.
    """
    matrix = _covariance(covariance)
    inverse = 1.0 / _volatilities(matrix)
    if scores is not None:
        inverse = inverse * np.sign(_vector("scores", scores, len(matrix)))
    gross = float(np.sum(np.abs(inverse)))
    if gross == 0.0:
        return np.zeros(len(matrix))
    return np.asarray(inverse / gross, dtype=np.float64)


def risk_parity_weights(
    covariance: npt.ArrayLike,
    risk_budgets: npt.ArrayLike | None = None,
    *,
    tolerance: float = 1e-10,
    max_iterations: int = 100,
) -> F64:
    """Return long-only weights whose risk contributions equal ``risk_budgets`` (sum 1).

    Solves Spinu's convex problem ``min 1/2 y' S y - sum b_i log y_i`` (``y > 0``) by damped
    Newton steps from the inverse-volatility point; its unique minimizer has ``y_i (S y)_i =
    b_i``, so ``w = y / sum(y)`` has risk contributions ``b``.

    Parameters
    ----------
    covariance
        ``(n, n)`` positive semidefinite covariance with positive variances.
    risk_budgets
        Target share of risk per asset, each > 0; equal (1/n) by default. Normalized to 1.
    tolerance
        Stop when every risk contribution is within ``tolerance`` of its budget.
    max_iterations
        Newton iterations before giving up.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` weights, each > 0, summing to 1.

    Raises
    ------
    InvalidValueError
        If the covariance is invalid, an asset has zero variance, or a budget is not > 0.
    OptimizationError
        If Newton stops (status ``max_iterations`` or ``stalled``) with a risk contribution
        further than ``max(tolerance, 1e-9)`` from its budget, e.g. when a long-only
        combination of the assets has zero variance.
    """
    matrix = _covariance(covariance)
    n = len(matrix)
    volatility = _volatilities(matrix)
    if risk_budgets is None:
        budgets = np.full(n, 1.0 / n)
    else:
        budgets = _vector("risk_budgets", risk_budgets, n)
        if np.any(budgets <= 0.0):
            raise InvalidValueError("risk budgets must all be above 0")
        budgets = budgets / budgets.sum()
    scaled = matrix / float(np.mean(np.diag(matrix)))
    y = np.sqrt(budgets) / (volatility / math.sqrt(float(np.mean(np.diag(matrix)))))
    y = y / math.sqrt(float(y @ scaled @ y))

    def objective(point: F64) -> float:
        return 0.5 * float(point @ scaled @ point) - float(budgets @ np.log(point))

    error = math.inf
    status = "max_iterations"
    for _ in range(max_iterations):
        marginal = scaled @ y
        contributions = y * marginal
        error = float(np.max(np.abs(contributions / contributions.sum() - budgets)))
        if error <= tolerance:
            status = "converged"
            break
        gradient = marginal - budgets / y
        hessian = scaled + np.diag(budgets / y**2)
        step = np.linalg.solve(hessian, gradient)
        decrement = float(gradient @ step)
        if decrement <= _NEWTON_DECREMENT_FLOOR:
            status = "stalled"  # at the optimum to machine precision
            break
        length = 1.0
        candidate = y - step
        if decrement < 1e-10 and np.all(candidate > 0.0):
            # Quadratic region: the objective no longer resolves the decrease in floating
            # point, so the line search would stall; a full Newton step is exact here.
            y = candidate
            continue
        current = objective(y)
        while not (
            np.all(candidate > 0.0) and objective(candidate) <= current - 1e-4 * length * decrement
        ):
            length *= 0.5
            if length < 1e-12:
                break
            candidate = y - length * step
        if length < 1e-12:
            status = "stalled"  # rounding: no step decreases the objective any more
            break
        y = candidate
    marginal = scaled @ y
    contributions = y * marginal
    error = float(np.max(np.abs(contributions / contributions.sum() - budgets)))
    if error > max(tolerance, _RISK_PARITY_ACCEPT):
        raise OptimizationError(
            "newton",
            status,
            f"risk parity stopped with a largest risk contribution error of {error:.3g}",
        )
    return np.asarray(y / y.sum(), dtype=np.float64)


def volatility_target_weights(
    weights: npt.ArrayLike,
    covariance: npt.ArrayLike,
    target_volatility: float,
    *,
    annualization_factor: float = 252.0,
    max_gross_exposure: float | None = None,
) -> F64:
    """Return ``weights`` scaled so that the portfolio's annual volatility is the target.

    The scale is ``target_volatility / portfolio_volatility(weights, covariance,
    annualization_factor)``, reduced if needed so that ``sum |w|`` stays within
    ``max_gross_exposure``. Zero weights stay zero.

    Parameters
    ----------
    weights
        ``(n,)`` unscaled weights (their direction and proportions are kept).
    covariance
        ``(n, n)`` covariance per bar.
    target_volatility
        Annualized volatility to reach (0.10 for 10 %), >= 0.
    annualization_factor
        Bars per year of the covariance (252 for daily bars).
    max_gross_exposure
        Optional cap on the scaled gross exposure.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` scaled weights.

    Raises
    ------
    InvalidValueError
        If an input is invalid, or non-zero weights have zero variance (any scale would
        miss a positive target).
    """
    matrix = _covariance(covariance)
    w = _vector("weights", weights, len(matrix))
    if not 0.0 <= target_volatility < math.inf:
        raise InvalidValueError(f"target_volatility {target_volatility!r} must be 0 or above")
    if max_gross_exposure is not None and not 0.0 <= max_gross_exposure < math.inf:
        raise InvalidValueError(f"max_gross_exposure {max_gross_exposure!r} must be 0 or above")
    gross = float(np.sum(np.abs(w)))
    if gross == 0.0:
        return w
    volatility = portfolio_volatility(w, matrix, annualization_factor)
    if volatility == 0.0:
        raise InvalidValueError("the weights have zero volatility; no scale reaches the target")
    scale = target_volatility / volatility
    if max_gross_exposure is not None:
        scale = min(scale, max_gross_exposure / gross)
    return np.asarray(w * scale, dtype=np.float64)


# -- optimizers ----------------------------------------------------------------------------------

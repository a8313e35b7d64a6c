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

Optimizers (cvxpy, Clarabel by default)
    ``minimum_variance_weights``, ``mean_variance_weights`` and ``project_to_constraints``
    (the feasible weights nearest to any target, e.g. a heuristic's) under
    ``PortfolioConstraints``: ``|w_i| <= max_abs_weight`` (and ``w_i >= 0`` unless
    ``allow_short``), ``sum |w_i| <= max_gross_exposure``, ``min_net_exposure <= sum w_i <=
    max_net_exposure`` and ``sum |w_i - current_i| <= max_turnover``. The risk term is
    ``||F w||^2`` with ``F'F`` the covariance (from its eigendecomposition, so a covariance
    that is only positive semidefinite is accepted), scaled to order 1 for the solver.

Errors
    Constraints that no weights can meet raise ``InfeasibleConstraintsError`` naming the
    constraint (box, gross and net bounds are checked in closed form before solving; the
    turnover limit by solving for the smallest turnover that the other constraints allow).
    Any solver status other than optimal, or a solution that breaks a constraint by more
    than ``FEASIBILITY_TOLERANCE``, raises ``OptimizationError`` with the solver and its
    status: never a silent fallback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, NamedTuple

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
    "mean_variance_weights",
    "minimum_variance_weights",
    "portfolio_volatility",
    "project_to_constraints",
    "risk_contributions",
    "risk_parity_weights",
    "sample_covariance",
    "volatility_target_weights",
]

F64 = npt.NDArray[np.float64]

FEASIBILITY_TOLERANCE: Final = 1e-7
"""Largest violation of a gross, net or turnover bound accepted from a solver (weight units).
Per-asset bounds are exact: solutions are clipped to them."""

_PSD_TOLERANCE: Final = 1e-10
_DEFAULT_SOLVER: Final = "CLARABEL"
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


def _cvxpy() -> Any:
    # cvxpy is imported on first use: importing it takes seconds, which modules that only
    # need the heuristics or the estimators should not pay. Typed as Any: its stubs are
    # partial.
    import cvxpy

    return cvxpy


# -- inputs ---------------------------------------------------------------------------------------


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


def _risk_factor(covariance: F64) -> tuple[F64, float]:
    # Return F with F'F = covariance / scale, and scale (the mean variance), for an O(1) problem.
    scale = float(np.mean(np.diag(covariance)))
    if scale <= 0.0:
        raise InvalidValueError("covariance is zero: every asset has zero variance")
    eigenvalues, eigenvectors = np.linalg.eigh(covariance / scale)
    smallest = float(eigenvalues[0])
    if smallest < -_PSD_TOLERANCE * max(1.0, float(eigenvalues[-1])):
        raise InvalidValueError(
            f"covariance is not positive semidefinite: smallest eigenvalue {smallest * scale!r}"
        )
    roots = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return np.asarray(roots[:, None] * eigenvectors.T, dtype=np.float64), scale


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


def _check_box_gross_net(n: int, constraints: PortfolioConstraints) -> None:
    # The net exposures any weights within the box and the gross cap can reach form the
    # interval [-reach, reach] (or [0, reach] long-only); it must meet [min_net, max_net].
    reach = min(n * constraints.max_abs_weight, constraints.max_gross_exposure)
    lowest = -reach if constraints.allow_short else 0.0
    if constraints.min_net_exposure > reach:
        raise InfeasibleConstraintsError(
            "min_net_exposure",
            f"min_net_exposure {constraints.min_net_exposure} cannot be reached: {n} assets "
            f"with max_abs_weight {constraints.max_abs_weight} and max_gross_exposure "
            f"{constraints.max_gross_exposure} reach a net exposure of at most {reach}",
        )
    if constraints.max_net_exposure < lowest:
        raise InfeasibleConstraintsError(
            "max_net_exposure",
            f"max_net_exposure {constraints.max_net_exposure} cannot be reached: {n} assets "
            f"with max_abs_weight {constraints.max_abs_weight} and max_gross_exposure "
            f"{constraints.max_gross_exposure} reach a net exposure of at least {lowest}",
        )


def _constraint_list(
    w: Any, constraints: PortfolioConstraints, current: F64 | None, *, with_turnover: bool
) -> list[Any]:
    cp = _cvxpy()
    limit = constraints.max_abs_weight
    out = [w <= limit, w >= (-limit if constraints.allow_short else 0.0)]
    # Long-only, the gross exposure is the (linear) sum: no auxiliary variables for |w|.
    gross = cp.norm1(w) if constraints.allow_short else cp.sum(w)
    out.append(gross <= constraints.max_gross_exposure)
    out.append(cp.sum(w) >= constraints.min_net_exposure)
    out.append(cp.sum(w) <= constraints.max_net_exposure)
    if with_turnover and constraints.max_turnover is not None and current is not None:
        out.append(cp.norm1(w - current) <= constraints.max_turnover)
    return out


def _status_ok(problem: Any) -> bool:
    cp = _cvxpy()
    return bool(problem.status == cp.OPTIMAL)


def _run(problem: Any, solver: str) -> None:
    cp = _cvxpy()
    try:
        problem.solve(solver=solver)
    except cp.error.SolverError as error:
        raise OptimizationError(solver, "solver_error", str(error)) from error


def _check_turnover(
    n: int, constraints: PortfolioConstraints, current: F64 | None, solver: str
) -> None:
    # Solve for the smallest turnover the other constraints allow; name the limit if it is
    # below that.
    cp = _cvxpy()
    if constraints.max_turnover is None:
        return
    if current is None:
        raise InvalidValueError("max_turnover needs current_weights")
    w = cp.Variable(n)
    problem = cp.Problem(
        cp.Minimize(cp.norm1(w - current)),
        _constraint_list(w, constraints, current, with_turnover=False),
    )
    _run(problem, solver)
    if not _status_ok(problem):
        raise OptimizationError(solver, str(problem.status), "smallest-turnover problem failed")
    smallest = float(problem.value)
    if smallest > constraints.max_turnover + FEASIBILITY_TOLERANCE:
        raise InfeasibleConstraintsError(
            "max_turnover",
            f"max_turnover {constraints.max_turnover} cannot be met: the other constraints "
            f"need a turnover of at least {smallest:.6g} from the current weights",
        )


def _verify(
    w: F64, constraints: PortfolioConstraints, current: F64 | None, solver: str, status: str
) -> F64:
    # Clip to the per-asset box (exact), then check the other bounds within tolerance.
    limit = constraints.max_abs_weight
    clipped = np.clip(w, -limit if constraints.allow_short else 0.0, limit)
    if float(np.max(np.abs(clipped - w))) > FEASIBILITY_TOLERANCE:
        raise OptimizationError(solver, status, "solution breaks the per-asset bounds")
    gross = float(np.sum(np.abs(clipped)))
    net = float(np.sum(clipped))
    tolerance = FEASIBILITY_TOLERANCE
    checks = [
        ("max_gross_exposure", gross - constraints.max_gross_exposure),
        ("min_net_exposure", constraints.min_net_exposure - net),
        ("max_net_exposure", net - constraints.max_net_exposure),
    ]
    if constraints.max_turnover is not None and current is not None:
        turnover = float(np.sum(np.abs(clipped - current)))
        checks.append(("max_turnover", turnover - constraints.max_turnover))
    for name, excess in checks:
        if excess > tolerance:
            raise OptimizationError(solver, status, f"solution breaks {name} by {excess:.3g}")
    return np.asarray(clipped, dtype=np.float64)


def _optimize(
    n: int,
    build_objective: Callable[[Any], Any],
    constraints: PortfolioConstraints,
    current_weights: npt.ArrayLike | None,
    solver: str,
) -> F64:
    cp = _cvxpy()
    current = None if current_weights is None else _vector("current_weights", current_weights, n)
    _check_box_gross_net(n, constraints)
    _check_turnover(n, constraints, current, solver)
    w = cp.Variable(n)
    problem = cp.Problem(
        build_objective(w), _constraint_list(w, constraints, current, with_turnover=True)
    )
    _run(problem, solver)
    status = str(problem.status)
    if not _status_ok(problem) or w.value is None:
        raise OptimizationError(solver, status, "no optimal solution")
    solution = np.asarray(w.value, dtype=np.float64)
    if not np.isfinite(solution).all():
        raise OptimizationError(solver, status, "solution holds a NaN or an infinity")
    return _verify(solution, constraints, current, solver, status)


def minimum_variance_weights(
    covariance: npt.ArrayLike,
    constraints: PortfolioConstraints,
    current_weights: npt.ArrayLike | None = None,
    *,
    solver: str = _DEFAULT_SOLVER,
) -> F64:
    """Return the weights of least variance ``w' S w`` under ``constraints``.

    Parameters
    ----------
    covariance
        ``(n, n)`` positive semidefinite covariance.
    constraints
        Per-asset, gross, net and turnover bounds (the net bounds set the budget: with
        ``min_net_exposure`` 0 the answer is all cash).
    current_weights
        ``(n,)`` current weights, needed by a turnover limit.
    solver
        cvxpy solver name (Clarabel by default).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` weights.

    Raises
    ------
    InvalidValueError
        If an input is invalid (shapes, NaN, a covariance that is not PSD) or a turnover
        limit has no current weights.
    InfeasibleConstraintsError
        If no weights satisfy the constraints (names the constraint).
    OptimizationError
        If the solver fails or its solution breaks a constraint.
    """
    cp = _cvxpy()
    matrix = _covariance(covariance)
    factor, _ = _risk_factor(matrix)
    return _optimize(
        len(matrix),
        lambda w: cp.Minimize(cp.sum_squares(factor @ w)),
        constraints,
        current_weights,
        solver,
    )


def mean_variance_weights(
    expected_returns: npt.ArrayLike,
    covariance: npt.ArrayLike,
    constraints: PortfolioConstraints,
    current_weights: npt.ArrayLike | None = None,
    *,
    risk_aversion: float = 1.0,
    solver: str = _DEFAULT_SOLVER,
) -> F64:
    """Return the weights maximizing ``mu' w - risk_aversion / 2 * w' S w`` under ``constraints``.

    Parameters
    ----------
    expected_returns
        ``(n,)`` expected returns per bar (or scores on the same scale as the covariance).
    covariance
        ``(n, n)`` positive semidefinite covariance per bar.
    constraints
        Per-asset, gross, net and turnover bounds.
    current_weights
        ``(n,)`` current weights, needed by a turnover limit.
    risk_aversion
        Weight of the variance, > 0.
    solver
        cvxpy solver name (Clarabel by default).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` weights.

    Raises
    ------
    InvalidValueError
        If an input is invalid or ``risk_aversion`` is not above 0.
    InfeasibleConstraintsError
        If no weights satisfy the constraints (names the constraint).
    OptimizationError
        If the solver fails or its solution breaks a constraint.
    """
    cp = _cvxpy()
    matrix = _covariance(covariance)
    mu = _vector("expected_returns", expected_returns, len(matrix))
    if not 0.0 < risk_aversion < math.inf:
        raise InvalidValueError(f"risk_aversion {risk_aversion!r} must be a finite number above 0")
    factor, scale = _risk_factor(matrix)
    # Divide the whole objective by the mean variance: same argmax, an O(1) problem.
    scaled_mu = mu / scale
    return _optimize(
        len(matrix),
        lambda w: cp.Minimize(0.5 * risk_aversion * cp.sum_squares(factor @ w) - scaled_mu @ w),
        constraints,
        current_weights,
        solver,
    )


def project_to_constraints(
    target_weights: npt.ArrayLike,
    constraints: PortfolioConstraints,
    current_weights: npt.ArrayLike | None = None,
    *,
    solver: str = _DEFAULT_SOLVER,
) -> F64:
    """Return the weights nearest to ``target_weights`` (least squares) within ``constraints``.

    Use it to make any heuristic's weights (inverse volatility, risk parity, volatility
    targeting) respect the per-asset, gross, net and turnover bounds.

    Parameters
    ----------
    target_weights
        ``(n,)`` weights to approach.
    constraints
        Per-asset, gross, net and turnover bounds.
    current_weights
        ``(n,)`` current weights, needed by a turnover limit.
    solver
        cvxpy solver name (Clarabel by default).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` feasible weights.

    Raises
    ------
    InvalidValueError
        If an input is invalid or a turnover limit has no current weights.
    InfeasibleConstraintsError
        If no weights satisfy the constraints (names the constraint).
    OptimizationError
        If the solver fails or its solution breaks a constraint.
    """
    cp = _cvxpy()
    target = _vector("target_weights", target_weights)
    return _optimize(
        len(target),
        lambda w: cp.Minimize(cp.sum_squares(w - target)),
        constraints,
        current_weights,
        solver,
    )

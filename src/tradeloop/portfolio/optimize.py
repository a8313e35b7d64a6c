"""Optimizers (cvxpy, Clarabel by default): target weights under ``PortfolioConstraints``.

``minimum_variance_weights``, ``mean_variance_weights`` and ``project_to_constraints`` (the
feasible weights nearest to any target, e.g. a heuristic's of ``portfolio.construction``):
``|w_i| <= max_abs_weight`` (and ``w_i >= 0`` unless ``allow_short``), ``sum |w_i| <=
max_gross_exposure``, ``min_net_exposure <= sum w_i <= max_net_exposure`` and ``sum |w_i -
current_i| <= max_turnover``. The risk term is ``||F w||^2`` with ``F'F`` the covariance (from
its eigendecomposition, so a covariance that is only positive semidefinite is accepted),
scaled to order 1 for the solver.

Constraints that no weights can meet raise ``InfeasibleConstraintsError`` naming the
constraint (box, gross and net bounds are checked in closed form before solving; the turnover
limit by solving for the smallest turnover that the other constraints allow). Any solver
status other than optimal, or a solution that breaks a constraint by more than
``FEASIBILITY_TOLERANCE``, raises ``OptimizationError`` with the solver and its status: never a
silent fallback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError
from tradeloop.portfolio.construction import (
    FEASIBILITY_TOLERANCE,
    InfeasibleConstraintsError,
    OptimizationError,
    PortfolioConstraints,
    _covariance,
    _vector,
)

__all__ = ["mean_variance_weights", "minimum_variance_weights", "project_to_constraints"]

F64 = npt.NDArray[np.float64]

_PSD_TOLERANCE: Final = 1e-10
_DEFAULT_SOLVER: Final = "CLARABEL"


def _cvxpy() -> Any:
    # cvxpy is imported on first use: importing it takes seconds, which modules that only
    # need the heuristics or the estimators should not pay. Typed as Any: its stubs are
    # partial.
    import cvxpy

    return cvxpy


# -- inputs ---------------------------------------------------------------------------------------


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

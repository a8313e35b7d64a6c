"""Almgren–Chriss optimal execution with linear permanent and temporary impact.

Source: Almgren and Chriss (2000), "Optimal execution of portfolio transactions", Journal of
Risk 3(2), 5–39.

Trade ``X`` units over ``T`` days in ``N`` intervals of ``tau = T / N``. Holdings left to
trade are ``x_0 = X, ..., x_N = 0``; the trade in interval ``k`` is ``n_k = x_{k-1} - x_k``.
Prices move as ``S_k = S_{k-1} + sigma * sqrt(tau) * xi_k - tau * g(n_k / tau)`` and each
trade pays a temporary concession ``h(n_k / tau)``, with

- permanent impact ``g(v) = gamma * v`` (``gamma``: price per unit traded),
- temporary impact ``h(v) = epsilon * sign(v) + eta * v`` (``eta``: price per unit/day),
- ``sigma``: price volatility in currency per unit per sqrt(day) (a daily return volatility
  times the price).

The implementation shortfall of a trajectory has (``eta~ = eta - gamma * tau / 2``)

    E = gamma * X**2 / 2 + epsilon * sum|n_k| + (eta~ / tau) * sum n_k**2
    V = sigma**2 * tau * sum_{k=1..N} x_k**2

The trajectory that minimises ``E + lambda * V`` is

    x_j = X * sinh(kappa * (T - t_j)) / sinh(kappa * T),    t_j = j * tau
    n_j = X * 2 sinh(kappa * tau / 2) / sinh(kappa * T) * cosh(kappa * (T - t_{j-1/2}))

where ``kappa`` solves ``2 / tau**2 * (cosh(kappa * tau) - 1) = kappa~**2 = lambda *
sigma**2 / eta~``, i.e. ``kappa = 2 / tau * asinh(kappa~ * tau / 2)`` (``kappa -> kappa~``
as ``tau -> 0``). When ``lambda -> 0``, ``kappa -> 0`` and the trajectory tends to the
straight line ``x_j = X * (1 - j / N)`` (TWAP). Its expected cost and variance in closed
form are in ``optimal_cost_closed_form``.

Coefficients: the rule of thumb of the paper's numerical example is ``epsilon`` = half the
bid-ask spread, ``eta`` such that trading 1 % of the daily volume per day costs one spread,
and ``gamma`` such that trading 10 % of the daily volume moves the price permanently by one
spread (``almgren_chriss_rule_of_thumb``).
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError, InvalidValueError

__all__ = [
    "AlmgrenChrissConfig",
    "ExecutionTrajectory",
    "almgren_chriss_expected_cost",
    "almgren_chriss_kappa",
    "almgren_chriss_rule_of_thumb",
    "almgren_chriss_variance",
    "linear_trajectory",
    "optimal_cost_closed_form",
    "optimal_trajectory",
]

_F64 = npt.NDArray[np.float64]


class AlmgrenChrissConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Impact coefficients and risk aversion of the Almgren–Chriss model.

    Attributes
    ----------
    permanent_impact : gamma, price per unit traded (non-negative).
    temporary_impact : eta, price per (unit per day) (positive).
    fixed_cost : epsilon, price per unit: half the spread plus fees (non-negative).
    risk_aversion : lambda, per unit of currency: the weight of the variance (currency
        squared) against the expected cost (non-negative; 0 is risk-neutral and gives TWAP).
    """

    permanent_impact: float
    temporary_impact: float
    fixed_cost: float = 0.0
    risk_aversion: float = 0.0

    def __post_init__(self) -> None:
        for name, value in (
            ("permanent_impact", self.permanent_impact),
            ("fixed_cost", self.fixed_cost),
            ("risk_aversion", self.risk_aversion),
        ):
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"Almgren-Chriss {name} {value} must be finite and >= 0")
        if not math.isfinite(self.temporary_impact) or self.temporary_impact <= 0:
            raise ConfigError(
                f"Almgren-Chriss temporary_impact {self.temporary_impact} must be positive"
            )


class ExecutionTrajectory(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A trading trajectory and its Almgren–Chriss cost.

    Attributes
    ----------
    times_days : ``t_k = k * tau`` for k = 0..N.
    holdings : units left to trade ``x_k`` for k = 0..N (``x_0 = X``, ``x_N = 0``).
    trades : units traded in each interval ``n_k`` for k = 1..N.
    kappa_per_day : the urgency ``kappa`` (0 for TWAP).
    expected_cost : E, expected implementation shortfall in currency.
    variance : V, variance of the shortfall in currency squared.
    objective : ``E + lambda * V``.
    """

    times_days: tuple[float, ...]
    holdings: tuple[float, ...]
    trades: tuple[float, ...]
    kappa_per_day: float
    expected_cost: float
    variance: float
    objective: float


def _check_problem(
    quantity: float, horizon_days: float, intervals: int, daily_price_volatility: float
) -> float:
    if not math.isfinite(quantity) or quantity < 0:
        raise InvalidValueError(f"quantity {quantity} must be finite and non-negative")
    if not math.isfinite(horizon_days) or horizon_days <= 0:
        raise InvalidValueError(f"horizon {horizon_days} days must be finite and positive")
    if isinstance(intervals, bool) or intervals < 1:
        raise InvalidValueError(f"intervals {intervals} must be a positive integer")
    if not math.isfinite(daily_price_volatility) or daily_price_volatility < 0:
        raise InvalidValueError(
            f"price volatility {daily_price_volatility} must be finite and non-negative"
        )
    return horizon_days / intervals


def _eta_tilde(config: AlmgrenChrissConfig, tau_days: float) -> float:
    eta_tilde = config.temporary_impact - config.permanent_impact * tau_days / 2
    if eta_tilde <= 0:
        raise InvalidValueError(
            f"temporary impact {config.temporary_impact} must exceed permanent impact "
            f"{config.permanent_impact} * tau {tau_days} / 2 for the cost to be convex"
        )
    return eta_tilde


def almgren_chriss_kappa(
    horizon_days: float, intervals: int, daily_price_volatility: float, config: AlmgrenChrissConfig
) -> float:
    """Return the urgency ``kappa`` (per day) of the optimal trajectory.

    ``kappa = 2 / tau * asinh(kappa~ * tau / 2)`` with ``kappa~ = sqrt(lambda * sigma**2 /
    eta~)``: the exact solution of ``2 / tau**2 * (cosh(kappa * tau) - 1) = kappa~**2``,
    written without the cancellation of ``cosh - 1`` for small ``kappa``.

    Raises
    ------
    InvalidValueError
        If the inputs are invalid or ``eta <= gamma * tau / 2``.
    """
    tau = _check_problem(0.0, horizon_days, intervals, daily_price_volatility)
    eta_tilde = _eta_tilde(config, tau)
    kappa_tilde = math.sqrt(config.risk_aversion * daily_price_volatility**2 / eta_tilde)
    return 2 / tau * math.asinh(kappa_tilde * tau / 2)


def almgren_chriss_expected_cost(
    trades: npt.ArrayLike, horizon_days: float, config: AlmgrenChrissConfig
) -> float:
    """Return the expected shortfall ``E`` of a trade list, in currency.

    ``E = gamma * X**2 / 2 + epsilon * sum|n_k| + (eta~ / tau) * sum n_k**2`` with
    ``X = sum n_k`` and ``tau = horizon_days / len(trades)``.

    Raises
    ------
    InvalidValueError
        If the trade list is empty or not finite, or ``eta <= gamma * tau / 2``.
    """
    n = np.asarray(trades, dtype=np.float64)
    if n.ndim != 1 or n.size == 0 or not np.all(np.isfinite(n)):
        raise InvalidValueError("trades must be a non-empty one-dimensional finite array")
    tau = _check_problem(0.0, horizon_days, int(n.size), 0.0)
    eta_tilde = _eta_tilde(config, tau)
    total = float(n.sum())
    return (
        config.permanent_impact * total**2 / 2
        + config.fixed_cost * float(np.abs(n).sum())
        + eta_tilde / tau * float(np.dot(n, n))
    )


def almgren_chriss_variance(
    holdings: npt.ArrayLike, horizon_days: float, daily_price_volatility: float
) -> float:
    """Return the shortfall variance ``V = sigma**2 * tau * sum_{k>=1} x_k**2``.

    ``holdings`` are ``x_0..x_N`` (``x_0``, the starting position, carries no risk in the
    variance and is excluded: the last ``N`` holdings bear the ``N`` price moves).

    Raises
    ------
    InvalidValueError
        If fewer than two holdings are given or an input is not finite.
    """
    x = np.asarray(holdings, dtype=np.float64)
    if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)):
        raise InvalidValueError("holdings must be a finite one-dimensional array of x_0..x_N")
    tau = _check_problem(0.0, horizon_days, int(x.size - 1), daily_price_volatility)
    rest = x[1:]
    return daily_price_volatility**2 * tau * float(np.dot(rest, rest))


def _trajectory(
    holdings: _F64,
    horizon_days: float,
    daily_price_volatility: float,
    kappa: float,
    config: AlmgrenChrissConfig,
) -> ExecutionTrajectory:
    intervals = holdings.size - 1
    trades = holdings[:-1] - holdings[1:]
    expected = almgren_chriss_expected_cost(trades, horizon_days, config)
    variance = almgren_chriss_variance(holdings, horizon_days, daily_price_volatility)
    times = np.arange(intervals + 1, dtype=np.float64) * (horizon_days / intervals)
    return ExecutionTrajectory(
        times_days=tuple(times.tolist()),
        holdings=tuple(holdings.tolist()),
        trades=tuple(trades.tolist()),
        kappa_per_day=kappa,
        expected_cost=expected,
        variance=variance,
        objective=expected + config.risk_aversion * variance,
    )


def linear_trajectory(
    quantity: float,
    horizon_days: float,
    intervals: int,
    daily_price_volatility: float,
    config: AlmgrenChrissConfig,
) -> ExecutionTrajectory:
    """Return the straight-line (TWAP) trajectory ``x_j = X * (1 - j / N)`` and its cost.

    Raises
    ------
    InvalidValueError
        If the inputs are invalid or ``eta <= gamma * tau / 2``.
    """
    _check_problem(quantity, horizon_days, intervals, daily_price_volatility)
    remaining = intervals - np.arange(intervals + 1, dtype=np.float64)
    holdings = quantity * remaining / intervals
    return _trajectory(holdings, horizon_days, daily_price_volatility, 0.0, config)


def optimal_trajectory(
    quantity: float,
    horizon_days: float,
    intervals: int,
    daily_price_volatility: float,
    config: AlmgrenChrissConfig,
) -> ExecutionTrajectory:
    """Return the Almgren–Chriss trajectory that minimises ``E + lambda * V``.

    Parameters
    ----------
    quantity : X, units to trade (absolute; a buy program uses the same schedule).
    horizon_days : T, the time allowed, in days.
    intervals : N, the number of trading intervals.
    daily_price_volatility : sigma in currency per unit per sqrt(day).
    config : gamma, eta, epsilon and lambda.

    Returns
    -------
    ExecutionTrajectory
        Holdings from ``sinh(kappa (T - t_j)) / sinh(kappa T)`` (evaluated in a form that
        neither overflows nor cancels), trades as their differences, and ``E``, ``V``
        summed exactly over the trajectory; they equal ``optimal_cost_closed_form``.

    Raises
    ------
    InvalidValueError
        If the inputs are invalid or ``eta <= gamma * tau / 2``.
    """
    _check_problem(quantity, horizon_days, intervals, daily_price_volatility)
    kappa = almgren_chriss_kappa(horizon_days, intervals, daily_price_volatility, config)
    if kappa == 0:
        return linear_trajectory(quantity, horizon_days, intervals, daily_price_volatility, config)
    times = np.arange(intervals + 1, dtype=np.float64) * (horizon_days / intervals)
    remaining = kappa * (horizon_days - times)
    total = kappa * horizon_days
    # sinh(a) / sinh(b) = exp(a - b) * (1 - exp(-2a)) / (1 - exp(-2b)), stable for all a, b > 0.
    ratio = np.exp(remaining - total) * (-np.expm1(-2 * remaining)) / (-math.expm1(-2 * total))
    holdings = quantity * ratio
    holdings[0], holdings[-1] = quantity, 0.0
    return _trajectory(holdings, horizon_days, daily_price_volatility, kappa, config)


def optimal_cost_closed_form(
    quantity: float,
    horizon_days: float,
    intervals: int,
    daily_price_volatility: float,
    config: AlmgrenChrissConfig,
) -> tuple[float, float]:
    """Return ``(E, V)`` of the optimal trajectory in closed form (Almgren and Chriss 2000).

    ::

        E = gamma X**2 / 2 + epsilon X + eta~ X**2 tanh(kappa tau / 2)
            * (tau sinh(2 kappa T) + 2 T sinh(kappa tau)) / (2 tau**2 sinh(kappa T)**2)
        V = sigma**2 X**2 / 2 * (tau sinh(kappa T) cosh(kappa (T - tau)) - T sinh(kappa tau))
            / (sinh(kappa T)**2 sinh(kappa tau))

    and, for ``kappa = 0`` (TWAP), ``E = gamma X**2 / 2 + epsilon X + eta~ X**2 / T`` and
    ``V = sigma**2 X**2 T / 3 * (1 - 1/N) * (1 - 1/(2N))``. The hyperbolic terms are
    rewritten with ``coth`` and ``csch`` so that large ``kappa T`` does not overflow; ``V``
    loses relative accuracy when ``kappa T`` is below about 1e-4 (two terms of order
    ``1 / kappa**2`` cancel), where the exact sums of ``optimal_trajectory`` should be used.

    Raises
    ------
    InvalidValueError
        If the inputs are invalid or ``eta <= gamma * tau / 2``.
    """
    tau = _check_problem(quantity, horizon_days, intervals, daily_price_volatility)
    eta_tilde = _eta_tilde(config, tau)
    kappa = almgren_chriss_kappa(horizon_days, intervals, daily_price_volatility, config)
    x, big_t, sigma = quantity, horizon_days, daily_price_volatility
    fixed = config.permanent_impact * x**2 / 2 + config.fixed_cost * x
    if kappa == 0:
        n = intervals
        expected = fixed + eta_tilde * x**2 / big_t
        variance = sigma**2 * x**2 * big_t / 3 * (1 - 1 / n) * (1 - 1 / (2 * n))
        return expected, variance
    kt, ktau = kappa * big_t, kappa * tau
    csch_kt = 2 * math.exp(-kt) / (-math.expm1(-2 * kt))
    coth_kt = (1 + math.exp(-2 * kt)) / (-math.expm1(-2 * kt))
    # (tau sinh(2kT) + 2T sinh(k tau)) / sinh(kT)^2 = 2 tau coth(kT) + 2T sinh(k tau) csch(kT)^2
    bracket = 2 * tau * coth_kt + 2 * big_t * math.sinh(ktau) * csch_kt**2
    expected = fixed + eta_tilde * x**2 * math.tanh(ktau / 2) * bracket / (2 * tau**2)
    # cosh(k(T - tau)) / sinh(kT) = (exp(-k tau) + exp(-k(2T - tau))) / (1 - exp(-2kT))
    cosh_over_sinh = (math.exp(-ktau) + math.exp(-(2 * kt - ktau))) / (-math.expm1(-2 * kt))
    variance = sigma**2 * x**2 / 2 * (tau * cosh_over_sinh / math.sinh(ktau) - big_t * csch_kt**2)
    return expected, variance


def almgren_chriss_rule_of_thumb(
    spread: float, average_daily_volume: float, risk_aversion: float = 0.0
) -> AlmgrenChrissConfig:
    """Return the coefficients of the paper's numerical example for a spread and an ADV.

    ``epsilon = spread / 2``; ``eta = spread / (0.01 * ADV)`` (trading 1 % of the daily volume
    per day costs one spread); ``gamma = spread / (0.1 * ADV)`` (trading 10 % of the daily
    volume moves the price permanently by one spread). ``spread`` is in currency per unit.

    Raises
    ------
    InvalidValueError
        If ``spread`` or ``average_daily_volume`` is not positive.
    """
    if not math.isfinite(spread) or spread <= 0:
        raise InvalidValueError(f"spread {spread} must be finite and positive")
    if not math.isfinite(average_daily_volume) or average_daily_volume <= 0:
        raise InvalidValueError(
            f"average daily volume {average_daily_volume} must be finite and positive"
        )
    return AlmgrenChrissConfig(
        permanent_impact=spread / (0.1 * average_daily_volume),
        temporary_impact=spread / (0.01 * average_daily_volume),
        fixed_cost=spread / 2,
        risk_aversion=risk_aversion,
    )

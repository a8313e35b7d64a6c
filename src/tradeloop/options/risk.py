"""Portfolio risk of stocks and options: full revaluation, Greeks, VaR/CVaR, stress tests.

A :class:`RiskPortfolio` is a set of :class:`RiskPosition` (a linear position in a risk
factor, or an option on one) and a :class:`RiskMarket` (the factors' spots, the rate, the
dividend yields). It revalues the whole book under any array of scenarios at once (NumPy:
one pricing call per option position), which gives

- historical simulation (Hull's method: each past ``h``-day return applied to today's spots,
  every option repriced),
- delta-normal and delta-gamma VaR from the book's aggregated sensitivities
  (:mod:`tradeloop.analytics.portfolio_var`, conventions there),
- Monte Carlo full revaluation: correlated log-returns ``x ~ N(0, h Sigma)`` from the caller's
  seeded generator, spots ``S exp(x)``, every option repriced,
- stress tests (:mod:`tradeloop.options.stress`): spot, parallel vol and rate shocks and
  calendar days of decay, each position's P&L.

Pricing: European options by Black-Scholes-Merton, American ones by Barone-Adesi-Whaley
(``tradeloop.options.american_price``); an option at or past expiry is worth its intrinsic
value. A shocked vol is floored at ``MIN_VOL``. VaR scenarios move spots only (vols, rates and
time are held: the market risk of the spot moves; stress scenarios move the rest).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.portfolio_var import (
    VarResult,
    correlated_normals,
    delta_gamma_var,
    parametric_var,
    scenario_var,
)
from tradeloop.core.errors import InvalidValueError
from tradeloop.options.american import american_greeks, american_price
from tradeloop.options.european import greeks, price

F64 = npt.NDArray[np.float64]

MIN_VOL = 1e-4
"""The floor of a shocked volatility (a vol shock may not make a vol negative)."""

__all__ = [
    "MIN_VOL",
    "PositionRisk",
    "RiskMarket",
    "RiskPortfolio",
    "RiskPosition",
    "Sensitivities",
]


@dataclass(frozen=True, slots=True)
class RiskPosition:
    """One position: ``quantity`` units of a risk factor, or of an option on one.

    A linear position (``option_type`` None) is in the factor ``instrument_id`` itself (a
    stock, a future, a coin), worth ``quantity * multiplier * spot``. An option position is on
    ``underlying_id`` with ``strike``, ``t`` (years to expiry), ``sigma`` (its implied vol),
    ``option_type`` ``"call"``/``"put"`` and ``exercise`` ``"european"``/``"american"``, worth
    ``quantity * multiplier * price``. Quantities are signed (short < 0).
    """

    instrument_id: str
    quantity: float
    multiplier: float = 1.0
    underlying_id: str | None = None
    option_type: str | None = None
    strike: float = math.nan
    t: float = math.nan
    sigma: float = math.nan
    exercise: str = "european"

    def __post_init__(self) -> None:
        if not math.isfinite(self.quantity):
            raise InvalidValueError(
                f"position {self.instrument_id}: quantity {self.quantity} must be finite"
            )
        if not self.multiplier > 0:
            raise InvalidValueError(
                f"position {self.instrument_id}: multiplier {self.multiplier} must be > 0"
            )
        if self.option_type is None:
            return
        if self.option_type not in ("call", "put"):
            raise InvalidValueError(
                f"position {self.instrument_id}: option_type {self.option_type!r} must be "
                "'call' or 'put'"
            )
        if not self.underlying_id:
            raise InvalidValueError(f"option position {self.instrument_id} needs an underlying_id")
        if self.exercise not in ("european", "american"):
            raise InvalidValueError(
                f"option position {self.instrument_id}: exercise {self.exercise!r} must be "
                "'european' or 'american'"
            )
        for name in ("strike", "sigma"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidValueError(
                    f"option position {self.instrument_id}: {name} {value} must be > 0"
                )
        if not math.isfinite(self.t):
            raise InvalidValueError(
                f"option position {self.instrument_id}: t {self.t} must be finite"
            )

    @property
    def is_option(self) -> bool:
        """Return True for an option position."""
        return self.option_type is not None

    @property
    def factor(self) -> str:
        """Return the risk factor the position moves with (its underlying, or itself)."""
        return self.underlying_id if self.underlying_id else self.instrument_id


@dataclass(frozen=True, slots=True)
class RiskMarket:
    """The market the book is valued in: spot per risk factor, the rate, dividend yields.

    ``r`` and the yields are continuously compounded per year, as the pricing functions take.
    """

    spots: Mapping[str, float]
    r: float = 0.0
    dividend_yields: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for factor, spot in self.spots.items():
            if not (math.isfinite(spot) and spot > 0):
                raise InvalidValueError(f"spot of {factor} is {spot}; it must be a positive number")
        if not math.isfinite(self.r):
            raise InvalidValueError(f"rate r {self.r} must be finite")


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """One position's value and money Greeks (per unit return for delta and gamma)."""

    instrument_id: str
    factor: str
    quantity: float
    value: float
    delta_money: float
    gamma_money: float
    vega: float
    theta: float
    rho: float


@dataclass(frozen=True, slots=True)
class Sensitivities:
    """The book's sensitivities by risk factor (``factors`` order).

    ``delta`` is the money P&L per unit return of each factor (``sum q m S dV/dS``: a stock
    position's value), ``gamma`` the diagonal matrix ``sum q m S^2 d2V/dS2`` (money per unit
    return squared; options on one factor have no cross gamma); ``vega`` money per 1.00 vol
    (all vols in parallel), ``theta`` money per year, ``rho`` money per 1.00 of rate.
    """

    factors: tuple[str, ...]
    spots: F64
    delta: F64
    gamma: F64
    vega: float
    theta: float
    rho: float
    positions: tuple[PositionRisk, ...]


class RiskPortfolio:
    """A book of stock and option positions, revalued under scenarios (module docstring).

    Raises
    ------
    InvalidValueError
        If a position's risk factor has no spot in ``market``, or the book is empty.
    """

    def __init__(self, positions: Sequence[RiskPosition], market: RiskMarket) -> None:
        if not positions:
            raise InvalidValueError("the portfolio has no positions: there is no risk to measure")
        missing = sorted({p.factor for p in positions} - set(market.spots))
        if missing:
            raise InvalidValueError(
                f"no spot for risk factor(s) {', '.join(missing)}: give RiskMarket.spots for "
                "every position's underlying"
            )
        self.positions = tuple(positions)
        self.market = market
        self.factors: tuple[str, ...] = tuple(sorted({p.factor for p in positions}))
        self._index = {f: i for i, f in enumerate(self.factors)}
        self.spots = np.array([market.spots[f] for f in self.factors], dtype=np.float64)

    # -- valuation ----------------------------------------------------------------------------

    def _position_values(
        self,
        position: RiskPosition,
        spot: F64,
        vol_shift: float,
        rate_shift: float,
        days: float,
        days_per_year: float,
    ) -> F64:
        units = position.quantity * position.multiplier
        if not position.is_option:
            return units * spot
        assert position.option_type is not None
        t = position.t - days / days_per_year
        if t <= 0.0:
            sign = 1.0 if position.option_type == "call" else -1.0
            return units * np.maximum(sign * (spot - position.strike), 0.0)
        q = self.market.dividend_yields.get(position.factor, 0.0)
        sigma = max(position.sigma + vol_shift, MIN_VOL)
        pricer = american_price if position.exercise == "american" else price
        values = pricer(
            spot=spot,
            strike=position.strike,
            t=t,
            r=self.market.r + rate_shift,
            q=q,
            sigma=sigma,
            option_type=position.option_type,
        )
        return units * np.asarray(values, dtype=np.float64)

    def position_values(
        self,
        returns: npt.ArrayLike | None = None,
        *,
        vol_shift: float = 0.0,
        rate_shift: float = 0.0,
        days: float = 0.0,
        days_per_year: float = 365.0,
    ) -> F64:
        """Return each position's value in each scenario, shape ``(n_scenarios, n_positions)``.

        ``returns`` are simple returns of the factors, ``(n_scenarios, n_factors)`` in
        ``factors`` order (None: today's spots, one scenario); ``vol_shift`` is added to every
        option's vol, ``rate_shift`` to the rate, ``days`` (calendar days over
        ``days_per_year``) taken off every expiry.
        """
        if returns is None:
            moves = np.zeros((1, len(self.factors)))
        else:
            moves = np.atleast_2d(np.asarray(returns, dtype=np.float64))
            if moves.shape[1] != len(self.factors):
                raise InvalidValueError(
                    f"scenario returns have {moves.shape[1]} columns; the book has "
                    f"{len(self.factors)} risk factors ({', '.join(self.factors)})"
                )
            if np.any(moves <= -1.0) or not np.all(np.isfinite(moves)):
                raise InvalidValueError("scenario returns must be finite and above -100 %")
        spots = self.spots * (1.0 + moves)
        out = np.empty((moves.shape[0], len(self.positions)))
        for column, position in enumerate(self.positions):
            out[:, column] = self._position_values(
                position,
                spots[:, self._index[position.factor]],
                vol_shift,
                rate_shift,
                days,
                days_per_year,
            )
        return out

    def value(self) -> float:
        """Return the book's value at today's market."""
        return float(self.position_values().sum())

    def scenario_pnl(self, returns: npt.ArrayLike) -> F64:
        """Return the book's P&L under each row of factor ``returns`` (full revaluation)."""
        return np.asarray(self.position_values(returns).sum(axis=1) - self.value())

    # -- sensitivities ------------------------------------------------------------------------

    def sensitivities(self) -> Sensitivities:
        """Return the book's money Greeks by factor and by position (:class:`Sensitivities`)."""
        n = len(self.factors)
        delta, gamma = np.zeros(n), np.zeros((n, n))
        vega = theta = rho = 0.0
        rows = []
        for position in self.positions:
            i = self._index[position.factor]
            spot = float(self.spots[i])
            units = position.quantity * position.multiplier
            if not position.is_option or position.t <= 0.0:
                if position.is_option:  # expired: its intrinsic value's slope
                    assert position.option_type is not None
                    sign = 1.0 if position.option_type == "call" else -1.0
                    in_money = sign * (spot - position.strike) > 0
                    d, g, v, th, rh, val = (
                        sign * in_money,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        max(sign * (spot - position.strike), 0.0),
                    )
                else:
                    d, g, v, th, rh, val = 1.0, 0.0, 0.0, 0.0, 0.0, spot
            else:
                assert position.option_type is not None
                q = self.market.dividend_yields.get(position.factor, 0.0)
                strike, t, r, vol = position.strike, position.t, self.market.r, position.sigma
                if position.exercise == "american":
                    a = american_greeks(
                        spot=spot,
                        strike=strike,
                        t=t,
                        r=r,
                        q=q,
                        sigma=vol,
                        option_type=position.option_type,
                        method="baw",
                    )
                    d, g, v, th, rh, val = a.delta, a.gamma, a.vega, a.theta, a.rho, a.price
                else:
                    e = greeks(
                        spot=spot,
                        strike=strike,
                        t=t,
                        r=r,
                        q=q,
                        sigma=vol,
                        option_type=position.option_type,
                        order=1,
                    )
                    d, g, v, th, rh, val = e.delta, e.gamma, e.vega, e.theta, e.rho, e.price
            row = PositionRisk(
                instrument_id=position.instrument_id,
                factor=position.factor,
                quantity=position.quantity,
                value=units * val,
                delta_money=units * d * spot,
                gamma_money=units * g * spot * spot,
                vega=units * v,
                theta=units * th,
                rho=units * rh,
            )
            rows.append(row)
            delta[i] += row.delta_money
            gamma[i, i] += row.gamma_money
            vega += row.vega
            theta += row.theta
            rho += row.rho
        return Sensitivities(
            self.factors, self.spots.copy(), delta, gamma, vega, theta, rho, tuple(rows)
        )

    # -- value at risk ------------------------------------------------------------------------

    def historical_var(
        self, returns: npt.ArrayLike, confidence: float = 0.99, *, horizon_days: int = 1
    ) -> VarResult:
        """Return historical-simulation VaR/CVaR with full revaluation.

        ``returns`` are the factors' past one-day simple returns, ``(n_days, n_factors)``,
        oldest first. For ``horizon_days`` > 1 each scenario is an overlapping
        ``horizon_days``-day compounded return (``n_days - horizon_days + 1`` scenarios).
        """
        history = self._history(returns, "historical VaR")
        h = int(horizon_days)
        if h < 1 or h != horizon_days:
            raise InvalidValueError(f"horizon_days {horizon_days!r} must be a whole number >= 1")
        if h > 1:
            if len(history) < h:
                raise InvalidValueError(
                    f"historical VaR over {h} days needs at least {h} daily returns; "
                    f"got {len(history)}"
                )
            growth = np.cumprod(1.0 + history, axis=0)
            growth = np.vstack([np.ones((1, history.shape[1])), growth])
            history = growth[h:] / growth[:-h] - 1.0
        return scenario_var(
            self.scenario_pnl(history), confidence, method="historical", horizon_days=h
        )

    def parametric_var(
        self, covariance: npt.ArrayLike, confidence: float = 0.99, *, horizon_days: float = 1.0
    ) -> VarResult:
        """Return delta-normal VaR/CVaR from the book's deltas and the daily return covariance."""
        return parametric_var(
            self.sensitivities().delta, covariance, confidence, horizon_days=horizon_days
        )

    def delta_gamma_var(
        self, covariance: npt.ArrayLike, confidence: float = 0.99, *, horizon_days: float = 1.0
    ) -> VarResult:
        """Return delta-gamma (Cornish-Fisher) VaR/CVaR from the book's deltas and gammas."""
        s = self.sensitivities()
        return delta_gamma_var(s.delta, s.gamma, covariance, confidence, horizon_days=horizon_days)

    def monte_carlo_var(
        self,
        covariance: npt.ArrayLike,
        confidence: float = 0.99,
        *,
        rng: np.random.Generator,
        paths: int = 20_000,
        horizon_days: float = 1.0,
    ) -> VarResult:
        """Return Monte Carlo VaR/CVaR with full revaluation of every path.

        Log-returns ``x ~ N(0, horizon_days * covariance)`` from ``rng`` (seeded by the
        caller: the same seed gives the same figure), spots ``S exp(x)``.
        """
        cov = np.atleast_2d(np.asarray(covariance, dtype=np.float64)) * float(horizon_days)
        draws = correlated_normals(cov, paths, rng)
        result = scenario_var(
            self.scenario_pnl(np.expm1(draws)),
            confidence,
            method="monte_carlo",
            horizon_days=horizon_days,
        )
        return result

    def _history(self, returns: npt.ArrayLike, what: str) -> F64:
        values = np.atleast_2d(np.asarray(returns, dtype=np.float64))
        if values.ndim != 2 or values.shape[1] != len(self.factors):
            raise InvalidValueError(
                f"{what}: returns have shape {values.shape}; give (days, {len(self.factors)}) "
                f"columns in the order {', '.join(self.factors)}"
            )
        if not np.all(np.isfinite(values)):
            raise InvalidValueError(f"{what}: returns hold NaN or infinite values")
        return values

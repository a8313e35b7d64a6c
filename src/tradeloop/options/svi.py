"""Raw SVI smiles per expiry and no-arbitrage checks that report each violation.

Raw SVI (Gatheral 2004) gives the total implied variance ``w = sigma_iv^2 t`` at log-moneyness
``k = ln(K/F)``::

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))

:func:`fit_svi` fits one expiry to the out-of-the-money mids, each weighted by its bid-ask
spread (wide quotes count less), with the quasi-explicit method (closed-form linear part,
grid search on ``m`` and ``sigma``) under ``b >= 0``, ``|rho| < 1`` and
``a + b sigma sqrt(1 - rho^2) >= 0`` (non-negative variance).

Checks (Gatheral & Jacquier 2014):

- butterfly: the density ``g(k) = (1 - k w'/(2w))^2 - w'^2/4 (1/w + 1/4) + w''/2`` must be
  >= 0; every grid point where it is negative is reported;
- calendar: total variance must not decrease with maturity at fixed ``k``; every grid point
  and pair of consecutive expiries where it does is reported;
- on quotes (model-free): call prices must be convex in strike (a butterfly of three
  consecutive strikes with a negative mid value) and not increase with strike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np
from numpy.typing import NDArray

from tradeloop.core.errors import InvalidValueError
from tradeloop.options.chain import ChainVols

FloatArray = NDArray[np.float64]
MIN_VOL_SPREAD = 0.002  # floor of a quote's bid-ask spread in vol, so one quote cannot dominate
_GRID = 25  # points per axis of each (m, sigma) search level


@dataclass(frozen=True, slots=True)
class SVIParams:
    """Raw SVI parameters of one expiry (total variance in years x vol^2)."""

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def total_variance(self, k: FloatArray | float) -> FloatArray:
        """Return ``w(k)`` at log-moneyness ``k = ln(K/F)``."""
        shifted = np.asarray(k, dtype=np.float64) - self.m
        result: FloatArray = self.a + self.b * (
            self.rho * shifted + np.sqrt(shifted * shifted + self.sigma * self.sigma)
        )
        return result

    def implied_vol(self, k: FloatArray | float, t: float) -> FloatArray:
        """Return the implied vol ``sqrt(w(k) / t)`` (NaN where ``w`` < 0)."""
        w = self.total_variance(k)
        result: FloatArray = np.sqrt(np.where(w >= 0, w, np.nan) / t)
        return result

    def density(self, k: FloatArray | float) -> FloatArray:
        """Return Gatheral's ``g(k)``: negative means butterfly arbitrage at ``k``."""
        shifted = np.asarray(k, dtype=np.float64) - self.m
        root = np.sqrt(shifted * shifted + self.sigma * self.sigma)
        w = self.total_variance(k)
        w1 = self.b * (self.rho + shifted / root)
        w2 = self.b * self.sigma * self.sigma / root**3
        kk = np.asarray(k, dtype=np.float64)
        result: FloatArray = (
            (1.0 - kk * w1 / (2.0 * w)) ** 2 - w1 * w1 / 4.0 * (1.0 / w + 0.25) + w2 / 2.0
        )
        return result


@dataclass(frozen=True, slots=True)
class SVISlice:
    """One expiry's fit: parameters, the quotes it used and its weighted error."""

    expiry: np.datetime64
    t: float
    forward: float
    params: SVIParams
    log_moneyness: FloatArray
    iv_mid: FloatArray
    vol_spread: FloatArray
    rmse_vol: float
    within_spread: float  # fraction of fitted vols inside the quotes' bid-ask in vol


@dataclass(frozen=True, slots=True)
class ArbitrageViolation:
    """One range (or quote) where a smile or the quotes break a no-arbitrage condition.

    ``kind``: "butterfly" (negative density of the fitted smile of ``expiry`` for
    log-moneyness from ``log_moneyness_from`` to ``log_moneyness_to``), "calendar" (total
    variance of ``expiry`` above that of ``later_expiry`` over that range),
    "quote_butterfly" (a butterfly centred at ``strike`` that earns money at the quoted bid and
    ask) or "quote_monotonic" (an option priced below a cheaper-payoff neighbour at
    ``strike``); ``amount`` is by how much (density, total variance or price).
    """

    kind: str
    expiry: np.datetime64
    amount: float
    log_moneyness_from: float = math.nan
    log_moneyness_to: float = math.nan
    strike: float = math.nan
    later_expiry: np.datetime64 | None = None


@dataclass(frozen=True, slots=True)
class SurfaceFit:
    """Raw SVI slices of every expiry with enough quotes, earliest first."""

    slices: list[SVISlice]
    skipped: dict[str, str] = field(default_factory=dict)  # expiry -> why it was not fitted


@numba.njit(cache=True, fastmath=False, nogil=True)
def _profile(k: FloatArray, w: FloatArray, weight2: FloatArray, m: FloatArray,
             sigma: FloatArray) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    # For each candidate (m, sigma) the model a + d y + c z (y = k - m, z = sqrt(y^2 +
    # sigma^2)) is linear: solve its 3x3 weighted normal equations (Cramer's rule), then
    # score it. Invalid candidates cost inf: b = c >= 0, |rho| = |d / c| < 1, Lee's wing
    # bound b (1 + |rho|) <= 2, minimum variance a + sigma sqrt(c^2 - d^2) >= 0.
    count = m.shape[0]
    costs = np.full(count, np.inf)
    coefficients = np.zeros((count, 3))
    for p in range(count):
        s0 = sy = sz = syy = syz = szz = rw = ryw = rzw = 0.0
        for i in range(k.shape[0]):
            y = k[i] - m[p]
            z = math.sqrt(y * y + sigma[p] * sigma[p])
            wt = weight2[i]
            s0 += wt
            sy += wt * y
            sz += wt * z
            syy += wt * y * y
            syz += wt * y * z
            szz += wt * z * z
            rw += wt * w[i]
            ryw += wt * y * w[i]
            rzw += wt * z * w[i]
        det = s0 * (syy * szz - syz * syz) - sy * (sy * szz - syz * sz) + sz * (sy * syz - syy * sz)
        if not abs(det) > 1e-300:
            continue
        a = (rw * (syy * szz - syz * syz) - sy * (ryw * szz - syz * rzw)
             + sz * (ryw * syz - syy * rzw)) / det  # fmt: skip
        d = (s0 * (ryw * szz - rzw * syz) - rw * (sy * szz - syz * sz)
             + sz * (sy * rzw - ryw * sz)) / det  # fmt: skip
        c = (s0 * (syy * rzw - syz * ryw) - sy * (sy * rzw - ryw * sz)
             + rw * (sy * syz - syy * sz)) / det  # fmt: skip
        if not (c > 0.0 and abs(d) < c and c + abs(d) <= 2.0):
            continue
        if a + sigma[p] * math.sqrt(max(c * c - d * d, 0.0)) < 0.0:
            continue
        cost = 0.0
        for i in range(k.shape[0]):
            y = k[i] - m[p]
            residual = a + d * y + c * math.sqrt(y * y + sigma[p] * sigma[p]) - w[i]
            cost += weight2[i] * residual * residual
        costs[p] = cost
        coefficients[p, 0] = a
        coefficients[p, 1] = d
        coefficients[p, 2] = c
    return costs, coefficients


def fit_svi(
    log_moneyness: FloatArray,
    iv_mid: FloatArray,
    t: float,
    vol_spread: FloatArray | None = None,
) -> SVIParams:
    """Return the raw SVI parameters that best fit one expiry's implied vols.

    The quasi-explicit method (Zeliade 2009): for fixed ``(m, sigma)`` SVI is linear in
    ``(a, b rho, b)``, solved in closed form; ``(m, sigma)`` is searched on a grid refined
    four times around the best point. The fit is weighted least squares in total variance,
    each quote weighted by ``1 / (2 iv t spread)`` (its bid-ask spread in total variance),
    and keeps ``b >= 0``, ``|rho| < 1``, the variance ``>= 0`` and Lee's wing bound
    ``b (1 + |rho|) <= 2``.

    Parameters
    ----------
    log_moneyness : ndarray
        ``ln(K/F)`` of the quotes.
    iv_mid : ndarray
        Their mid implied vols.
    t : float
        Years to expiry.
    vol_spread : ndarray, optional
        Bid-ask spread of each quote in vol (floored at 0.002).

    Raises
    ------
    InvalidValueError
        With fewer than 5 finite quotes, a t <= 0, or when no candidate keeps the constraints.
    """
    k = np.asarray(log_moneyness, dtype=np.float64)
    iv = np.asarray(iv_mid, dtype=np.float64)
    spread = np.ones_like(iv) if vol_spread is None else np.asarray(vol_spread, dtype=np.float64)
    ok = np.isfinite(k) & np.isfinite(iv) & np.isfinite(spread) & (iv > 0)
    if ok.sum() < 5:
        raise InvalidValueError(f"an SVI fit needs 5 finite quotes, got {int(ok.sum())}")
    if not t > 0:
        raise InvalidValueError(f"t {t} must be > 0 for an SVI fit")
    k, iv, scale = k[ok], iv[ok], np.maximum(spread[ok], MIN_VOL_SPREAD)
    w = iv * iv * t
    weight2 = 1.0 / (2.0 * iv * t * scale) ** 2
    weight2 = weight2 / weight2.sum()
    span = max(k.max() - k.min(), 0.05)
    m_low, m_high = k.min() - 0.5 * span, k.max() + 0.5 * span
    log_s_low, log_s_high = math.log(1e-3 * span), math.log(2.0 * span)
    best = None
    for _ in range(5):
        m_axis = np.linspace(m_low, m_high, _GRID)
        s_axis = np.exp(np.linspace(log_s_low, log_s_high, _GRID))
        m_grid, s_grid = (axis.reshape(-1) for axis in np.meshgrid(m_axis, s_axis))
        cost, coefficients = _profile(k, w, weight2, m_grid, s_grid)
        index = int(np.argmin(cost))
        if not np.isfinite(cost[index]):
            break
        best = (m_grid[index], s_grid[index], coefficients[index])
        m_step = (m_high - m_low) / (_GRID - 1)
        s_step = (log_s_high - log_s_low) / (_GRID - 1)
        m_low, m_high = best[0] - 2.0 * m_step, best[0] + 2.0 * m_step
        log_s_low = math.log(best[1]) - 2.0 * s_step
        log_s_high = math.log(best[1]) + 2.0 * s_step
    if best is None:
        raise InvalidValueError("no SVI parameters keep b >= 0, |rho| < 1 and variance >= 0")
    m, sigma, (a, d, c) = best
    return SVIParams(float(a), float(c), float(d / c), float(m), float(sigma))


def fit_surface(vols: ChainVols, min_quotes: int = 8) -> SurfaceFit:
    """Fit a raw SVI smile to every expiry's out-of-the-money mids, weighted by spread.

    Quotes used: out-of-the-money side, bid > 0, finite bid, ask and mid vols. An expiry with
    fewer than ``min_quotes`` such quotes, or whose fit fails, is listed in ``skipped``.

    Examples
    --------
    >>> from tradeloop.options.chain import chain_implied_vols, load_spx_sample
    >>> surface = fit_surface(chain_implied_vols(load_spx_sample()))
    >>> len(surface.slices) >= 12
    True
    """
    chain = vols.chain
    usable = (
        vols.is_otm
        & (chain.bid > 0)
        & np.isfinite(vols.iv_mid)
        & np.isfinite(vols.iv_bid)
        & np.isfinite(vols.iv_ask)
    )
    slices: list[SVISlice] = []
    skipped: dict[str, str] = {}
    for expiry in chain.expiries():
        rows = usable & (chain.expiry == expiry)
        if rows.sum() < min_quotes:
            skipped[str(expiry)] = f"{int(rows.sum())} usable quotes, fewer than {min_quotes}"
            continue
        order = np.argsort(vols.log_moneyness[rows])
        k = vols.log_moneyness[rows][order]
        iv = vols.iv_mid[rows][order]
        spread = (vols.iv_ask - vols.iv_bid)[rows][order]
        t = float(vols.t[rows][0])
        try:
            params = fit_svi(k, iv, t, spread)
        except InvalidValueError as error:
            skipped[str(expiry)] = str(error)
            continue
        fitted = params.implied_vol(k, t)
        bid, ask = vols.iv_bid[rows][order], vols.iv_ask[rows][order]
        slices.append(
            SVISlice(
                expiry=expiry,
                t=t,
                forward=float(vols.forward[rows][0]),
                params=params,
                log_moneyness=k,
                iv_mid=iv,
                vol_spread=spread,
                rmse_vol=float(np.sqrt(np.mean((fitted - iv) ** 2))),
                within_spread=float(np.mean((fitted >= bid) & (fitted <= ask))),
            )
        )
    return SurfaceFit(slices, skipped)


def _ranges(
    grid: FloatArray, bad: NDArray[np.bool_], amount: FloatArray
) -> list[tuple[float, float, float]]:
    # contiguous runs of bad grid points as (first k, last k, largest amount)
    runs: list[tuple[float, float, float]] = []
    start = None
    for i in range(grid.shape[0] + 1):
        is_bad = i < grid.shape[0] and bool(bad[i])
        if is_bad and start is None:
            start = i
        elif not is_bad and start is not None:
            runs.append((float(grid[start]), float(grid[i - 1]), float(amount[start:i].max())))
            start = None
    return runs


def butterfly_violations(
    fit: SurfaceFit | SVISlice, log_moneyness: FloatArray | None = None
) -> list[ArbitrageViolation]:
    """Return each range of log-moneyness where a fitted smile's density ``g(k)`` is < 0.

    The grid defaults to 401 points across each slice's quoted range; one violation per
    contiguous range, ``amount`` the most negative density (as a positive number).
    """
    slices = fit.slices if isinstance(fit, SurfaceFit) else [fit]
    found: list[ArbitrageViolation] = []
    for piece in slices:
        grid = log_moneyness
        if grid is None:
            grid = np.linspace(piece.log_moneyness.min(), piece.log_moneyness.max(), 401)
        g = piece.params.density(grid)
        for low, high, amount in _ranges(grid, g < 0, -g):
            found.append(ArbitrageViolation("butterfly", piece.expiry, amount, low, high))
    return found


def calendar_violations(
    fit: SurfaceFit, log_moneyness: FloatArray | None = None, tolerance: float = 1e-10
) -> list[ArbitrageViolation]:
    """Return each range where total variance falls from one expiry to the next.

    Consecutive expiries are compared on 201 points across the log-moneyness both quoted
    (or on ``log_moneyness``); one violation per contiguous range, ``amount`` the largest
    drop of total variance.
    """
    found: list[ArbitrageViolation] = []
    for early, late in zip(fit.slices, fit.slices[1:], strict=False):
        grid = log_moneyness
        if grid is None:
            low = max(early.log_moneyness.min(), late.log_moneyness.min())
            high = min(early.log_moneyness.max(), late.log_moneyness.max())
            if high <= low:
                continue
            grid = np.linspace(low, high, 201)
        drop = early.params.total_variance(grid) - late.params.total_variance(grid)
        for first, last, amount in _ranges(grid, drop > tolerance, drop):
            found.append(
                ArbitrageViolation(
                    "calendar", early.expiry, amount, first, last, later_expiry=late.expiry
                )
            )
    return found


def quote_violations(vols: ChainVols) -> list[ArbitrageViolation]:
    """Return the model-free arbitrages in the quotes, at executable prices.

    Per expiry and option type, on strikes sorted ascending (only quotes with a bid):

    - monotonicity: a call must not cost less than a higher-strike call (a put less than a
      lower-strike put): reported where one's ask is below its neighbour's bid;
    - convexity: a butterfly bought at the wings' asks and sold at the body's bid,
      ``ask1 (K3-K2) - bid2 (K3-K1) + ask3 (K2-K1)``, must not have a negative cost.
    """
    chain = vols.chain
    found: list[ArbitrageViolation] = []
    for expiry in chain.expiries():
        for sign in (1, -1):
            rows = (chain.expiry == expiry) & (chain.option_type == sign) & (chain.bid > 0)
            if rows.sum() < 3:
                continue
            order = np.argsort(chain.strike[rows])
            strikes = chain.strike[rows][order]
            bid, ask = chain.bid[rows][order], chain.ask[rows][order]
            # calls fall with the strike, puts rise: the cheaper-payoff side must cost less
            gap = bid[1:] - ask[:-1] if sign > 0 else bid[:-1] - ask[1:]
            for strike, amount in zip(strikes[1:][gap > 0], gap[gap > 0], strict=True):
                found.append(
                    ArbitrageViolation(
                        "quote_monotonic", expiry, float(amount), strike=float(strike)
                    )
                )
            k1, k2, k3 = strikes[:-2], strikes[1:-1], strikes[2:]
            cost = ask[:-2] * (k3 - k2) - bid[1:-1] * (k3 - k1) + ask[2:] * (k2 - k1)
            negative = cost < 0
            for strike, amount, width in zip(
                k2[negative], cost[negative], (k3 - k1)[negative], strict=True
            ):
                found.append(
                    ArbitrageViolation(
                        "quote_butterfly", expiry, float(-amount / width), strike=float(strike)
                    )
                )
    return found

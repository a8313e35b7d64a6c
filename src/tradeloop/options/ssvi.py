"""SSVI: a surface across expiries that is free of static arbitrage by construction.

Gatheral & Jacquier (2014), "Arbitrage-free SVI volatility surfaces"::

    w(k, theta_t) = theta_t / 2 * (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2))
    phi(theta) = eta / (theta^gamma (1 + theta)^(1 - gamma))      (power law)

``theta_t`` is the at-the-money total variance of each expiry. The surface has no calendar
arbitrage when ``theta_t`` does not decrease with ``t`` (Theorem 4.1, with the power law) and
no butterfly arbitrage when ``eta (1 + |rho|) <= 2`` and ``0 < gamma <= 1/2`` (Remark 4.4 with
Corollary 4.1). :func:`fit_ssvi` takes each expiry's ``theta_t`` from its own raw SVI fit at
``k = 0``, makes it non-decreasing, and fits ``rho``, ``eta`` and ``gamma`` to every quote at
once (residuals in vol divided by the quote's bid-ask spread in vol) with ``eta`` written as
``2 u / (1 + |rho|)``, ``0 < u <= 1``, so the conditions hold for every parameter tried.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from tradeloop.core.errors import InvalidValueError
from tradeloop.options.svi import MIN_VOL_SPREAD, SurfaceFit

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SSVISurface:
    """A fitted SSVI surface: its parameters and each expiry's ATM total variance."""

    rho: float
    eta: float
    gamma: float
    expiries: NDArray[np.datetime64]
    t: FloatArray
    theta: FloatArray  # ATM total variance per expiry, non-decreasing in t
    rmse_vol: float

    def phi(self, theta: FloatArray | float) -> FloatArray:
        """Return the power-law ``phi(theta)``."""
        value = np.asarray(theta, dtype=np.float64)
        result: FloatArray = self.eta / (value**self.gamma * (1.0 + value) ** (1.0 - self.gamma))
        return result

    def total_variance(self, k: FloatArray | float, theta: FloatArray | float) -> FloatArray:
        """Return ``w(k, theta)`` (broadcast)."""
        kk = np.asarray(k, dtype=np.float64)
        th = np.asarray(theta, dtype=np.float64)
        phi = self.phi(th)
        rho = self.rho
        result: FloatArray = (
            th / 2.0 * (1.0 + rho * phi * kk + np.sqrt((phi * kk + rho) ** 2 + 1.0 - rho * rho))
        )
        return result

    def implied_vol(self, k: FloatArray | float, t: FloatArray | float) -> FloatArray:
        """Return the surface's implied vol at log-moneyness ``k`` and ``t`` years.

        ``theta`` is interpolated linearly in ``t`` between the fitted expiries (flat
        extrapolation of ``theta / t`` outside them), which keeps it non-decreasing.
        """
        tt = np.asarray(t, dtype=np.float64)
        theta = np.interp(tt, self.t, self.theta)
        theta = np.where(tt < self.t[0], self.theta[0] * tt / self.t[0], theta)
        theta = np.where(tt > self.t[-1], self.theta[-1] * tt / self.t[-1], theta)
        result: FloatArray = np.sqrt(self.total_variance(k, theta) / tt)
        return result

    def is_arbitrage_free(self) -> bool:
        """Return True when the sufficient no-arbitrage conditions above hold."""
        return bool(
            self.eta * (1.0 + abs(self.rho)) <= 2.0 + 1e-12
            and 0.0 < self.gamma <= 0.5
            and (np.diff(self.theta) >= 0).all()
        )


def fit_ssvi(fit: SurfaceFit) -> SSVISurface:
    """Return the SSVI surface that best fits the quotes behind a raw SVI :class:`SurfaceFit`.

    Raises
    ------
    InvalidValueError
        With fewer than two fitted expiries.

    Examples
    --------
    >>> from tradeloop.options import chain_implied_vols, fit_surface, load_spx_sample
    >>> surface = fit_ssvi(fit_surface(chain_implied_vols(load_spx_sample())))
    >>> surface.is_arbitrage_free(), -1.0 < surface.rho < 0.0
    (True, True)
    """
    if len(fit.slices) < 2:
        raise InvalidValueError(f"an SSVI fit needs 2 fitted expiries, got {len(fit.slices)}")
    t = np.array([piece.t for piece in fit.slices])
    theta = np.maximum.accumulate(
        np.array([float(piece.params.total_variance(0.0)) for piece in fit.slices])
    )
    k = np.concatenate([piece.log_moneyness for piece in fit.slices])
    iv = np.concatenate([piece.iv_mid for piece in fit.slices])
    spread = np.concatenate([piece.vol_spread for piece in fit.slices])
    which = np.concatenate([np.full(piece.log_moneyness.shape[0], i) for i, piece in
                            enumerate(fit.slices)])  # fmt: skip
    theta_q, t_q = theta[which], t[which]
    scale = np.maximum(spread, MIN_VOL_SPREAD)

    def unpack(x: FloatArray) -> tuple[float, float, float]:
        rho, u, gamma = (float(v) for v in x)
        return rho, 2.0 * u / (1.0 + abs(rho)), gamma

    def residuals(x: FloatArray) -> FloatArray:
        rho, eta, gamma = unpack(x)
        phi = eta / (theta_q**gamma * (1.0 + theta_q) ** (1.0 - gamma))
        w = theta_q / 2.0 * (1.0 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1.0 - rho**2))
        result: FloatArray = (np.sqrt(np.maximum(w, 0.0) / t_q) - iv) / scale
        return result

    best = None
    for rho0 in (-0.7, -0.3):
        result = least_squares(residuals, np.array([rho0, 0.5, 0.4]),
                               bounds=([-0.999, 1e-6, 0.01], [0.999, 1.0, 0.5]))  # fmt: skip
        if best is None or result.cost < best.cost:
            best = result
    assert best is not None
    rho, eta, gamma = unpack(best.x)
    surface = SSVISurface(
        rho, eta, gamma, np.array([p.expiry for p in fit.slices]), t, theta, math.nan
    )
    fitted = surface.total_variance(k, theta_q)
    rmse = float(np.sqrt(np.mean((np.sqrt(fitted / t_q) - iv) ** 2)))
    return SSVISurface(rho, eta, gamma, surface.expiries, t, theta, rmse)

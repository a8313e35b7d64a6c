"""SSVI surfaces: free of static arbitrage by construction, fitted to the SPX chain."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.core.errors import InvalidValueError
from tradeloop.options import (
    SSVISurface,
    SurfaceFit,
    SVIParams,
    SVISlice,
    chain_implied_vols,
    fit_ssvi,
    fit_surface,
    load_spx_sample,
)


def _density(surface: SSVISurface, theta: float, k: np.ndarray) -> np.ndarray:
    # Gatheral's g(k) from numerical derivatives of w(k) at fixed theta
    h = 1e-4
    w = surface.total_variance(k, theta)
    w1 = (surface.total_variance(k + h, theta) - surface.total_variance(k - h, theta)) / (2 * h)
    w2 = (
        surface.total_variance(k + h, theta) - 2 * w + surface.total_variance(k - h, theta)
    ) / h**2
    return (1 - k * w1 / (2 * w)) ** 2 - w1**2 / 4 * (1 / w + 0.25) + w2 / 2


def test_spx_ssvi_surface_is_arbitrage_free_and_close_to_the_quotes() -> None:
    surface = fit_ssvi(fit_surface(chain_implied_vols(load_spx_sample())))
    assert surface.is_arbitrage_free()
    assert -1.0 < surface.rho < 0.0  # equity skew
    assert surface.rmse_vol < 0.05
    k = np.linspace(-1.0, 1.0, 201)
    for theta in surface.theta:
        assert _density(surface, float(theta), k).min() >= -1e-6
    # total variance never falls with maturity at fixed log-moneyness
    ts = np.linspace(0.01, 3.0, 60)
    w = np.array([surface.implied_vol(k, t) ** 2 * t for t in ts])
    assert (np.diff(w, axis=0) >= -1e-12).all()


def test_fit_recovers_a_synthetic_ssvi_surface() -> None:
    truth = SSVISurface(-0.6, 1.2, 0.4, np.array([], dtype="datetime64[D]"), np.array([0.25, 1.0]),
                        np.array([0.01, 0.04]), 0.0)  # fmt: skip
    k = np.linspace(-0.4, 0.3, 30)
    slices = []
    for i, (t, theta) in enumerate(zip(truth.t, truth.theta, strict=True)):
        iv = np.sqrt(truth.total_variance(k, theta) / t)
        # the raw SVI slice only supplies theta (w at k = 0) and the quotes
        params = SVIParams(a=float(theta), b=0.0, rho=0.0, m=0.0, sigma=0.1)
        expiry = np.datetime64("2025-01-01") + i
        slices.append(SVISlice(expiry, t, 100.0, params, k, iv, np.full_like(k, 0.01), 0.0, 1.0))
    fitted = fit_ssvi(SurfaceFit(slices))
    assert fitted.rho == pytest.approx(-0.6, abs=1e-4)
    assert fitted.eta == pytest.approx(1.2, rel=1e-3)
    assert fitted.gamma == pytest.approx(0.4, abs=1e-3)
    assert fitted.rmse_vol < 1e-6


def test_fit_needs_two_expiries() -> None:
    with pytest.raises(InvalidValueError, match="2 fitted expiries"):
        fit_ssvi(SurfaceFit([]))

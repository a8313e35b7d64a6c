"""Raw SVI fits and the butterfly, calendar and quote arbitrage checks."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.core.errors import InvalidValueError
from tradeloop.options import (
    SurfaceFit,
    SVIParams,
    SVISlice,
    butterfly_violations,
    calendar_violations,
    chain_implied_vols,
    fit_surface,
    fit_svi,
    load_spx_sample,
    quote_violations,
)


def _slice(params: SVIParams, t: float, k: np.ndarray, expiry: str) -> SVISlice:
    iv = params.implied_vol(k, t)
    return SVISlice(np.datetime64(expiry), t, 100.0, params, k, iv, np.full_like(k, 0.01), 0.0, 1.0)


def test_fit_recovers_the_parameters_of_an_svi_smile() -> None:
    truth = SVIParams(a=0.02, b=0.1, rho=-0.6, m=0.05, sigma=0.15)
    k = np.linspace(-0.6, 0.4, 40)
    t = 0.75
    fitted = fit_svi(k, truth.implied_vol(k, t), t)
    assert np.max(np.abs(fitted.implied_vol(k, t) - truth.implied_vol(k, t))) < 1e-4
    for name in ("a", "b", "rho", "m", "sigma"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), abs=2e-2), name


def test_fit_needs_five_quotes_and_a_positive_time() -> None:
    with pytest.raises(InvalidValueError, match="5 finite quotes"):
        fit_svi(np.array([0.0, 0.1]), np.array([0.2, 0.2]), 1.0)
    with pytest.raises(InvalidValueError, match="must be > 0"):
        fit_svi(np.linspace(-0.2, 0.2, 6), np.full(6, 0.2), 0.0)


def test_density_of_a_known_arbitrage_smile_is_negative_and_reported() -> None:
    # Gatheral & Jacquier (2014), Example 3.1 (Axel Vogt): raw SVI with butterfly arbitrage
    vogt = SVIParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)
    k = np.linspace(-1.5, 1.5, 301)
    assert vogt.density(k).min() < 0
    violations = butterfly_violations(_slice(vogt, 1.0, k, "2025-01-01"))
    assert len(violations) >= 1
    assert all(v.kind == "butterfly" and v.amount > 0 for v in violations)
    assert all(-1.5 <= v.log_moneyness_from <= v.log_moneyness_to <= 1.5 for v in violations)
    benign = SVIParams(a=0.02, b=0.1, rho=-0.6, m=0.05, sigma=0.15)
    assert butterfly_violations(_slice(benign, 1.0, k, "2025-01-01")) == []


def test_calendar_violation_is_reported_with_both_expiries() -> None:
    k = np.linspace(-0.5, 0.5, 21)
    early = _slice(SVIParams(0.04, 0.1, -0.5, 0.0, 0.2), 0.5, k, "2025-01-01")
    late = _slice(SVIParams(0.03, 0.1, -0.5, 0.0, 0.2), 1.0, k, "2025-07-01")
    violations = calendar_violations(SurfaceFit([early, late]))
    assert len(violations) == 1
    (violation,) = violations
    assert violation.kind == "calendar"
    assert str(violation.expiry) == "2025-01-01"
    assert str(violation.later_expiry) == "2025-07-01"
    assert violation.amount == pytest.approx(0.01)
    assert (violation.log_moneyness_from, violation.log_moneyness_to) == (-0.5, 0.5)
    assert calendar_violations(SurfaceFit([late, _slice(late.params, 1.5, k, "2026-01-01")])) == []


def test_spx_surface_fits_every_expiry_within_the_quotes() -> None:
    vols = chain_implied_vols(load_spx_sample())
    surface = fit_surface(vols)
    assert surface.skipped == {}
    assert len(surface.slices) == 15
    assert [s.t for s in surface.slices] == sorted(s.t for s in surface.slices)
    within = np.array([s.within_spread for s in surface.slices])
    assert np.median(within) >= 0.95
    assert max(s.rmse_vol for s in surface.slices) < 0.03
    for piece in surface.slices:
        p = piece.params
        assert p.b >= 0
        assert abs(p.rho) < 1
        assert p.sigma > 0
        assert p.a + p.b * p.sigma * np.sqrt(1 - p.rho**2) >= 0
    # every reported violation names its expiry and a positive amount
    for violation in (*butterfly_violations(surface), *calendar_violations(surface)):
        assert violation.amount > 0
        assert violation.expiry in {s.expiry for s in surface.slices}


def test_quote_violations_find_a_planted_butterfly_and_are_rare_in_spx() -> None:
    chain = load_spx_sample()
    vols = chain_implied_vols(chain)
    baseline = quote_violations(vols)
    assert len(baseline) <= 5
    # make one call far too cheap: its butterfly now earns money at bid/ask
    rows = np.flatnonzero(
        (chain.option_type == 1) & (chain.bid > 5) & (chain.expiry == chain.expiries()[2])
    )
    victim = rows[len(rows) // 2]
    bid, ask = chain.bid.copy(), chain.ask.copy()
    neighbours = rows[np.argsort(np.abs(chain.strike[rows] - chain.strike[victim]))[1:3]]
    bid[victim] = ask[victim] = (
        0.5 * (chain.bid[neighbours].max() + chain.ask[neighbours].min()) * 1.3
    )
    changed = type(chain)(chain.underlying, chain.quote_date, chain.spot, chain.expiry, chain.strike,
                          chain.option_type, bid, ask, chain.volume, chain.open_interest,
                          chain.vendor_iv)  # fmt: skip
    found = quote_violations(chain_implied_vols(changed))
    assert len(found) > len(baseline)
    assert any(v.kind == "quote_butterfly" and v.strike == chain.strike[victim] for v in found)

"""Report figures: one smile panel per expiry, the surface, the term structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tradeloop.options import (
    chain_implied_vols,
    fit_ssvi,
    fit_surface,
    load_spx_sample,
    plot_smiles,
    plot_surface,
    plot_term_structure,
)


def test_figures_show_the_fitted_chain(tmp_path: Path) -> None:
    fit = fit_surface(chain_implied_vols(load_spx_sample()))
    ssvi = fit_ssvi(fit)
    smiles = plot_smiles(fit, ssvi)
    assert len(smiles.data) == 3 * len(fit.slices)  # quotes, raw SVI, SSVI per expiry
    quotes = smiles.data[0]
    assert np.array_equal(np.asarray(quotes.x), fit.slices[0].log_moneyness)
    surface = plot_surface(ssvi)
    z = np.asarray(surface.data[0].z)
    assert z.shape == (60, 61)
    assert np.isfinite(z).all()
    term = plot_term_structure(fit, ssvi)
    assert len(term.data) == 2
    assert np.asarray(term.data[0].x).tolist() == [piece.t for piece in fit.slices]
    path = tmp_path / "smiles.html"
    smiles.write_html(path, include_plotlyjs=False)
    assert path.stat().st_size > 0

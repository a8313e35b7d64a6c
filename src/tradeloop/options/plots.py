"""Report figures of a volatility surface (Plotly): smiles per expiry, the surface, the term
structure. Each function returns a ``plotly.graph_objects.Figure`` (``fig.write_html(path)``
saves it; ``fig.show()`` opens it); Plotly loads on first use.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tradeloop.options.ssvi import SSVISurface
from tradeloop.options.svi import SurfaceFit


def plot_smiles(fit: SurfaceFit, ssvi: SSVISurface | None = None, columns: int = 4) -> Any:
    """Return one panel per expiry: the quotes' mid vols with their bid-ask spread as error
    bars, the raw SVI fit, and the SSVI surface's slice when given.

    Examples
    --------
    >>> from tradeloop.options import chain_implied_vols, fit_surface, load_spx_sample
    >>> figure = plot_smiles(fit_surface(chain_implied_vols(load_spx_sample())))
    >>> len(figure.data)
    30
    """
    from plotly.subplots import make_subplots

    rows = max(math.ceil(len(fit.slices) / columns), 1)
    titles = [f"{piece.expiry} (t={piece.t:.3f})" for piece in fit.slices]
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles)
    for i, piece in enumerate(fit.slices):
        row, column = i // columns + 1, i % columns + 1
        grid = np.linspace(piece.log_moneyness.min(), piece.log_moneyness.max(), 200)
        figure.add_scatter(
            x=piece.log_moneyness,
            y=piece.iv_mid,
            error_y={"type": "data", "array": piece.vol_spread / 2.0, "visible": True},
            mode="markers",
            marker={"size": 4, "color": "#1f77b4"},
            name="mid (bid-ask)",
            showlegend=i == 0,
            row=row,
            col=column,
        )
        figure.add_scatter(
            x=grid,
            y=piece.params.implied_vol(grid, piece.t),
            mode="lines",
            line={"color": "#d62728"},
            name="raw SVI",
            showlegend=i == 0,
            row=row,
            col=column,
        )
        if ssvi is not None:
            figure.add_scatter(
                x=grid,
                y=ssvi.implied_vol(grid, piece.t),
                mode="lines",
                line={"color": "#2ca02c", "dash": "dash"},
                name="SSVI",
                showlegend=i == 0,
                row=row,
                col=column,
            )
    figure.update_layout(
        title="Implied volatility smiles (x: log-moneyness ln(K/F), y: implied vol)",
        height=260 * rows,
    )
    return figure


def plot_surface(ssvi: SSVISurface, log_moneyness: tuple[float, float] = (-0.5, 0.3)) -> Any:
    """Return the SSVI implied-vol surface over log-moneyness and maturity (3-D)."""
    import plotly.graph_objects as go

    k = np.linspace(log_moneyness[0], log_moneyness[1], 61)
    t = np.linspace(ssvi.t[0], ssvi.t[-1], 60)
    vols = np.array([ssvi.implied_vol(k, maturity) for maturity in t])
    figure = go.Figure(go.Surface(x=k, y=t, z=vols, colorscale="Viridis"))
    figure.update_layout(
        title="SSVI implied volatility surface",
        scene={"xaxis_title": "ln(K/F)", "yaxis_title": "years", "zaxis_title": "implied vol"},
    )
    return figure


def plot_term_structure(fit: SurfaceFit, ssvi: SSVISurface | None = None) -> Any:
    """Return the at-the-money implied vol of every expiry (raw SVI at k = 0) against t."""
    import plotly.graph_objects as go

    t = np.array([piece.t for piece in fit.slices])
    atm = np.array([float(piece.params.implied_vol(0.0, piece.t)) for piece in fit.slices])
    figure = go.Figure(
        go.Scatter(x=t, y=atm, mode="lines+markers", name="ATM vol (raw SVI, k = 0)")
    )
    if ssvi is not None:
        figure.add_scatter(x=ssvi.t, y=np.sqrt(ssvi.theta / ssvi.t), mode="lines",
                           name="SSVI theta / t")  # fmt: skip
    figure.update_layout(
        title="At-the-money term structure", xaxis_title="years", yaxis_title="implied vol"
    )
    return figure

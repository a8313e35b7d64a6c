"""Write the option quotes the hedging example trades (run from the repository root).

    uv run python examples/options/make_quotes.py

Marks SPY June 2011 options (expiry 2011-06-18) at each close of the bundled ``spy_daily``
bars from 2011-01-03 to 2011-06-16 with ``tradeloop.options.surface_quotes``: the SSVI
surface fitted to the bundled SPX chain of 2011-01-03 (SPY tracks SPX / 10, and the two
smiles agree in moneyness), held fixed in log-forward-moneyness; the rate and dividend yield
implied by put-call parity in that chain's June expiry; bid/ask at the fitted vol -/+ the
median half-spread in vol of the chain's near-the-money June quotes. These are model quotes
(see ``tradeloop.options.marks``), rewritten byte for byte by this script; a test checks that.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np

from tradeloop.core.time import ns_to_iso, parse_time
from tradeloop.data import bundled
from tradeloop.options import chain_implied_vols, fit_ssvi, fit_surface, load_spx_sample
from tradeloop.options.marks import surface_quotes

HERE = Path(__file__).resolve().parent
EXPIRY = "2011-06-18"
FIRST, LAST = "2011-01-03", "2011-06-16"
CONTRACTS = (  # (instrument id, strike, type)
    ("SPY110618P127.OPRA", 127.0, "put"),
    ("SPY110618C135.OPRA", 135.0, "call"),
)


def market() -> tuple[float, float, float]:
    """Return the June expiry's (r, q, half-spread in vol) from the SPX chain."""
    vols = chain_implied_vols(load_spx_sample())
    t = float(np.unique(vols.t)[np.argmin(np.abs(np.unique(vols.t) - 166 / 365))])
    rows = np.isclose(vols.t, t)
    spot = float(vols.chain.spot)
    discount, forward = float(vols.discount[rows][0]), float(vols.forward[rows][0])
    r = -np.log(discount) / t
    q = r - np.log(forward / spot) / t
    near = rows & vols.is_otm & (np.abs(vols.log_moneyness) < 0.1)
    half = np.nanmedian((vols.iv_ask[near] - vols.iv_bid[near]) / 2)
    return float(r), float(q), float(half)


def main(out_dir: Path = HERE) -> list[Path]:
    """Write one quotes CSV per contract into ``out_dir``; return their paths."""
    r, q, half = market()
    surface = fit_ssvi(fit_surface(chain_implied_vols(load_spx_sample())))
    bars = bundled.load_bars("spy_daily")
    ts = np.asarray(bars.ts_init)
    close = np.asarray(bars.close) / 10**bars.price_precision
    keep = (ts >= parse_time(FIRST)) & (ts < parse_time(LAST) + 86_400 * 10**9)
    ts, close = ts[keep], close[keep]
    expiry_ns = parse_time(EXPIRY)
    t = (expiry_ns - ts) / (365 * 86_400 * 10**9)
    written = []
    for instrument_id, strike, option_type in CONTRACTS:
        quotes = surface_quotes(
            surface, spot=close, t=t, strike=strike, r=r, q=q, option_type=option_type,
            half_spread_vol=half,
        )
        path = out_dir / f"{instrument_id.split('.')[0]}.csv"
        lines = ["timestamp,bid,ask,bid_size,ask_size"]
        for stamp, bid, ask in zip(ts, quotes.bid, quotes.ask, strict=True):
            lines.append(f"{ns_to_iso(int(stamp))},{bid:.2f},{ask:.2f},100,100")
        path.write_text("\n".join(lines) + "\n")
        written.append(path)
    print(f"r {r:.6f} q {q:.6f} half-spread {half:.6f} vol; {len(ts)} quotes per contract "
          f"({dt.date.fromisoformat(FIRST)}..{dt.date.fromisoformat(LAST)})", file=sys.stderr)
    return written


if __name__ == "__main__":
    main()

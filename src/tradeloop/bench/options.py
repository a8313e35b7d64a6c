"""``bench_options``: European prices + Greeks, implied vols, BAW prices, SVI fits, peers.

The job: ``n`` (1,000,000) random contracts from a seeded generator (spot 100, strikes
within 3 standard deviations of the forward, t from 1 day to 3 years log-uniform, vol 5 %
to 100 %, r -1 % to 8 %, q 0 % to 5 %, calls and puts at random). Each kernel is compiled
(or loaded from numba's cache) first, then run ``repeat`` times; the fastest run counts.

- ``european_price_greeks_per_s``: :func:`greeks` with ``order=1`` (price, delta, gamma,
  vega, theta, rho, dividend rho, elasticity) on all contracts;
- ``implied_vol_per_s`` and ``implied_vol_max_rel_error``: :func:`implied_vol` of the
  out-of-the-money prices of the same contracts (the side a smile is built from), error
  ``|sigma_implied / sigma - 1|`` over all of them;
- ``american_baw_per_s``: :func:`american_price` with ``method="baw"``;
- ``svi_fit_one_expiry_ms`` (the bundled SPX chain's largest expiry) and ``surface_fit_ms``
  (implied vols of the whole chain from its mids plus an SVI fit of every expiry);
- peers in the same run, when installed: QuantLib's Python loop (``AnalyticEuropeanEngine``:
  build the option, NPV and the first-order Greeks, on ``peer_n`` contracts;
  ``impliedVolatility`` at accuracy 1e-12 on up to 5,000) and vollib (``implied_volatility``,
  Jäckel's "Let's Be Rational" in Python, on up to 5,000).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tradeloop.options import (
    american_price,
    chain_implied_vols,
    fit_surface,
    fit_svi,
    greeks,
    implied_vol,
    load_spx_sample,
    price,
)


def _contracts(n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    t = np.exp(rng.uniform(np.log(1.0 / 365.0), np.log(3.0), n))
    sigma = rng.uniform(0.05, 1.0, n)
    r, q = rng.uniform(-0.01, 0.08, n), rng.uniform(0.0, 0.05, n)
    forward = 100.0 * np.exp((r - q) * t)
    strike = forward * np.exp(rng.uniform(-3.0, 3.0, n) * sigma * np.sqrt(t))
    option_type = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    otm_type = np.where(strike >= forward, 1, -1).astype(np.int8)
    return {
        "spot": np.full(n, 100.0),
        "strike": strike,
        "t": t,
        "r": r,
        "q": q,
        "sigma": sigma,
        "option_type": option_type,
        "otm_type": otm_type,
    }


def _fastest(run: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings)


def bench_options(
    n: int = 1_000_000, *, repeat: int = 3, peer_n: int = 20_000, seed: int = 13
) -> dict[str, Any]:
    """Run the options benchmark and return one flat record (see the module docstring)."""
    job = _contracts(n, seed)
    market = {key: job[key] for key in ("spot", "strike", "t", "r", "q", "sigma")}
    inputs = {key: job[key] for key in ("spot", "strike", "t", "r", "q")}
    small = {key: value[:64] for key, value in job.items()}

    start = time.perf_counter()
    greeks(**{k: small[k] for k in market}, option_type=small["option_type"], order=1)
    otm_small = price(**{k: small[k] for k in market}, option_type=small["otm_type"])
    implied_vol(price=otm_small, **{k: small[k] for k in inputs}, option_type=small["otm_type"])
    american_price(**{k: small[k] for k in market}, option_type=small["option_type"])
    compile_s = time.perf_counter() - start

    greeks_s = _fastest(lambda: greeks(**market, option_type=job["option_type"], order=1), repeat)
    otm_price = price(**market, option_type=job["otm_type"])
    vols: list[np.ndarray] = []

    def invert() -> None:
        vols.append(implied_vol(price=otm_price, **inputs, option_type=job["otm_type"]))

    iv_s = _fastest(invert, repeat)
    error = np.abs(vols[-1] / job["sigma"] - 1.0)
    baw_s = _fastest(lambda: american_price(**market, option_type=job["option_type"]), repeat)

    chain = load_spx_sample()
    chain_vols = chain_implied_vols(chain)
    fit_surface(chain_vols)  # warm caches
    surface_s = _fastest(lambda: fit_surface(chain_implied_vols(chain)), repeat)
    usable = chain_vols.is_otm & (chain.bid > 0) & np.isfinite(chain_vols.iv_mid)
    largest = max(chain.expiries(), key=lambda e: int((usable & (chain.expiry == e)).sum()))
    rows = usable & (chain.expiry == largest)
    spread = chain_vols.iv_ask[rows] - chain_vols.iv_bid[rows]
    one_s = _fastest(
        lambda: fit_svi(
            chain_vols.log_moneyness[rows],
            chain_vols.iv_mid[rows],
            float(chain_vols.t[rows][0]),
            spread,
        ),
        repeat,
    )

    record: dict[str, Any] = {
        "benchmark": "options",
        "records": n,
        "seconds": round(greeks_s, 6),
        "records_per_s": round(n / greeks_s),
        "european_price_greeks_per_s": round(n / greeks_s),
        "implied_vol_per_s": round(n / iv_s),
        "implied_vol_max_rel_error": float(np.nanmax(error)),
        "implied_vol_failed": int(np.isnan(vols[-1]).sum()),
        "american_baw_per_s": round(n / baw_s),
        "svi_fit_one_expiry_ms": round(one_s * 1e3, 3),
        "svi_one_expiry_quotes": int(rows.sum()),
        "surface_fit_ms": round(surface_s * 1e3, 3),
        "surface_expiries": len(chain.expiries()),
        "surface_quotes": int(chain.strike.shape[0]),
        "compile_or_cache_load_s": round(compile_s, 3),
        "peer_contracts": peer_n,
    }
    record.update(_quantlib(job, peer_n))
    record.update(_vollib(job, otm_price, peer_n))
    record["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    return record


def _quantlib(job: dict[str, Any], n: int) -> dict[str, Any]:
    try:
        import QuantLib as ql  # noqa: N813 (the name QuantLib documents)
    except ImportError:
        return {"quantlib_price_per_s": None, "quantlib_implied_vol_per_s": None}
    today = ql.Date(2, 1, 2024)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    spot, rate, dividend, vol = (ql.SimpleQuote(v) for v in (100.0, 0.0, 0.0, 0.2))
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(spot),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(dividend), day_count)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(rate), day_count)),
        ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(today, ql.NullCalendar(), ql.QuoteHandle(vol), day_count)
        ),
    )
    engine = ql.AnalyticEuropeanEngine(process)
    # QuantLib counts time in whole days: maturities rounded to days (at least one). Each
    # contract is built, priced and dropped in turn, as a Python loop over QuantLib does it
    # (options kept alive would all observe the same quotes and recalculate on every change).
    days = np.maximum(np.rint(job["t"][:n] * 365.0), 1).astype(int)

    def build(i: int) -> Any:
        rate.setValue(float(job["r"][i]))
        dividend.setValue(float(job["q"][i]))
        vol.setValue(float(job["sigma"][i]))
        kind = ql.Option.Call if job["otm_type"][i] > 0 else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(kind, float(job["strike"][i])),
            ql.EuropeanExercise(today + int(days[i])),
        )
        option.setPricingEngine(engine)
        return option

    prices = []
    start = time.perf_counter()
    for i in range(n):
        option = build(i)
        prices.append(option.NPV())
        option.delta()
        option.gamma()
        option.vega()
        option.theta()
        option.rho()
        option.dividendRho()
        del option
    price_s = time.perf_counter() - start
    count = min(n, 5_000)
    failed = 0
    start = time.perf_counter()
    for i in range(count):
        option = build(i)
        try:
            option.impliedVolatility(prices[i], process, 1e-12, 1000, 1e-7, 10.0)
        except RuntimeError:
            failed += 1
        del option
    iv_s = time.perf_counter() - start
    return {
        "quantlib_price_per_s": round(n / price_s),
        "quantlib_implied_vol_per_s": round(count / iv_s),
        "quantlib_implied_vol_failed": failed,
        "quantlib_version": ql.__version__,
    }


def _vollib(job: dict[str, Any], otm_price: np.ndarray, n: int) -> dict[str, Any]:
    try:
        from vollib.black_scholes_merton.implied_volatility import implied_volatility
    except ImportError:
        return {"vollib_implied_vol_per_s": None}
    count = min(n, 5_000)
    flags = ["c" if kind > 0 else "p" for kind in job["otm_type"][:count]]
    errors = []
    start = time.perf_counter()
    for i in range(count):
        try:
            value = implied_volatility(
                float(otm_price[i]),
                100.0,
                float(job["strike"][i]),
                float(job["t"][i]),
                float(job["r"][i]),
                float(job["q"][i]),
                flags[i],
            )
        except Exception:  # vollib raises its own exception types for out-of-range prices
            value = float("nan")
        errors.append(abs(value / job["sigma"][i] - 1.0))
    seconds = time.perf_counter() - start
    return {
        "vollib_implied_vol_per_s": round(count / seconds),
        "vollib_implied_vol_max_rel_error": float(np.nanmax(errors)),
    }

"""Option chains: a columnar record, readers, and implied vols from bid, ask and mid.

Readers:

- :func:`load_spx_sample` the bundled SPX chain of 2011-01-03 (iVolatility's sample, origin in
  ``options/data/ORIGINS.md``);
- :func:`read_ivolatility_csv` a file in iVolatility's end-of-day layout (one date chosen);
- :func:`read_chain_csv` a generic chain CSV with the header ``quote_date, expiry, strike,
  option_type, bid, ask`` and optional ``underlying, spot, volume, open_interest, iv``
  (ISO dates, ``option_type`` "call"/"put" or "C"/"P").

:func:`chain_implied_vols` infers each expiry's forward and discount factor from put-call
parity (least squares of ``C - P = D F - D K`` over the strikes quoted on both sides) and
inverts Black-76 on that forward for the bid, ask and mid of every quote.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import math
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tradeloop.core.errors import DataIntegrityError
from tradeloop.options.european import implied_vol

FloatArray = NDArray[np.float64]
SPX_SAMPLE = "spx_ivolatility_20110103.csv.gz"
_GENERIC_REQUIRED = ("quote_date", "expiry", "strike", "option_type", "bid", "ask")


@dataclass(frozen=True, slots=True)
class OptionChain:
    """One quote date's option chain, columnar (one row per quoted option).

    ``expiry`` is ``datetime64[D]``; ``option_type`` +1 for a call, -1 for a put; ``bid`` and
    ``ask`` in price units (a bid of 0 means no bid); ``vendor_iv`` the data vendor's implied
    vol (NaN where it has none); ``spot`` the underlying's close.
    """

    underlying: str
    quote_date: dt.date
    spot: float
    expiry: NDArray[np.datetime64]
    strike: FloatArray
    option_type: NDArray[np.int8]
    bid: FloatArray
    ask: FloatArray
    volume: NDArray[np.int64]
    open_interest: NDArray[np.int64]
    vendor_iv: FloatArray

    def __post_init__(self) -> None:
        n = self.strike.shape[0]
        for name in ("expiry", "option_type", "bid", "ask", "volume", "open_interest"):
            if getattr(self, name).shape != (n,):
                raise DataIntegrityError(f"chain column {name} has not {n} rows")
        if not (self.strike > 0).all():
            raise DataIntegrityError(f"chain strike {self.strike.min()} must be > 0")
        if not ((self.bid >= 0) & (self.ask >= 0)).all():
            raise DataIntegrityError("chain bids and asks must be >= 0")
        if not (self.spot > 0 and math.isfinite(self.spot)):
            raise DataIntegrityError(f"chain spot {self.spot} must be a positive number")
        if (self.expiry < np.datetime64(self.quote_date, "D")).any():
            raise DataIntegrityError(f"chain has expiries before its quote date {self.quote_date}")

    @property
    def mid(self) -> FloatArray:
        """Return the mid price (NaN where there is no bid)."""
        mid: FloatArray = np.where(self.bid > 0, 0.5 * (self.bid + self.ask), np.nan)
        return mid

    def expiries(self) -> NDArray[np.datetime64]:
        """Return the distinct expiries, earliest first."""
        return np.unique(self.expiry)

    def years_to_expiry(self, days_per_year: float = 365.0) -> FloatArray:
        """Return calendar days to expiry / ``days_per_year`` for every row (ACT/365 default)."""
        days = (self.expiry - np.datetime64(self.quote_date, "D")).astype(np.int64)
        years: FloatArray = days / days_per_year
        return years

    def select(self, mask: NDArray[np.bool_]) -> OptionChain:
        """Return the rows where ``mask`` is True."""
        return OptionChain(
            self.underlying,
            self.quote_date,
            self.spot,
            self.expiry[mask],
            self.strike[mask],
            self.option_type[mask],
            self.bid[mask],
            self.ask[mask],
            self.volume[mask],
            self.open_interest[mask],
            self.vendor_iv[mask],
        )


def load_spx_sample() -> OptionChain:
    """Return the bundled SPX chain of 2011-01-03 (1,936 quotes, 15 expiries).

    Examples
    --------
    >>> chain = load_spx_sample()
    >>> chain.underlying, str(chain.quote_date), chain.spot, len(chain.expiries())
    ('SPX', '2011-01-03', 1271.87, 15)
    """
    raw = resources.files("tradeloop.options").joinpath("data", SPX_SAMPLE).read_bytes()
    return _from_ivolatility(pd.read_csv(io.BytesIO(gzip.decompress(raw))), None, SPX_SAMPLE)


def read_ivolatility_csv(path: str | os.PathLike[str], date: dt.date | None = None) -> OptionChain:
    """Read a chain in iVolatility's end-of-day CSV layout.

    Parameters
    ----------
    path : path-like
        The CSV (optionally gzip-compressed, by the ``.gz`` suffix).
    date : datetime.date, optional
        The quote date to take; required when the file holds several.

    Raises
    ------
    DataIntegrityError
        If the file lacks a column, holds several dates and none was chosen, has no row of
        the chosen date, or breaks a rule of :class:`OptionChain`.
    """
    return _from_ivolatility(pd.read_csv(path), date, str(path))


def _from_ivolatility(frame: pd.DataFrame, date: dt.date | None, source: str) -> OptionChain:
    needed = ["symbol", "date", "stock_price_close", "option_expiration", "strike", "call/put"]
    needed += ["bid", "ask", "iv", "volume", "open_interest"]
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise DataIntegrityError(f"{source} lacks the iVolatility columns {missing}")
    dates = pd.to_datetime(frame["date"], format="%m/%d/%Y").dt.date
    frame = frame.assign(date=dates)
    chosen = _one_date(sorted(set(dates)), date, source)
    rows = frame[frame["date"] == chosen]
    types = rows["call/put"].map({"C": 1, "P": -1})
    if types.isna().any():
        raise DataIntegrityError(f"{source}: call/put must be C or P")
    iv = rows["iv"].to_numpy(dtype=np.float64)
    return OptionChain(
        underlying=str(rows["symbol"].iloc[0]),
        quote_date=chosen,
        spot=float(rows["stock_price_close"].iloc[0]),
        expiry=pd.to_datetime(rows["option_expiration"], format="%m/%d/%Y")
        .to_numpy()
        .astype("datetime64[D]"),
        strike=rows["strike"].to_numpy(dtype=np.float64),
        option_type=types.to_numpy(dtype=np.int8).astype(np.int8),
        bid=rows["bid"].to_numpy(dtype=np.float64),
        ask=rows["ask"].to_numpy(dtype=np.float64),
        volume=rows["volume"].to_numpy(dtype=np.int64),
        open_interest=rows["open_interest"].to_numpy(dtype=np.int64),
        vendor_iv=np.where(iv > 0, iv, np.nan),
    )


def read_chain_csv(
    path: str | os.PathLike[str], date: dt.date | None = None, spot: float | None = None
) -> OptionChain:
    """Read a generic chain CSV (header ``quote_date,expiry,strike,option_type,bid,ask``).

    Optional columns: ``underlying``, ``spot``, ``volume``, ``open_interest``, ``iv``. Dates
    are ISO (``2024-05-17``); ``option_type`` is call/put or C/P (any case).

    Raises
    ------
    DataIntegrityError
        If a required column is missing, an option type is unknown, the file holds several
        dates and none was chosen, no spot is given (column or argument), or a row breaks a
        rule of :class:`OptionChain`.
    """
    frame = pd.read_csv(path)
    missing = [column for column in _GENERIC_REQUIRED if column not in frame.columns]
    if missing:
        raise DataIntegrityError(f"{path} lacks the chain columns {missing}")
    dates = pd.to_datetime(frame["quote_date"]).dt.date
    chosen = _one_date(sorted(set(dates)), date, str(path))
    rows = frame[dates == chosen]
    names = rows["option_type"].astype(str).str.lower()
    types = names.map({"call": 1, "c": 1, "put": -1, "p": -1})
    if types.isna().any():
        bad = rows["option_type"][types.isna()].iloc[0]
        raise DataIntegrityError(f"{path}: option_type {bad!r} must be call/put or C/P")
    if spot is None:
        if "spot" not in rows.columns:
            raise DataIntegrityError(f"{path} has no spot column: pass spot=")
        spot = float(rows["spot"].iloc[0])
    n = len(rows)

    def optional(column: str, dtype: type, default: float) -> NDArray[np.generic]:
        if column in rows.columns:
            return rows[column].fillna(default).to_numpy(dtype=dtype)
        return np.full(n, default, dtype=dtype)

    return OptionChain(
        underlying=str(rows["underlying"].iloc[0]) if "underlying" in rows.columns else "",
        quote_date=chosen,
        spot=spot,
        expiry=pd.to_datetime(rows["expiry"]).to_numpy().astype("datetime64[D]"),
        strike=rows["strike"].to_numpy(dtype=np.float64),
        option_type=types.to_numpy(dtype=np.int8).astype(np.int8),
        bid=rows["bid"].to_numpy(dtype=np.float64),
        ask=rows["ask"].to_numpy(dtype=np.float64),
        volume=optional("volume", np.int64, 0).astype(np.int64),
        open_interest=optional("open_interest", np.int64, 0).astype(np.int64),
        vendor_iv=optional("iv", np.float64, np.nan).astype(np.float64),
    )


def _one_date(dates: list[dt.date], date: dt.date | None, source: str) -> dt.date:
    if date is None:
        if len(dates) != 1:
            shown = ", ".join(str(d) for d in dates)
            raise DataIntegrityError(f"{source} holds several quote dates ({shown}): pass date=")
        return dates[0]
    if date not in dates:
        raise DataIntegrityError(f"{source} has no quotes on {date}")
    return date


@dataclass(frozen=True, slots=True)
class ChainVols:
    """Implied vols of a chain, row by row, with each expiry's forward and discount factor.

    ``t`` years to expiry (ACT/365 unless chosen); ``forward``, ``discount`` the expiry's
    parity-implied forward and discount factor; ``log_moneyness`` ``ln(K / F)``; ``iv_bid``,
    ``iv_ask``, ``iv_mid`` Black-76 vols (NaN where the price breaks a bound: the codes are
    in ``reason_bid``/``reason_ask``/``reason_mid``, see :class:`Reason`); ``is_otm`` marks
    the out-of-the-money side (puts below the forward, calls at or above), which smiles use.
    """

    chain: OptionChain
    t: FloatArray
    forward: FloatArray
    discount: FloatArray
    log_moneyness: FloatArray
    iv_bid: FloatArray
    iv_ask: FloatArray
    iv_mid: FloatArray
    reason_bid: NDArray[np.int8]
    reason_ask: NDArray[np.int8]
    reason_mid: NDArray[np.int8]
    is_otm: NDArray[np.bool_]


def implied_forward(
    strike: FloatArray, call_mid: FloatArray, put_mid: FloatArray, spot: float
) -> tuple[float, float]:
    """Return ``(forward, discount)`` from put-call parity ``C - P = D (F - K)``.

    A least-squares line through the strikes quoted on both sides, weighted towards the money
    (weight ``exp(-(K/S - 1)^2 / 0.02)``), where quotes are tightest.

    Raises
    ------
    DataIntegrityError
        With fewer than two strikes quoted on both sides, or a discount factor outside (0, 2].
    """
    ok = np.isfinite(call_mid) & np.isfinite(put_mid)
    if ok.sum() < 2:
        raise DataIntegrityError("put-call parity needs two strikes quoted on both sides")
    k, y = strike[ok], call_mid[ok] - put_mid[ok]
    weight = np.exp(-((k / spot - 1.0) ** 2) / 0.02)
    design = np.column_stack([np.ones_like(k), -k]) * np.sqrt(weight)[:, None]
    (level, discount), *_ = np.linalg.lstsq(design, y * np.sqrt(weight), rcond=None)
    if not 0.0 < discount <= 2.0:
        raise DataIntegrityError(f"put-call parity gives discount factor {discount:.6g}")
    return float(level / discount), float(discount)


def chain_implied_vols(chain: OptionChain, days_per_year: float = 365.0) -> ChainVols:
    """Return the chain's implied vols from bid, ask and mid (see :class:`ChainVols`).

    An expiry with fewer than two strikes quoted on both sides (no parity forward) gets NaN
    vols with reason ``NON_FINITE_INPUT``.

    Examples
    --------
    >>> vols = chain_implied_vols(load_spx_sample())
    >>> bool(((vols.iv_bid <= vols.iv_mid) & (vols.iv_mid <= vols.iv_ask))[vols.is_otm
    ...      & (vols.reason_bid == 0) & (vols.reason_ask == 0)].all())
    True
    """
    t = chain.years_to_expiry(days_per_year)
    n = chain.strike.shape[0]
    forward = np.full(n, np.nan)
    discount = np.full(n, np.nan)
    mid = chain.mid
    for expiry in chain.expiries():
        rows = chain.expiry == expiry
        calls = rows & (chain.option_type > 0)
        puts = rows & (chain.option_type < 0)
        call_by_strike = dict(zip(chain.strike[calls], mid[calls], strict=True))
        put_by_strike = dict(zip(chain.strike[puts], mid[puts], strict=True))
        common = np.array(sorted(set(call_by_strike) & set(put_by_strike)))
        try:
            f, d = implied_forward(
                common,
                np.array([call_by_strike[k] for k in common]),
                np.array([put_by_strike[k] for k in common]),
                chain.spot,
            )
        except DataIntegrityError:
            continue
        forward[rows], discount[rows] = f, d
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(t > 0, -np.log(discount) / np.where(t > 0, t, 1.0), np.nan)
    vols = {}
    reasons = {}
    for side, quote in (("bid", chain.bid), ("ask", chain.ask), ("mid", mid)):
        vols[side], reasons[side] = implied_vol(
            price=quote,
            spot=forward,
            strike=chain.strike,
            t=t,
            r=rate,
            q=0.0,
            option_type=chain.option_type,
            model="black76",
            with_reason=True,
        )
    log_moneyness = np.log(chain.strike / forward)
    is_otm = np.where(chain.option_type > 0, log_moneyness >= 0, log_moneyness < 0)
    return ChainVols(
        chain,
        t,
        forward,
        discount,
        log_moneyness,
        vols["bid"],
        vols["ask"],
        vols["mid"],
        reasons["bid"],
        reasons["ask"],
        reasons["mid"],
        is_otm & np.isfinite(forward),
    )

"""The bundled SPX chain, the readers, parity forwards and implied vols from bid/ask/mid."""

from __future__ import annotations

import datetime as dt
import gzip
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core.errors import DataIntegrityError
from tradeloop.options import (
    Reason,
    chain_implied_vols,
    implied_forward,
    load_spx_sample,
    price,
    read_chain_csv,
    read_ivolatility_csv,
)


def test_bundled_spx_chain_is_the_first_day_of_the_ivolatility_sample() -> None:
    chain = load_spx_sample()
    assert chain.underlying == "SPX"
    assert chain.quote_date == dt.date(2011, 1, 3)
    assert chain.spot == 1271.87
    assert chain.strike.shape == (1936,)
    assert (chain.option_type == 1).sum() == 968
    assert len(chain.expiries()) == 15
    assert str(chain.expiries()[0]) == "2011-01-07"
    # the first upstream row: SPXW 110107C01050000, ask 220.6, bid 217.1, iv 0.395491
    assert (chain.strike[0], chain.option_type[0], chain.ask[0], chain.bid[0]) == (
        1050.0, 1, 220.6, 217.1
    )  # fmt: skip
    assert chain.vendor_iv[0] == 0.395491
    assert chain.years_to_expiry()[0] == 4 / 365


def test_ivolatility_reader_needs_a_date_when_the_file_holds_several(tmp_path: Path) -> None:
    text = gzip.decompress(
        resources.files("tradeloop.options").joinpath("data", "spx_ivolatility_20110103.csv.gz")
        .read_bytes()
    ).decode()  # fmt: skip
    header, first = text.splitlines()[:2]
    second_day = first.replace("01/03/2011", "01/04/2011", 1)
    path = tmp_path / "two_days.csv"
    path.write_text("\n".join([header, first, second_day]) + "\n")
    with pytest.raises(DataIntegrityError, match="several quote dates"):
        read_ivolatility_csv(path)
    chain = read_ivolatility_csv(path, date=dt.date(2011, 1, 4))
    assert chain.quote_date == dt.date(2011, 1, 4)
    with pytest.raises(DataIntegrityError, match="no quotes on 2011-01-05"):
        read_ivolatility_csv(path, date=dt.date(2011, 1, 5))


def _synthetic_rows(sigma: float = 0.25) -> tuple[list[dict[str, object]], float, float]:
    spot, rate, dividend, t = 100.0, 0.03, 0.01, 0.5
    rows = []
    for strike in np.arange(70.0, 131.0, 5.0):
        for option_type in ("call", "put"):
            value = price(spot=spot, strike=strike, t=t, r=rate, q=dividend, sigma=sigma,
                          option_type=option_type)  # fmt: skip
            rows.append({"quote_date": "2024-01-02", "expiry": "2024-07-02", "strike": strike,
                         "option_type": option_type, "bid": value * 0.999, "ask": value * 1.001,
                         "spot": spot})  # fmt: skip
    forward = spot * np.exp((rate - dividend) * t)
    return rows, float(forward), float(np.exp(-rate * t))


def test_generic_reader_and_parity_forward_give_back_the_vols(tmp_path: Path) -> None:
    rows, forward, discount = _synthetic_rows()
    path = tmp_path / "chain.csv"
    columns = list(rows[0])
    path.write_text(
        ",".join(columns) + "\n" + "\n".join(",".join(str(r[c]) for c in columns) for r in rows)
    )
    chain = read_chain_csv(path)
    assert chain.spot == 100.0
    assert chain.quote_date == dt.date(2024, 1, 2)
    vols = chain_implied_vols(chain)
    # 2024-01-02 to 2024-07-02 is 182 days: t = 182/365, not the 0.5 the prices used, so the
    # forward comes from parity and the vol absorbs the day count; check parity exactly
    assert vols.forward[0] == pytest.approx(forward, rel=1e-12)
    assert vols.discount[0] == pytest.approx(discount, rel=1e-12)
    expected_vol = 0.25 * np.sqrt(0.5 / (182 / 365))
    assert np.allclose(vols.iv_mid, expected_vol, rtol=1e-3)
    assert (vols.iv_bid < vols.iv_mid).all()
    assert (vols.iv_mid < vols.iv_ask).all()
    assert (vols.reason_mid == Reason.OK).all()


def test_generic_reader_rejects_missing_columns_and_unknown_types(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("quote_date,expiry,strike,bid,ask\n2024-01-02,2024-02-02,100,1,2\n")
    with pytest.raises(DataIntegrityError, match="option_type"):
        read_chain_csv(path, spot=100.0)
    path.write_text(
        "quote_date,expiry,strike,option_type,bid,ask\n2024-01-02,2024-02-02,100,straddle,1,2\n"
    )
    with pytest.raises(DataIntegrityError, match="'straddle'"):
        read_chain_csv(path, spot=100.0)
    path.write_text(
        "quote_date,expiry,strike,option_type,bid,ask\n2024-01-02,2024-02-02,100,C,1,2\n"
    )
    with pytest.raises(DataIntegrityError, match="no spot column"):
        read_chain_csv(path)


def test_implied_forward_is_exact_on_parity_consistent_prices() -> None:
    strikes = np.array([90.0, 100.0, 110.0])
    forward, discount = 101.5, 0.98
    calls = np.array([12.0, 5.0, 1.5])
    puts = calls - discount * (forward - strikes)
    assert implied_forward(strikes, calls, puts, 100.0) == pytest.approx((forward, discount))
    with pytest.raises(DataIntegrityError, match="two strikes"):
        implied_forward(strikes[:1], calls[:1], puts[:1], 100.0)


def test_spx_vols_are_ordered_and_close_to_the_vendors() -> None:
    chain = load_spx_sample()
    vols = chain_implied_vols(chain)
    quoted = vols.is_otm & (chain.bid > 0)
    ok = quoted & (vols.reason_bid == 0) & (vols.reason_ask == 0)
    assert ok.sum() > 700
    assert (vols.iv_bid[ok] <= vols.iv_mid[ok]).all()
    assert (vols.iv_mid[ok] <= vols.iv_ask[ok]).all()
    vendor = ok & np.isfinite(chain.vendor_iv)
    # iVolatility's own vols use its forwards and rates; ours come from parity
    assert np.median(np.abs(vols.iv_mid[vendor] - chain.vendor_iv[vendor])) < 0.01
    # the forwards fall with maturity (dividends above rates in 2011) and start near spot
    forwards = [vols.forward[chain.expiry == e][0] for e in chain.expiries()]
    assert abs(forwards[0] / chain.spot - 1.0) < 0.005
    assert forwards[-1] < forwards[0]
    # a quote without a bid has no mid: NaN with its reason, never a number
    no_bid = chain.bid == 0
    assert np.isnan(vols.iv_mid[no_bid]).all()
    assert (vols.reason_mid[no_bid] == Reason.NON_FINITE_INPUT).all()

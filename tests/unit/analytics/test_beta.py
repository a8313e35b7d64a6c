"""Rolling OLS and EWMA beta: bulk equals incremental, self-beta is exactly 1, references.

References: ``numpy.linalg.lstsq`` of ORCL's daily returns on SPY's (2012-2014, real data in
``tests/data/quant``) for the rolling OLS, and pandas' exponentially weighted covariance
(``adjust=False``, ``bias=True``) for the EWMA beta.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.analytics.beta import (
    EwmaBeta,
    RollingBeta,
    beta_hedge_weight,
    ewma_beta,
    hedge_units,
    rolling_beta,
)
from tradeloop.core.errors import DataIntegrityError, InvalidValueError

F64 = npt.NDArray[np.float64]
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "quant"

returns = st.floats(min_value=-0.5, max_value=0.5, allow_nan=False, allow_infinity=False)
pairs = st.lists(st.tuples(returns, returns), max_size=120)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


def orcl_and_spy_returns() -> tuple[F64, F64]:
    spy = pd.read_csv(DATA_DIR / "SPY_D-2005-2020.csv", usecols=["date", "close"])
    orcl = pd.read_csv(DATA_DIR / "orcl-2012-2014.txt", usecols=["Date", "Close"])
    joined = orcl.merge(spy, left_on="Date", right_on="date", how="inner")
    assert len(joined) == len(orcl)
    instrument = np.diff(np.log(joined["Close"].to_numpy()))
    benchmark = np.diff(np.log(joined["close"].to_numpy()))
    return instrument, benchmark


def run_rolling(instrument: F64, benchmark: F64, period: int) -> tuple[F64, F64]:
    estimator = RollingBeta(period)
    beta, alpha = [], []
    for y, x in zip(instrument.tolist(), benchmark.tolist(), strict=True):
        estimator.update(y, x)
        beta.append(estimator.beta)
        alpha.append(estimator.alpha)
    return np.array(beta), np.array(alpha)


def run_ewma(instrument: F64, benchmark: F64, **weighting: float) -> tuple[F64, F64]:
    estimator = EwmaBeta(**weighting)  # type: ignore[arg-type]
    beta, alpha = [], []
    for y, x in zip(instrument.tolist(), benchmark.tolist(), strict=True):
        estimator.update(y, x)
        beta.append(estimator.beta)
        alpha.append(estimator.alpha)
    return np.array(beta), np.array(alpha)


@PROPERTY_SETTINGS
@given(pairs, st.integers(min_value=2, max_value=15))
def test_rolling_beta_bulk_equals_incremental_bit_for_bit(data, period):
    instrument = np.array([y for y, _ in data])
    benchmark = np.array([x for _, x in data])
    bulk = rolling_beta(instrument, benchmark, period)
    beta, alpha = run_rolling(instrument, benchmark, period)
    assert np.array_equal(bulk.beta, beta, equal_nan=True)
    assert np.array_equal(bulk.alpha, alpha, equal_nan=True)


@PROPERTY_SETTINGS
@given(pairs, st.floats(min_value=0.5, max_value=50.0), st.integers(min_value=2, max_value=10))
def test_ewma_beta_bulk_equals_incremental_bit_for_bit(data, halflife, min_periods):
    instrument = np.array([y for y, _ in data])
    benchmark = np.array([x for _, x in data])
    bulk = ewma_beta(instrument, benchmark, halflife=halflife, min_periods=min_periods)
    beta, alpha = run_ewma(instrument, benchmark, halflife=halflife, min_periods=min_periods)
    assert np.array_equal(bulk.beta, beta, equal_nan=True)
    assert np.array_equal(bulk.alpha, alpha, equal_nan=True)


@PROPERTY_SETTINGS
@given(st.lists(returns, min_size=3, max_size=120), st.integers(min_value=2, max_value=15))
def test_beta_of_a_series_against_itself_is_exactly_one_and_alpha_exactly_zero(values, period):
    series = np.array(values)
    for beta, alpha in (
        rolling_beta(series, series, period),
        ewma_beta(series, series, span=float(period), min_periods=2),
    ):
        defined = ~np.isnan(beta)
        assert np.all(beta[defined] == 1.0)
        assert np.all(alpha[defined] == 0.0)
        assert np.array_equal(np.isnan(beta), np.isnan(alpha))


def test_rolling_beta_matches_numpy_lstsq_on_orcl_against_spy():
    instrument, benchmark = orcl_and_spy_returns()
    period = 60
    beta, alpha = rolling_beta(instrument, benchmark, period)
    assert np.isnan(beta[: period - 1]).all()
    assert not np.isnan(beta[period - 1 :]).any()
    for t in range(period - 1, len(instrument), 7):
        design = np.column_stack([np.ones(period), benchmark[t - period + 1 : t + 1]])
        (intercept, slope), *_ = np.linalg.lstsq(
            design, instrument[t - period + 1 : t + 1], rcond=None
        )
        assert beta[t] == pytest.approx(slope, rel=1e-10, abs=1e-12)
        assert alpha[t] == pytest.approx(intercept, rel=1e-8, abs=1e-13)
    # ORCL's full-period beta to SPY is between 0.5 and 1.5: a sanity check on the data.
    whole = np.linalg.lstsq(
        np.column_stack([np.ones(len(benchmark)), benchmark]), instrument, rcond=None
    )[0][1]
    assert 0.5 < whole < 1.5


def test_ewma_beta_matches_pandas_exponentially_weighted_covariance():
    instrument, benchmark = orcl_and_spy_returns()
    beta, alpha = ewma_beta(instrument, benchmark, halflife=30.0)
    frame = pd.DataFrame({"x": benchmark, "y": instrument})
    weighted = frame.ewm(halflife=30.0, adjust=False)
    moments = weighted.cov(bias=True)
    covariance = moments.xs("y", level=1)["x"].to_numpy()
    variance = moments.xs("x", level=1)["x"].to_numpy()
    means = weighted.mean()
    with np.errstate(invalid="ignore"):  # pandas' first row has a zero variance
        expected_beta = covariance / variance
    expected_alpha = means["y"].to_numpy() - expected_beta * means["x"].to_numpy()
    minimum = math.ceil(2.0 / (1.0 - math.exp(-math.log(2.0) / 30.0)) - 1.0)
    assert np.isnan(beta[: minimum - 1]).all()
    np.testing.assert_allclose(beta[minimum - 1 :], expected_beta[minimum - 1 :], rtol=1e-10)
    np.testing.assert_allclose(alpha[minimum - 1 :], expected_alpha[minimum - 1 :], atol=1e-14)


def test_ewma_span_and_halflife_give_documented_smoothing_and_warm_up():
    assert EwmaBeta(span=9.0).smoothing == 0.2
    assert EwmaBeta(span=9.0).min_periods == 9
    assert EwmaBeta(halflife=1.0).smoothing == 0.5
    assert EwmaBeta(halflife=1.0, min_periods=5).min_periods == 5


def test_rolling_beta_is_nan_on_a_constant_benchmark_window_never_infinite():
    benchmark = np.array([0.1, 0.1, 0.1, 0.1, 0.2, 0.3])
    instrument = np.array([0.5, -0.2, 0.3, 0.1, 0.4, 0.6])
    beta, alpha = rolling_beta(instrument, benchmark, 3)
    assert np.isnan(beta[:4]).all()
    assert np.isnan(alpha[:4]).all()
    assert np.isfinite(beta[4:]).all()


def test_leading_nans_are_skipped_and_a_later_nan_is_a_data_error():
    instrument = np.array([np.nan, 0.01, 0.02, -0.01, 0.03])
    benchmark = np.array([np.nan, np.nan, 0.01, -0.02, 0.02])
    beta, _ = rolling_beta(instrument, benchmark, 2)
    assert np.isnan(beta[:3]).all()
    assert np.isfinite(beta[3:]).all()
    with pytest.raises(DataIntegrityError, match=r"benchmark_returns\[3\]"):
        rolling_beta([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, np.nan], 2)
    with pytest.raises(DataIntegrityError):
        RollingBeta(2).update(0.1, math.inf)


def test_invalid_beta_parameters_are_rejected():
    with pytest.raises(InvalidValueError, match="at least 2"):
        RollingBeta(1)
    with pytest.raises(InvalidValueError, match="exactly one"):
        EwmaBeta(halflife=5.0, span=5.0)
    with pytest.raises(InvalidValueError, match="exactly one"):
        ewma_beta([0.1], [0.1])
    with pytest.raises(InvalidValueError, match="different lengths"):
        rolling_beta([0.1, 0.2], [0.1], 2)


def test_hedge_units_short_beta_times_notional_over_price():
    assert hedge_units(1.2, 100_000.0, 400.0) == pytest.approx(300.0)
    assert hedge_units(1.2, -100_000.0, 400.0) == pytest.approx(-300.0)
    # One ES contract is 50 x the index.
    assert hedge_units(1.0, 1_000_000.0, 4000.0, multiplier=50.0) == pytest.approx(5.0)
    with pytest.raises(InvalidValueError, match="above 0"):
        hedge_units(1.0, 1.0, 0.0)
    with pytest.raises(InvalidValueError, match="finite"):
        hedge_units(math.nan, 1.0, 1.0)


def test_beta_hedge_weight_makes_the_book_beta_neutral():
    weights = {"AAA": 0.5, "BBB": 0.3, "CCC": -0.2}
    betas = {"AAA": 1.2, "BBB": 0.8, "CCC": 1.5}
    hedge = beta_hedge_weight(weights, betas)
    assert hedge == pytest.approx(-(0.6 + 0.24 - 0.3))
    assert sum(weights[k] * betas[k] for k in weights) + hedge * 1.0 == pytest.approx(0.0)
    with pytest.raises(InvalidValueError, match="missing"):
        beta_hedge_weight({"AAA": 1.0}, {})

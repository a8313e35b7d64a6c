"""Fixtures of the regime tests: real SPY closes and a seeded two-regime synthetic series."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from tradeloop.core.rng import make_rng
from tradeloop.core.time import NANOS_PER_DAY
from tradeloop.regime import GaussianHMMConfig, regime_features

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "quant"

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

FAST_HMM = GaussianHMMConfig(n_states=2, n_iter=25, tol=1e-3, seed=3, min_fit_rows=60)


class DailyCloses(NamedTuple):
    dates: npt.NDArray[np.str_]
    ts_ns: I64
    close: F64


class Switching(NamedTuple):
    ts_ns: I64
    close: F64
    features: F64
    is_turbulent: npt.NDArray[np.bool_]


@pytest.fixture(scope="session")
def spy() -> DailyCloses:
    """SPY daily closes 2005-01-03..2020-08-28 (pandas-ta's SPY_D.csv, MIT)."""
    table = pd.read_csv(DATA_DIR / "SPY_D-2005-2020.csv", usecols=["date", "close"])
    dates = table["date"].to_numpy(dtype=str)
    ts_ns = pd.to_datetime(table["date"]).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return DailyCloses(dates, ts_ns, table["close"].to_numpy(dtype=np.float64))


def _make_switching(n_bars: int, seed: int = 11) -> Switching:
    # A seeded Markov-switching random walk: calm (1 % vol) and turbulent (3 % vol) bars.
    rng = make_rng(seed, "tests", "regime", "switching")
    turbulent = np.zeros(n_bars, dtype=bool)
    state = False
    for i in range(n_bars):
        if rng.random() < 0.02:
            state = not state
        turbulent[i] = state
    volatility = np.where(turbulent, 0.03, 0.01)
    drift = np.where(turbulent, -0.001, 0.0005)
    log_returns = drift + volatility * rng.standard_normal(n_bars)
    close = 100.0 * np.exp(np.cumsum(log_returns))
    ts_ns = (np.arange(n_bars, dtype=np.int64) + 18_000) * NANOS_PER_DAY
    return Switching(ts_ns, close, regime_features(close, 10), turbulent)


@pytest.fixture(scope="session")
def fast_hmm() -> GaussianHMMConfig:
    """Small, fast HMM settings: two states, few EM iterations, min_fit_rows 60."""
    return FAST_HMM


@pytest.fixture(scope="session")
def make_switching() -> Callable[..., Switching]:
    """Return the builder of seeded two-regime series: ``make_switching(n_bars, seed=11)``."""
    return _make_switching


@pytest.fixture(scope="session")
def switching() -> Switching:
    """600 bars of the two-regime synthetic series (features with a 10-bar volatility)."""
    return _make_switching(600)

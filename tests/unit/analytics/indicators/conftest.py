"""Fixtures of the indicator tests: the real daily series in ``tests/data/indicators``."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pytest

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "indicators"


class DailySeries(NamedTuple):
    name: str
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]


def _load(file_name: str) -> DailySeries:
    table = np.genfromtxt(DATA_DIR / file_name, delimiter=",", skip_header=1, usecols=(1, 2, 3, 4))
    columns = [np.ascontiguousarray(column) for column in table.T]
    return DailySeries(file_name, *columns)


@pytest.fixture(scope="session")
def index_2006() -> DailySeries:
    """Backtrader's 2006-day-001.txt: 255 daily bars of an equity index."""
    return _load("2006-day-001.txt")


@pytest.fixture(scope="session", params=["2006-day-001.txt", "orcl-1995-1996-day.txt"])
def daily(request: pytest.FixtureRequest) -> DailySeries:
    """Each real daily series in turn."""
    return _load(request.param)

"""Fixtures of the metrics tests: the real series in ``tests/data/metrics``."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "metrics"


class DailyCloses(NamedTuple):
    name: str
    ts_ns: npt.NDArray[np.int64]
    close: npt.NDArray[np.float64]

    @property
    def returns(self) -> npt.NDArray[np.float64]:
        return np.diff(self.close) / self.close[:-1]

    def return_series(self) -> pd.Series:
        """Returns indexed by date, as quantstats wants them."""
        index = pd.DatetimeIndex(self.ts_ns[1:].view("datetime64[ns]"))
        return pd.Series(self.returns, index=index, name=self.name)


def _load(file_name: str, date_column: str, close_column: str, name: str) -> DailyCloses:
    table = pd.read_csv(DATA_DIR / file_name)
    # Daily closes stamped at midnight UTC of their date.
    ts = pd.to_datetime(table[date_column]).to_numpy(dtype="datetime64[ns]").view(np.int64)
    close = table[close_column].to_numpy(dtype=np.float64)
    return DailyCloses(name, np.ascontiguousarray(ts), np.ascontiguousarray(close))


@pytest.fixture(scope="session")
def spy() -> DailyCloses:
    """SPY daily closes 1999-11-01..2020-08-28 (pandas-ta sample data)."""
    return _load("SPY_D-close.csv", "date", "close", "SPY")


@pytest.fixture(scope="session")
def orcl() -> DailyCloses:
    """ORCL daily closes 1995-01-03..2014-12-31 (backtrader sample data)."""
    return _load("orcl-1995-2014-close.csv", "Date", "Close", "ORCL")


@pytest.fixture(scope="session", params=["SPY", "ORCL"])
def daily(request: pytest.FixtureRequest, spy: DailyCloses, orcl: DailyCloses) -> DailyCloses:
    """Each real daily series in turn."""
    return spy if request.param == "SPY" else orcl


@pytest.fixture(scope="session")
def index_5min() -> pd.DataFrame:
    """5-minute closes of an equity index in January 2006, local time Europe/Berlin."""
    table = pd.read_csv(DATA_DIR / "2006-min-005.txt")
    local = pd.to_datetime(table["Date"] + " " + table["Time"]).dt.tz_localize("Europe/Berlin")
    utc = local.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    return pd.DataFrame(
        {
            "ts_ns": utc.view(np.int64),
            "local_date": local.dt.date,
            "close": table["Close"].to_numpy(dtype=np.float64),
        }
    )

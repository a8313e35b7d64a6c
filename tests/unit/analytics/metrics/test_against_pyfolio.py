"""Turnover, gross leverage and holding period against pyfolio's definitions, on real data.

pyfolio (``pyfolio-reloaded``, a dev dependency) is the reference library that defines these
three; ``docs/reports.md`` says where tradeloop's definitions differ from it and why:

- **turnover**: pyfolio's ``txn.get_turnover(positions, transactions, "portfolio_value")`` is
  each day's traded value over that day's portfolio value; tradeloop's annual turnover is the
  total traded over the *average* equity, per year. The traded values are the same, so
  ``sum(pyfolio_d * value_d)`` is tradeloop's numerator; with a constant portfolio value the
  two are equal (tradeloop's = 252 × pyfolio's mean);
- **gross leverage**: pyfolio's ``timeseries.gross_lev`` per day; tradeloop's average gross
  leverage is its mean over the points that carry time (every point but the last) — on a
  daily curve without timestamps, exactly pyfolio's mean without the last day;
- **holding period**: pyfolio's ``round_trips.extract_round_trips`` durations; for round trips
  opened and closed in one transaction each, tradeloop's flat-to-flat round trips are the same
  and so is their mean duration. pyfolio also counts a partial close as a round trip (from the
  first lot it matches); tradeloop does not (one round trip is flat to flat).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tradeloop.analytics import metrics

from .conftest import DailyCloses

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyfolio warns that zipline (not needed here) is absent
    from pyfolio import round_trips as pf_round_trips
    from pyfolio import timeseries as pf_timeseries
    from pyfolio import txn as pf_txn

RTOL = 1e-12


class Book:
    """SPY held 100 shares while its close is above its 20-day mean, bought and sold at the
    close: daily positions, cash, transactions, as pyfolio takes them."""

    def __init__(self, spy: DailyCloses, days: int = 750) -> None:
        close = spy.close[:days]
        self.ts = spy.ts_ns[:days]
        mean = pd.Series(close).rolling(20).mean().to_numpy()
        held = np.where(close > np.nan_to_num(mean, nan=np.inf), 100, 0)
        traded = np.diff(held, prepend=0)
        self.value = held * close
        self.cash = 100_000.0 - np.cumsum(traded * close)
        self.equity = self.cash + self.value
        self.traded_notional = np.abs(traded * close)
        self.index = pd.DatetimeIndex(self.ts.view("datetime64[ns]"))
        self.positions = pd.DataFrame({"SPY": self.value, "cash": self.cash}, index=self.index)
        at = np.flatnonzero(traded)
        self.transactions = pd.DataFrame(
            {"amount": traded[at], "price": close[at], "symbol": "SPY"},
            index=self.index[at],
        )
        opens = at[traded[at] > 0]
        closes = at[traded[at] < 0]
        self.trips = [
            metrics.RoundTrip(
                instrument_id="SPY",
                ts_entry=int(self.ts[o]),
                ts_exit=int(self.ts[c]),
                quantity=100.0,
                entry_price=float(close[o]),
                exit_price=float(close[c]),
                pnl=float(100 * (close[c] - close[o])),
            )
            for o, c in zip(opens, closes, strict=False)
        ]


@pytest.fixture(scope="module")
def book(spy: DailyCloses) -> Book:
    return Book(spy)


def test_turnover_sums_pyfolios_traded_values_over_the_average_equity(book: Book) -> None:
    daily = pf_txn.get_turnover(book.positions, book.transactions, "portfolio_value")
    daily = daily.reindex(book.index.normalize(), fill_value=0.0).to_numpy()
    ours = metrics.turnover(book.traded_notional, book.equity, periods_per_year=252)
    traded = float(np.sum(daily * book.equity))  # pyfolio's traded values, summed
    assert traded == pytest.approx(float(np.sum(book.traded_notional)), rel=RTOL)
    assert ours == pytest.approx(traded / np.mean(book.equity) * 252 / len(book.equity), rel=RTOL)
    assert len(book.trips) > 5


def test_with_a_constant_portfolio_value_turnover_is_252_times_pyfolios_mean() -> None:
    index = pd.date_range("2020-01-01", periods=6, freq="D")
    value = np.array([0.0, 50_000, 50_000, 20_000, 0.0, 30_000])
    positions = pd.DataFrame({"X": value, "cash": 100_000.0 - value}, index=index)
    amounts = np.diff(value, prepend=0.0) / 100.0
    at = np.flatnonzero(amounts)
    transactions = pd.DataFrame(
        {"amount": amounts[at], "price": 100.0, "symbol": "X"}, index=index[at]
    )
    daily = pf_txn.get_turnover(positions, transactions, "portfolio_value")
    daily = daily.reindex(index, fill_value=0.0)
    ours = metrics.turnover(np.abs(amounts * 100.0), np.full(6, 100_000.0), 252)
    assert ours == pytest.approx(float(daily.mean()) * 252, rel=RTOL)


def test_average_gross_leverage_is_pyfolios_mean_over_the_points_that_carry_time(
    book: Book,
) -> None:
    theirs = pf_timeseries.gross_lev(book.positions).to_numpy()
    held = metrics.exposure(np.abs(book.value), book.equity)
    assert held.average_gross_leverage == pytest.approx(float(np.mean(theirs[:-1])), rel=RTOL)
    assert held.time_in_market == float(np.mean(theirs[:-1] != 0))  # pyfolio has no such metric


def test_average_holding_period_equals_pyfolios_mean_round_trip_duration(book: Book) -> None:
    theirs = pf_round_trips.extract_round_trips(book.transactions.copy())
    assert len(theirs) == len(book.trips)
    mean_days = theirs["duration"].mean() / pd.Timedelta(days=1)
    ours = metrics.trade_statistics(book.trips).average_holding_period_days
    assert ours == pytest.approx(mean_days, rel=RTOL)


def test_a_partial_close_is_a_round_trip_for_pyfolio_but_not_for_tradeloop() -> None:
    index = pd.DatetimeIndex(["2020-01-01", "2020-01-03", "2020-01-05"])
    transactions = pd.DataFrame(
        {"amount": [10, -5, -5], "price": [100.0, 101.0, 102.0], "symbol": "X"}, index=index
    )
    theirs = pf_round_trips.extract_round_trips(transactions)
    assert sorted(theirs["duration"] / pd.Timedelta(days=1)) == [2.0, 4.0]  # mean 3 days
    trip = metrics.RoundTrip(
        instrument_id="X",
        ts_entry=int(index[0].value),
        ts_exit=int(index[2].value),
        quantity=10.0,
        entry_price=100.0,
        exit_price=101.5,
        pnl=15.0,
    )
    assert metrics.trade_statistics([trip]).average_holding_period_days == 4.0  # flat to flat

"""``DailyCurve`` fed a curve in pieces gives the Sharpe ratio of the whole curve's daily
returns (``analytics.metrics``), whatever the pieces."""

from __future__ import annotations

from array import array

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloop.analytics.metrics.equity import daily_returns
from tradeloop.analytics.metrics.performance import sharpe_ratio
from tradeloop.monitoring.performance import DAY_NS, DailyCurve

HOUR = DAY_NS // 24


def _curve(points: int, seed: int) -> tuple[array[int], array[float]]:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(1, 20, size=points)) * HOUR + 1_600_000_000 * 10**9
    equity = 100_000 * np.cumprod(1 + rng.normal(0, 0.002, size=points))
    return array("q", ts.tolist()), array("d", equity.tolist())


@settings(max_examples=30, deadline=None)
@given(
    points=st.integers(min_value=40, max_value=300),
    seed=st.integers(min_value=0, max_value=10_000),
    cuts=st.lists(st.integers(min_value=1, max_value=299), max_size=6),
)
def test_the_sharpe_of_a_curve_fed_in_pieces_is_the_whole_curves(
    points: int, seed: int, cuts: list[int]
) -> None:
    ts, equity = _curve(points, seed)
    curve = DailyCurve()
    for cut in sorted(c for c in cuts if c < points):
        curve.update(ts[:cut], equity[:cut])
    curve.update(ts, equity)
    curve.update(ts, equity)  # nothing new: nothing changes
    expected = sharpe_ratio(daily_returns(np.asarray(ts), np.asarray(equity)))
    sharpe = curve.sharpe()
    assert sharpe is not None
    assert abs(sharpe - expected) < 1e-9 * max(1.0, abs(expected))


def test_fewer_than_three_days_or_a_flat_curve_has_no_sharpe() -> None:
    curve = DailyCurve()
    assert curve.sharpe() is None
    curve.update(array("q", [0, DAY_NS]), array("d", [100.0, 101.0]))
    assert curve.sharpe() is None
    flat = DailyCurve()
    flat.update(array("q", [0, DAY_NS, 2 * DAY_NS, 3 * DAY_NS]), array("d", [100.0] * 4))
    assert flat.sharpe() is None

"""The report's metrics are ``analytics.metrics`` on the run's curves, unchanged."""

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.analytics.metrics import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    conditional_value_at_risk,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
    summarize,
    total_return,
    value_at_risk,
)
from tradeloop.journal.explain import TradeBook
from tradeloop.journal.replay import read_equity_csv
from tradeloop.model.decisions import TargetsProposed
from tradeloop.reports.analysis import (
    HEDGE,
    OFFSETTING_VOTES,
    agent_shares,
    analyze,
    is_hedge_trade,
)
from tradeloop.reports.run import RunInputs
from tradeloop.reports.tearsheet import METRIC_ROWS, build_report, format_metric

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def test_report_metrics_equal_analytics_metrics_on_the_runs_equity_curve(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    analysis = analyze(RunInputs(pipeline_run.run_dir, base_dir=DATA))
    curve = read_equity_csv(pipeline_run.run_dir / "equity.csv")
    # Daily bars: one point a day, so the daily returns are the curve's returns.
    returns = np.diff(curve.equity) / curve.equity[:-1]
    net = analysis.net
    assert net is not None
    assert net.total_return == total_return(returns)
    assert net.annual_return == annual_return(returns)
    assert net.annual_volatility == annual_volatility(returns)
    assert net.sharpe_ratio == sharpe_ratio(returns)
    assert net.sortino_ratio == sortino_ratio(returns)
    assert net.calmar_ratio == calmar_ratio(returns)
    assert net.max_drawdown == max_drawdown(returns)
    assert net.value_at_risk == value_at_risk(returns)
    assert net.conditional_value_at_risk == conditional_value_at_risk(returns)
    expected = summarize(
        curve.ts,
        curve.equity,
        trades=analysis.round_trips,
        benchmark_equity=analysis.curves.benchmark,
        gross_exposure=curve.gross_exposure,
        traded_notional=analysis.curves.traded_notional,
    )
    assert net == expected
    assert net.alpha is not None
    assert net.beta is not None
    assert net.trades is not None
    assert analysis.curves.benchmark_id == "SPY.ARCX"


def test_report_html_shows_the_metrics_it_computed(pipeline_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files, analysis = build_report(RunInputs(pipeline_run.run_dir, base_dir=DATA), tmp_path)
    page = Path(files.html).read_text()
    for _, key, kind in METRIC_ROWS:
        cell = re.search(rf'data-metric="{key}" data-column="0">([^<]*)</td>', page)
        assert cell is not None, key
        assert cell.group(1) == format_metric(getattr(analysis.net, key), kind)


def test_round_trips_close_flat_to_flat_and_cost_commissions(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    analysis = analyze(RunInputs(pipeline_run.run_dir, base_dir=DATA))
    trips = analysis.round_trips
    assert trips
    assert all(t.ts_exit >= t.ts_entry and t.quantity > 0 for t in trips)  # long only
    assert sum(t.fees for t in trips) <= analysis.curves.costs_by_kind["commission"] + 1e-9


def test_attribution_by_agent_instrument_and_factor_each_sum_to_the_total(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(pipeline_run.run_dir, base_dir=DATA)
    attribution = analyze(inputs).attribution
    total = attribution.total
    assert total == pytest.approx(pipeline_run.summary["final_equity"] - 100_000, abs=1e-6)
    for split in (attribution.by_factor, attribution.by_instrument, attribution.by_agent):
        assert sum(split.values()) == pytest.approx(total, abs=1e-6)
    assert {"momentum", "meanrev"} <= set(attribution.by_agent)


# -- by-agent attribution -----------------------------------------------------------------------

_contribution = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False, allow_subnormal=False)


@given(
    pnl=st.fractions(min_value=-(10**7), max_value=10**7, max_denominator=10**9),
    contributions=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _contribution, max_size=4),
)
def test_agent_shares_add_up_exactly_and_each_is_bounded_by_the_trades_pnl(
    pnl: Fraction, contributions: dict[str, float]
) -> None:
    shares = agent_shares(pnl, contributions)
    if all(c == 0 for c in contributions.values()):
        assert shares is None
        return
    assert shares is not None
    assert sum(shares.values(), Fraction(0)) == pnl
    assert all(abs(part) <= abs(pnl) for part in shares.values())
    assert set(shares) == {*contributions, OFFSETTING_VOTES}


def test_agents_that_nearly_cancel_out_get_bounded_shares() -> None:
    # c / sum(c) gave +5,000x and -4,999x the trade's P&L here.
    shares = agent_shares(Fraction(100), {"momentum": 0.5, "meanrev": -0.4999})
    assert shares is not None
    assert shares["momentum"] == pytest.approx(100 * 0.5 / 0.9999)
    assert shares["meanrev"] == pytest.approx(-100 * 0.4999 / 0.9999)  # voted against a winner
    assert shares[OFFSETTING_VOTES] == pytest.approx(100 * (1 - 0.0001 / 0.9999))
    assert sum(shares.values()) == 100


def test_by_agent_attribution_sums_exactly_to_the_total_on_a_run(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    attribution = analyze(RunInputs(pipeline_run.run_dir, base_dir=DATA)).attribution
    exact = attribution.exact
    total = exact["total"]["total"]
    for split in ("by_factor", "by_instrument", "by_agent"):
        assert sum(exact[split].values(), Fraction(0)) == total
    # Each trade's part of an agent is at most its |P&L|: no agent's total exceeds the sum.
    bound = sum(abs(t.pnl) for t in RunInputs(pipeline_run.run_dir, base_dir=DATA).pnl.values())
    assert all(abs(v) <= bound for v in exact["by_agent"].values())


@pytest.mark.slow
def test_hedge_trades_are_attributed_to_the_hedge_not_left_unattributed(hedged_run) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(hedged_run.run_dir)
    book: TradeBook = inputs.book
    hedge_keys = [key for key in inputs.pnl if is_hedge_trade(book, key)]
    assert hedge_keys
    # Every hedge trade is on the benchmark and carries out a target marked is_hedge.
    targets = [
        target
        for rows in book.by_rebalance.values()
        for event in rows
        if isinstance(event, TargetsProposed)
        for target in event.targets
        if target.is_hedge
    ]
    assert {t.instrument_id for t in targets} == {"SPY.ARCX"}
    assert {inputs.pnl[key].instrument_id for key in hedge_keys} == {"SPY.ARCX"}
    exact = analyze(inputs).attribution.exact["by_agent"]
    assert exact[HEDGE] == sum((inputs.pnl[key].pnl for key in hedge_keys), Fraction(0))
    assert exact[HEDGE] != 0
    unattributed = exact.get("unattributed: pipeline", Fraction(0))
    assert abs(unattributed) < abs(exact[HEDGE]) / 10

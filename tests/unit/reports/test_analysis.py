"""The report's metrics are ``analytics.metrics`` on the run's curves, unchanged."""

import re
from pathlib import Path

import numpy as np
import pytest

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
from tradeloop.journal.replay import read_equity_csv
from tradeloop.reports.analysis import analyze
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

"""``tradeloop risk RUN``: the run's portfolio at an instant, its VaR/CVaR by four methods,
stress tests and correlations, equal to the library's figures for the same positions."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from tradeloop.cli.risk import register

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"

app = typer.Typer()
register(app)
app.command("noop", hidden=True)(lambda: None)  # a second command keeps `risk` a subcommand
runner = CliRunner()


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _helpers().run_pipeline(tmp_path_factory.mktemp("risk"))


def _json(run, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = runner.invoke(
        app, ["risk", str(run.run_dir), "--base-dir", str(DATA), "--json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_risk_at_an_instant_values_the_replayed_positions_and_runs_every_method(run) -> None:  # type: ignore[no-untyped-def]
    from tradeloop.journal.replay import JournalIndex

    at = "2011-03-01"
    report = _json(run, "--at", at, "--confidence", "0.95", "--window", "250", "--paths", "5000")
    state = JournalIndex(run.run_dir).state_at(report_ns(at))
    held = {p.instrument_id for p in state.positions}
    assert {p["instrument_id"] for p in report["positions"]} == held
    assert report["value"] == pytest.approx(sum(p["value"] for p in report["positions"]))
    var = report["var"]
    assert set(var) == {"historical", "parametric", "delta_gamma", "monte_carlo"}
    for method in var.values():
        assert method["var"] > 0
        assert method["cvar"] >= method["var"]
    # a book of stocks: delta-gamma is delta-normal, and the history is the data before --at
    assert var["delta_gamma"]["var"] == pytest.approx(var["parametric"]["var"])
    assert report["history"][1] < "2011-03-01"
    # the same seed gives the same Monte Carlo figure
    again = _json(run, "--at", at, "--confidence", "0.95", "--window", "250", "--paths", "5000")
    assert again["var"]["monte_carlo"]["var"] == var["monte_carlo"]["var"]
    names = [s["name"] for s in report["stress"]]
    assert names[:4] == [
        "lehman_week_2008",
        "october_2008",
        "lehman_to_october_2008",
        "covid_march_2020",
    ]
    corr = report["correlation"]
    matrix = np.array(corr["full"])
    np.testing.assert_allclose(np.diag(matrix), 1.0)
    assert corr["by_regime"]
    assert sum(r["observations"] for r in corr["by_regime"].values()) == report["window_days"]


def report_ns(text: str) -> int:
    from tradeloop.core.time import parse_time

    return parse_time(text)


def test_parametric_var_is_z_sigma_of_the_position_values(run) -> None:  # type: ignore[no-untyped-def]
    from scipy import stats

    from tradeloop.reports.risk import daily_closes
    from tradeloop.reports.run import RunInputs

    report = _json(run, "--at", "2011-03-01", "--window", "120")
    inputs = RunInputs(run.run_dir, DATA)
    at = report_ns("2011-03-01")
    ids = [p["instrument_id"] for p in report["positions"]]
    columns = []
    for instrument_id in ids:
        ts, close = inputs.price_series(instrument_id)  # type: ignore[misc]
        columns.append(daily_closes(ts, close, at)[1])
    prices = np.column_stack([c[-121:] for c in columns])  # every series has the same days here
    returns = prices[1:] / prices[:-1] - 1
    values = np.array([p["value"] for p in report["positions"]])
    sigma = math.sqrt(values @ np.cov(returns.T, ddof=1).reshape(len(ids), len(ids)) @ values)
    assert report["var"]["parametric"]["var"] == pytest.approx(stats.norm.ppf(0.99) * sigma)


def test_a_user_shock_is_applied_and_printed(run) -> None:  # type: ignore[no-untyped-def]
    report = _json(run, "--shock", "name=crash,spot=-0.1,vol=0.2")
    crash = report["stress"][-1]
    assert crash["name"] == "crash"
    assert crash["pnl"] == pytest.approx(-0.1 * report["value"])
    text = runner.invoke(
        app,
        [
            "risk",
            str(run.run_dir),
            "--base-dir",
            str(DATA),
            "--wide",
            "--shock",
            "name=crash,spot=-0.1",
        ],
    )
    assert text.exit_code == 0, text.output
    for heading in (
        "VaR and CVaR",
        "book Greeks",
        "monte_carlo",
        "stress tests",
        "covid_march_2020",
        "crash",
    ):
        assert heading in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--confidence", "99"], "must lie strictly between 0 and 1"),
        (["--shock", "spot=-0.2,foo=1"], "unknown key 'foo'"),
        (["--at", "yesterday"], "is not an ISO date or time"),
        (["--horizon-days", "0"], "--horizon-days 0 must be >= 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["risk", str(run.run_dir), "--base-dir", str(DATA), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_too_short_a_history_reports_why_per_method(run) -> None:  # type: ignore[no-untyped-def]
    report = _json(run, "--at", "2010-03-15")
    if not report["positions"]:
        assert report["notes"] == ["no open positions at the instant: nothing is at risk"]
        return
    assert "needs at least 100 scenarios" in report["var"]["historical"]["error"]


def test_before_the_first_position_nothing_is_at_risk(run) -> None:  # type: ignore[no-untyped-def]
    report = _json(run, "--at", "start")
    assert report["positions"] == []
    assert report["var"] == {}
    assert report["notes"] == ["no open positions at the instant: nothing is at risk"]

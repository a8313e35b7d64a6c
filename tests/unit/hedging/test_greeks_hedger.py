"""The Greeks hedger on the event loop: the examples run, the bands hold after every
evaluation, the option legs trade at their quotes, and bad params stop the run at startup."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradeloop.config.loader import load_config
from tradeloop.core.errors import ConfigError
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest
from tradeloop.journal.replay import JournalIndex, read_rows

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "options"


def _run(name: str, out: Path, **params: Any) -> RunResult:
    config = load_config(EXAMPLES / name)
    run = msgspec.structs.replace(config.run, output_dir=str(out))
    strategies = [
        msgspec.structs.replace(s, params={**s.params, **params}) for s in config.strategies
    ]
    config = msgspec.structs.replace(config, run=run, strategies=strategies)
    return run_backtest(prepare_run(config, EXAMPLES))


def _hedges(result: RunResult, closing: bool = False) -> list[dict[str, Any]]:
    # the evaluations that hedged (closing=False) or the one that closed the book (True)
    rows = read_rows(result.run_dir / "journal.sqlite")
    found = [json.loads(r.payload) for r in rows if r.type == "GreeksHedged"]
    return [h for h in found if h["reason"].startswith("closing") is closing]


@pytest.fixture(scope="module")
def delta_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return _run("delta_hedge.toml", tmp_path_factory.mktemp("delta"))


def test_delta_hedge_keeps_the_net_delta_within_the_band_after_every_evaluation(
    delta_run: RunResult,
) -> None:
    hedges = _hedges(delta_run)
    assert len(hedges) > 100
    for hedge in hedges:
        (mark,) = hedge["marks"]
        after = hedge["net_delta"] + hedge["underlying_trade"]
        assert abs(after) <= 50.0, hedge
        assert mark["quantity"] == 10.0  # the 10 puts bought on the first day, held
        assert mark["delta"] < 0
    traded = [h for h in hedges if h["underlying_trade"]]
    assert traded
    assert all("outside +/-50" in h["reason"] for h in traded)
    (closing,) = _hedges(delta_run, closing=True)  # journaled before the close: 2 days left
    assert closing["reason"] == "closing 1.17 days before expiry"


def test_delta_hedge_trades_options_at_their_quotes_and_ends_flat(delta_run: RunResult) -> None:
    rows = read_rows(delta_run.run_dir / "journal.sqlite")
    fills = [json.loads(r.payload) for r in rows if r.type == "OrderFilled"]
    first = fills[0]
    assert first["instrument_id"] == "SPY110618P127.OPRA"
    assert first["last_px"]["raw"] == 742  # the ask of 2011-01-03 in SPY110618P127.csv
    assert not [r for r in rows if r.type == "OrderDenied"]
    index = JournalIndex(delta_run.run_dir)
    assert index.state_at(index.end_ts).positions == ()


def test_gamma_hedge_sells_calls_against_the_puts_and_holds_both_bands(tmp_path: Path) -> None:
    hedges = _hedges(_run("gamma_hedge.toml", tmp_path))
    assert hedges
    for hedge in hedges:
        put, call = hedge["marks"]
        per_call = call["gamma"] * call["multiplier"]
        after = hedge["net_gamma"] + hedge["option_trade"] * per_call
        # within the band, or as close as whole contracts allow
        assert abs(after) <= max(2.0, per_call / 2 + 1e-9), hedge
        assert put["quantity"] == 10.0
        assert call["quantity"] + hedge["option_trade"] < 0  # short calls
        delta_after = (
            hedge["underlying_quantity"]
            + hedge["underlying_trade"]
            + sum(m["quantity"] * m["multiplier"] * m["delta"] for m in hedge["marks"])
            + hedge["option_trade"] * call["multiplier"] * call["delta"]
        )
        assert abs(delta_after) <= 50.0, hedge


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"option_side": "hold"}, "option_side 'hold' must be 'buy' or 'sell'"),
        ({"delta_band": -1.0}, "delta_band -1.0 must be a number >= 0"),
        ({"option_quantity": "10.5"}, "option_quantity"),
        ({"neutralize": "theta"}, "neutralize 'theta'"),
    ],
)
def test_bad_params_stop_the_run_at_startup(
    tmp_path: Path, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("+", r"\+")):
        _run("delta_hedge.toml", tmp_path, **params)
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_example_quotes_are_what_make_quotes_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_quotes", EXAMPLES / "make_quotes.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.main(tmp_path):
        assert path.read_bytes() == (EXAMPLES / path.name).read_bytes(), path.name


def test_tradeloop_risk_prices_the_runs_options_from_their_journaled_marks(
    delta_run: RunResult,
) -> None:
    from tradeloop.core.time import parse_time
    from tradeloop.reports.risk import run_risk
    from tradeloop.reports.run import RunInputs

    inputs = RunInputs(delta_run.run_dir, EXAMPLES)
    report = run_risk(inputs, at_ns=parse_time("2011-03-15"), window=60, paths=2_000)
    assert {p.instrument_id for p in report.positions} == {"SPY.ARCX", "SPY110618P127.OPRA"}
    assert not report.notes[:-1]  # only the short-window note: no option measured as linear
    methods = {m.method: m.result for m in report.methods}
    delta_gamma = methods["delta_gamma"]
    assert delta_gamma is not None
    assert delta_gamma.details["skewness"] > 0  # long gamma, delta-hedged: a right-skewed P&L
    crash = next(s for s in report.stress if s.scenario.name == "covid_march_2020")
    assert crash.position_pnl["SPY110618P127.OPRA"] > -crash.position_pnl["SPY.ARCX"] > 0


def test_options_attribution_of_the_run_adds_up_and_ties_to_the_trades_price_move(
    delta_run: RunResult, tmp_path: Path
) -> None:
    from tradeloop.options.attribution import COMPONENTS
    from tradeloop.reports.explain import explain_trade
    from tradeloop.reports.options_attribution import options_attribution
    from tradeloop.reports.run import RunInputs
    from tradeloop.reports.tearsheet import build_report

    inputs = RunInputs(delta_run.run_dir, EXAMPLES)
    positions = {p.instrument_id: p for p in options_attribution(inputs)}
    option, hedge = positions["SPY110618P127.OPRA"], positions["SPY.ARCX"]
    assert len(option.steps) == len(hedge.steps) == len(_hedges(delta_run))  # to the close
    for step in option.steps:
        assert step.pnl == pytest.approx(sum(step.part(n) for n in COMPONENTS), abs=1e-9)
    assert option.sums["theta"] < 0 < option.sums["gamma"]  # long options: pay theta, earn gamma
    assert hedge.sums["pnl"] == hedge.sums["delta"]
    # the option position's mark-to-mark P&L is the price move of the trade that opened it
    explanation = explain_trade(inputs, "O-delta-hedger-1")
    parts = explanation.pnl.parts
    assert option.sums["pnl"] == pytest.approx(parts["market"] + parts["alpha"], abs=1e-6)
    titles = [s.title for s in explanation.sections]
    assert "options P&L attribution (the position, mark to mark, by Greek)" in titles
    files, _ = build_report(inputs, tmp_path)
    assert "Options P&amp;L attribution" in Path(files.html).read_text()
    metrics = json.loads(Path(files.metrics_json).read_text())
    assert metrics["options_attribution"][0]["totals"]["pnl"] == pytest.approx(option.sums["pnl"])


def test_vega_neutral_hedge_holds_the_vega_band(tmp_path: Path) -> None:
    hedges = _hedges(_run("gamma_hedge.toml", tmp_path, neutralize="vega", greek_band=500.0))
    assert hedges
    for hedge in hedges:
        _, call = hedge["marks"]
        per_call = call["vega"] * call["multiplier"]
        after = hedge["net_vega"] + hedge["option_trade"] * per_call
        assert abs(after) <= max(500.0, per_call / 2 + 1e-6), hedge
    assert any("vega" in h["reason"] for h in hedges)

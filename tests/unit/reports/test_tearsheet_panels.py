"""The tearsheet shows only the panels that have something to show."""

from pathlib import Path

import numpy as np

from tradeloop.reports.analysis import analyze
from tradeloop.reports.run import RunInputs
from tradeloop.reports.tearsheet import FIGURES, build_report, figures

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def _trace_names(fig) -> list[str]:  # type: ignore[no-untyped-def]
    return [trace.name for trace in fig.data if trace.name]


def test_run_without_benchmark_or_regimes_omits_their_panels(plain_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(plain_run.run_dir)
    analysis = analyze(inputs)
    assert analysis.curves.benchmark is None
    figs = figures(inputs, analysis)
    assert "regimes" not in figs
    assert list(figs) == [name for name, _ in FIGURES if name != "regimes"]
    names = {name: _trace_names(fig) for name, fig in figs.items()}
    assert not any("benchmark" in n for trace_names in names.values() for n in trace_names)
    assert names["rolling"] == ["Sharpe"]  # no beta panel, no beta legend
    assert np.isfinite(np.asarray(figs["rolling"].data[0].y, dtype=float)).any()
    assert figs["equity"].layout.title.text == "Equity"
    files, _ = build_report(inputs, tmp_path)
    page = Path(files.html).read_text()
    assert 'data-figure="regimes"' not in page
    assert 'data-figure="rolling"' in page


def test_run_with_benchmark_and_regimes_keeps_every_panel(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(pipeline_run.run_dir, base_dir=DATA)
    figs = figures(inputs, analyze(inputs))
    assert list(figs) == [name for name, _ in FIGURES]
    assert _trace_names(figs["rolling"]) == ["Sharpe", "beta"]
    assert np.isfinite(np.asarray(figs["rolling"].data[1].y, dtype=float)).any()
    assert any(name.startswith("regime ") for name in _trace_names(figs["regimes"]))

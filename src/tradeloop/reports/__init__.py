"""Reports on finished runs: replay with internals, explain, metrics and the HTML tearsheet.

- ``run``: ``RunInputs`` opens a run (journal index, manifest, config, its market data checked
  against the manifest's content hashes) and decomposes every trade's P&L;
- ``rerun``: ``rerun_until`` re-runs a run deterministically up to an instant, checks the
  journal prefix byte for byte and reports indicator, agent and stage internals; ``rerun_at``
  does it for many instants with one re-run (scrubbing);
- ``explain``: ``explain_trade``, a trade's causal chain and P&L parts as sections of text;
- ``analysis``: ``analyze``, the report's curves, metrics (``analytics.metrics.summarize``),
  round trips and P&L attribution by agent, instrument and factor;
- ``tca``: ``run_report_tca``, transaction cost analysis of every order against its journaled
  arrival price, linked to its trade; ``market_series``, the market data TCA measures against
  (also what ``tradeloop tca`` uses);
- ``tearsheet``: ``build_report`` writes the self-contained HTML report;
- ``png``: ``export_png`` renders the figures to PNG with headless Chromium.

The journal-only parts (state at an instant, causal chains, exact decomposition, run diffs)
live in ``tradeloop.journal`` (``replay``, ``explain``, ``diff``).
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from tradeloop.reports.analysis import Analysis, Attribution, Curves, analyze, round_trips
    from tradeloop.reports.explain import TradeExplanation, explain_trade
    from tradeloop.reports.png import export_png
    from tradeloop.reports.rerun import (
        RerunCheck,
        RerunResult,
        RerunScrub,
        describe_state,
        rerun_at,
        rerun_until,
    )
    from tradeloop.reports.run import RunInputs
    from tradeloop.reports.tca import ReportTca, market_series, run_report_tca
    from tradeloop.reports.tearsheet import FIGURES, ReportFiles, build_report

# Loaded on first use: ``tradeloop explain`` need not pay for pandas and SciPy (metrics).
_LAZY: dict[str, str] = {
    "Analysis": "tradeloop.reports.analysis",
    "Attribution": "tradeloop.reports.analysis",
    "Curves": "tradeloop.reports.analysis",
    "analyze": "tradeloop.reports.analysis",
    "round_trips": "tradeloop.reports.analysis",
    "TradeExplanation": "tradeloop.reports.explain",
    "explain_trade": "tradeloop.reports.explain",
    "export_png": "tradeloop.reports.png",
    "RerunCheck": "tradeloop.reports.rerun",
    "RerunResult": "tradeloop.reports.rerun",
    "RerunScrub": "tradeloop.reports.rerun",
    "rerun_at": "tradeloop.reports.rerun",
    "describe_state": "tradeloop.reports.rerun",
    "rerun_until": "tradeloop.reports.rerun",
    "RunInputs": "tradeloop.reports.run",
    "ReportTca": "tradeloop.reports.tca",
    "market_series": "tradeloop.reports.tca",
    "run_report_tca": "tradeloop.reports.tca",
    "FIGURES": "tradeloop.reports.tearsheet",
    "ReportFiles": "tradeloop.reports.tearsheet",
    "build_report": "tradeloop.reports.tearsheet",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.reports has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "FIGURES",
    "Analysis",
    "Attribution",
    "Curves",
    "ReportFiles",
    "ReportTca",
    "RerunCheck",
    "RerunResult",
    "RerunScrub",
    "RunInputs",
    "TradeExplanation",
    "analyze",
    "build_report",
    "describe_state",
    "explain_trade",
    "export_png",
    "market_series",
    "rerun_at",
    "rerun_until",
    "round_trips",
    "run_report_tca",
]

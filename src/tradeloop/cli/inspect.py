"""The inspection commands: ``replay``, ``explain``, ``diff`` and ``report`` of finished runs.

``register(app)`` adds the four commands to the ``tradeloop`` typer app. User mistakes (a
missing run, an unknown trade id, a bad time) end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from tradeloop.cli._common import WideOption, print_table
from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.core.paths import require_dir, require_output_dir

out = Console()
err = Console(stderr=True)

RunArgument = Annotated[Path, typer.Argument(help="Run directory (runs/<run_id>) or its journal.")]
BaseDirOption = Annotated[
    Path | None,
    typer.Option(
        "--base-dir",
        help="Directory the run was started from (its config's relative paths); default: here.",
    ),
]


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except TradeloopError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _check_base_dir(base_dir: Path | None) -> None:
    if base_dir is not None:
        require_dir(base_dir, "--base-dir")


def parse_instant(text: str, first_ns: int, last_ns: int) -> int:
    """Return ``text`` as nanoseconds: ``start``, ``end``, an integer or an ISO date/time.

    Raises
    ------
    ConfigError
        If ``text`` is none of these.
    """
    from tradeloop.core.time import parse_time

    value = text.strip()
    if value == "start":
        return first_ns
    if value == "end":
        return last_ns
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        return parse_time(value)
    except TradeloopError:
        raise ConfigError(
            f"--at {text!r} is not an ISO date or time, nanoseconds, 'start' or 'end'"
        ) from None


def outside_note(at_ns: int, first_ns: int, end_ns: int) -> str | None:
    """Return what a state at ``at_ns`` shows when the instant is outside the run, else None.

    Before the run's first record nothing has happened yet; after its end the state is the
    final one.
    """
    from tradeloop.core.time import ns_to_iso

    if at_ns < first_ns:
        return (
            f"{ns_to_iso(at_ns)} is before the run's first record ({ns_to_iso(first_ns)}): "
            "shown is the state before anything happened (starting cash, no positions, "
            "no orders)"
        )
    if at_ns > end_ns:
        return (
            f"{ns_to_iso(at_ns)} is after the run's last record ({ns_to_iso(end_ns)}): "
            "shown is the run's final state, as of its last record"
        )
    return None


def _date(ts: int) -> str:
    from tradeloop.core.time import ns_to_iso

    return ns_to_iso(ts)[:19].replace("T", " ")


def describe_decision(event: Any) -> str:
    """Return a one-line summary of a pipeline decision event."""
    name = type(event).__name__
    rid = getattr(event, "rebalance_id", "")
    head = f"{_date(event.ts_event)} {rid}".strip()
    if name == "BetasEstimated":
        betas = ", ".join(f"{e.instrument_id} {e.beta:.2f}" for e in event.estimates)
        return f"{head}: betas to {event.benchmark_id}: {betas}"
    if name == "RegimeModelFitted":
        return f"{head}: {event.detector_id} {event.model_version} fitted on {event.observations}"
    if name == "RegimeChanged":
        return f"{head}: {event.detector_id} → {event.label} (conf {event.confidence:.2f})"
    if name == "SignalsEmitted":
        failed = f", failed {', '.join(event.failed_agents)}" if event.failed_agents else ""
        return f"{head}: {len(event.signals)} signals, regime {event.regime}{failed}"
    if name == "EnsembleScored":
        scores = ", ".join(f"{s.instrument_id} {s.score:+.2f}" for s in event.scores)
        return f"{head}: {scores}"
    if name == "TargetsProposed":
        targets = ", ".join(f"{t.instrument_id} {t.target_qty:g}" for t in event.targets)
        return f"{head}: {event.method} ×{event.regime_multiplier:g}: {targets}"
    if name == "RiskReviewed":
        verdicts = ", ".join(f"{d.instrument_id} {d.decision}" for d in event.decisions)
        return f"{head}: {event.trading_state}: {verdicts}"
    if name == "RiskLimitBreached":
        return f"{head}: {event.rule} {event.value:g} vs {event.limit:g} → {event.action}"
    if name == "CostAssessed":
        verdicts = ", ".join(f"{a.instrument_id} {a.decision}" for a in event.assessments)
        return f"{head}: {verdicts}"
    if name == "ExecutionPlanned":
        return (
            f"{head}: {event.parent_order_id} {event.algorithm} {event.side} "
            f"{event.quantity:g} {event.instrument_id}"
        )
    if name in ("ExecutionProgressed", "ExecutionCompleted"):
        return f"{head}: {event.parent_order_id} {event.algorithm} filled {event.filled_qty:g}"
    if name == "AgentFailed":
        return f"{head}: {event.agent_id}: {event.error}"
    return head


def _print_state(state: Any, wide: bool = False) -> None:
    from rich.table import Table

    from tradeloop.core.time import ns_to_iso

    out.print(
        f"[bold]{state.run_id}[/] at {ns_to_iso(state.at_ns)} — {state.records_applied} records "
        f"applied (last seq {state.last_seq}), {state.orders_seen} orders, "
        f"{state.fills_seen} fills, {state.alerts} alerts"
    )
    equity = "-" if state.equity is None else f"{state.equity:,.2f}"
    out.print(
        f"cash {state.cash} {state.currency}  fees {state.fees_total}  realized "
        f"{state.realized_pnl}  equity {equity}  trading state {state.trading_state}"
    )
    print_table(
        "positions",
        [
            ("strategy", "left"),
            ("instrument", "left"),
            ("side", "left"),
            ("quantity", "right"),
            ("avg price", "right"),
            ("realized P&L", "right"),
        ],
        (
            [
                p.strategy_id,
                p.instrument_id,
                p.side,
                p.quantity,
                f"{p.avg_px_open:,.6g}",
                p.realized_pnl,
            ]
            for p in state.positions
        ),
        wide=wide,
        drop_order=("strategy", "avg price"),
        console=out,
    )
    print_table(
        "open orders",
        [
            ("order", "left"),
            ("instrument", "left"),
            ("side", "left"),
            ("type", "left"),
            ("qty", "right"),
            ("filled", "right"),
            ("price", "right"),
            ("status", "left"),
        ],
        (
            [
                o.client_order_id,
                o.instrument_id,
                o.side,
                o.order_type,
                o.quantity,
                o.filled_qty,
                o.price or "",
                o.status,
            ]
            for o in state.open_orders
        ),
        wide=wide,
        drop_order=("status", "filled", "type"),
        console=out,
    )
    if state.decisions:
        decisions = Table(title="latest decision of each stage", header_style="bold")
        decisions.add_column("stage")
        decisions.add_column("decision")
        for name, event in state.decisions.items():
            decisions.add_row(name, describe_decision(event))
        out.print(decisions)
    for regime in state.regimes:
        out.print(
            f"regime {regime.detector_id}: [bold]{regime.label}[/] since {_date(regime.ts_event)} "
            f"(confidence {regime.confidence:.2f})"
        )
    for agent in state.agents:
        scores = ", ".join(f"{s.instrument_id} {s.score:+.2f}" for s in agent.signals)
        out.print(
            f"agent {escape(agent.agent_id)} \\[{agent.rebalance_id} {_date(agent.ts_event)}]: "
            f"{escape(scores)}"
        )
    for plan in state.working_executions:
        out.print(f"working execution: {escape(describe_decision(plan))}")
    for breach in state.risk_breaches:
        out.print(f"risk: {escape(describe_decision(breach))}")


_DURATION = re.compile(r"^\s*(\d+)\s*(ns|us|ms|s|m|h|d|w)\s*$")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 7 * 86_400_000_000_000,
}


def parse_duration(text: str) -> int:
    """Return a duration such as ``1d``, ``4h``, ``30m``, ``15s`` or ``1w`` in nanoseconds.

    Raises
    ------
    ConfigError
        If ``text`` is not a positive whole number followed by ns, us, ms, s, m, h, d or w.
    """
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise ConfigError(
            f"--every {text!r} is not a positive duration such as 1d, 4h, 30m, 15s or 1w"
        )
    return int(match.group(1)) * _UNIT_NS[match.group(2)]


def scrub_instants(start_ns: int, end_ns: int, every_ns: int, limit: int = 100_000) -> list[int]:
    """Return ``start_ns, start_ns + every_ns, …`` up to ``end_ns`` (inclusive).

    Raises
    ------
    ConfigError
        If ``end_ns`` is before ``start_ns`` or the step gives more than ``limit`` instants.
    """
    if end_ns < start_ns:
        raise ConfigError("--to is before --from: nothing to scrub")
    count = (end_ns - start_ns) // every_ns + 1
    if count > limit:
        raise ConfigError(
            f"--every gives {count:,} instants, more than {limit:,}: use a longer step"
        )
    return [start_ns + i * every_ns for i in range(count)]


def replay(
    run: RunArgument,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at", help="Instant(s): ISO date/time, nanoseconds, 'start' or 'end'. Repeatable."
        ),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            help="Scrub: every instant from --from to --to, this far apart (1d, 4h, 30m, 1w).",
        ),
    ] = None,
    scrub_from: Annotated[
        str, typer.Option("--from", help="First instant of --every (default: start).")
    ] = "start",
    scrub_to: Annotated[
        str, typer.Option("--to", help="Last instant of --every (default: end).")
    ] = "end",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per instant.")] = False,
    rerun: Annotated[
        bool,
        typer.Option(
            "--rerun",
            help="Also re-run the run deterministically, once, up to the last instant: "
            "indicator and agent internals at every instant, and a byte-for-byte check of "
            "the journal prefix.",
        ),
    ] = False,
    base_dir: BaseDirOption = None,
    wide: WideOption = False,
) -> None:
    """Rebuild the state of a run at any instant(s) from its journal."""
    import msgspec

    from tradeloop.journal.replay import JournalIndex

    with _user_errors():
        if not at and every is None:
            raise ConfigError("give one or more --at instants, or --every to scrub a range")
        _check_base_dir(base_dir)
        started = time.perf_counter()
        index = JournalIndex(run)
        built_ms = (time.perf_counter() - started) * 1e3
        instants = [parse_instant(a, index.first_ts, index.end_ts) for a in at or ()]
        if every is not None:
            instants += scrub_instants(
                parse_instant(scrub_from, index.first_ts, index.end_ts),
                parse_instant(scrub_to, index.first_ts, index.end_ts),
                parse_duration(every),
            )
        instants = sorted(set(instants))
        started = time.perf_counter()
        states = [index.state_at(t) for t in instants]
        query_ms = (time.perf_counter() - started) * 1e3 / max(1, len(instants))
        scrub = None
        if rerun:
            from tradeloop.reports.rerun import rerun_at

            scrub, _ = rerun_at(run, instants, base_dir)
    if as_json:
        for state in states:
            note = outside_note(state.at_ns, index.first_ts, index.end_ts)
            if note is not None:
                err.print(f"note: {note}", highlight=False, soft_wrap=True)
            print(msgspec.json.encode(state).decode())
        if scrub is not None:
            print(msgspec.json.encode(scrub).decode())
    else:
        internals = {} if scrub is None else {i.at_ns: i for i in scrub.instants}
        for state in states:
            note = outside_note(state.at_ns, index.first_ts, index.end_ts)
            if note is not None:
                out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
            _print_state(state, wide)
            if state.at_ns in internals:
                _print_internals(internals[state.at_ns])
        if scrub is not None:
            _print_rerun(scrub)
    _print_run_status(run)
    err.print(
        f"index of {len(index.rows):,} records built in {built_ms:.1f} ms; "
        f"{len(instants)} instant(s), {query_ms:.3f} ms per query"
        + (
            ""
            if scrub is None
            else f"; one re-run for all of them: {scrub.seconds:.2f} s "
            f"({scrub.seconds / len(instants) * 1e3:.1f} ms per instant, "
            f"{scrub.capture_seconds * 1e3 / len(instants):.2f} ms of it taking the internals)"
        ),
        highlight=False,
    )


def _print_run_status(run: Path) -> None:
    # A run that did not complete says so beside any state shown of it (on stderr: --json
    # output stays one object per instant).
    from tradeloop.journal.status import run_status

    with _user_errors():
        status = run_status(run)
    if status.state != "completed":
        err.print(
            f"[yellow]{escape(status.describe(str(run)))}[/]", highlight=False, soft_wrap=True
        )


def _print_internals(instant: Any) -> None:
    from rich.table import Table

    for strategy_id, state in instant.internals.items():
        table = Table(title=f"internals of {strategy_id}", header_style="bold")
        table.add_column("attribute")
        table.add_column("value", overflow="fold")
        for key, value in state.items():
            table.add_row(key, value)
        out.print(table)


def _print_rerun(result: Any) -> None:
    check = result.check
    how = "without timestamps (paper run)" if check.compared_without_timestamps else "byte for byte"
    if check.is_identical:
        out.print(
            f"[green]re-run matches[/]: {check.records_compared} journal records up to the "
            f"last instant are identical {how} (re-run took {result.seconds:.2f} s)"
        )
    else:
        out.print(
            f"[red]re-run differs[/] at seq {check.first_mismatch_seq} ({how}):\n"
            f"  stored: {escape(str(check.stored_payload))}\n"
            f"  re-run: {escape(str(check.rerun_payload))}"
        )
    for mismatch in check.manifest_mismatches:
        out.print(f"[yellow]manifest:[/] {escape(str(mismatch))}")


def explain(
    run: RunArgument,
    trade: Annotated[str, typer.Argument(help="Client order id, trade id or parent order id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
    base_dir: BaseDirOption = None,
) -> None:
    """Print a trade's causal chain and the exact decomposition of its P&L."""
    import msgspec

    from tradeloop.reports.explain import explain_trade
    from tradeloop.reports.run import RunInputs

    with _user_errors():
        _check_base_dir(base_dir)
        explanation = explain_trade(RunInputs(run, base_dir), trade)
    if as_json:
        print(msgspec.json.encode(explanation).decode())
        return
    out.print(
        f"[bold]{explanation.trade_key}[/] {explanation.side} {explanation.instrument_id} "
        f"({explanation.strategy_id}), decided {_date(explanation.decision_ts)}"
        + (f", rebalance {explanation.rebalance_id}" if explanation.rebalance_id else "")
        + (f", algorithm {explanation.algorithm}" if explanation.algorithm else "")
    )
    for section in explanation.sections:
        out.print(f"[bold cyan]{escape(section.title)}[/]")
        for line in section.lines:
            out.print(f"  {line}", highlight=False, markup=False)
    for note in explanation.notes:
        out.print(f"[yellow]note:[/] {escape(note)}")


def diff(
    run_a: Annotated[Path, typer.Argument(help="First run directory or journal.")],
    run_b: Annotated[Path, typer.Argument(help="Second run directory or journal.")],
    ignore_timestamps: Annotated[
        bool,
        typer.Option(
            "--ignore-timestamps", help="Compare records by content without their timestamps."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Find the first record where two runs' journals diverge and say why."""
    import msgspec
    from rich.table import Table

    from tradeloop.journal.diff import diff_runs

    with _user_errors():
        result = diff_runs(run_a, run_b, ignore_timestamps)
    if as_json:
        print(msgspec.json.encode(result).decode())
        return
    verdict = (
        "[green]identical[/]"
        if result.is_identical
        else "[yellow]data differs, decisions identical[/]"
        if result.is_identical_after_data
        else "[red]diverge[/]"
    )
    out.print(
        f"{verdict}: {result.records_a:,} vs {result.records_b:,} records, "
        f"{result.matching_prefix:,} identical before the first difference"
    )
    out.print(f"why: {result.explanation}", highlight=False, markup=False)
    if result.differences:
        table = Table(title="manifest differences", header_style="bold")
        for column in ("kind", "key", "A", "B"):
            table.add_column(column, overflow="fold")
        for d in result.differences:
            table.add_row(d.kind, d.key, d.a or "-", d.b or "-")
        out.print(table)
    for label, divergence in (
        ("first divergence", result.first_divergence),
        ("first divergence after the data records", result.first_decision_divergence),
    ):
        if divergence is None:
            continue
        out.print(f"[bold]{label}[/] (record {divergence.index + 1}):")
        for side, record in (("A", divergence.a), ("B", divergence.b)):
            if record is None:
                out.print(f"  {side}: (run ended)")
            else:
                out.print(
                    f"  {side}: seq {record.seq} {record.type} {_date(record.ts_init)}: "
                    f"{record.payload[:400]}",
                    highlight=False,
                    markup=False,
                )
        if divergence.fields:
            fields = ", ".join(divergence.fields[:20])
            out.print(f"  differing fields: {fields}", markup=False)


def report(
    run: RunArgument,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the report.")] = False,
    png: Annotated[
        bool, typer.Option("--png", help="Also export each figure as PNG (headless Chromium).")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default: the run's).")
    ] = None,
    base_dir: BaseDirOption = None,
) -> None:
    """Write a self-contained HTML tearsheet of a run (metrics, figures, every trade explained)."""
    from tradeloop.reports.run import RunInputs
    from tradeloop.reports.tearsheet import build_report

    with _user_errors():
        if out_dir is not None:
            require_output_dir(out_dir, "--out directory")
        _check_base_dir(base_dir)
        inputs = RunInputs(run, base_dir)
        files, analysis = build_report(inputs, out_dir, png=png)
    net = analysis.net
    if net is not None:
        out.print(
            f"total return {net.total_return:+.2%}, Sharpe "
            f"{'-' if net.sharpe_ratio is None else f'{net.sharpe_ratio:.2f}'}, "
            f"max drawdown {net.max_drawdown:.2%}, {len(inputs.pnl)} trades explained"
        )
    out.print(f"report: {files.html}")
    out.print(f"metrics: {files.metrics_json}")
    if files.pngs:
        out.print(f"png: {len(files.pngs)} figures in {Path(files.pngs[0]).parent}")
    for note in inputs.notes:
        out.print(f"[yellow]note:[/] {escape(note)}")
    if open_browser:
        uri = Path(files.html).resolve().as_uri()
        if not open_in_browser(uri):
            err.print(
                f"no browser or display found to open the report (--open): open {uri} "
                "in a browser yourself",
                highlight=False,
                soft_wrap=True,
            )


def open_in_browser(uri: str) -> bool:
    """Open ``uri`` in a graphical browser; return False when there is no display or browser.

    On Linux and the BSDs a browser needs a display (``DISPLAY`` or ``WAYLAND_DISPLAY``); without
    one, nothing is tried (a text-mode browser would take over the terminal).
    """
    import os
    import sys
    import webbrowser

    if sys.platform not in ("darwin", "win32") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        return webbrowser.open(uri)
    except webbrowser.Error:
        return False


def register(app: typer.Typer) -> None:
    """Add ``replay``, ``explain``, ``diff`` and ``report`` to the ``tradeloop`` app."""
    app.command()(replay)
    app.command()(explain)
    app.command()(diff)
    app.command()(report)

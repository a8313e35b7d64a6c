"""The ``tradeloop`` command line.

User mistakes (missing file, bad config key, unknown instrument, bad data) end with one line
on stderr and exit status 2, before a run writes anything; only bugs show a traceback.
``data validate`` exits 1 when a file has no clean row (``--strict``: any quarantined row).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tradeloop import __version__
from tradeloop.cli._common import (
    MAX_BENCH_BARS,
    WideOption,
    _Exit,
    check_number,
    err,
    out,
    print_table,
    stop_on_sigterm,
    user_errors,
)
from tradeloop.cli.data import data_app
from tradeloop.cli.journal import journal_app
from tradeloop.cli.ops import ApiOption, ApiTokensOption

if TYPE_CHECKING:  # rich's progress and tables load inside the commands that draw them
    from rich.progress import Progress

app = typer.Typer(
    name="tradeloop",
    help="A deterministic, event-driven trading system: backtest, paper, data, benchmarks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Benchmarks (speed and memory), run beside the peers' figures.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
app.add_typer(journal_app, name="journal")
app.add_typer(bench_app, name="bench")


def _register_commands() -> None:
    # Commands of their own modules: replay, explain, diff, report (cli.inspect) and the
    # execution tools (cli.execution) when present.
    import importlib
    import inspect

    for name in (
        "tradeloop.cli.inspect",
        "tradeloop.cli.execution",
        "tradeloop.cli.emulate",
        "tradeloop.cli.live",
        "tradeloop.cli.stage",
        "tradeloop.cli.risk",
        "tradeloop.cli.models",
        "tradeloop.cli.ops",
        "tradeloop.cli.soak",
    ):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        register = getattr(module, "register", None)
        if register is None:
            continue
        if len(inspect.signature(register).parameters) == 2:
            register(app, bench_app)  # modules with benchmarks add them under `bench`
        else:
            register(app)


_register_commands()


def _progress_factory(
    enabled: bool, label: str
) -> tuple[Progress | None, Callable[[int], Callable[[int], None]] | None]:
    # The bar is drawn when the runner asks for it, after startup: an error at startup is
    # one line on stderr with no progress bar before it.
    if not enabled:
        return None, None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )

    def factory(total: int) -> Callable[[int], None]:
        progress.start()
        task = progress.add_task(label, total=total)

        def update(done: int) -> None:
            progress.update(task, completed=done)

        return update

    return progress, factory


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2%}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _summary_rows(summary: dict[str, Any]) -> tuple[list[tuple[str, str]], list[list[str]]]:
    # The (name, justify) columns and the rows of a run's summary table.
    net, gross = summary.get("net"), summary.get("gross")
    columns = [("metric", "left")]
    rows: list[list[str]] = []
    if net and gross:
        columns += [("net of costs", "right"), ("gross of costs", "right")]
        bench = summary.get("benchmark")
        if bench:
            columns.append((f"benchmark {bench['instrument_id']}", "right"))

        def row(name: str, key: str, fmt: Any) -> None:
            cells = [fmt(net.get(key)), fmt(gross.get(key))]
            if bench:
                cells.append(fmt(bench.get(key)) if key in bench else "")
            rows.append([name, *cells])

        row("total return", "total_return", _pct)
        row("annual return", "annual_return", _pct)
        row("annual volatility", "annual_volatility", lambda v: "-" if v is None else f"{v:.2%}")
        row("Sharpe", "sharpe", _num)
        row("max drawdown", "max_drawdown", _pct)
        row("alpha (annual)", "alpha", _pct)
        rows.append(
            ["beta", _num(net.get("beta")), _num(gross.get("beta")), *([""] if bench else [])]
        )
        row("annual turnover", "annual_turnover", lambda v: "-" if v is None else f"{v:.1f}x")
        pad = [""] * (1 + bool(bench))
        rows.append(["final equity", f"{summary['final_equity']:,.2f}", *pad])
        for kind, amount in summary.get("costs", {}).items():
            rows.append([f"cost: {kind}", f"{amount:,.2f}", *pad])
        rows.append(
            ["costs, bps of traded notional", f"{summary.get('cost_bps_of_traded', 0):.1f}", *pad]
        )
    else:
        columns.append(("value", "right"))
        rows.append(["final equity", f"{summary['final_equity']:,.2f}"])
        rows.append(["total return", f"{summary['total_return']:+.2%}"])
        rows.append(["max drawdown", f"{summary['max_drawdown']:.2%}"])
        rows.append(["fees", f"{summary['fees']:,.2f}"])
    extra = [""] * (len(columns) - 2)
    rows.append(["orders / denied", f"{summary['orders']} / {summary['orders_denied']}", *extra])
    rows.append(["fills", f"{summary['fills']}", *extra])
    rows.append(["orders filled (buy/sell)", f"{summary['buys']} / {summary['sells']}", *extra])
    rows.append(["market data records", f"{summary['records']:,}", *extra])
    rows.append(["quarantined records", f"{summary['quarantined']:,}", *extra])
    return columns, rows


def _millions(value: float) -> str:
    return f"{value / 1e6:,.1f}M"


# Columns of the capacity table that give way, first to last, on a narrow terminal.
CAPACITY_DROP_ORDER = ("% eq", "typical", "trades", "% ADV")


def _print_capacity_table(strategy_id: str, extra: dict[str, Any], wide: bool) -> None:
    capacity, tradability = extra.get("capacity"), extra.get("tradability")
    if not capacity or tradability is None:
        return
    capital = capacity.get("capital")
    headline = "unbounded" if capital is None else _millions(capital)
    headers = ("name", "trades", "typical", "% eq", "% ADV", "alpha", "cost", "net", "capacity")
    rows = []
    for instrument_id, row in tradability.items():
        name_capacity = row.get("capacity_capital")
        rows.append(
            [
                instrument_id,
                str(row["trades"]),
                f"{row['typical_trade_notional']:,.0f}",
                f"{row['trade_fraction_of_capital'] * 100:.1f}",
                f"{row['participation'] * 100:.3f}",
                f"{row['gross_alpha_bps']:.1f}",
                f"{row['cost_bps']:.1f}",
                f"{row['net_alpha_bps']:+.1f}",
                ("-" if row.get("note") else "unbounded")
                if name_capacity is None
                else _millions(name_capacity),
            ]
        )
    print_table(
        f"tradability and capacity ({strategy_id}): expected net alpha reaches zero at "
        f"a capital of {headline} (equity now {_millions(capacity['equity'])})",
        [(column, "left" if column == "name" else "right") for column in headers],
        rows,
        wide=wide,
        drop_order=CAPACITY_DROP_ORDER,
        caption="typical trade: notional, % of equity (eq) and of ADV; alpha, cost and net: its "
        "bps at the latest market inputs; capacity: capital at which its net alpha reaches zero",
    )


def _run(
    config_path: Path,
    mode: str,
    *,
    quiet: bool,
    as_json: bool,
    speed: float = 1.0,
    replay: str | None = None,
    for_: str | None = None,
    wide: bool = False,
    api: str | None = None,
    api_tokens: Path | None = None,
) -> Path:
    from tradeloop.cli.live import parse_for
    from tradeloop.cli.ops import node_api
    from tradeloop.config.loader import load_config
    from tradeloop.core.errors import ConfigError
    from tradeloop.engine.runner import prepare_run, run_backtest, run_paper_replay

    if mode != "backtest":
        stop_on_sigterm()
    with user_errors():
        duration_s = parse_for(for_)
        config = load_config(config_path)
        if not config.data:
            raise ConfigError(
                f"{mode} needs [[data]] (the config has only [[feeds]]: run it with "
                "tradeloop paper, shadow or live)"
            )
        if replay is not None:
            config = _replace_data(config, replay, config_path.parent)
        prepared = prepare_run(config, config_path.parent)
        progress, factory = _progress_factory(not quiet and not as_json, mode)
        gc.collect()
        gc.freeze()  # one run per process: startup objects never need scanning again
        try:
            if mode == "backtest":
                result = run_backtest(prepared, factory)
            else:
                with node_api(api, api_tokens, mode, config) as operations:
                    result = run_paper_replay(prepared, speed, factory, duration_s, operations)
        finally:
            gc.unfreeze()
            if progress is not None and progress.live.is_started:
                progress.stop()
    summary = {
        **result.summary,
        "mode": mode,
        "seconds": round(result.seconds, 4),
        "run_dir": str(result.run_dir),
    }
    if as_json:
        print(json.dumps(summary, sort_keys=True))
        return result.run_dir
    if not quiet:
        columns, rows = _summary_rows(summary)
        print_table(
            f"{mode}: {result.run_id}",
            columns,
            rows,
            wide=wide,
            drop_order=[name for name, _ in columns[3:]],  # the benchmark's column
        )
        for strategy_id, extra in summary.get("strategies", {}).items():
            _print_capacity_table(strategy_id, extra, wide)
        for source in prepared.sources:
            if source.report is not None and source.report.quarantined:
                counts = ", ".join(
                    f"{k}: {v}" for k, v in sorted(source.report.quarantine_counts().items())
                )
                out.print(
                    f"[yellow]data {source.name}: {len(source.report.quarantined)} "
                    f"records quarantined ({counts})[/]"
                )
        out.print(f"journal: {result.journal_path}")
    return result.run_dir


def _has_feeds(config_path: Path) -> bool:
    # Whether the config names live feeds (paper then runs on them, unless --replay).
    import tomllib

    try:
        return bool(tomllib.loads(config_path.read_text()).get("feeds"))
    except (OSError, ValueError):
        return False  # the run's own loading reports the problem


def _replace_data(config: Any, replay: str, base_dir: Path) -> Any:
    """Return ``config`` with its ``[[data]]`` replaced by the ``--replay`` data.

    The replacement keeps what the config says about the data it replaces: ``start``, ``end``
    and ``options`` of the config's entry for the same dataset, file or instrument (or of its
    only entry), so ``paper CONFIG --replay DATA`` replays what ``backtest CONFIG`` runs.
    """
    import msgspec

    from tradeloop.config.schema import DataSection
    from tradeloop.core.errors import ConfigError
    from tradeloop.data import bundled

    def carried(section: DataSection, *matches: DataSection) -> DataSection:
        # start/end (and options, for the same format) of the entry this one replaces
        source = matches[0] if matches else (config.data[0] if len(config.data) == 1 else None)
        if source is None:
            return section
        options = source.options if source.format == section.format else section.options
        return msgspec.structs.replace(section, start=source.start, end=source.end, options=options)

    if replay in bundled.names():
        same = [s for s in config.data if s.dataset == replay]
        if same:  # the config's own entries for this dataset, start/end included
            return msgspec.structs.replace(config, data=same)
        iid = bundled.instrument(replay).id
        for_instrument = [s for s in config.data if _instrument_of(s) == iid]
        sections = [carried(DataSection(dataset=replay), *for_instrument)]
    elif Path(replay).is_dir():
        ids = sorted({i for strategy in _strategies(config, base_dir) for i in strategy})
        if not ids:
            raise ConfigError(
                f"replay catalog {replay}: the strategies name no instruments to replay"
            )
        sections = [
            carried(
                DataSection(catalog=str(Path(replay).resolve()), instrument_id=i),
                *[s for s in config.data if _instrument_of(s) == i],
            )
            for i in ids
        ]
    elif Path(replay).is_file():
        files = [s for s in config.data if s.path is not None]
        if len(files) != 1:
            raise ConfigError(
                f"replay file {replay}: the config needs exactly one [[data]] file entry to take "
                "its format and instrument from"
            )
        sections = [msgspec.structs.replace(files[0], path=str(Path(replay).resolve()))]
    else:
        known = ", ".join(bundled.names())
        raise ConfigError(
            f"replay data {replay!r} is not a file, a catalog directory "
            f"or a bundled dataset ({known})"
        )
    return msgspec.structs.replace(config, data=sections)


def _instrument_of(section: Any) -> str | None:
    from tradeloop.data import bundled

    if section.dataset is not None:
        return bundled.instrument(section.dataset).id
    return section.instrument_id  # type: ignore[no-any-return]


def _strategies(config: Any, base_dir: Path) -> list[list[str]]:
    # The instruments each configured strategy names (Strategy.required_instruments).
    from tradeloop.engine.plugins import build_strategy

    return [
        build_strategy(section, config, base_dir, index).required_instruments()
        for index, section in enumerate(config.strategies)
    ]


@app.command()
def backtest(
    config: Annotated[
        Path | None, typer.Argument(help="Run config (TOML); omit it with --from-journal.")
    ] = None,
    from_journal: Annotated[
        Path | None,
        typer.Option(
            "--from-journal",
            help="Replay a paper, shadow or live session from its journal (runs/<id>).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON line.")
    ] = False,
    wide: WideOption = False,
) -> None:
    """Run a configured strategy over bundled or user data on the backtest clock."""
    if (config is None) == (from_journal is None):
        err.print("[bold red]error:[/] give a config, or --from-journal RUN (not both)")
        raise typer.Exit(2)
    if from_journal is not None:
        _run_from_journal(from_journal, quiet=quiet, as_json=as_json)
        return
    assert config is not None
    _run(config, "backtest", quiet=quiet, as_json=as_json, wide=wide)


def _run_from_journal(run: Path, *, quiet: bool, as_json: bool) -> None:
    from tradeloop.engine.from_journal import prepare_from_journal
    from tradeloop.engine.runner import run_backtest

    with user_errors():
        prepared, scope = prepare_from_journal(run)
        result = run_backtest(prepared, order_id_scope=scope)
    summary = {
        **result.summary,
        "mode": "backtest",
        "seconds": round(result.seconds, 4),
        "run_dir": str(result.run_dir),
        "replayed": str(run),
    }
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    elif not quiet:
        columns, rows = _summary_rows(summary)
        print_table(
            f"backtest of {run}: {result.run_id}",
            columns,
            rows,
            wide=False,
            drop_order=[name for name, _ in columns[3:]],
        )
        out.print(f"journal: {result.journal_path}")


@app.command()
def paper(
    config: Annotated[Path, typer.Argument(help="Run config (TOML).")],
    replay: Annotated[
        str | None,
        typer.Option(
            help="Data to replay: a bundled dataset, a catalog directory or a file "
            "(default: the config's data)."
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Clock acceleration: 60 plays one minute per second.")
    ] = 1.0,
    for_: Annotated[
        str | None,
        typer.Option("--for", help="End cleanly after this long: 30s, 15m, 2h, 1d."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: WideOption = False,
    api: ApiOption = None,
    api_tokens: ApiTokensOption = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="Continue this run (runs/<id>) after a crash or a stop (live feeds)."),
    ] = None,
) -> None:
    """Run the strategy on the live clock against the simulated venue: live feeds or a replay."""
    if replay is None and _has_feeds(config):
        from tradeloop.cli.live import run_session_command

        run_session_command(
            config,
            "paper",
            for_=for_,
            quiet=quiet,
            as_json=as_json,
            api=api,
            api_tokens=api_tokens,
            resume=resume,
        )
        return
    from tradeloop.core.errors import ConfigError

    with user_errors():
        if resume is not None:
            raise ConfigError(
                "--resume continues a session on live feeds ([[feeds]]), not a replay"
            )
        check_number("--speed", speed, positive=True)
    _run(
        config,
        "paper",
        quiet=quiet,
        as_json=as_json,
        speed=speed,
        replay=replay,
        for_=for_,
        wide=wide,
        api=api,
        api_tokens=api_tokens,
    )


@app.command()
def demo(
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    wide: WideOption = False,
) -> None:
    """Run the demo backtest on bundled real data and print its summary."""
    from importlib.resources import files

    config = Path(str(files("tradeloop.cli").joinpath("demo.toml")))
    run_dir = _run(config, "backtest", quiet=quiet, as_json=False, wide=wide)
    from tradeloop.reports import RunInputs, build_report

    with user_errors():
        files_written, _ = build_report(RunInputs(run_dir))
    out.print(f"report: {files_written.html}")


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


# -- bench --------------------------------------------------------------------------------------


@bench_app.command("sma")
def bench_sma_command(
    bars: Annotated[int, typer.Option(help="Bars of the single-symbol series.")] = 1_000_000,
    multi: Annotated[
        bool, typer.Option(help="Run the 100 × 10,000 multi-asset set instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
    monitoring: Annotated[
        bool,
        typer.Option(help="Compare with monitoring and the API on (and time /metrics scrapes)."),
    ] = False,
    repeats: Annotated[
        int, typer.Option(help="With --monitoring: pairs of runs (off, then on).")
    ] = 5,
) -> None:
    """Run the canonical job (docs/benchmark-job.md) through the full event-driven loop."""
    from rich.table import Table

    from tradeloop.bench.sma import bench_sma

    with user_errors():
        check_number("--bars", bars, minimum=1, maximum=MAX_BENCH_BARS)
    if monitoring:
        from tradeloop.bench.monitoring import bench_monitoring
        from tradeloop.cli.ops import serve_for_bench

        with user_errors():
            check_number("--repeats", repeats, minimum=1, maximum=50)
        result = bench_monitoring(serve_for_bench, None if multi else bars, multi, repeats=repeats)
    else:
        result = bench_sma(None if multi else bars, multi=multi)
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title="bench sma", show_header=True, header_style="bold")
    table.add_column("key")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int | float) else str(value))
    out.print(table)


@bench_app.command("pipeline")
def bench_pipeline_command(
    workload: Annotated[
        str, typer.Option(help="demo (4 stocks + SPY, daily) or multi (100 × 10,000 minutes).")
    ] = "demo",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Time the multi-agent pipeline per stage and end to end."""
    from rich.table import Table

    from tradeloop.bench.pipeline import bench_pipeline

    if workload not in ("demo", "multi"):
        err.print(f"[bold red]error:[/] workload {workload!r} is not demo or multi")
        raise typer.Exit(2)
    result = bench_pipeline(workload)
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"bench pipeline: {workload}", show_header=True, header_style="bold")
    table.add_column("stage")
    table.add_column("ms per rebalance", justify="right")
    for stage, ms in result["stage_ms_per_rebalance"].items():
        table.add_row(stage, f"{ms:.3f}")
    out.print(table)
    out.print(
        f"{result['records']:,} records, {result['rebalances']} rebalances "
        f"in {result['seconds']:.2f} s: {result['records_per_s']:,.0f} records/s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
    )


@bench_app.command("options")
def bench_options_command(
    contracts: Annotated[int, typer.Option(help="Random contracts per kernel.")] = 1_000_000,
    peer_contracts: Annotated[
        int, typer.Option(help="Contracts for QuantLib's and vollib's Python loops.")
    ] = 20_000,
    repeat: Annotated[int, typer.Option(help="Runs per kernel; the fastest counts.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Time European prices + Greeks, implied vols, BAW and SVI fits beside QuantLib, vollib."""
    from rich.table import Table

    from tradeloop.bench.options import bench_options

    if contracts < 64 or peer_contracts < 1 or repeat < 1:
        err.print("[bold red]error:[/] contracts must be >= 64, peer contracts and repeat >= 1")
        raise typer.Exit(2)
    result = bench_options(contracts, repeat=repeat, peer_n=peer_contracts)
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title="bench options", show_header=True, header_style="bold")
    table.add_column("key")
    table.add_column("value", justify="right")
    for key, value in result.items():
        shown = f"{value:,}" if isinstance(value, int) else str(value)
        table.add_row(key, shown)
    out.print(table)


BENCH_SUITE: tuple[tuple[str, list[str]], ...] = (
    ("sma 100k", ["bench", "sma", "--bars", "100000", "--json"]),
    ("sma 1m", ["bench", "sma", "--bars", "1000000", "--json"]),
    ("sma multi", ["bench", "sma", "--multi", "--json"]),
    ("pipeline demo", ["bench", "pipeline", "--workload", "demo", "--json"]),
    ("pipeline multi", ["bench", "pipeline", "--workload", "multi", "--json"]),
    ("live loop", ["bench", "live", "--json"]),
    ("options", ["bench", "options", "--json"]),
)


@bench_app.command("all")
def bench_all(
    output: Annotated[Path, typer.Option(help="Where to append the JSON results.")] = Path(
        ".bench/results.jsonl"
    ),
) -> None:
    """Run every benchmark, each in a fresh process (clean memory figures); append the results."""
    import subprocess

    from rich.table import Table

    from tradeloop.core.paths import require_output_file

    with user_errors():
        require_output_file(output, "--output file")
    output.parent.mkdir(parents=True, exist_ok=True)
    table = Table(title="tradeloop benchmarks", show_header=True, header_style="bold")
    for column in ("benchmark", "records", "seconds", "records/s", "peak RSS MB"):
        table.add_column(column, justify="right" if column != "benchmark" else "left")
    for name, args in (*BENCH_SUITE, *_extra_benches()):
        done = subprocess.run(
            [sys.executable, "-m", "tradeloop.cli", *args], capture_output=True, text=True
        )
        if done.returncode != 0:
            err.print(f"[bold red]{name} failed:[/] {done.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["name"] = name
        with output.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
        # A suite of runs (fidelity levels) shows its first, the baseline the others are against.
        head = next(iter(result["canonical"].values())) if "canonical" in result else result
        records = head.get("bars") or head.get("records") or head.get("deltas")
        rate = head.get("bars_per_s") or head.get("records_per_s") or head.get("deltas_per_s")
        rss = result.get("peak_rss_mb")
        table.add_row(
            name,
            f"{records:,}" if records else "-",
            f"{head.get('seconds', 0):.3f}",
            f"{rate:,.0f}" if rate else "-",
            f"{rss:.0f}" if rss else "-",
        )
    out.print(table)
    out.print(f"results appended to {output}")


def _extra_benches() -> list[tuple[str, list[str]]]:
    """Benchmarks contributed by other command modules (book replay, fidelity levels)."""
    import importlib

    suite: list[tuple[str, list[str]]] = []
    for name in ("tradeloop.cli.execution", "tradeloop.cli.models"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        suite.extend(getattr(module, "BENCH_SUITE", []))
    return suite


def main() -> None:
    """Entry point of the ``tradeloop`` script."""
    try:
        app()
    except _Exit as exit_:
        sys.exit(exit_.code)
    except KeyboardInterrupt as interrupt:  # Ctrl-C: one line, and where the run was marked
        err.print("interrupted", highlight=False)
        for note in getattr(interrupt, "__notes__", ()):
            err.print(note, highlight=False, markup=False)
        sys.exit(130)

"""Command line of execution realism: ``tradeloop tca``, ``bench book`` and ``bench fidelity``.

``register(app, bench_app)`` adds the commands to the ``tradeloop`` app and its ``bench``
group; ``run_tca`` is the TCA of a finished run for reports.

TCA of a run (``run_tca``):

1. read the run's manifest from ``RUN_DIR/journal.sqlite``; decode its config;
2. load the market data the run read, as the run did (``engine.runner.prepare_run``, file
   and catalog paths taken from the manifest), and check each source's content hash against
   the manifest (changed data is an error, never a silently different TCA);
3. build one ``TcaOrder`` per order and one ``TcaParent`` per execution plan from the journal
   (``execution.tca.tca_orders``, ``tca_parents``);
4. compute ``analytics.tca.tca_report`` against the instrument's prints (trades, else the
   book stream's own executions, else bar closes with their volume) and quotes (the quote
   stream, else the replayed book's best bid and ask at every consistent event end: a run of
   book deltas alone is benchmarked against the book's mid); arrival prices are the mid when
   every traded instrument has quotes or a book, else the last print or close at or before
   each order's arrival.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from tradeloop.cli._common import WideOption
from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.core.paths import require_file

_DEFAULT_BOOK_FILE = "tests/data/books/binance-usdm-btcusdt-20240808-head.gz"
_DEFAULT_L3_FILE = "tests/data/books/esm4-glbx-mdp3-20240508T000000-000002.mbo.csv.gz"


def default_book_file() -> Path | None:
    """Return the repository's Binance USD-M test recording, if running from a checkout."""
    root = Path(__file__).resolve().parents[3]
    path = root / _DEFAULT_BOOK_FILE
    return path if path.is_file() else None


def default_l3_file() -> Path | None:
    """Return the repository's Databento ES market-by-order file, if running from a checkout."""
    root = Path(__file__).resolve().parents[3]
    path = root / _DEFAULT_L3_FILE
    return path if path.is_file() else None


def run_tca(run_dir: str | Path) -> tuple[Any, str, str]:
    """Return ``(TcaReport, run_id, arrival_source)`` of the run in ``run_dir``.

    Raises
    ------
    ConfigError
        If the directory holds no journal or the run's data cannot be found.
    DataIntegrityError
        If the data changed since the run (content hash).
    """
    import msgspec

    from tradeloop.analytics.tca import ArrivalPriceSource, tca_report
    from tradeloop.config.schema import RunConfig
    from tradeloop.engine.runner import prepare_run
    from tradeloop.execution.tca import tca_orders, tca_parents
    from tradeloop.journal.manifest import read_base_dir
    from tradeloop.journal.replay import journal_path
    from tradeloop.journal.store import read_manifest, read_records
    from tradeloop.reports import market_series

    journal = journal_path(run_dir)
    manifest = read_manifest(journal)
    try:
        config = msgspec.json.decode(manifest.config_json.encode(), type=RunConfig)
    except msgspec.ValidationError as error:
        raise ConfigError(f"run {manifest.run_id}: its config no longer loads: {error}") from None
    refs = {ref.name: ref for ref in manifest.data}
    base_dir = read_base_dir(journal.parent, manifest) or Path.cwd()
    prepared = prepare_run(config, base_dir)
    for source in prepared.sources:
        ref = refs.get(source.name)
        if ref is not None and ref.content_hash != source.content_hash:
            raise DataIntegrityError(
                f"data {source.name} changed since run {manifest.run_id}: sha256 "
                f"{source.content_hash[:16]} is not the run's {ref.content_hash[:16]}"
            )
    prints, quotes = market_series(source.columns for source in prepared.sources)
    multipliers = {iid: float(i.multiplier) for iid, i in prepared.instruments.items()}
    records = list(read_records(journal))
    orders = tca_orders(records, multipliers)
    parents = tca_parents(records, multipliers)
    traded = {order.instrument_id for order in orders} | {
        parent.order.instrument_id for parent in parents
    }
    arrival = (
        ArrivalPriceSource.MID
        if traded and all(iid in quotes for iid in traded)
        else ArrivalPriceSource.LAST
    )
    report = tca_report(orders, prints, quotes, arrival, parents)
    return report, manifest.run_id, arrival.value


# The columns of the parent and order tables, and which of them give way, first to last, when
# the terminal is too narrow for all (--wide shows every one, --json has every field).
PARENT_COLUMNS = (
    "parent",
    "algorithm",
    "instrument",
    "side",
    "ordered",
    "children",
    "fill rate",
    "arrival",
    "avg fill",
    "slip bps",
    "IS bps",
    "vs VWAP bps",
    "particip.",
)
PARENT_DROP_ORDER = (
    "children",
    "particip.",
    "avg fill",
    "arrival",
    "vs VWAP bps",
    "algorithm",
    "fill rate",
    "side",
)
ORDER_COLUMNS = (
    "order",
    "instrument",
    "side",
    "ordered",
    "fill rate",
    "arrival",
    "avg fill",
    "slip bps",
    "IS bps",
    "VWAP",
    "vs VWAP bps",
    "TWAP",
    "particip.",
)
ORDER_DROP_ORDER = (
    "TWAP",
    "VWAP",
    "particip.",
    "avg fill",
    "arrival",
    "vs VWAP bps",
    "fill rate",
    "side",
)


def _percent(fraction: float | None) -> str:
    return _number(None if fraction is None else fraction * 100, 3) + "%"


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.{digits}f}"


def tca_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/<run_id>).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    limit: Annotated[
        int, typer.Option(help="Rows to list in each table, parents and orders (0: all).")
    ] = 50,
    wide: WideOption = False,
) -> None:
    """Print the transaction cost analysis of a finished run, per order and overall.

    At a narrow terminal the tables leave out the columns that do not fit and say which;
    --wide shows them all, --json has every field.
    """
    import msgspec
    from rich.console import Console
    from rich.table import Table

    from tradeloop.cli._common import check_number, print_table, user_errors

    with user_errors():
        check_number("--limit", limit, minimum=0)
        report, run_id, source = run_tca(run_dir)
    if as_json:
        payload = {
            "run_id": run_id,
            "arrival_source": source,
            "orders": msgspec.to_builtins(report.orders),
            "summary": msgspec.to_builtins(report.summary),
            "parents": msgspec.to_builtins(report.parents),
            "parent_summary": msgspec.to_builtins(report.parent_summary),
        }
        print(json.dumps(payload, sort_keys=True))
        return
    out = Console()
    if report.parents:
        shown_parents = report.parents if limit <= 0 else report.parents[:limit]
        print_table(
            f"parent orders: {run_id} (children measured against the parent's arrival)",
            [
                (column, "left" if column in ("parent", "algorithm", "instrument") else "right")
                for column in PARENT_COLUMNS
            ],
            (
                [
                    parent.tca.order_id,
                    parent.algorithm,
                    parent.tca.instrument_id,
                    str(parent.tca.side),
                    _number(parent.tca.ordered_quantity, 4),
                    str(len(parent.child_order_ids)),
                    _number(parent.tca.fill_rate * 100, 1) + "%",
                    _number(parent.tca.arrival_price, 4),
                    _number(parent.tca.average_fill_price, 4),
                    _number(parent.tca.slippage_bps),
                    _number(parent.tca.shortfall_bps),
                    _number(parent.tca.vwap_slippage_bps),
                    _percent(parent.tca.participation),
                ]
                for parent in shown_parents
            ),
            wide=wide,
            drop_order=PARENT_DROP_ORDER,
            console=out,
        )
        if len(shown_parents) < len(report.parents):
            more = len(report.parents) - len(shown_parents)
            out.print(f"… {more} more parent orders (--limit 0 lists all)")
    shown = report.orders if limit <= 0 else report.orders[:limit]
    print_table(
        f"tca: {run_id} (arrival: {source})",
        [
            (column, "left" if column in ("order", "instrument") else "right")
            for column in ORDER_COLUMNS
        ],
        (
            [
                row.order_id,
                row.instrument_id,
                str(row.side),
                _number(row.ordered_quantity, 4),
                _number(row.fill_rate * 100, 1) + "%",
                _number(row.arrival_price, 4),
                _number(row.average_fill_price, 4),
                _number(row.slippage_bps),
                _number(row.shortfall_bps),
                _number(row.vwap, 4),
                _number(row.vwap_slippage_bps),
                _number(row.twap, 4),
                _percent(row.participation),
            ]
            for row in shown
        ),
        wide=wide,
        drop_order=ORDER_DROP_ORDER,
        console=out,
    )
    if len(shown) < len(report.orders):
        out.print(f"… {len(report.orders) - len(shown)} more orders (--limit 0 lists all)")
    summary = report.summary
    totals = Table(title="aggregate (notional-weighted)", header_style="bold")
    totals.add_column("metric")
    totals.add_column("value", justify="right")
    for name, value in (
        ("orders (filled)", f"{summary.order_count} ({summary.filled_order_count})"),
        ("ordered notional", _number(summary.ordered_notional)),
        ("filled notional", _number(summary.filled_notional)),
        ("fill rate", _number(None if summary.fill_rate is None else summary.fill_rate * 100, 2)),
        ("implementation shortfall", _number(summary.shortfall_amount)),
        (
            "  execution / opportunity / fees",
            "/".join(
                _number(v)
                for v in (
                    summary.execution_cost_amount,
                    summary.opportunity_cost_amount,
                    summary.fees_amount,
                )
            ),
        ),
        ("shortfall bps", _number(summary.shortfall_bps)),
        ("slippage vs arrival bps", _number(summary.slippage_bps)),
        ("slippage vs VWAP bps", _number(summary.vwap_slippage_bps)),
        ("slippage vs TWAP bps", _number(summary.twap_slippage_bps)),
        (
            "participation % (of the volume with ours)",
            _number(None if summary.participation is None else summary.participation * 100, 4),
        ),
        (
            "fills / tape volume",
            _number(summary.volume_ratio, 4),
        ),
    ):
        totals.add_row(name, value)
    out.print(totals)


def bench_book_command(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A Binance diff-depth recording (default: the repository's USD-M test file).",
        ),
    ] = None,
    repeat: Annotated[int, typer.Option(help="Replays to time (the fastest counts).")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Time the order-book replay (deltas per second) on a Binance recording."""
    from tradeloop.bench.book import bench_book_replay
    from tradeloop.cli._common import check_number, user_errors

    with user_errors():
        check_number("--repeat", repeat, minimum=1, maximum=1000)
        path = file if file is not None else default_book_file()
        if path is None:
            raise ConfigError("no default book recording outside a checkout: pass --file PATH")
        require_file(path, "book recording")
        result = bench_book_replay(path, repeat=repeat)
    _print_record("bench book", result, as_json)


def bench_fidelity_command(
    bars: Annotated[int, typer.Option(help="Bars of the canonical job.")] = 1_000_000,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Binance recording for the level 2 / level 4 run (default: the repository's).",
        ),
    ] = None,
    l3_file: Annotated[
        Path | None,
        typer.Option(
            "--l3-file",
            help="Databento MBO CSV for the level 4 L3 run (default: the repository's).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Time the canonical job at each fidelity level, and levels 2 and 4 (L2, L3) on real data."""
    from tradeloop.bench.fidelity import bench_fidelity
    from tradeloop.cli._common import MAX_BENCH_BARS, check_number, user_errors

    with user_errors():
        check_number("--bars", bars, minimum=100, maximum=MAX_BENCH_BARS)
        path = file if file is not None else default_book_file()
        if path is not None:
            require_file(path, "book recording")
        l3_path = l3_file if l3_file is not None else default_l3_file()
        if l3_path is not None:
            require_file(l3_path, "market-by-order file")
        result = bench_fidelity(bars, path, l3_file=l3_path)
    _print_record("bench fidelity", result, as_json)


def _print_record(title: str, result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    table.add_column("key")
    table.add_column("value", justify="right")

    def rows(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                rows(f"{prefix}{key}." if isinstance(inner, dict) else f"{prefix}{key}", inner)
            return
        text = (
            f"{value:,}"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else str(value)
        )
        table.add_row(prefix, text)

    for key, value in result.items():
        rows(f"{key}." if isinstance(value, dict) else key, value)
    Console().print(table)


# What ``tradeloop bench all`` (``make bench``) runs of this module's benchmarks.
BENCH_SUITE: list[tuple[str, list[str]]] = [
    ("book replay", ["bench", "book", "--json"]),
    ("fidelity levels", ["bench", "fidelity", "--json"]),
]


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``tca`` to ``app`` and ``book``, ``fidelity`` to its ``bench`` group."""
    app.command("tca")(tca_command)
    bench_app.command("book")(bench_book_command)
    bench_app.command("fidelity")(bench_fidelity_command)

"""``tradeloop data``: import, validate and list market data.

``data validate`` exits 0 when a file has clean rows, 1 when none is clean (``--strict``: when
any row is quarantined) and 2 on a usage error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tradeloop.cli._common import WideOption, check_number, err, out, print_table, user_errors
from tradeloop.core.paths import require_dir, require_file

data_app = typer.Typer(help="Import, validate and list market data.", no_args_is_help=True)

ColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        help="Map a field to a source column, FIELD=COLUMN (repeatable), e.g. timestamp=date, "
        "close=Last; ohlcv fields: timestamp, time, open, high, low, close, volume.",
    ),
]
NoVolumeOption = Annotated[
    bool, typer.Option("--no-volume", help="The file has no volume column (ohlcv).")
]
NamesOption = Annotated[
    str | None,
    typer.Option(
        "--names",
        help="Comma-separated column names replacing the header (or naming a "
        "headerless file's fields).",
    ),
]
StampOption = Annotated[
    str | None,
    typer.Option(
        "--stamp",
        help="What ohlcv timestamps mean: close (default), open (needs --interval) "
        "or session (daily rows, needs --calendar).",
    ),
]
IntervalOption = Annotated[
    str | None, typer.Option("--interval", help="Bar length, e.g. 1min, 1h, 1D (ohlcv).")
]
CalendarOption = Annotated[
    str | None,
    typer.Option(
        "--calendar",
        help="Exchange calendar (XNYS, CMES, 24/7): sessions, gaps and daily "
        "session stamps; also the calendar of an instrument defined here.",
    ),
]
TimezoneOption = Annotated[
    str | None,
    typer.Option("--timezone", help="Zone of timestamps without an offset (default UTC)."),
]
SortOption = Annotated[
    bool,
    typer.Option(
        "--sort",
        help="Put the rows in time order before validating (for files not written in time "
        "order; otherwise such rows are quarantined as out_of_order).",
    ),
]
OptionsOption = Annotated[
    str | None,
    typer.Option(
        "--options",
        help="The format's options as a JSON object, e.g. "
        '\'{"timestamp": "date", "timestamp_format": "%Y%m%d"}\'; the flags above win.',
    ),
]


def _reader_options(
    format: str,
    options_json: str | None,
    columns: list[str] | None,
    no_volume: bool,
    names: str | None,
    stamp: str | None,
    interval: str | None,
    calendar: str | None,
    timezone: str | None,
    sort: bool = False,
) -> dict[str, Any] | None:
    # One mapping of reader options from --options and the flags (flags win); None if empty.
    from tradeloop.core.errors import ConfigError

    given: dict[str, Any] = {}
    if options_json is not None:
        try:
            parsed = json.loads(options_json)
        except json.JSONDecodeError as error:
            raise ConfigError(f"--options is not valid JSON: {error}") from None
        if not isinstance(parsed, dict):
            raise ConfigError("--options must be a JSON object of option names and values")
        given.update(parsed)
    for mapping in columns or []:
        field, sep, column = mapping.partition("=")
        if not sep or not field.strip():
            raise ConfigError(f"--column {mapping!r} is not FIELD=COLUMN (e.g. timestamp=date)")
        given[field.strip()] = column.strip()
    if no_volume:
        given["volume"] = None
    if names is not None:
        given["column_names"] = [name.strip() for name in names.split(",")]
    for key, value in (
        ("stamp", stamp),
        ("interval", interval),
        ("timezone", timezone),
    ):
        if value is not None:
            given[key] = value
    if calendar is not None and format in ("ohlcv", "yahoo"):
        given["calendar"] = calendar
    if sort:
        given["sort"] = True
    return given or None


def _define_instrument(
    instrument_id: str,
    kind: str | None,
    currency: str | None,
    base_currency: str | None,
    price_precision: int | None,
    size_precision: int | None,
    tick_size: str | None,
    lot_size: str | None,
    multiplier: str | None,
    calendar: str | None,
) -> Any:
    # The Instrument the definition flags describe, or None when no flag is given.
    from tradeloop.config.schema import InstrumentSection
    from tradeloop.core.errors import ConfigError

    flags = {
        "--kind": kind,
        "--currency": currency,
        "--base-currency": base_currency,
        "--price-precision": price_precision,
        "--size-precision": size_precision,
        "--tick-size": tick_size,
        "--lot-size": lot_size,
        "--multiplier": multiplier,
    }
    if all(value is None for value in flags.values()):
        return None
    missing = [
        name for name in ("--kind", "--currency", "--price-precision") if flags[name] is None
    ]
    if missing:
        raise ConfigError(
            f"defining instrument {instrument_id} needs {', '.join(missing)} "
            "(and optionally --size-precision, --tick-size, --lot-size, --multiplier, "
            "--base-currency, --calendar)"
        )
    assert kind is not None
    assert currency is not None
    assert price_precision is not None
    return InstrumentSection(
        id=instrument_id,
        kind=kind,
        quote_currency=currency,
        base_currency=base_currency,
        price_precision=price_precision,
        size_precision=0 if size_precision is None else size_precision,
        tick_size=tick_size,
        lot_size=lot_size,
        multiplier="1" if multiplier is None else multiplier,
        exchange_calendar=calendar,
    ).to_instrument()


@data_app.command("import")
def data_import(
    file: Annotated[Path, typer.Argument(help="Data file to import.")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="yahoo, ohlcv, binance-klines, trades or quotes.")
    ],
    instrument: Annotated[
        str, typer.Option("--instrument", "-i", help="Instrument id, SYMBOL.VENUE.")
    ],
    catalog: Annotated[Path, typer.Option("--catalog", "-c", help="Catalog directory.")],
    replace: Annotated[
        bool, typer.Option(help="Replace stored data of this instrument that overlaps the file's.")
    ] = False,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Define the instrument: equity, crypto_spot, crypto_perpetual, fx_spot or future.",
        ),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Quote currency of a defined instrument.")
    ] = None,
    base_currency: Annotated[
        str | None, typer.Option("--base-currency", help="Base currency (crypto, FX).")
    ] = None,
    price_precision: Annotated[
        int | None, typer.Option("--price-precision", help="Decimals of prices.")
    ] = None,
    size_precision: Annotated[
        int | None, typer.Option("--size-precision", help="Decimals of quantities (default 0).")
    ] = None,
    tick_size: Annotated[
        str | None,
        typer.Option("--tick-size", help="Tick size (default one unit of the last decimal)."),
    ] = None,
    lot_size: Annotated[str | None, typer.Option("--lot-size", help="Lot size.")] = None,
    multiplier: Annotated[
        str | None, typer.Option("--multiplier", help="Contract multiplier (default 1).")
    ] = None,
    column: ColumnOption = None,
    no_volume: NoVolumeOption = False,
    names: NamesOption = None,
    stamp: StampOption = None,
    interval: IntervalOption = None,
    calendar: CalendarOption = None,
    timezone: TimezoneOption = None,
    sort: SortOption = False,
    options: OptionsOption = None,
) -> None:
    """Read, validate and write a file into a Parquet catalog, with its instrument definition.

    The definition is the one given by --kind, --currency and --price-precision (and the other
    definition flags), else the one the catalog already stores, else the bundled instrument of
    that id (`tradeloop data list`); an instrument none of these defines is an error.
    """
    from tradeloop.data.api import import_file
    from tradeloop.data.catalog import Catalog

    with user_errors():
        require_file(file, "data file")
        reader_options = _reader_options(
            format, options, column, no_volume, names, stamp, interval, calendar, timezone, sort
        )
        defined = _define_instrument(
            instrument,
            kind,
            currency,
            base_currency,
            price_precision,
            size_precision,
            tick_size,
            lot_size,
            multiplier,
            calendar,
        )
        store = Catalog(catalog)
        if defined is not None and store.has_instrument(instrument):
            stored = store.instrument(instrument)
            if stored != defined:
                from tradeloop.core.errors import ConfigError

                raise ConfigError(
                    f"catalog {catalog} already defines {instrument} otherwise "
                    f"({stored.kind}, {stored.quote_currency}, price precision "
                    f"{stored.price_precision}, size precision {stored.size_precision}); "
                    "import without the definition flags to use it, or into another catalog"
                )
        result = import_file(
            file,
            format=format,
            instrument=instrument if defined is None else defined,
            catalog=store,
            options=reader_options,
            replace=replace,
        )
    out.print(result.report.format(20), markup=False, highlight=False)
    entry = result.entry
    out.print(
        f"wrote {entry.rows:,} {entry.kind} of {entry.instrument_id} to {entry.path} "
        f"(sha256 {entry.content_hash[:16]}…)"
    )


@data_app.command("validate")
def data_validate(
    file: Annotated[Path, typer.Argument(help="Data file to check.")],
    format: Annotated[str, typer.Option("--format", "-f")],
    instrument: Annotated[str, typer.Option("--instrument", "-i")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(help="Records to list per rule.")] = 20,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any record is quarantined.")
    ] = False,
    column: ColumnOption = None,
    no_volume: NoVolumeOption = False,
    names: NamesOption = None,
    stamp: StampOption = None,
    interval: IntervalOption = None,
    calendar: CalendarOption = None,
    timezone: TimezoneOption = None,
    sort: SortOption = False,
    options: OptionsOption = None,
) -> None:
    """Validate a file and report every quarantined record and gap (nothing is written).

    A bundled instrument's id (`tradeloop data list`) uses its precisions and calendar, as
    `data import` would; any other id infers precisions from the data.

    Exit status: 0 when the file has clean rows (quarantined records and gaps are reported,
    not failures; with --strict, any quarantined record exits 1), 1 when no row is clean,
    2 on a usage error (missing file, unknown format or option, a column not in the file).
    """
    from tradeloop.data import bundled
    from tradeloop.data.api import validate_file

    with user_errors():
        check_number("--limit", limit, minimum=0)
        require_file(file, "data file")
        reader_options = _reader_options(
            format, options, column, no_volume, names, stamp, interval, calendar, timezone, sort
        )
        known = bundled.find_instrument(instrument)
        report = validate_file(
            file,
            format=format,
            instrument=instrument if known is None else known,
            options=reader_options,
        )
    if as_json:
        payload = report.to_json()
        print(payload.decode() if isinstance(payload, bytes) else payload)
    else:
        out.print(report.format(limit), markup=False, highlight=False)
    if report.rows_clean == 0:
        err.print(
            f"[bold red]error:[/] no clean row in {file}: {report.rows_in} rows in, "
            f"{len(report.quarantined)} quarantined",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if strict and report.quarantined:
        raise typer.Exit(1)


@data_app.command("list")
def data_list(
    catalog: Annotated[
        Path | None, typer.Option("--catalog", "-c", help="Catalog directory.")
    ] = None,
    wide: WideOption = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every field as one JSON list.")
    ] = False,
) -> None:
    """List a catalog's contents, or the bundled datasets."""
    with user_errors():
        if catalog is None:
            from tradeloop.data import bundled

            datasets = [bundled.dataset(name) for name in bundled.names()]
            if as_json:
                print(
                    json.dumps(
                        [
                            {
                                "name": name,
                                "instrument_id": ds.instrument.id,
                                "kind": str(ds.kind),
                                "description": ds.description,
                            }
                            for name, ds in zip(bundled.names(), datasets, strict=True)
                        ]
                    )
                )
                return
            table = Table(title="bundled datasets", header_style="bold")
            for column in ("name", "instrument", "kind"):
                table.add_column(column, no_wrap=True)
            table.add_column("description", overflow="fold")  # prose: wraps, never cut
            for name, ds in zip(bundled.names(), datasets, strict=True):
                table.add_row(name, ds.instrument.id, str(ds.kind), ds.description)
            out.print(table)
            return
        from tradeloop.core.time import ns_to_iso
        from tradeloop.data.catalog import Catalog

        require_dir(catalog, "catalog")
        entries = Catalog(catalog).list()
        if as_json:
            import msgspec

            print(msgspec.json.encode(entries).decode())
            return
        rows = [
            [
                entry.instrument_id,
                entry.kind,
                f"{entry.rows:,}",
                ns_to_iso(entry.first_ts)[:19],
                ns_to_iso(entry.last_ts)[:19],
                entry.content_hash[:16],
            ]
            for entry in entries
        ]
    print_table(
        f"catalog {catalog}",
        [
            ("instrument", "left"),
            ("kind", "left"),
            ("rows", "right"),
            ("first", "left"),
            ("last", "left"),
            ("sha256", "left"),
        ],
        rows,
        wide=wide,
        drop_order=("sha256", "kind"),
    )

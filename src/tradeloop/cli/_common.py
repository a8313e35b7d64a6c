"""What every command module shares: the consoles and the one-line user error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from tradeloop.core.errors import TradeloopError

# Bars a benchmark series may have: beyond this, generating it alone needs gigabytes.
MAX_BENCH_BARS = 20_000_000

WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Print every column of the tables, however wide the terminal (default: the "
        "columns that fit; --json has every field).",
    ),
]

out = Console()
err = Console(stderr=True)


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a tradeloop error into one line on stderr and exit status 2."""
    try:
        yield
    except TradeloopError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        for note in getattr(error, "__notes__", ()):  # e.g. where a failed run was marked
            err.print(escape(note), highlight=False, soft_wrap=True)
        raise _Exit(2) from None


def check_number(
    option: str,
    value: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
) -> None:
    """Check a numeric option's range; a value out of it is one ``ConfigError`` line.

    Raises
    ------
    ConfigError
        If ``value`` is not finite, not positive (``positive``), or outside
        ``minimum``..``maximum``; the message names the option, the value and the range.
    """
    import math

    from tradeloop.core.errors import ConfigError

    shown = f"{value:g}" if isinstance(value, float) else f"{value}"
    if not math.isfinite(value):
        raise ConfigError(f"{option} {shown} must be a finite number")
    if positive and not value > 0:
        raise ConfigError(f"{option} {shown} must be positive")
    too_low = minimum is not None and value < minimum
    too_high = maximum is not None and value > maximum
    if too_low or too_high:
        if minimum is not None and maximum is not None:
            raise ConfigError(f"{option} {shown} must be between {minimum:,} and {maximum:,}")
        if minimum is not None:
            raise ConfigError(f"{option} {shown} must be at least {minimum:,}")
        raise ConfigError(f"{option} {shown} must be at most {maximum:,}")


def print_table(
    title: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[str]],
    *,
    wide: bool = False,
    drop_order: Sequence[str] = (),
    caption: str | None = None,
    console: Console | None = None,
    **table_options: Any,
) -> list[str]:
    """Print a table that fits the terminal; return the names of the columns it left out.

    ``columns`` are ``(name, justify)`` pairs; cells never wrap, so an id or a number is never
    cut. When the table is wider than the terminal (``COLUMNS``), the
    columns of ``drop_order`` are left out, first to last, until it fits, and the caption
    names them. ``wide`` prints every column, as wide as they need.
    """
    from rich import box
    from rich.measure import Measurement
    from rich.table import Table

    target = out if console is None else console
    rows = [list(row) for row in rows]

    def build(shown: list[str], note: str | None) -> Table:
        options = {"box": box.SIMPLE_HEAD, "pad_edge": False, **table_options}
        table = Table(title=title, header_style="bold", caption=note, **options)
        for name, justify in columns:
            if name in shown:
                table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        keep = [index for index, (name, _) in enumerate(columns) if name in shown]
        for row in rows:
            table.add_row(*[row[index] for index in keep])
        return table

    def natural_width(table: Table) -> int:
        options = target.options.update(width=100_000)
        return Measurement.get(target, options, table).maximum

    shown = [name for name, _ in columns]
    if wide:
        table = build(shown, caption)
        width = max(natural_width(table), target.width)
        Console(width=width, file=target.file, highlight=False).print(table)
        return []
    hidden: list[str] = []
    for name in drop_order:
        if natural_width(build(shown, None)) <= target.width:
            break
        shown.remove(name)
        hidden.append(name)
    note = caption
    if hidden:
        left_out = (
            f"left out to fit {target.width} columns: {', '.join(hidden)} "
            "(--wide shows every column, --json every field)"
        )
        note = left_out if caption is None else f"{caption}; {left_out}"
    target.print(build(shown, note))
    return hidden


class StopSignal(KeyboardInterrupt):
    """A stop asked for by a signal (SIGTERM from ``kill`` or a supervisor): handled as
    Ctrl-C is, the run stops cleanly (open orders per ``[live] on_stop``) and is marked
    ``stopped`` with the signal named."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.reason = f"stopped by {name}"


def stop_on_sigterm() -> None:
    """Make SIGTERM stop a run the way Ctrl-C does (call it in the main thread)."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise StopSignal(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, handler)

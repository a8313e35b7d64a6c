"""``tradeloop journal``: a run's journal as log lines, and its check against the standard.

``journal export`` writes the live-logging form (``journal.export``): one JSON line per
record, stamped with the run id, config hash and code version. ``journal check`` exits 0 when
the journal follows ``docs/journal-standard.md``, 1 when it breaks a rule (each violation on
one line) and 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tradeloop.cli._common import _Exit, err, out, user_errors
from tradeloop.core.paths import require_output_file

journal_app = typer.Typer(
    help="A run's journal: export, check against the standard, verify its hash chain, back up.",
    no_args_is_help=True,
)

RunArgument = Annotated[Path, typer.Argument(help="Run directory (runs/<run_id>) or its journal.")]


def _types(values: list[str] | None) -> list[str]:
    return [name.strip() for value in values or () for name in value.split(",") if name.strip()]


@journal_app.command("export")
def export_command(
    run: RunArgument,
    jsonl: Annotated[
        Path | None,
        typer.Option("--jsonl", help="Write the lines to this file (default: standard output)."),
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--types",
            help="Keep these record types only (class names, repeatable or comma-separated), "
            "e.g. --types SubmitOrder,OrderFilled.",
        ),
    ] = None,
) -> None:
    """Write the journal as JSON lines, each record stamped with run id, config hash and code
    version (the form a log shipper consumes)."""
    from tradeloop.journal.export import export_jsonl

    with user_errors():
        if jsonl is None or str(jsonl) == "-":
            count = export_jsonl(run, sys.stdout.buffer, _types(types))
            sys.stdout.flush()
            return
        require_output_file(jsonl, "--jsonl file")
        partial = jsonl.with_name(jsonl.name + ".partial")
        try:
            with partial.open("wb") as handle:
                count = export_jsonl(run, handle, _types(types))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(jsonl)
    err.print(f"{count:,} records written to {jsonl}", highlight=False)


@journal_app.command("check")
def check_command(run: RunArgument) -> None:
    """Check the journal against the live-logging standard (docs/journal-standard.md)."""
    from tradeloop.reports.standard import check_journal

    with user_errors():
        violations = check_journal(run)
    for violation in violations:
        out.print(
            f"{violation.rule} seq {violation.seq}: {violation.message}",
            highlight=False,
            soft_wrap=True,
        )
    if violations:
        err.print(f"{len(violations)} violation(s) of the journal standard", highlight=False)
        raise _Exit(1)
    out.print("the journal follows the standard", highlight=False)


@journal_app.command("verify")
def verify_command(
    run: RunArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Check the journal's hash chain: name the first edited, inserted or deleted record
    (exit 1), or print the record count and the head hash to keep (exit 0)."""
    import msgspec

    from tradeloop.journal.integrity import verify_journal

    with user_errors():
        report = verify_journal(run)
    if as_json:
        print(msgspec.json.encode(report).decode())
    elif report.ok:
        out.print(
            f"the journal's hash chain holds: {report.records:,} records, last seq "
            f"{report.last_seq}, head {report.head_hash}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        out.print(report.message, highlight=False, soft_wrap=True)
    if not report.ok:
        raise _Exit(1)


@journal_app.command("backup")
def backup_command(
    run: RunArgument,
    dest: Annotated[Path, typer.Argument(help="New directory for the copy (must not exist).")],
) -> None:
    """Copy a run (running or not) to DEST with SQLite's online backup: one consistent
    snapshot of the journal, verified; `--resume DEST` continues the run from the copy."""
    from tradeloop.journal.integrity import backup_run

    with user_errors():
        result = backup_run(run, dest)
    out.print(
        f"{result.records:,} records (last seq {result.last_seq}, head {result.head_hash}) "
        f"backed up to {result.run_dir}: {', '.join(result.files)}",
        highlight=False,
        soft_wrap=True,
    )

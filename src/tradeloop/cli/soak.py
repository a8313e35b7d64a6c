"""``tradeloop bench journal`` (what durability and the hash chain cost) and, as they land,
the ``tradeloop soak`` commands."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tradeloop.cli._common import _Exit, err, out, user_errors
from tradeloop.core.errors import ConfigError


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``soak kills`` / ``soak faults`` to ``app`` and ``journal`` to ``bench_app``."""
    soak_app = typer.Typer(
        help="Soaks: a node killed and resumed, venue faults; one JSON line of counts.",
        no_args_is_help=True,
    )
    app.add_typer(soak_app, name="soak")

    @soak_app.command("kills")
    def soak_kills_command(
        runs: Annotated[int, typer.Option(help="How many times the node is killed.")] = 100,
        seed: Annotated[int, typer.Option(help="Seed of the kill moments.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
    ) -> None:
        """Kill a live node (SIGKILL) at seeded random moments against the Binance emulator,
        resume it each time, then compare its journal with the venue's order log."""
        from tradeloop.bench.soak import soak_kills

        with user_errors():
            if not 1 <= runs <= 10_000:
                raise ConfigError(f"--runs {runs} must be between 1 and 10,000")

        def progress(done: int, text: str) -> None:
            err.print(text, highlight=False)  # stderr: the JSON line stays alone on stdout

        result = soak_kills(runs, seed, progress=progress)
        _report(result, as_json)

    @soak_app.command("faults")
    def soak_faults_command(
        scenarios: Annotated[int, typer.Option(help="How many seeded scenarios.")] = 10_000,
        seed: Annotated[int, typer.Option(help="Seed of the scenarios.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
    ) -> None:
        """Run seeded venue-fault scenarios (timeouts after the venue accepted, 429/5xx,
        rejects, partial, duplicate and out-of-order fills, cancel/fill races, a stream cut
        mid-fill, a stale stream) against the node's order path; check invariants after each."""
        from tradeloop.bench.soak_faults import soak_faults

        with user_errors():
            if not 1 <= scenarios <= 10_000_000:
                raise ConfigError(f"--scenarios {scenarios} must be between 1 and 10,000,000")

        def progress(done: int) -> None:
            if not as_json:
                err.print(f"{done:,}/{scenarios:,} scenarios", highlight=False)

        _report(soak_faults(scenarios, seed, progress=progress), as_json)

    @bench_app.command("journal")
    def bench_journal_command(
        commits: Annotated[int, typer.Option(help="Commits timed per fsync policy.")] = 500,
        records: Annotated[int, typer.Option(help="Records for the bulk write figure.")] = 200_000,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
    ) -> None:
        """Time the journal: one commit's round trip without and with fsync (the price of a
        command durable before it is sent), bulk writes, and the hash chain per record."""
        from tradeloop.bench.journal import bench_journal

        with user_errors():
            if not 10 <= commits <= 100_000:
                raise ConfigError(f"--commits {commits} must be between 10 and 100,000")
            if not 1_000 <= records <= 10_000_000:
                raise ConfigError(f"--records {records} must be between 1,000 and 10,000,000")
        result = bench_journal(commits, records)
        if as_json:
            print(json.dumps(result))
            return
        for key, label in (("commit_normal", "synchronous=NORMAL"), ("commit_fsync", "fsync")):
            figure = result[key]
            out.print(
                f"commit round trip, {label}: p50 {figure['p50_us']:,.1f} µs, p99 "
                f"{figure['p99_us']:,.1f} µs ({figure['commits_per_s']:,} commits/s)",
                highlight=False,
            )
        bulk = result["bulk"]
        out.print(
            f"bulk write: {bulk['records_per_s']:,} records/s ({bulk['records']:,} in "
            f"{bulk['seconds']:.2f} s, hash chain included); hash chain alone "
            f"{result['hash_chain_us_per_record']:.2f} µs per record",
            highlight=False,
        )


SOAK_PROBLEMS = (
    "lost_orders",
    "duplicate_orders",
    "position_mismatches",
    "cash_mismatches",
    "journal_verify_failures",
    "reconciliation_breaks",
    "balance_mismatches",
    "invariant_breaks",
)


def _report(result: dict[str, object], as_json: bool) -> None:
    # One JSON line (or one line per figure); exit 1 when any problem count is not 0.
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            out.print(f"{key}: {value}", highlight=False, soft_wrap=True)
    if any(result.get(key) for key in SOAK_PROBLEMS):
        raise _Exit(1)

"""``tradeloop bench journal`` (what durability and the hash chain cost) and, as they land,
the ``tradeloop soak`` commands."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tradeloop.cli._common import out, user_errors
from tradeloop.core.errors import ConfigError


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``journal`` to ``bench_app``."""

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

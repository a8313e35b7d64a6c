"""``tradeloop shadow`` and ``tradeloop live``, and ``paper`` on live feeds: sessions on the
wall clock (``engine.session``).

``--for DURATION`` (``30s``, ``15m``, ``2h``, ``1d``) ends a session cleanly; Ctrl-C does too.
Either way the open orders are cancelled unless the config's ``[live] on_stop = "leave"``,
and the run ends with its ``RunEnded`` record and its outputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from tradeloop.cli._common import err, out, stop_on_sigterm, user_errors
from tradeloop.cli.ops import ApiOption, ApiTokensOption, node_api
from tradeloop.core.errors import ConfigError

_FOR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

ForOption = Annotated[
    str | None,
    typer.Option(
        "--for",
        help="End the session cleanly after this long: 30s, 15m, 2h, 1d (default: until Ctrl-C).",
    ),
]


def parse_for(text: str | None) -> float | None:
    """Return ``--for`` in seconds (None: no limit).

    Raises
    ------
    ConfigError
        If ``text`` is not a positive number followed by s, m, h or d.
    """
    if text is None:
        return None
    match = _FOR.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f"--for {text!r} is not a positive duration such as 30s, 15m, 2h or 1d")
    return float(match.group(1)) * _SECONDS[match.group(2)]


ResumeOption = Annotated[
    Path | None,
    typer.Option(
        help="Continue this run (runs/<id>) after a crash or a stop: rebuilt from its journal, "
        "reconciled with the venue, then trading resumes."
    ),
]


def run_session_command(
    config_path: Path,
    mode: str,
    *,
    for_: str | None,
    quiet: bool,
    as_json: bool,
    api: str | None = None,
    api_tokens: Path | None = None,
    resume: Path | None = None,
) -> None:
    """Load ``config_path`` and run it in ``mode`` on its live feeds; print the summary."""
    from tradeloop.config.loader import load_config
    from tradeloop.engine.deployment import check_stage, resolve_stage
    from tradeloop.engine.runner import prepare_run
    from tradeloop.engine.session import run_session

    stop_on_sigterm()
    with user_errors():
        duration_s = parse_for(for_)
        config = resolve_stage(load_config(config_path))
        check_stage(config, mode)
        prepared = prepare_run(config, config_path.parent)
        if not quiet and not as_json:
            limit = "until Ctrl-C" if duration_s is None else f"for {for_}"
            stage = ""
            if config.deployment is not None:
                current = config.deployment.current
                stage = f", stage {current.name} ({current.fraction:.0%} of the capital)"
            resumed = "" if resume is None else f" (resuming {resume})"
            err.print(
                f"{mode}: {prepared.run_id} on live data, {limit}{stage}{resumed}",
                highlight=False,
            )
        with node_api(api, api_tokens, mode, config) as operations:
            result = run_session(
                prepared, mode, duration_s=duration_s, operations=operations, resume=resume
            )
    summary: dict[str, Any] = {
        **result.summary,
        "mode": mode,
        "seconds": round(result.seconds, 4),
        "run_dir": str(result.run_dir),
    }
    if as_json:
        print(json.dumps(summary, sort_keys=True))
        return
    if not quiet:
        if summary.get("status") == "stopped":
            err.print(f"stopped: {summary.get('reason')}", highlight=False, markup=False)
        for key in ("orders", "orders_denied", "fills", "records", "final_equity", "feeds"):
            out.print(f"{key}: {summary.get(key)}", highlight=False)
        out.print(f"journal: {result.journal_path}", highlight=False)


def instruments_toml(instruments: list[Any]) -> str:
    """Return ``[[instruments]]`` tables (TOML) for ``instruments``, ready to paste."""
    lines: list[str] = []
    for instrument in instruments:
        lines.append("[[instruments]]")
        lines.append(f'id = "{instrument.id}"')
        lines.append(f'kind = "{instrument.kind.value}"')
        lines.append(f'quote_currency = "{instrument.quote_currency}"')
        if instrument.base_currency is not None:
            lines.append(f'base_currency = "{instrument.base_currency}"')
        lines.append(f"price_precision = {instrument.price_precision}")
        lines.append(f"size_precision = {instrument.size_precision}")
        lines.append(f'tick_size = "{instrument.tick_size}"')
        lines.append(f'lot_size = "{instrument.lot_size}"')
        if instrument.exchange_calendar is not None:
            lines.append(f'exchange_calendar = "{instrument.exchange_calendar}"')
        lines.append("")
    return "\n".join(lines)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``shadow``, ``live`` and ``venue`` to ``app`` and ``live`` to ``bench_app``."""
    venue_app = typer.Typer(help="What a venue lists: its instruments.", no_args_is_help=True)
    app.add_typer(venue_app, name="venue")

    @venue_app.command("instruments")
    def venue_instruments_command(
        config: Annotated[Path, typer.Argument(help="Run config (TOML) with connections.")],
        connection: Annotated[
            str | None, typer.Option(help="Only this [connections.<NAME>] table.")
        ] = None,
        symbols: Annotated[
            str | None,
            typer.Option(help="Only these venue symbols, comma-separated (e.g. BTC/USDT)."),
        ] = None,
    ) -> None:
        """Print the venue's instruments as [[instruments]] tables (tick, lot, precisions)."""
        from tradeloop.config.loader import load_config
        from tradeloop.engine.connections import load_connections, venue_instruments

        with user_errors():
            connections = load_connections(load_config(config))
            if connection is not None and connection not in connections:
                known = ", ".join(sorted(connections)) or "none"
                raise ConfigError(f"--connection {connection!r} is not a connection ({known})")
            wanted = None if symbols is None else [s.strip() for s in symbols.split(",") if s]
            chosen = sorted(connections) if connection is None else [connection]
            if not chosen:
                raise ConfigError(f"{config} has no [connections.<NAME>] table")
            for name in chosen:
                listed, skipped = venue_instruments(connections[name], wanted)
                print(f"# {name}: {len(listed)} instruments")
                print(instruments_toml(listed))
                for symbol, why in sorted(skipped.items()):
                    err.print(f"skipped {symbol}: {why}", highlight=False, markup=False)

    @bench_app.command("live")
    def bench_live_command(
        messages: Annotated[
            int, typer.Option(help="Trade ticks through the inbox for the throughput figure.")
        ] = 200_000,
        orders: Annotated[int, typer.Option(help="Orders timed for tick-to-order.")] = 2_000,
        round_trips: Annotated[
            int,
            typer.Option(help="Orders timed to a Binance emulator's ack through ccxt (0: none)."),
        ] = 500,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
    ) -> None:
        """Time the live loop: inbox throughput, tick-to-order latency (journal on) and the
        round trip to an emulator on loopback."""
        from tradeloop.bench.live import bench_live, bench_round_trip

        with user_errors():
            if not 1_000 <= messages <= 100_000_000:
                raise ConfigError(f"--messages {messages} must be between 1,000 and 100,000,000")
            if not 10 <= orders <= 1_000_000:
                raise ConfigError(f"--orders {orders} must be between 10 and 1,000,000")
            if not 0 <= round_trips <= 100_000:
                raise ConfigError(f"--round-trips {round_trips} must be between 0 and 100,000")
        result = bench_live(messages, orders)
        if round_trips:
            result["round_trip"] = bench_round_trip(round_trips)
        if as_json:
            print(json.dumps(result))
            return
        inbox, latency = result["inbox"], result["tick_to_order"]
        out.print(
            f"inbox: {inbox['messages_per_s']:,} messages/s ({inbox['messages']:,} in "
            f"{inbox['seconds']:.2f} s, each journaled)",
            highlight=False,
        )
        out.print(
            f"tick to order: p50 {latency['p50_us']:,.1f} µs, p99 {latency['p99_us']:,.1f} µs "
            f"({latency['orders']:,} orders, journal-before-send included)",
            highlight=False,
        )
        if "round_trip" in result:
            trip = result["round_trip"]
            out.print(
                f"round trip to the emulator's ack: p50 {trip['p50_us']:,.1f} µs, p99 "
                f"{trip['p99_us']:,.1f} µs ({trip['orders']:,} orders, ccxt on loopback)",
                highlight=False,
            )

    @app.command()
    def shadow(
        config: Annotated[Path, typer.Argument(help="Run config (TOML) with feeds.")],
        for_: ForOption = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
        api: ApiOption = None,
        api_tokens: ApiTokensOption = None,
        resume: ResumeOption = None,
    ) -> None:
        """Decide on live data but send no order: the simulated venue fills them."""
        run_session_command(
            config,
            "shadow",
            for_=for_,
            quiet=quiet,
            as_json=as_json,
            api=api,
            api_tokens=api_tokens,
            resume=resume,
        )

    @app.command()
    def live(
        config: Annotated[Path, typer.Argument(help="Run config (TOML) with feeds.")],
        for_: ForOption = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
        api: ApiOption = None,
        api_tokens: ApiTokensOption = None,
        resume: ResumeOption = None,
    ) -> None:
        """Trade for real: orders go to the venues' connections (behind risk)."""
        run_session_command(
            config,
            "live",
            for_=for_,
            quiet=quiet,
            as_json=as_json,
            api=api,
            api_tokens=api_tokens,
            resume=resume,
        )

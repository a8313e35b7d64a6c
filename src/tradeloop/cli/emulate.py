"""``tradeloop emulate``: local exchange emulators that speak the real venues' APIs.

The emulator modules (aiohttp, the replayed market) load inside the command, so
``tradeloop --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from tradeloop.cli._common import err, out

emulate_app = typer.Typer(
    help="Local exchange emulators (real REST paths, signatures, errors, rate limits and "
    "WebSocket streams over a replayed market) for testing clients without a network.",
    no_args_is_help=True,
)

DEFAULT_API_KEY = "emulator-key"  # same as tradeloop.testing.DEFAULT_API_KEY
DEFAULT_SECRET = "emulator-secret"  # same as tradeloop.testing.DEFAULT_SECRET


@emulate_app.command("binance")
def binance_command(
    port: Annotated[int, typer.Option(help="Port serving every REST path and stream")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    api_key: Annotated[
        str, typer.Option("--api-key", help="API key accepted (header X-MBX-APIKEY)")
    ] = DEFAULT_API_KEY,
    secret: Annotated[
        str, typer.Option("--secret", help="HMAC-SHA256 secret of that key")
    ] = DEFAULT_SECRET,
    speed: Annotated[float, typer.Option(help="Market replay speed (1 = as recorded)")] = 1.0,
    latency_ms: Annotated[float, typer.Option(help="Delay added to answers and messages")] = 0.0,
    latency_jitter_ms: Annotated[float, typer.Option(help="Uniform extra delay, up to")] = 0.0,
    rate_limit: Annotated[float, typer.Option(help="Probability of a 429 per request")] = 0.0,
    ban: Annotated[float, typer.Option(help="Probability of a 418 per request")] = 0.0,
    server_error: Annotated[float, typer.Option(help="Probability of a 503 per request")] = 0.0,
    timeout: Annotated[
        float, typer.Option(help="Probability an order request is carried out, never answered")
    ] = 0.0,
    reject: Annotated[float, typer.Option(help="Probability a new order is rejected")] = 0.0,
    ws_disconnect: Annotated[
        float, typer.Option(help="Probability, per stream message, of closing the socket")
    ] = 0.0,
    ws_drop: Annotated[float, typer.Option(help="Probability a stream message is dropped")] = 0.0,
    ws_duplicate: Annotated[
        float, typer.Option(help="Probability a stream message is sent twice")
    ] = 0.0,
    ws_reorder: Annotated[
        float, typer.Option(help="Probability a stream message is sent after the next")
    ] = 0.0,
    partial_fills: Annotated[
        bool, typer.Option(help="Fill at most each quote's displayed size")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the fault draws")] = 0,
) -> None:
    """Serve a Binance emulator (BTCUSDT spot and USD-M perpetual) on one port.

    Point a ccxt client at it by replacing scheme and host of every URL in
    exchange.urls['api'] (tradeloop.testing.ccxt_binance does it). Faults can be changed
    while it runs with POST /_emulator/faults; GET /_emulator/orders lists every order.
    """
    from tradeloop.testing import BinanceEmulatorConfig, run_binance_emulator

    faults = _checked_faults(
        speed,
        latency_ms=latency_ms,
        latency_jitter_ms=latency_jitter_ms,
        rate_limit_probability=rate_limit,
        ban_probability=ban,
        server_error_probability=server_error,
        timeout_probability=timeout,
        reject_probability=reject,
        ws_disconnect_probability=ws_disconnect,
        ws_drop_probability=ws_drop,
        ws_duplicate_probability=ws_duplicate,
        ws_reorder_probability=ws_reorder,
        partial_fills=partial_fills,
        seed=seed,
    )
    config = BinanceEmulatorConfig(api_key=api_key, secret=secret, speed=speed, faults=faults)
    out.print(
        f"Binance emulator on http://{host}:{port} (ws://{host}:{port}/ws, "
        f"ws://{host}:{port}/ws-api/v3); api key {api_key}; Ctrl-C stops it"
    )
    _serve(lambda: run_binance_emulator(config, host, port), host, port)


@emulate_app.command("alpaca")
def alpaca_command(
    port: Annotated[int, typer.Option(help="Port serving every REST path and stream")] = 8766,
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    api_key: Annotated[
        str, typer.Option("--api-key", help="Key id accepted (APCA-API-KEY-ID)")
    ] = DEFAULT_API_KEY,
    secret: Annotated[
        str, typer.Option("--secret", help="Secret accepted (APCA-API-SECRET-KEY)")
    ] = DEFAULT_SECRET,
    speed: Annotated[
        float, typer.Option(help="Replay speed (1 = one recorded daily bar a minute)")
    ] = 1.0,
    latency_ms: Annotated[float, typer.Option(help="Delay added to answers and messages")] = 0.0,
    latency_jitter_ms: Annotated[float, typer.Option(help="Uniform extra delay, up to")] = 0.0,
    rate_limit: Annotated[float, typer.Option(help="Probability of a 429 per request")] = 0.0,
    ban: Annotated[float, typer.Option(help="Probability of a 418 per request")] = 0.0,
    server_error: Annotated[float, typer.Option(help="Probability of a 503 per request")] = 0.0,
    timeout: Annotated[
        float, typer.Option(help="Probability an order request is carried out, never answered")
    ] = 0.0,
    reject: Annotated[float, typer.Option(help="Probability a new order is rejected")] = 0.0,
    ws_disconnect: Annotated[
        float, typer.Option(help="Probability, per stream message, of closing the socket")
    ] = 0.0,
    ws_drop: Annotated[float, typer.Option(help="Probability a stream message is dropped")] = 0.0,
    ws_duplicate: Annotated[
        float, typer.Option(help="Probability a stream message is sent twice")
    ] = 0.0,
    ws_reorder: Annotated[
        float, typer.Option(help="Probability a stream message is sent after the next")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the fault draws")] = 0,
) -> None:
    """Serve an Alpaca emulator (SPY, GOOG) on one port.

    Point alpaca-py at it with url_override: TradingClient and StockHistoricalDataClient
    (http://HOST:PORT), TradingStream (ws://HOST:PORT/stream), StockDataStream
    (ws://HOST:PORT/v2/iex). POST /_emulator/faults changes faults while it runs; GET
    /_emulator/orders lists every order.
    """
    from tradeloop.testing import AlpacaEmulatorConfig, run_alpaca_emulator

    faults = _checked_faults(
        speed,
        latency_ms=latency_ms,
        latency_jitter_ms=latency_jitter_ms,
        rate_limit_probability=rate_limit,
        ban_probability=ban,
        server_error_probability=server_error,
        timeout_probability=timeout,
        reject_probability=reject,
        ws_disconnect_probability=ws_disconnect,
        ws_drop_probability=ws_drop,
        ws_duplicate_probability=ws_duplicate,
        ws_reorder_probability=ws_reorder,
        seed=seed,
    )
    config = AlpacaEmulatorConfig(api_key=api_key, secret=secret, speed=speed, faults=faults)
    out.print(
        f"Alpaca emulator on http://{host}:{port} (ws://{host}:{port}/stream, "
        f"ws://{host}:{port}/v2/iex); key id {api_key}; Ctrl-C stops it"
    )
    _serve(lambda: run_alpaca_emulator(config, host, port), host, port)


def _checked_faults(speed: float, **fields: Any) -> Any:
    # The fault settings and the speed, checked: a bad value is one line and exit 2.
    from tradeloop.testing import FaultConfig

    try:
        faults = FaultConfig(**fields)
        if not speed > 0:
            raise ValueError(f"--speed {speed} must be positive")
    except ValueError as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    return faults


def _serve(run: Callable[[], None], host: str, port: int) -> None:
    # Serve until Ctrl-C; a port that is taken (or an address not ours) is one line, exit 2.
    try:
        run()
    except OSError as error:
        err.print(f"[bold red]error:[/] cannot serve on {host}:{port}: {error}", highlight=False)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add the ``emulate`` group to ``app``."""
    app.add_typer(emulate_app, name="emulate")

"""``--api HOST:PORT`` for the live-clock commands, and ``tradeloop ctl``: the control API
from the command line.

``tradeloop ctl`` reads the node's address from ``--url`` (or ``TRADELOOP_API_URL``, default
``http://127.0.0.1:8780``) and the token from ``--token`` (or ``TRADELOOP_API_TOKEN``)::

    tradeloop ctl status
    tradeloop ctl pause --reason "news at 14:30"
    tradeloop ctl flatten ORCL.XNAS --reason "halted stock"
    tradeloop ctl kill --reason "venue incident"
    tradeloop ctl review rejects resume --reason "venue fixed the outage"
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from tradeloop.cli._common import err, out, user_errors

DEFAULT_URL = "http://127.0.0.1:8780"

ApiOption = Annotated[
    str | None,
    typer.Option(
        "--api",
        help="Serve metrics, health, status and control at HOST:PORT (e.g. 127.0.0.1:8780; "
        "port 0 picks a free one). Token: TRADELOOP_API_TOKEN.",
    ),
]
ApiTokensOption = Annotated[
    Path | None,
    typer.Option(
        "--api-tokens",
        help="TOML file (mode 0600) of [[tokens]] name, role (viewer/operator/admin), token.",
    ),
]


@contextlib.contextmanager
def node_api(api: str | None, tokens_file: Path | None, mode: str, config: Any) -> Iterator[Any]:
    """Watch the run while the block runs: its ``[[alerts]]``, ``[approvals]`` and
    ``[notifications]``, and its API with ``--api`` (where it listens is printed on stderr);
    yield the operations to hand to the run (None when there is nothing to watch)."""
    notifications = config.notifications
    if (
        api is None
        and tokens_file is None
        and not config.alerts
        and not (notifications.urls or notifications.url_envs)
        and config.approvals.order_notional is None
    ):
        yield None
        return
    from tradeloop.api.server import serve_node
    from tradeloop.monitoring.monitor import monitor_for

    monitor = monitor_for(config, mode, os.environ)
    if config.deployment is not None:
        from tradeloop.api.stage import NodeStageDesk

        monitor.stage_desk = NodeStageDesk(config)
    try:
        with serve_node(api, mode, tokens_file=tokens_file, monitor=monitor) as server:
            if server is not None:
                err.print(f"api: {server.url} (metrics at {server.url}/metrics)", highlight=False)
            yield monitor
    finally:
        if monitor.notifier is not None:
            monitor.notifier.close()


@contextlib.contextmanager
def serve_for_bench(monitor: Any) -> Iterator[str]:
    """Serve ``monitor``'s API on a free loopback port (``bench sma --monitoring``); yield
    its URL."""
    from tradeloop.api.server import serve_node

    with serve_node("127.0.0.1:0", "bench", env={}, monitor=monitor) as server:
        assert server is not None
        yield server.url


def _request(url: str, token: str | None, method: str, path: str, body: Any = None) -> Any:
    import urllib.error
    import urllib.request

    from tradeloop.core.errors import ConfigError

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            detail = json.loads(error.read()).get("detail")
        except (ValueError, AttributeError):
            detail = error.reason
        raise ConfigError(f"{method} {path}: {error.code} {detail}") from None
    except urllib.error.URLError as error:
        raise ConfigError(f"no node answers at {url} ({error.reason})") from None


UrlOption = Annotated[
    str | None, typer.Option("--url", help="The node's API (default: TRADELOOP_API_URL).")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="Bearer token (default: TRADELOOP_API_TOKEN).")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why: journaled with who acted.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]
RunOption = Annotated[
    str | None,
    typer.Option("--run", help="A run id under the node's output_dir (default: the latest)."),
]


def _target(url: str | None, token: str | None) -> tuple[str, str | None]:
    return (
        url or os.environ.get("TRADELOOP_API_URL") or DEFAULT_URL,
        token or os.environ.get("TRADELOOP_API_TOKEN"),
    )


def register(app: typer.Typer) -> None:
    """Add ``ctl`` and ``alerts`` and their commands to ``app``."""
    alerts_app = typer.Typer(
        help="The run config's alert rules ([[alerts]]).", no_args_is_help=True
    )
    app.add_typer(alerts_app, name="alerts")

    @alerts_app.command("export")
    def alerts_export(
        config: Annotated[Path, typer.Argument(help="Run config (TOML) with [[alerts]].")],
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write here (must not exist).")
        ] = None,
    ) -> None:
        """Print the config's alert rules as Prometheus alerting rules (promtool-clean)."""
        from tradeloop.config.loader import load_config
        from tradeloop.core.errors import ConfigError
        from tradeloop.monitoring.promrules import prometheus_rules

        with user_errors():
            text = prometheus_rules(load_config(config).alerts)
            if output is None:
                print(text, end="")
                return
            if output.exists():
                raise ConfigError(f"--output {output} exists: choose a new file")
            output.write_text(text)
            err.print(f"wrote {output}", highlight=False)

    ctl = typer.Typer(
        help="Watch and steer a running node through its API (--api).", no_args_is_help=True
    )
    app.add_typer(ctl, name="ctl")

    def show(answer: Any, as_json: bool) -> None:
        if as_json or not isinstance(answer, dict):
            print(json.dumps(answer, sort_keys=True))
            return
        for key, value in answer.items():
            shown = json.dumps(value) if isinstance(value, list | dict) else value
            out.print(f"{key}: {shown}", highlight=False, markup=False)

    def get(path: str, url: str | None, token: str | None, as_json: bool) -> None:
        with user_errors():
            base, secret = _target(url, token)
            show(_request(base, secret, "GET", path), as_json)

    def post(path: str, body: dict[str, Any], url: str | None, token: str | None) -> None:
        with user_errors():
            base, secret = _target(url, token)
            show(_request(base, secret, "POST", path, body), False)

    @ctl.command("status")
    def status(
        url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False
    ) -> None:
        """Print the node's trading state, equity, P&L and positions."""
        get("/api/v1/status", url, token, as_json)

    @ctl.command("positions")
    def positions(url: UrlOption = None, token: TokenOption = None) -> None:
        """Print the open positions (JSON)."""
        get("/api/v1/positions", url, token, True)

    @ctl.command("orders")
    def orders(url: UrlOption = None, token: TokenOption = None) -> None:
        """Print the open orders (JSON)."""
        get("/api/v1/orders", url, token, True)

    @ctl.command("fills")
    def fills(url: UrlOption = None, token: TokenOption = None) -> None:
        """Print the recent fills, newest first (JSON)."""
        get("/api/v1/fills", url, token, True)

    @ctl.command("alerts")
    def alerts(url: UrlOption = None, token: TokenOption = None) -> None:
        """Print the recent alerts, newest first (JSON)."""
        get("/api/v1/alerts", url, token, True)

    @ctl.command("health")
    def health(url: UrlOption = None) -> None:
        """Print the node's readiness checks (exit 1 when it is not ready)."""
        import urllib.error
        import urllib.request

        base, _ = _target(url, None)
        try:
            with urllib.request.urlopen(base.rstrip("/") + "/health/ready", timeout=15) as r:
                print(r.read().decode())
        except urllib.error.HTTPError as error:
            print(error.read().decode())
            raise typer.Exit(1) from None
        except urllib.error.URLError as error:
            err.print(f"error: no node answers at {base} ({error.reason})", highlight=False)
            raise typer.Exit(1) from None

    @ctl.command("pause")
    def pause(reason: ReasonOption = "", url: UrlOption = None, token: TokenOption = None) -> None:
        """Pause: only orders that reduce a position go (trading state REDUCING)."""
        post("/api/v1/pause", {"reason": reason}, url, token)

    @ctl.command("resume")
    def resume(reason: ReasonOption = "", url: UrlOption = None, token: TokenOption = None) -> None:
        """Resume trading (ACTIVE); after a kill it asks an admin (a restart request R-n)."""
        post("/api/v1/resume", {"reason": reason}, url, token)

    @ctl.command("kill")
    def kill(reason: ReasonOption = "", url: UrlOption = None, token: TokenOption = None) -> None:
        """Kill: cancel every open order, halt trading and flatten every position."""
        post("/api/v1/kill", {"reason": reason}, url, token)

    @ctl.command("cancel-all")
    def cancel_all(
        reason: ReasonOption = "", url: UrlOption = None, token: TokenOption = None
    ) -> None:
        """Cancel every open order."""
        post("/api/v1/cancel-all", {"reason": reason}, url, token)

    @ctl.command("reviews")
    def reviews(url: UrlOption = None, token: TokenOption = None) -> None:
        """Print the alerts waiting for a manual review (JSON)."""
        get("/api/v1/reviews", url, token, True)

    @ctl.command("review")
    def review(
        rule: Annotated[str, typer.Argument(help="The alert rule's name.")],
        decision: Annotated[str, typer.Argument(help="resume, pause or emergency_stop.")],
        reason: ReasonOption = "",
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        """Decide an alert's manual review."""
        post(f"/api/v1/reviews/{rule}", {"decision": decision, "reason": reason}, url, token)

    @ctl.command("approvals")
    def approvals(url: UrlOption = None, token: TokenOption = None) -> None:
        """Print what waits for approval: held orders, restart and promotion requests (JSON)."""
        get("/api/v1/approvals", url, token, True)

    @ctl.command("approve")
    def approve(
        approval_id: Annotated[str, typer.Argument(help="The approval id, e.g. A-1 or R-1.")],
        reason: ReasonOption = "",
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        """Send an order held for approval (it passes the risk checks again), or carry out a
        restart or promotion request R-n (an admin token)."""
        post(f"/api/v1/approvals/{approval_id}/approve", {"reason": reason}, url, token)

    @ctl.command("reject")
    def reject(
        approval_id: Annotated[str, typer.Argument(help="The approval id, e.g. A-1 or R-1.")],
        reason: ReasonOption = "",
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        """Drop an order held for approval, or refuse a request R-n (an admin token)."""
        post(f"/api/v1/approvals/{approval_id}/reject", {"reason": reason}, url, token)

    stage_ctl = typer.Typer(
        help="The node's capital stage: gates, and promotion requests for an admin.",
        no_args_is_help=True,
    )
    ctl.add_typer(stage_ctl, name="stage")

    @stage_ctl.command("status")
    def stage_status(
        run: RunOption = None,
        url: UrlOption = None,
        token: TokenOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Print the deployment's stage and every gate measured on a run."""
        from urllib.parse import quote

        get("/api/v1/stage" + ("" if run is None else f"?run={quote(run)}"), url, token, as_json)

    @stage_ctl.command("promote")
    def stage_promote(
        run: RunOption = None,
        reason: ReasonOption = "",
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        """Ask for a promotion to the next stage: a request R-n an admin approves with
        ``tradeloop ctl approve R-n`` (the gates are measured again then)."""
        body: dict[str, Any] = {"reason": reason}
        if run is not None:
            body["run"] = run
        post("/api/v1/stage/promote", body, url, token)

    @ctl.command("flatten")
    def flatten(
        instrument_id: Annotated[str, typer.Argument(help="The instrument, e.g. ORCL.XNAS.")],
        reason: ReasonOption = "",
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        """Cancel one instrument's open orders and close its positions."""
        post("/api/v1/flatten", {"instrument_id": instrument_id, "reason": reason}, url, token)

"""The node's HTTP surface (FastAPI): metrics, health, status and control.

Unauthenticated, for Prometheus and container probes:

- ``GET /metrics``: every metric in the Prometheus text format;
- ``GET /health/live``: 200 while the kernel answers its probes (503 when it is wedged);
- ``GET /health/ready``: 200 when the node runs, its kernel answers, every feed is connected
  and fresh and the journal is writable; 503 with the failing checks otherwise.

Under ``/api/v1``, with ``Authorization: Bearer <token>`` (``api.auth``; 401 without a valid
token, 403 when its role is not enough: in both cases nothing changes):

- ``GET status`` (``trading_state``, ``equity``, ``positions`` …), ``positions``, ``orders``,
  ``fills``, ``alerts``, ``actions`` (viewer);
- ``GET reviews`` and ``POST reviews/{rule}`` (operator): alerts waiting for a person's
  decision (``manual_review``) and the decision; ``GET approvals`` and ``POST
  approvals/{id}/approve|reject`` (operator): orders held above ``[approvals]`` notional;
- ``POST pause``, ``resume``, ``kill``, ``cancel-all``, ``flatten`` (operator): each
  journaled as ``ControlActionTaken`` with the token's name, its role and the request's
  ``reason``. ``resume`` of a HALTED (killed) node answers 202: a restart request ``R-<n>``
  waits in the approvals queue for an admin (``monitoring.requests``);
- ``GET stage`` (viewer): the deployment's stage with every gate measured on a run;
  ``POST stage/promote`` (operator, 202): a promotion request for an admin. Requests are
  decided with ``POST approvals/R-<n>/approve|reject`` by an admin (403 for anyone else).

The OpenAPI document is at ``/openapi.json`` and its rendering at ``/docs``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures, whose
# dependency aliases (``viewer``, ``operator``) are local to ``create_app``.
import asyncio
import json
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from tradeloop.api.auth import TokenStore, role_allows
from tradeloop.core.errors import ConfigError
from tradeloop.monitoring.control import Actor, ControlDeniedError
from tradeloop.monitoring.monitor import KernelBusyError, NodeMonitor, NodeNotRunningError

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ControlRequest(BaseModel):
    """Why the action is taken (journaled with who took it)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class ReviewDecision(BaseModel):
    """A person's decision on an alert waiting for a manual review."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["resume", "pause", "emergency_stop"]
    reason: str = Field(default="", max_length=500)


class PromotionRequest(BaseModel):
    """The run whose gates speak for the deployment (default: its latest ended run) and why."""

    model_config = ConfigDict(extra="forbid")
    run: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = Field(default="", max_length=500)


class FlattenRequest(BaseModel):
    """The instrument to flatten and why."""

    model_config = ConfigDict(extra="forbid")
    instrument_id: str = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=500)


_bearer = HTTPBearer(auto_error=False, description="A token from TRADELOOP_API_TOKEN or a file")


def create_app(monitor: NodeMonitor, tokens: TokenStore) -> FastAPI:
    """Return the API of the node ``monitor`` watches (module docstring)."""
    app = FastAPI(
        title="tradeloop node",
        version="1",
        description="Metrics, health, status and control of one tradeloop node.",
    )
    requests = monitor.metrics.api_requests

    def require(role: str) -> Callable[..., Actor]:
        def check(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> Actor:
            actor = tokens.actor(None if credentials is None else credentials.credentials)
            if actor is None:
                requests.labels("unauthorized").inc()
                raise HTTPException(
                    401,
                    "a valid bearer token is needed (Authorization: Bearer <token>)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if not role_allows(actor.role, role):
                requests.labels("forbidden").inc()
                raise HTTPException(
                    403, f"token {actor.name!r} has role {actor.role}; this needs {role}"
                )
            return actor

        return check

    def stream_viewer(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        token: Annotated[str | None, Query(max_length=500)] = None,
    ) -> Actor:
        # A browser's EventSource cannot send headers: the token may come as ?token=.
        presented = credentials.credentials if credentials is not None else token
        actor = tokens.actor(presented)
        if actor is None:
            requests.labels("unauthorized").inc()
            raise HTTPException(
                401, "a valid token is needed", headers={"WWW-Authenticate": "Bearer"}
            )
        return actor

    viewer = Annotated[Actor, Depends(require("viewer"))]
    operator = Annotated[Actor, Depends(require("operator"))]

    @app.exception_handler(NodeNotRunningError)
    async def not_running(request: Request, error: NodeNotRunningError) -> JSONResponse:
        requests.labels("unavailable").inc()
        return JSONResponse({"detail": str(error)}, status_code=503)

    @app.exception_handler(KernelBusyError)
    async def busy(request: Request, error: KernelBusyError) -> JSONResponse:
        requests.labels("unavailable").inc()
        return JSONResponse({"detail": str(error)}, status_code=503)

    @app.exception_handler(ControlDeniedError)
    async def denied(request: Request, error: ControlDeniedError) -> JSONResponse:
        requests.labels("forbidden").inc()
        return JSONResponse({"detail": str(error)}, status_code=403)

    @app.exception_handler(ConfigError)
    async def bad_request(request: Request, error: ConfigError) -> JSONResponse:
        requests.labels("invalid").inc()
        return JSONResponse({"detail": str(error)}, status_code=400)

    @app.get("/", include_in_schema=False)
    def dashboard() -> HTMLResponse:
        """The live dashboard (one page, no build step; it asks for a token)."""
        page = resources.files("tradeloop.api").joinpath("dashboard.html").read_text()
        return HTMLResponse(page)

    @app.get("/api/v1/stream", tags=["status"])
    async def stream(
        request: Request, actor: Annotated[Actor, Depends(stream_viewer)]
    ) -> StreamingResponse:
        """Server-sent events: the node's state about once a second (what the dashboard
        shows), until the client goes or the node's loop is over."""

        async def events() -> Any:
            while not await request.is_disconnected():
                yield f"data: {json.dumps(live_state(), default=str)}\n\n"
                if monitor.has_ended:
                    return
                await asyncio.sleep(monitor.probe_interval_s)

        requests.labels("ok").inc()
        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def live_state() -> dict[str, Any]:
        snap = monitor.snapshot
        status: dict[str, Any] = {} if snap is None else dict(snap.as_status())
        status["open_orders_list"] = [] if snap is None else list(snap.open_orders)
        status["alerts_firing"] = [] if monitor.alerts is None else monitor.alerts.firing()
        status["reviews"] = monitor.reviews()
        status["approvals"] = monitor.waiting_approvals()
        status["fills"] = [] if monitor.subscriber is None else monitor.subscriber.fills()[:20]
        status["alerts"] = _recent("recent_alerts")[:20]
        status["actions"] = _recent("recent_actions")[:20]
        status["ready"] = monitor.readiness()[0]
        return status

    @app.get("/metrics", tags=["monitoring"])
    async def metrics() -> Response:
        """Every metric, Prometheus text format."""
        # On the server's event loop (a few ms of work): no hop to a worker thread, one
        # thread fewer asking the kernel's thread for the interpreter lock.
        return Response(monitor.metrics.exposition(), media_type=PROMETHEUS_CONTENT_TYPE)

    @app.get("/health/live", tags=["monitoring"])
    def live() -> JSONResponse:
        """Liveness: the kernel answers its probes."""
        ok, checks = monitor.liveness()
        return JSONResponse({"ok": ok, **checks}, status_code=200 if ok else 503)

    @app.get("/health/ready", tags=["monitoring"])
    def ready() -> JSONResponse:
        """Readiness: running, kernel responsive, feeds up, journal writable."""
        ok, checks = monitor.readiness()
        return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)

    def _snapshot() -> Any:
        snap = monitor.fresh_snapshot()
        if snap is None:
            raise NodeNotRunningError("the node's kernel loop has not started yet")
        return snap

    @app.get("/api/v1/status", tags=["status"])
    def status(actor: viewer) -> dict[str, Any]:
        """Trading state, equity, P&L, drawdown, positions, feeds."""
        requests.labels("ok").inc()
        answer = dict(_snapshot().as_status())
        answer["alerts_firing"] = [] if monitor.alerts is None else monitor.alerts.firing()
        answer["reviews"] = monitor.reviews()
        answer["approvals"] = monitor.waiting_approvals()
        return answer

    @app.get("/api/v1/positions", tags=["status"])
    def positions(actor: viewer) -> list[dict[str, Any]]:
        """Open positions, per strategy."""
        requests.labels("ok").inc()
        return list(_snapshot().positions)

    @app.get("/api/v1/orders", tags=["status"])
    def orders(actor: viewer) -> list[dict[str, Any]]:
        """Open orders."""
        requests.labels("ok").inc()
        return list(_snapshot().open_orders)

    def _recent(name: str) -> list[dict[str, Any]]:
        subscriber = monitor.subscriber
        if subscriber is None:
            return []
        items: list[dict[str, Any]] = list(getattr(subscriber, name))
        return [dict(item) for item in reversed(items)]

    @app.get("/api/v1/fills", tags=["status"])
    def fills(actor: viewer) -> list[dict[str, Any]]:
        """Recent fills, newest first."""
        requests.labels("ok").inc()
        return [] if monitor.subscriber is None else monitor.subscriber.fills()

    @app.get("/api/v1/alerts", tags=["status"])
    def alerts(actor: viewer) -> list[dict[str, Any]]:
        """Recent alerts, newest first."""
        requests.labels("ok").inc()
        return _recent("recent_alerts")

    @app.get("/api/v1/actions", tags=["status"])
    def actions(actor: viewer) -> list[dict[str, Any]]:
        """Recent control actions and trading state changes, newest first."""
        requests.labels("ok").inc()
        return _recent("recent_actions")

    def _act(action: str, actor: Actor, reason: str, target: str = "") -> dict[str, object]:
        result = monitor.act(action, actor, reason, target)
        requests.labels("ok").inc()
        return result

    @app.post("/api/v1/pause", tags=["control"])
    def pause(actor: operator, body: ControlRequest | None = None) -> dict[str, object]:
        """Pause: trading state REDUCING (only orders that reduce a position go)."""
        return _act("pause", actor, (body or ControlRequest()).reason)

    @app.post(
        "/api/v1/resume",
        tags=["control"],
        responses={202: {"description": "The node was killed: a restart request waits"}},
    )
    def resume(actor: operator, body: ControlRequest | None = None) -> JSONResponse:
        """Resume: trading state ACTIVE. After a kill (HALTED) it opens a restart request
        ``R-<n>`` an admin approves (``POST /api/v1/approvals/R-<n>/approve``): 202."""
        result = _act("resume", actor, (body or ControlRequest()).reason)
        queued = result.get("action") == "request_restart"
        return JSONResponse(result, status_code=202 if queued else 200)

    @app.get("/api/v1/stage", tags=["stage"])
    def stage(
        actor: viewer, run: Annotated[str | None, Query(min_length=1, max_length=200)] = None
    ) -> dict[str, Any]:
        """The deployment's capital stage, every gate measured on ``run`` (a run id under the
        node's output directory; default: the deployment's latest ended run), ``ready``, and
        the promotion requests waiting."""
        result = monitor.stage_status(run)
        requests.labels("ok").inc()
        return result

    @app.post(
        "/api/v1/stage/promote",
        tags=["stage"],
        status_code=202,
        responses={202: {"description": "The promotion request waits for an admin"}},
    )
    def promote(actor: operator, body: PromotionRequest | None = None) -> dict[str, object]:
        """Ask for the deployment's promotion to its next stage: a request ``R-<n>`` that an
        admin approves (the gates are measured again then; failing gates refuse it)."""
        request = body or PromotionRequest()
        result = monitor.request_promotion(actor, request.reason, request.run)
        requests.labels("ok").inc()
        return result

    @app.post("/api/v1/kill", tags=["control"])
    def kill(actor: operator, body: ControlRequest | None = None) -> dict[str, object]:
        """Kill: cancel every open order, halt trading and flatten every position."""
        return _act("kill", actor, (body or ControlRequest()).reason)

    @app.post("/api/v1/cancel-all", tags=["control"])
    def cancel_all(actor: operator, body: ControlRequest | None = None) -> dict[str, object]:
        """Cancel every open order."""
        return _act("cancel_all", actor, (body or ControlRequest()).reason)

    @app.post("/api/v1/flatten", tags=["control"])
    def flatten(actor: operator, body: FlattenRequest) -> dict[str, object]:
        """Cancel one instrument's open orders and close its positions."""
        return _act("flatten", actor, body.reason, body.instrument_id)

    @app.get("/api/v1/reviews", tags=["approvals"])
    def reviews(actor: viewer) -> list[dict[str, Any]]:
        """Alerts waiting for a person's decision (``manual_review``), oldest first."""
        requests.labels("ok").inc()
        return monitor.reviews()

    @app.post("/api/v1/reviews/{rule}", tags=["approvals"])
    def review(rule: str, actor: operator, body: ReviewDecision) -> dict[str, object]:
        """Decide an alert's review: resume, pause (stay reducing) or emergency_stop."""
        result = monitor.decide(rule, body.decision, actor, body.reason)
        requests.labels("ok").inc()
        return result

    @app.get("/api/v1/approvals", tags=["approvals"])
    def approvals(actor: viewer) -> list[dict[str, Any]]:
        """Orders waiting for a person's approval (``[approvals]``), oldest first."""
        requests.labels("ok").inc()
        return monitor.waiting_approvals()

    @app.post("/api/v1/approvals/{approval_id}/approve", tags=["approvals"])
    def approve(
        approval_id: str, actor: operator, body: ControlRequest | None = None
    ) -> dict[str, object]:
        """Send a held order (it passes the risk checks again); or, for a restart or promotion
        request ``R-<n>`` (admin only), carry it out."""
        result = monitor.decide_approval(
            approval_id, True, actor, (body or ControlRequest()).reason
        )
        requests.labels("ok").inc()
        return result

    @app.post("/api/v1/approvals/{approval_id}/reject", tags=["approvals"])
    def reject(
        approval_id: str, actor: operator, body: ControlRequest | None = None
    ) -> dict[str, object]:
        """Drop a held order, or refuse a request ``R-<n>`` (admin only)."""
        result = monitor.decide_approval(
            approval_id, False, actor, (body or ControlRequest()).reason
        )
        requests.labels("ok").inc()
        return result

    return app

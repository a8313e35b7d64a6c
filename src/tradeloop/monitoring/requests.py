"""Requests that wait for an admin: a restart after a kill, a stage promotion.

Human approval boundaries (the control API's approvals queue, beside the orders held by
``approvals.ApprovalGate``):

- **restart after a kill**: ``resume`` of a HALTED node (an operator's or an admin's) does not
  resume it; it opens a ``restart`` request ``R-<n>``, journaled as a ``ControlActionTaken``
  (``request_restart``: who and why). An admin's approval resumes the node (``resume``
  journaled with the approver, the requester and both reasons); a rejection, or no decision
  within ``timeout_s`` (``[approvals] timeout_s``), leaves it HALTED (the safe default),
  journaled as ``reject``;
- **stage promotion**: ``POST /api/v1/stage/promote`` opens a ``promotion`` request naming
  the run whose gates speak for the deployment; an admin's approval measures the gates
  again and records the promotion (``engine.deployment.promote``, approved by the admin's
  token name), or refuses it with the failing gates; no decision in time: rejected.

Requests are kept and decided on the kernel thread (``NodeMonitor``); the deadline is wall
time (``time.monotonic``), like the held orders'.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from tradeloop.core.errors import ConfigError
from tradeloop.core.time import ns_to_iso
from tradeloop.monitoring.control import (
    Actor,
    ControlDeniedError,
    ControllableKernel,
    ControlSurface,
)

T = TypeVar("T")
_Kernel = ControllableKernel

KINDS = ("restart", "promotion")


@dataclass
class ControlRequest:
    """One request waiting for an admin."""

    request_id: str
    kind: str
    requested_by: Actor
    reason: str
    target: str
    created_ns: int
    deadline_monotonic: float

    def as_json(self) -> dict[str, Any]:
        """Return it for the API (beside the held orders in ``GET /api/v1/approvals``)."""
        return {
            "id": self.request_id,
            "kind": self.kind,
            "requested_by": self.requested_by.name,
            "role": self.requested_by.role,
            "reason": self.reason,
            "target": self.target,
            "needs": "admin",
            "created": ns_to_iso(self.created_ns),
            "seconds_left": max(0.0, round(self.deadline_monotonic - time.monotonic(), 1)),
        }


class RequestQueue:
    """The restarts and promotions waiting for an admin (module docstring)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.pending: dict[str, ControlRequest] = {}
        self._count = 0

    def add(self, kind: str, actor: Actor, reason: str, target: str, now_ns: int) -> ControlRequest:
        """Open a request; a second request of the same kind and target replaces none: the
        open one is returned (one restart request at a time)."""
        if kind not in KINDS:
            raise ConfigError(f"request kind {kind!r} is not one of {', '.join(KINDS)}")
        for request in self.pending.values():
            if request.kind == kind and request.target == target:
                return request
        self._count += 1
        request = ControlRequest(
            request_id=f"R-{self._count}",
            kind=kind,
            requested_by=actor,
            reason=reason,
            target=target,
            created_ns=now_ns,
            deadline_monotonic=time.monotonic() + self.timeout_s,
        )
        self.pending[request.request_id] = request
        return request

    def get(self, request_id: str) -> ControlRequest | None:
        """Return the open request ``request_id``, if any."""
        return self.pending.get(request_id)

    def take(self, request_id: str) -> ControlRequest:
        """Close and return the request.

        Raises
        ------
        ConfigError
            If no request is open under ``request_id``.
        """
        request = self.pending.pop(request_id, None)
        if request is None:
            waiting = ", ".join(sorted(self.pending)) or "none"
            raise ConfigError(f"no request waits under {request_id!r} (waiting: {waiting})")
        return request

    def due(self, now: float | None = None) -> list[ControlRequest]:
        """Return the requests whose deadline passed, oldest first (still open)."""
        now = time.monotonic() if now is None else now
        return sorted(
            (r for r in self.pending.values() if now >= r.deadline_monotonic),
            key=lambda r: r.created_ns,
        )

    def waiting(self) -> list[dict[str, Any]]:
        """Return the open requests, oldest first."""
        return [
            r.as_json()
            for r in sorted(self.pending.values(), key=lambda r: (r.created_ns, r.request_id))
        ]


class StageDesk(Protocol):
    """The node's capital stages (``[deployment]``), built by the layer that may read runs
    and ledgers (``api.stage``): every method may raise ``ConfigError``."""

    def resolve_run(self, run: str | None) -> str:
        """Return the run directory whose gates speak for the deployment (``run``: a run id
        under the node's output directory; None: the latest ended run of the deployment)."""
        ...

    def status(self, run: str | None) -> dict[str, Any]:
        """Return the stage status of ``run`` with every gate measured."""
        ...

    def promote(self, run: str, by: str) -> dict[str, Any]:
        """Measure the gates again and record the promotion approved by ``by``."""
        ...


class AdminRequests:
    """The restart and promotion requests of a ``NodeMonitor`` (module docstring): its
    ``call`` runs a function on the kernel thread, its ``control`` journals the actions."""

    requests: RequestQueue
    stage_desk: StageDesk | None
    control: ControlSurface

    def call(self, function: Callable[[Any], T], timeout_s: float = 5.0) -> T:
        """Run ``function(kernel)`` on the kernel thread (``NodeMonitor.call``)."""
        raise NotImplementedError

    def refresh(self, kernel: Any) -> None:
        """Take a fresh snapshot (kernel thread; ``NodeMonitor``)."""
        raise NotImplementedError

    def request_promotion(self, actor: Actor, reason: str, run: str | None) -> dict[str, object]:
        """Open a stage promotion request on ``run`` (default: the deployment's latest ended
        run) for an admin's approval; return it.

        Raises
        ------
        ConfigError
            If the node has no ``[deployment]`` or the run is not one of its runs.
        """
        desk = self._desk()
        run_dir = desk.resolve_run(run)
        return self.call(lambda kernel: self._request(kernel, "promotion", actor, reason, run_dir))

    def stage_status(self, run: str | None) -> dict[str, Any]:
        """Return the stage status of ``run`` (gates measured now), with the open promotion
        requests (any thread; measuring may replay the run).

        Raises
        ------
        ConfigError
            If the node has no ``[deployment]`` or the run is not one of its runs.
        """
        status = self._desk().status(run)
        status["requests"] = [r for r in self.requests.waiting() if r["kind"] == "promotion"]
        return status

    def _desk(self) -> StageDesk:
        if self.stage_desk is None:
            raise ConfigError("the run config has no [deployment]: there is no stage to promote")
        return self.stage_desk

    def _request(
        self, kernel: _Kernel, kind: str, actor: Actor, reason: str, target: str
    ) -> dict[str, object]:
        # Kernel thread: open (or find) the request and journal who asked and why.
        request = self.requests.add(kind, actor, reason, target, kernel.clock.timestamp_ns())
        what = "restart after a kill" if kind == "restart" else f"promotion on {target}"
        outcome = (
            f"{what} waits for an admin's approval as {request.request_id} (within "
            f"{self.requests.timeout_s:g} s, else rejected"
            + ("; the node stays HALTED)" if kind == "restart" else ")")
        )
        self.control.journal_action(
            kernel, f"request_{kind}", actor, reason, request.request_id, outcome
        )
        return {
            "action": f"request_{kind}",
            "id": request.request_id,
            "actor": actor.name,
            "outcome": outcome,
            "trading_state": str(kernel.risk.trading_state),
        }

    def _decide_request(
        self, request_id: str, approve: bool, actor: Actor, reason: str
    ) -> dict[str, object]:
        if actor.role != "admin":
            raise ControlDeniedError(
                f"request {request_id} needs an admin's decision, not {actor.name} ({actor.role})"
            )

        def take(kernel: _Kernel) -> ControlRequest:
            request = self.requests.take(request_id)
            if not approve:
                self._close(kernel, request, actor, "reject", reason, _not_done(request))
            return request

        request = self.call(take)
        if not approve:
            return {"action": "reject", "id": request_id, "status": "REJECTED"}
        if request.kind == "restart":

            def resume(kernel: _Kernel) -> dict[str, object]:
                self._close(kernel, request, actor, "approve", reason, "the node resumes")
                why = (
                    f"restart {request.request_id} requested by {request.requested_by.name} "
                    f"({request.reason or 'no reason given'}), approved: {reason}"
                )
                result = self.control.run(kernel, "resume", actor, why)
                self.refresh(kernel)
                return {**result, "id": request_id, "status": "APPROVED"}

            return self.call(resume)
        # A promotion: measured and recorded off the kernel thread (it may replay the run).
        try:
            promotion = self._desk().promote(request.target, actor.name)
        except ConfigError as error:
            refused = f"promotion refused: {error}"
            self.call(lambda k: self._close(k, request, actor, "approve", reason, refused))
            raise ConfigError(refused) from None
        done = f"promoted {promotion['from_stage']} -> {promotion['to_stage']}"
        self.call(lambda k: self._close(k, request, actor, "approve", reason, done))
        return {"action": "approve", "id": request_id, "status": "PROMOTED", **promotion}

    def _close(
        self,
        kernel: _Kernel,
        request: ControlRequest,
        actor: Actor,
        action: str,
        reason: str,
        outcome: str,
    ) -> None:
        # Kernel thread: journal the decision on a request.
        target = (
            request.request_id if not request.target else f"{request.request_id} {request.target}"
        )
        self.control.journal_action(kernel, action, actor, reason, target, outcome)

    def expire_requests(self, kernel: _Kernel) -> None:
        """Reject every request whose time ran out (kernel thread): the safe default."""
        for request in self.requests.due():
            self.requests.take(request.request_id)
            self._close(
                kernel,
                request,
                Actor("approvals", "automation"),
                "reject",
                f"not approved within {self.requests.timeout_s:g} s",
                _not_done(request),
            )


def _not_done(request: ControlRequest) -> str:
    if request.kind == "restart":
        return "restart refused: the node stays HALTED"
    return "promotion not recorded: the deployment stays at its stage"

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
from dataclasses import dataclass
from typing import Any

from tradeloop.core.errors import ConfigError
from tradeloop.core.time import ns_to_iso
from tradeloop.monitoring.control import Actor

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

"""The exception hierarchy, grouped by who must act.

- ``ConfigError``: the operator fixes the configuration; raised at startup only.
- ``DataIntegrityError``: corrupt input; fail fast, because corrupt data is worse than none.
- ``VenueError``: a venue failed; ``TransientVenueError`` may be retried with backoff,
  ``VenueRejectedError`` must never be retried.
- ``InvariantViolation``: a bug; the node stops.
- ``StrategyError``: user-written strategy or agent code raised; carries the component id.

A risk rejection is not an exception: it is an ``OrderDenied`` event.
"""

from __future__ import annotations


class TradeloopError(Exception):
    """Base class of every error tradeloop raises on purpose."""


class ConfigError(TradeloopError):
    """A configuration value is missing, unknown or invalid (raised before a run starts)."""


class DataIntegrityError(TradeloopError):
    """Input data breaks a rule and cannot be used."""


class VenueError(TradeloopError):
    """A venue (simulated or real) failed to process a request."""


class TransientVenueError(VenueError):
    """A venue failure that may succeed when retried with backoff."""


class VenueRejectedError(VenueError):
    """A venue refused a request; retrying it unchanged will fail again."""


class InvariantViolation(TradeloopError):
    """An internal invariant broke: a bug. The node must stop."""


class InvalidValueError(TradeloopError, ValueError):
    """A value type (price, quantity, money, time) was built from an invalid value."""


class OrderStateError(InvariantViolation):
    """An event was applied to an order in a state that does not allow it."""


class StrategyError(TradeloopError):
    """User-written strategy or agent code raised; ``component_id`` names the culprit."""

    def __init__(self, component_id: str, message: str) -> None:
        super().__init__(f"{component_id}: {message}")
        self.component_id = component_id

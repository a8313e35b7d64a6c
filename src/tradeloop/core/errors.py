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

import contextlib
import os
import sysconfig
import traceback


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
    """User-written strategy or agent code raised; ``component_id`` names the culprit.

    ``location`` is where the user's code failed (``file:line in function: source``, see
    ``code_location``); built from ``cause`` when given, and part of the message.
    """

    def __init__(self, component_id: str, message: str, cause: BaseException | None = None) -> None:
        self.location = "" if cause is None else code_location(cause)
        where = f" (at {self.location})" if self.location else ""
        super().__init__(f"{component_id}: {message}{where}")
        self.component_id = component_id


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple(
    sorted(
        {
            os.path.abspath(path)
            for path in (
                sysconfig.get_paths().get("stdlib", ""),
                sysconfig.get_paths().get("purelib", ""),
                sysconfig.get_paths().get("platlib", ""),
            )
            if path
        }
    )
)


def code_location(error: BaseException, root: str | os.PathLike[str] | None = None) -> str:
    """Return where ``error`` was raised in the user's code: ``file:line in function: source``.

    The deepest frame of the traceback that is neither tradeloop's own code nor an installed
    library (so a user strategy that fails inside NumPy is shown at its own line); the
    deepest frame at all when every frame is tradeloop's (a built-in strategy). The file is
    given relative to ``root`` (default: the working directory) when it lies below it, else
    in full: records that are journaled pass a ``root`` of the run's own (the config's
    directory), so the journal does not depend on where the run was started. Empty without
    a traceback.
    """
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    chosen = frames[-1]
    for frame in reversed(frames):
        path = os.path.abspath(frame.filename)
        if path.startswith(_PACKAGE_DIR + os.sep) or path.startswith(_LIBRARY_DIRS):
            continue
        if frame.filename.startswith("<"):  # <frozen ...>, <string>
            continue
        chosen = frame
        break
    filename = os.path.abspath(chosen.filename)
    with contextlib.suppress(ValueError):  # another drive
        relative = os.path.relpath(filename, root)
        if not relative.startswith(".."):
            filename = relative
    source = (chosen.line or "").strip()
    return f"{filename}:{chosen.lineno} in {chosen.name}" + (f": {source}" if source else "")

"""The in-process message bus: topics, subscriptions and synchronous dispatch.

Topics are dotted, general to specific: ``data.bars.ORCL.XNAS``, ``events.order.sma-1``.
A subscription names an exact topic or a prefix pattern ending in ``*``
(``events.order.*``). Handlers of one topic run in order of priority (higher first), then of
subscription. The handler list of each topic is resolved once and cached until the
subscriptions change, so publishing costs one dict lookup and a loop.

Dispatch is synchronous and depth-first on the kernel thread. Components that must not be
re-entered (venues answering orders) hand their events to the kernel's deferred queue
instead of publishing directly; see ``engine.kernel``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class _Subscription:
    __slots__ = ("handler", "pattern", "priority", "sequence")

    def __init__(self, pattern: str, handler: Handler, priority: int, sequence: int) -> None:
        self.pattern = pattern
        self.handler = handler
        self.priority = priority
        self.sequence = sequence

    def matches(self, topic: str) -> bool:
        if self.pattern.endswith("*"):
            return topic.startswith(self.pattern[:-1])
        return topic == self.pattern


class MessageBus:
    """Publish/subscribe on dotted topics; single-threaded."""

    def __init__(self) -> None:
        self._subscriptions: list[_Subscription] = []
        self._resolved: dict[str, tuple[Handler, ...]] = {}
        self._sequence = 0
        self.published_count = 0
        # Incremented on every subscription change: callers that cache ``handlers(topic)``
        # compare it to know when to look again.
        self.version = 0

    def subscribe(self, pattern: str, handler: Handler, priority: int = 0) -> None:
        """Call ``handler(message)`` for every message published on a topic matching ``pattern``.

        Subscribing the same handler to the same pattern twice is a no-op.
        """
        for sub in self._subscriptions:
            if sub.pattern == pattern and sub.handler == handler:
                return
        self._sequence += 1
        self._subscriptions.append(_Subscription(pattern, handler, priority, self._sequence))
        self._resolved.clear()
        self.version += 1

    def unsubscribe(self, pattern: str, handler: Handler) -> None:
        """Remove a subscription (no-op if absent)."""
        before = len(self._subscriptions)
        self._subscriptions = [
            s for s in self._subscriptions if not (s.pattern == pattern and s.handler == handler)
        ]
        if len(self._subscriptions) != before:
            self._resolved.clear()
            self.version += 1

    def handlers(self, topic: str) -> tuple[Handler, ...]:
        """Return the handlers a message on ``topic`` would reach, in calling order."""
        resolved = self._resolved.get(topic)
        if resolved is None:
            matching = [s for s in self._subscriptions if s.matches(topic)]
            matching.sort(key=lambda s: (-s.priority, s.sequence))
            resolved = tuple(s.handler for s in matching)
            self._resolved[topic] = resolved
        return resolved

    def has_subscribers(self, topic: str) -> bool:
        """Return whether any handler listens on ``topic``."""
        return bool(self.handlers(topic))

    def publish(self, topic: str, message: object) -> None:
        """Deliver ``message`` to every handler of ``topic`` now, in order."""
        self.published_count += 1
        resolved = self._resolved.get(topic)
        if resolved is None:
            resolved = self.handlers(topic)
        for handler in resolved:
            handler(message)

    def topics(self) -> list[str]:
        """Return the subscribed patterns, sorted."""
        return sorted({s.pattern for s in self._subscriptions})

"""Notifications through apprise (Slack, Telegram, e-mail, webhooks and ~100 more services).

``Notifier.send`` never blocks and never raises: it puts the message in a bounded queue that
one daemon thread sends, URL by URL, each with apprise's own timeouts. The kernel thread
only enqueues. What goes wrong is reported through ``on_failure`` (the monitor turns it into
a journaled ``AlertRaised`` via the inbox): a URL that refused the message or timed out, a
full queue that dropped one. Per key (an alert rule and whether it fired or resolved) at most
one message goes out every ``min_interval_s``; the ones held back are counted.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tradeloop.config.operations import NotificationsSection
from tradeloop.core.errors import ConfigError


@dataclass(frozen=True)
class Message:
    """One notification: ``key`` for rate limiting, a title, a body and a severity."""

    key: str
    title: str
    body: str
    severity: str = "warning"


def redact(url: str) -> str:
    """Return ``url`` without its secrets: the scheme and the host only."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def resolve_urls(section: NotificationsSection, env: Mapping[str, str]) -> list[str]:
    """Return the section's URLs and those of its environment variables.

    Raises
    ------
    ConfigError
        If a named variable is unset or empty, or apprise does not know a URL's scheme.
    """
    import apprise

    urls = list(section.urls)
    for name in section.url_envs:
        value = env.get(name, "")
        if not value:
            raise ConfigError(f"notifications url_envs: environment variable {name} is not set")
        urls.append(value)
    for url in urls:
        if not apprise.Apprise().add(url):
            raise ConfigError(
                f"notifications: apprise does not understand the URL {redact(url)}... "
                "(see the apprise wiki for the URL of each service)"
            )
    return urls


class Notifier:
    """Send messages to apprise URLs from a thread of its own (module docstring)."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        min_interval_s: float = 60.0,
        on_failure: Callable[[str], None] | None = None,
        max_queue: int = 1_000,
    ) -> None:
        self.urls = list(urls)
        self.min_interval_s = min_interval_s
        self.on_failure = on_failure
        self._queue: queue.Queue[Message | None] = queue.Queue(maxsize=max_queue)
        self._last_sent: dict[str, float] = {}
        self.sent = 0
        self.failed = 0
        self.suppressed = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    def send(self, message: Message) -> bool:
        """Queue ``message`` unless its key sent one less than ``min_interval_s`` ago; return
        whether it was queued. Never blocks."""
        now = time.monotonic()
        last = self._last_sent.get(message.key)
        if last is not None and now - last < self.min_interval_s:
            self.suppressed += 1
            return False
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped += 1
            self._fail(f"notification queue full: dropped {message.title!r}")
            return False
        self._last_sent[message.key] = now
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued (waiting up to ``timeout_s``) and stop the thread."""
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._thread.join(timeout_s)

    def _fail(self, text: str) -> None:
        if self.on_failure is not None:
            # A failing report of a failure must not stop the thread.
            with contextlib.suppress(Exception):
                self.on_failure(text)

    def _run(self) -> None:
        import apprise

        types = {
            "info": apprise.NotifyType.INFO,
            "warning": apprise.NotifyType.WARNING,
            "critical": apprise.NotifyType.FAILURE,
        }
        while True:
            message = self._queue.get()
            if message is None:
                return
            for url in self.urls:
                client = apprise.Apprise()
                client.add(url)
                try:
                    ok = bool(
                        client.notify(
                            title=message.title,
                            body=message.body,
                            notify_type=types.get(message.severity, apprise.NotifyType.WARNING),
                        )
                    )
                except Exception as error:  # a plugin's bug: reported, never raised
                    ok = False
                    detail = f": {type(error).__name__}: {error}"
                else:
                    detail = ""
                if ok:
                    self.sent += 1
                else:
                    self.failed += 1
                    self._fail(f"notification {message.title!r} to {redact(url)} failed{detail}")

"""A primary feed with backups, seen by the kernel as one feed.

``FeedGroup`` is a ``DataClient`` made of others: the first member is the primary, the rest
are backups in order (another stream of the same venue, another venue). Only the active
member is subscribed (cold standby: a backup costs nothing until it is needed). A monitor
thread reads the active member's ``status()`` every ``check_every_s``; when it has been
``stale`` or ``disconnected`` for ``fail_after_s``, the group switches to the next member
that is connected: it subscribes it to every subscription, unsubscribes the failed one, and
publishes a ``FeedSwitched`` event through the inbox (journaled, with why). It does not
switch back on its own while the backup works: flapping between two feeds is worse than
staying on a good one.

Every member publishes through the group's filter, never straight into the inbox:

- records of a member that is not active (a stale stream that wakes up after the switch)
  are not passed on, and counted per member (``FeedSwitched.suppressed`` of the next switch
  and ``status().detail``);
- after a switch, a record at or before the last one the group passed for its instrument and
  kind (the new feed's first bar of an interval the old one already closed, its snapshot of a
  trade already seen) is not passed on either: a bar is never delivered twice across a
  switch. Those are counted as ``duplicates``.

Nothing else is filtered: the kernel sees one stream, in inbox order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from tradeloop.bus.inbox import InboxPort
from tradeloop.core.errors import ConfigError
from tradeloop.data.ports import DataClient, FeedStatus
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.events import FeedSwitched

R = TypeVar("R")

MemberFactory = Callable[[InboxPort], DataClient]


class _MemberInbox:
    """The inbox a member publishes into: the group's filter in front of the real one."""

    def __init__(self, group: FeedGroup, index: int) -> None:
        self._group = group
        self._index = index

    def now_ns(self) -> int:
        return self._group.inbox.now_ns()

    def publish(self, build: Callable[[int], R]) -> R:
        return self._group._publish(self._index, build)


class FeedGroup:
    """A primary ``DataClient`` and its backups as one (module docstring)."""

    def __init__(
        self,
        name: str,
        inbox: InboxPort,
        members: Sequence[MemberFactory],
        *,
        fail_after_s: float = 5.0,
        check_every_s: float = 0.5,
    ) -> None:
        if not members:
            raise ConfigError(f"feed group {name} has no member")
        self.name = name
        self.inbox = inbox
        self.fail_after_s = fail_after_s
        self.check_every_s = check_every_s
        self.members: list[DataClient] = [
            make(_MemberInbox(self, i)) for i, make in enumerate(members)
        ]
        self.active = 0
        self.switches = 0
        self.suppressed = [0] * len(self.members)
        self.duplicates = 0
        self._subscriptions: list[tuple[str, str]] = []
        self._last_ts: dict[tuple[str, str], int] = {}
        self._bad_since: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None

    # -- the filter ------------------------------------------------------------------------------

    def _publish(self, index: int, build: Callable[[int], R]) -> R:
        # The record is built once to judge it (its venue time does not depend on ts_init),
        # and queued, stamped by the inbox, only when it passes.
        probe = build(self.inbox.now_ns())
        if index != self.active:
            self.suppressed[index] += 1
            return probe
        if self._is_overlap(probe):
            self.duplicates += 1
            return probe
        return self.inbox.publish(build)

    def _is_overlap(self, record: object) -> bool:
        # Only the active member's thread gets here: the times are updated in its order.
        kind = type(record)
        if kind is not Bar and kind is not TradeTick and kind is not QuoteTick:
            return False
        ts_event: int = record.ts_event  # type: ignore[attr-defined]
        key = (record.instrument_id, kind.__name__)  # type: ignore[attr-defined]
        last = self._last_ts.get(key)
        if last is not None and self.switches and ts_event <= last:
            return True
        self._last_ts[key] = ts_event if last is None else max(ts_event, last)
        return False

    # -- DataClient ------------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect every member and start the monitor. The first member that connects, in
        order, is the active one (a primary down at startup is announced with a
        ``FeedSwitched``); one that cannot connect now is tried again when it is needed.

        Raises
        ------
        Exception
            The primary's error, if no member can connect.
        """
        first_error: Exception | None = None
        active: int | None = None
        for index, member in enumerate(self.members):
            try:
                member.connect()
            except Exception as error:  # tried again at a switch
                first_error = first_error or error
                continue
            if active is None:
                active = index
        if active is None:
            assert first_error is not None
            raise first_error
        if active:
            self.active = active
            self.switches += 1
            self.inbox.publish(
                _switched(
                    self.name,
                    self.members[0].status().name,
                    self.members[active].status().name,
                    0,
                    f"{self.members[0].status().name} could not connect at startup: {first_error}",
                )
            )
        self._monitor = threading.Thread(
            target=self._watch, name=f"feed-group-{self.name}", daemon=True
        )
        self._monitor.start()

    def subscribe(self, kind: str, instrument_id: str) -> None:
        """Subscribe the active member (and remember it for the backups)."""
        with self._lock:
            self._subscriptions.append((kind, instrument_id))
            self.members[self.active].subscribe(kind, instrument_id)

    def unsubscribe(self, kind: str, instrument_id: str) -> None:
        """Unsubscribe the active member."""
        with self._lock:
            if (kind, instrument_id) in self._subscriptions:
                self._subscriptions.remove((kind, instrument_id))
            self.members[self.active].unsubscribe(kind, instrument_id)

    def status(self) -> FeedStatus:
        """Return the active member's status under the group's name."""
        member = self.members[self.active].status()
        detail = (
            f"active {member.name} ({self.active + 1} of {len(self.members)}), "
            f"{self.switches} switch(es), {self.duplicates} overlap record(s) not passed on"
        )
        return FeedStatus(
            name=self.name,
            state=member.state,
            last_message_ns=member.last_message_ns,
            messages=member.messages,
            quarantined=member.quarantined,
            reconnects=member.reconnects,
            detail=detail,
        )

    def close(self) -> None:
        """Stop the monitor and close every member."""
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        for member in self.members:
            try:
                member.close()
            except Exception:  # closing one must not keep the others open
                continue

    # -- failover --------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(self.check_every_s):
            state = self.members[self.active].status().state
            if state in ("connected", "closed"):
                self._bad_since = None
                continue
            now = time.monotonic()
            if self._bad_since is None:
                self._bad_since = now
            elif now - self._bad_since >= self.fail_after_s:
                self._switch(state)
                self._bad_since = None

    def _switch(self, state: str) -> None:
        with self._lock:
            failed = self.active
            for offset in range(1, len(self.members)):
                candidate = (failed + offset) % len(self.members)
                member = self.members[candidate]
                if member.status().state not in ("connected", "stale"):
                    try:
                        member.connect()
                    except Exception:
                        continue
                for kind, instrument_id in self._subscriptions:
                    member.subscribe(kind, instrument_id)
                self.active = candidate
                self.switches += 1
                suppressed = self.suppressed[failed]
                for kind, instrument_id in self._subscriptions:
                    try:
                        self.members[failed].unsubscribe(kind, instrument_id)
                    except Exception:  # it failed already; the switch is what matters
                        continue
                from_name = self.members[failed].status().name
                reason = f"{from_name} was {state} for {self.fail_after_s:g} s"
                self.inbox.publish(
                    _switched(self.name, from_name, member.status().name, suppressed, reason)
                )
                return


def _switched(
    group: str, from_feed: str, to_feed: str, suppressed: int, reason: str
) -> Callable[[int], FeedSwitched]:
    def build(ts: int) -> FeedSwitched:
        return FeedSwitched(
            group=group,
            from_feed=from_feed,
            to_feed=to_feed,
            reason=reason,
            suppressed=suppressed,
            ts_event=ts,
            ts_init=ts,
        )

    return build

"""The market data port: how any feed (a replay, an exchange's streams, a broker's) reaches
the kernel.

A ``DataClient`` does its I/O on its own thread or event loop, never on the kernel's. Every
record it receives goes into the one ``Inbox`` it was given (``bus.inbox``): the inbox
stamps the record's ``ts_init`` as it takes it, so the kernel and the journal see every
inbound message in arrival order with the time tradeloop saw it, and a live session replays
as a backtest record for record.

``status`` says whether the feed is usable: ``connected``, ``stale`` (no message within its
staleness window), ``disconnected`` (reconnecting) or ``closed``.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from tradeloop.model.data import MarketData

DATA_KINDS = ("bars", "quotes", "trades", "book")
"""What a data client can be asked to subscribe to."""


class FeedStatus(msgspec.Struct, frozen=True, kw_only=True):
    """How a feed stands: ``state``, when it last received a message (0: never) and how many
    messages it received, quarantined and reconnected for."""

    name: str
    state: str
    last_message_ns: int = 0
    messages: int = 0
    quarantined: int = 0
    reconnects: int = 0
    detail: str = ""


class DataClient(Protocol):
    """A market data feed."""

    name: str

    def connect(self) -> None:
        """Connect (blocking until the feed is usable or it fails with a ``VenueError``)."""
        ...

    def subscribe(self, kind: str, instrument_id: str) -> None:
        """Receive ``kind`` (one of ``DATA_KINDS``) of ``instrument_id`` into the inbox."""
        ...

    def unsubscribe(self, kind: str, instrument_id: str) -> None:
        """Stop receiving ``kind`` of ``instrument_id``."""
        ...

    def status(self) -> FeedStatus:
        """Return how the feed stands."""
        ...

    def close(self) -> None:
        """Disconnect and stop every thread the client started."""
        ...


MarketRecord = MarketData
"""What a data client puts in the inbox."""

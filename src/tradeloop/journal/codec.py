"""Encoding of journal records: events and commands as JSON (msgspec).

JSON keeps the journal queryable with SQLite's ``json_extract``. Prices, quantities and money
are encoded exactly as ``{"raw": ..., "precision": ...}`` / ``{"raw": ..., "currency": ...}``.
The decoder knows every ``Event`` and ``Command`` subclass that is imported when it is built,
including events that other packages define.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradeloop.model.commands import Command
from tradeloop.model.events import Event


def _all_subclasses(base: type[Any]) -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    stack = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        found[cls.__name__] = cls
    return [found[name] for name in sorted(found)]


class JournalCodec:
    """Encode records to bytes and decode them back into their classes."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        classes = _all_subclasses(Event) + _all_subclasses(Command)
        self.type_names = frozenset(cls.__name__ for cls in classes)
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            type=classes[0] if len(classes) == 1 else _union(classes)
        )

    def encode(self, record: Event | Command) -> bytes:
        """Return ``record`` as JSON bytes (with its ``type`` tag)."""
        return self._encoder.encode(record)

    def decode(self, payload: bytes | str) -> Event | Command:
        """Return the record encoded in ``payload``."""
        record: Event | Command = self._decoder.decode(payload)
        return record


def _union(classes: list[type[Any]]) -> Any:
    union: Any = classes[0]
    for cls in classes[1:]:
        union = union | cls
    return union

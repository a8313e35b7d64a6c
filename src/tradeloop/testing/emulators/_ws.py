"""WebSocket sessions of an emulator: a send queue per connection that applies the
configured faults (latency, dropped, duplicated and reordered messages, disconnects)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tradeloop.testing.emulators._faults import Faults


class WsSession:
    """One client connection: its subscriptions and its outgoing messages.

    Replies to the client's own requests (subscription acks, API answers) are sent as they
    are; market and user-data messages go through ``publish``, which applies the faults.
    """

    def __init__(
        self,
        socket: web.WebSocketResponse,
        faults: Faults,
        combined: bool,
        encode: Callable[[Any], str | bytes] | None = None,
    ) -> None:
        self.socket = socket
        self.encode = encode or _json
        self.faults = faults
        self.combined = combined
        self.streams: set[str] = set()
        self.user_subscription: int | None = None
        self.listen_key: str | None = None
        self._queue: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._held: str | bytes | None = None
        self.state: dict[str, Any] = {}  # what the venue keeps per connection
        self._task = asyncio.get_running_loop().create_task(self._send_loop())

    def reply(self, message: Any) -> None:
        """Queue an answer to the client's request (no faults but latency)."""
        self._queue.put_nowait(self.encode(message))

    def publish(self, stream: str | None, message: Any) -> None:
        """Queue a stream message (wrapped as ``{"stream", "data"}`` on combined
        connections), applying drops, duplicates, reordering and disconnects."""
        payload = {"stream": stream, "data": message} if self.combined and stream else message
        text = self.encode(payload)
        faults = self.faults
        if faults.roll("ws_disconnect_probability"):
            self._queue.put_nowait(None)
            return
        if faults.roll("ws_drop_probability"):
            return
        if self._held is None and faults.roll("ws_reorder_probability"):
            self._held = text  # sent after the next message
            return
        self._queue.put_nowait(text)
        if faults.roll("ws_duplicate_probability"):
            self._queue.put_nowait(text)
        if self._held is not None:
            self._queue.put_nowait(self._held)
            self._held = None

    async def _send_loop(self) -> None:
        socket = self.socket
        while True:
            text = await self._queue.get()
            if text is None:
                await socket.close()
                return
            delay = self.faults.delay_s()
            if delay > 0:
                await asyncio.sleep(delay)
            if socket.closed:
                return
            try:
                if isinstance(text, bytes):
                    await socket.send_bytes(text)
                else:
                    await socket.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        """Stop sending."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _json(message: Any) -> str:
    return json.dumps(message, separators=(",", ":"))

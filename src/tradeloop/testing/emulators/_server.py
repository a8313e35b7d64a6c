"""Running an emulator's aiohttp application: in this thread (the CLI) or in a background
thread with its own event loop (tests and users' fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

AppFactory = Callable[[], Awaitable[web.Application]]


class PumpedApp:
    """What both emulators' applications share: a market pump task started with the app,
    requests left hanging by the timeout fault cancelled at shutdown, and every stream
    session closed at cleanup. Subclasses set ``sessions``, ``_pump_task`` and ``_hanging``
    and define ``_pump``."""

    sessions: list[Any]
    _pump_task: asyncio.Task[None] | None
    _hanging: set[asyncio.Task[Any]]

    async def _pump(self) -> None:
        raise NotImplementedError

    def _add_lifecycle(self, app: web.Application) -> None:
        app.on_startup.append(self._start_pump)
        app.on_shutdown.append(self._drop_hanging)
        app.on_cleanup.append(self._stop)

    async def _start_pump(self, _app: web.Application) -> None:
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    async def _drop_hanging(self, _app: web.Application) -> None:
        for task in self._hanging:
            task.cancel()

    async def _stop(self, _app: web.Application) -> None:
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
        for session in list(self.sessions):
            await session.close()
            await session.socket.close()


class EmulatorThread:
    """An emulator served from a background thread on a loopback port.

    Parameters
    ----------
    factory : builds the application (called inside the thread's event loop).
    host : the address to bind.
    port : the port (0: a free port chosen by the system).
    """

    def __init__(self, factory: AppFactory, host: str = "127.0.0.1", port: int = 0) -> None:
        self._factory = factory
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Return the emulator's base URL (``http://host:port``)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorThread:
        """Start serving and return once the port is bound.

        Raises
        ------
        RuntimeError
            If the server could not start (the cause is chained).
        """
        self._thread = threading.Thread(target=self._run, name="emulator", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=60)
        if self._error is not None:
            raise RuntimeError(f"emulator did not start on {self.host}:{self.port}") from (
                self._error
            )
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to start()
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._shutdown())
        loop.close()

    async def _serve(self) -> None:
        app = await self._factory()
        # stop() ends the streams at once: a stopped venue must look stopped to its clients
        # (aiohttp would otherwise let open WebSocket handlers run for a minute).
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = site._server
        if self.port == 0 and isinstance(server, asyncio.base_events.Server):
            self.port = server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)

    def __enter__(self) -> EmulatorThread:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(factory: AppFactory, host: str, port: int) -> None:
    """Serve the application in this thread until interrupted (Ctrl-C)."""

    async def main() -> None:
        app = await factory()
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())

"""Serve the node's API (uvicorn) on a thread of its own for the length of a run.

``serve_node`` binds the address first, in the caller's thread, so an address in use or a
bad ``--api`` value is a clear startup error before any run starts; then uvicorn serves on
that socket from a daemon thread until the run is over. The API binds to 127.0.0.1 unless
told otherwise; binding to any other address needs at least one token (an open control port
on a network is refused).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import uvicorn

from tradeloop.api.app import create_app
from tradeloop.api.auth import TOKEN_ENV, TokenStore
from tradeloop.core.errors import ConfigError
from tradeloop.monitoring.monitor import NodeMonitor

DEFAULT_HOST = "127.0.0.1"


def parse_address(text: str) -> tuple[str, int]:
    """Return (host, port) of ``--api HOST:PORT`` (``PORT`` alone means 127.0.0.1:PORT).

    Raises
    ------
    ConfigError
        If the port is not a number from 0 to 65535 or the host is empty.
    """
    host, _, port_text = text.rpartition(":")
    host = host.strip("[]") or DEFAULT_HOST
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"--api {text!r} is not HOST:PORT (e.g. 127.0.0.1:8780)") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"--api {text!r}: port {port} is not between 0 and 65535")
    return host, port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiServer:
    """uvicorn on a bound socket, in a daemon thread."""

    def __init__(self, monitor: NodeMonitor, tokens: TokenStore, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as error:
            self._socket.close()
            raise ConfigError(
                f"--api {host}:{port}: cannot listen there ({error.strerror})"
            ) from None
        self._socket.listen(128)
        self.monitor = monitor
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            create_app(monitor, tokens),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="api-server", daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self, timeout_s: float = 10.0) -> None:
        """Start serving; return once uvicorn is up."""
        self._thread.start()
        pause = threading.Event()
        waited = 0.0
        while not self._server.started and self._thread.is_alive() and waited < timeout_s:
            pause.wait(0.01)
            waited += 0.01
        if not self._server.started:
            raise ConfigError(f"the API did not start on {self.url}")

    def stop(self) -> None:
        """Stop serving (open connections get up to 2 s to finish)."""
        self._server.should_exit = True
        self._thread.join(5.0)
        with contextlib.suppress(OSError):
            self._socket.close()


@contextlib.contextmanager
def serve_node(
    address: str | None,
    mode: str,
    *,
    tokens_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    monitor: NodeMonitor | None = None,
) -> Iterator[ApiServer | None]:
    """Serve a node's API at ``address`` (``--api``) while the block runs; yield the server
    (its ``monitor``, ``monitor`` when given, goes to the run as ``operations=``), or None
    without ``address``.

    Raises
    ------
    ConfigError
        If the address is invalid or in use, the tokens are invalid, or a non-loopback
        address is asked for without any token.
    """
    if address is None:
        if tokens_file is not None:
            raise ConfigError("--api-tokens needs --api HOST:PORT")
        yield None
        return
    host, port = parse_address(address)
    tokens = TokenStore.load(os.environ if env is None else env, tokens_file)
    if not _is_loopback(host) and not len(tokens):
        raise ConfigError(
            f"--api {address} listens beyond this machine: set {TOKEN_ENV} or --api-tokens first"
        )
    if monitor is None:
        monitor = NodeMonitor(mode=mode)
    server = ApiServer(monitor, tokens, host, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()

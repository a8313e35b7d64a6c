"""How tradeloop connects to Alpaca: the ``[connections.<NAME>]`` table of ``kind = "alpaca"``,
its credentials (kept masked) and the URLs of Alpaca's four APIs.

URL mapping (paper default / live default -> with ``base_url``):

- trading REST (``TradingClient``): ``https://paper-api.alpaca.markets`` /
  ``https://api.alpaca.markets`` -> ``base_url``
- market data REST: ``https://data.alpaca.markets`` -> ``base_url``
- trading stream (trade_updates): ``wss://paper-api.alpaca.markets/stream`` /
  ``wss://api.alpaca.markets/stream`` -> ``ws(s)://host:port/stream``
- market data stream: ``wss://stream.data.alpaca.markets/v2/<feed>`` ->
  ``ws(s)://host:port/v2/<feed>``

``base_url`` replaces the scheme and host of every one of them (``http`` becomes ``ws``,
``https`` becomes ``wss`` for the streams) and keeps Alpaca's paths, which is what the
Alpaca emulator (``tradeloop emulate alpaca``) serves.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from tradeloop.core.errors import ConfigError

FEEDS = ("iex", "sip")
_LOOPBACK_NAMES = ("localhost",)


class AlpacaConfigError(ConfigError, ValueError):
    """An Alpaca connection setting is missing or invalid (a ``ValueError`` too, so that
    msgspec reports it as a validation error when it decodes a config table)."""


class Secret:
    """A credential whose ``repr`` and ``str`` are masked; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value (only to hand it to the venue's client)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        raise TypeError("a Secret is never pickled")


class AlpacaCredentials(msgspec.Struct, frozen=True):
    """An Alpaca key id and secret, both masked."""

    api_key: Secret
    secret: Secret


class AlpacaUrls(msgspec.Struct, frozen=True, kw_only=True):
    """The URLs of Alpaca's four APIs for one connection (module docstring)."""

    trading: str
    data: str
    trading_stream: str
    data_stream: str


class AlpacaConnectionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A connection to Alpaca (``[connections.<NAME>]`` with ``kind = "alpaca"``).

    Attributes
    ----------
    kind : always ``"alpaca"``.
    paper : the paper account (default); ``false`` trades real money and needs
        ``confirm_real_money = true`` unless ``base_url`` is a loopback address.
    base_url : replaces scheme and host of every Alpaca URL (module docstring), for example
        ``http://127.0.0.1:8766`` for the emulator.
    feed : the market data feed, ``"iex"`` (free) or ``"sip"`` (all US exchanges).
    api_key_env, secret_env : names of the environment variables holding the key id and the
        secret (used when ``secrets_file`` is not set).
    secrets_file : a file readable by its owner only (mode 0600) with ``api_key=...`` and
        ``secret=...`` lines; takes the place of the environment variables.
    confirm_real_money : set to ``true`` to allow a live (not paper) account.
    request_timeout_s : how long one REST request may take before it counts as timed out.
    max_retries : how many times a transient failure (429, 5xx, timeout) is retried.
    retry_base_ms, retry_max_ms : the first retry waits ``retry_base_ms``, each next one
        twice as long, never more than ``retry_max_ms``.
    stale_after_s : a data feed without a message for this long is ``stale``.
    """

    kind: str = "alpaca"
    paper: bool = True
    base_url: str | None = None
    feed: str = "iex"
    api_key_env: str = "APCA_API_KEY_ID"
    secret_env: str = "APCA_API_SECRET_KEY"
    secrets_file: str | None = None
    confirm_real_money: bool = False
    request_timeout_s: float = 10.0
    max_retries: int = 5
    retry_base_ms: int = 250
    retry_max_ms: int = 8000
    stale_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.kind != "alpaca":
            raise AlpacaConfigError(f"connection kind {self.kind!r} must be 'alpaca'")
        if self.feed not in FEEDS:
            raise AlpacaConfigError(f"feed {self.feed!r} must be one of {', '.join(FEEDS)}")
        if self.base_url is not None:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise AlpacaConfigError(
                    f"base_url {self.base_url!r} must be http(s)://host[:port] (no path)"
                )
            if parts.path not in ("", "/") or parts.query:
                raise AlpacaConfigError(
                    f"base_url {self.base_url!r} must not have a path: Alpaca's paths are kept"
                )
        if not self.paper and not self.confirm_real_money and not is_loopback(self):
            raise AlpacaConfigError(
                "paper = false trades real money on Alpaca: set confirm_real_money = true "
                "to allow it"
            )
        if self.request_timeout_s <= 0:
            raise AlpacaConfigError(f"request_timeout_s {self.request_timeout_s} must be positive")
        if self.max_retries < 0:
            raise AlpacaConfigError(f"max_retries {self.max_retries} must not be negative")
        if not 0 < self.retry_base_ms <= self.retry_max_ms:
            raise AlpacaConfigError(
                f"retry_base_ms {self.retry_base_ms} must be positive and at most "
                f"retry_max_ms {self.retry_max_ms}"
            )
        if self.stale_after_s <= 0:
            raise AlpacaConfigError(f"stale_after_s {self.stale_after_s} must be positive")
        if not self.api_key_env or not self.secret_env:
            raise AlpacaConfigError("api_key_env and secret_env must name environment variables")


def is_loopback(config: AlpacaConnectionConfig) -> bool:
    """Return whether every URL of ``config`` points at this machine (an emulator).

    ``False`` without ``base_url`` (Alpaca itself).
    """
    if config.base_url is None:
        return False
    host = urlsplit(config.base_url).hostname or ""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def alpaca_urls(config: AlpacaConnectionConfig) -> AlpacaUrls:
    """Return the URLs of the four APIs for ``config`` (mapping in the module docstring)."""
    if config.base_url is not None:
        base = config.base_url.rstrip("/")
        socket_base = "ws" + base.removeprefix("http")
        return AlpacaUrls(
            trading=base,
            data=base,
            trading_stream=f"{socket_base}/stream",
            data_stream=f"{socket_base}/v2/{config.feed}",
        )
    host = "paper-api.alpaca.markets" if config.paper else "api.alpaca.markets"
    return AlpacaUrls(
        trading=f"https://{host}",
        data="https://data.alpaca.markets",
        trading_stream=f"wss://{host}/stream",
        data_stream=f"wss://stream.data.alpaca.markets/v2/{config.feed}",
    )


def load_credentials(
    config: AlpacaConnectionConfig, environ: Mapping[str, str] | None = None
) -> AlpacaCredentials:
    """Return the key id and secret named by ``config`` (masked).

    Raises
    ------
    AlpacaConfigError
        If an environment variable is unset or empty, or the secrets file is missing, is
        readable by others than its owner, or lacks ``api_key=`` or ``secret=``. The message
        names the variable or file, never a value.
    """
    if config.secrets_file is not None:
        return _from_file(Path(config.secrets_file))
    env = os.environ if environ is None else environ
    values = []
    for setting, name in (("api_key_env", config.api_key_env), ("secret_env", config.secret_env)):
        value = env.get(name, "").strip()
        if not value:
            raise AlpacaConfigError(
                f"environment variable {name} (Alpaca {setting}) is not set or empty"
            )
        values.append(value)
    return AlpacaCredentials(Secret(values[0]), Secret(values[1]))


def _from_file(path: Path) -> AlpacaCredentials:
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise AlpacaConfigError(
            f"Alpaca secrets_file {path} cannot be read: {error.strerror}"
        ) from None
    if stat.S_IMODE(mode) & 0o077:
        raise AlpacaConfigError(
            f"Alpaca secrets_file {path} has mode {stat.S_IMODE(mode):04o}: it must be readable "
            f"by its owner only (chmod 600 {path})"
        )
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, is_pair, value = text.partition("=")
        name = name.strip()
        if not is_pair or name not in ("api_key", "secret"):
            raise AlpacaConfigError(
                f"Alpaca secrets_file {path} line {number} must be api_key=... or secret=..."
            )
        found[name] = value.strip()
    missing = [name for name in ("api_key", "secret") if not found.get(name)]
    if missing:
        raise AlpacaConfigError(f"Alpaca secrets_file {path} has no {' or '.join(missing)}= line")
    return AlpacaCredentials(Secret(found["api_key"]), Secret(found["secret"]))

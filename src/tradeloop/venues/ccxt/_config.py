"""The ccxt connection config, its secrets and the real-money guard.

A ``[connections.<NAME>]`` table with ``kind = "ccxt"`` converts whole into
``CcxtConnectionConfig``. Credentials are named, never written in the config: either two
environment variables (``api_key_env``, ``secret_env``) or a ``secrets_file`` with
``api_key=`` and ``secret=`` lines that only its owner can read (mode 0600).
``resolve_credentials`` reads them into ``SecretStr`` values whose repr is masked.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from tradeloop.core.errors import ConfigError

MASK = "**********"


class SecretStr:
    """A secret string: ``repr``/``str`` show a mask; ``get_secret_value()`` the text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """Return the secret itself (hand it only to the client library)."""
        return self._value

    def __repr__(self) -> str:
        return f"SecretStr('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a SecretStr is not pickled (it would write the secret)")


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """An API key and its secret, masked in every repr; ``source`` says where they came from."""

    api_key: SecretStr
    secret: SecretStr
    source: str

    def scrub(self, text: str) -> str:
        """Return ``text`` with the key and the secret replaced by a mask."""
        for value in (self.api_key.get_secret_value(), self.secret.get_secret_value()):
            if value:
                text = text.replace(value, MASK)
        return text


class CcxtConnectionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to reach one exchange through ccxt (a ``[connections.<NAME>]`` table).

    Attributes
    ----------
    kind : always ``"ccxt"`` (the engine picks the adapter by it).
    exchange : ccxt's exchange id (``"binance"``, ``"bybit"``, ``"kraken"`` …).
    market_type : ``"spot"`` or ``"swap"`` (USD-margined perpetuals).
    base_url : replaces scheme and host of every API URL, paths kept (``"http://127.0.0.1:8765"``
        for the emulator); ``None`` uses the exchange's own URLs.
    api_key_env, secret_env : names of the environment variables holding the key and secret.
    secrets_file : a file of ``api_key=...`` and ``secret=...`` lines, mode 0600 (instead of
        the two variables).
    symbols : instrument id → ccxt symbol (``{"BTCUSDT.BINANCE" = "BTC/USDT"}``); by default
        the market whose venue id is the instrument's symbol.
    confirm_real_money : must be true for orders to reach anything but a loopback address.
    stale_after_s : a data feed without a message this long is ``stale``.
    bar_interval_s : the interval of the bars the data client builds from trades.
    timeout_ms : ccxt's request timeout.
    max_retries, retry_base_s, retry_max_s : transient failures are retried up to
        ``max_retries`` times, waiting ``retry_base_s * 2**n`` capped at ``retry_max_s``.
    """

    kind: Literal["ccxt"] = "ccxt"
    exchange: str
    market_type: Literal["spot", "swap"] = "spot"
    base_url: str | None = None
    api_key_env: str | None = None
    secret_env: str | None = None
    secrets_file: str | None = None
    symbols: dict[str, str] = msgspec.field(default_factory=dict)
    confirm_real_money: bool = False
    stale_after_s: float = 10.0
    bar_interval_s: int = 60
    timeout_ms: int = 10_000
    max_retries: int = 5
    retry_base_s: float = 0.5
    retry_max_s: float = 8.0

    def __post_init__(self) -> None:
        import ccxt

        if self.exchange not in ccxt.exchanges:
            raise ConfigError(
                f"connection exchange {self.exchange!r} is not a ccxt exchange id "
                f"(for example binance, bybit, kraken)"
            )
        if self.base_url is not None:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(
                    f"connection base_url {self.base_url!r} must look like http://host:port"
                )
        if self.secrets_file is not None and (self.api_key_env or self.secret_env):
            raise ConfigError(
                "connection gives both secrets_file and api_key_env/secret_env; give one of them"
            )
        if (self.api_key_env is None) != (self.secret_env is None):
            raise ConfigError("connection needs both api_key_env and secret_env, or neither")
        for name, value in (
            ("stale_after_s", self.stale_after_s),
            ("bar_interval_s", self.bar_interval_s),
            ("timeout_ms", self.timeout_ms),
            ("retry_base_s", self.retry_base_s),
            ("retry_max_s", self.retry_max_s),
        ):
            if not value > 0:
                raise ConfigError(f"connection {name} {value} must be positive")
        if self.max_retries < 0:
            raise ConfigError(f"connection max_retries {self.max_retries} must not be negative")

    @property
    def has_credentials(self) -> bool:
        """Return whether the config names credentials (variables or a file)."""
        return self.secrets_file is not None or self.api_key_env is not None


def _is_loopback_host(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback(config: CcxtConnectionConfig) -> bool:
    """Return whether every request of ``config`` goes to this machine (a loopback base URL).

    Without a ``base_url`` the client talks to the real exchange: not loopback.
    """
    return config.base_url is not None and _is_loopback_host(urlsplit(config.base_url).hostname)


def check_real_money(config: CcxtConnectionConfig) -> None:
    """Refuse a connection that can send orders to a real exchange without the confirmation.

    Raises
    ------
    ConfigError
        If ``config`` is not loopback and ``confirm_real_money`` is false.
    """
    if is_loopback(config) or config.confirm_real_money:
        return
    target = config.base_url or f"{config.exchange}'s own API"
    raise ConfigError(
        f"connection to {target} can trade real money: set confirm_real_money = true in its "
        f"table to allow it (only loopback base URLs are allowed without it)"
    )


def _read_secrets_file(path: str) -> Credentials:
    try:
        info = os.stat(path)
    except OSError as error:
        raise ConfigError(f"secrets_file {path!r} cannot be read: {error.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secrets_file {path!r} has mode {stat.S_IMODE(info.st_mode):04o}; it must be "
            f"readable by its owner only (chmod 600 {path})"
        )
    values: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            name, sep, value = text.partition("=")
            if not sep or name.strip() not in ("api_key", "secret"):
                raise ConfigError(
                    f"secrets_file {path!r} line {number} is not 'api_key=...' or 'secret=...'"
                )
            values[name.strip()] = value.strip()
    missing = [name for name in ("api_key", "secret") if not values.get(name)]
    if missing:
        raise ConfigError(f"secrets_file {path!r} has no {' or '.join(missing)} line")
    return Credentials(
        api_key=SecretStr(values["api_key"]),
        secret=SecretStr(values["secret"]),
        source=f"secrets_file {path}",
    )


def resolve_credentials(
    config: CcxtConnectionConfig, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """Return the credentials ``config`` names (``None`` when it names none: public data only).

    Raises
    ------
    ConfigError
        If a variable is unset or empty, or the secrets file is missing, malformed or
        readable by others than its owner.
    """
    if config.secrets_file is not None:
        return _read_secrets_file(config.secrets_file)
    if config.api_key_env is None or config.secret_env is None:
        return None
    env = os.environ if environ is None else environ
    key, secret = env.get(config.api_key_env, ""), env.get(config.secret_env, "")
    for name, value in ((config.api_key_env, key), (config.secret_env, secret)):
        if not value:
            raise ConfigError(f"environment variable {name} (the connection's credential) is unset")
    return Credentials(
        api_key=SecretStr(key),
        secret=SecretStr(secret),
        source=f"environment variables {config.api_key_env}/{config.secret_env}",
    )

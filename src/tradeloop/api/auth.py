"""Bearer tokens and their roles for the control API.

Roles, each allowing what the ones before it allow:

- ``viewer``: read status, positions, orders, fills, alerts;
- ``operator``: pause, resume (not after a kill), cancel all, flatten an instrument, kill;
- ``admin``: resume trading after a kill (HALTED).

Tokens come from the environment variable ``TRADELOOP_API_TOKEN`` (one token, role admin,
named ``admin``) and/or a tokens file (``--api-tokens FILE``): TOML with one table per token,
readable by its owner only (mode 0600, else the node refuses to start)::

    [[tokens]]
    name = "alice"        # who: journaled with every action she takes
    role = "operator"
    token = "a long random string"

Tokens are compared in constant time; a token shorter than 16 characters is refused at
startup (a guessable token is no protection).
"""

from __future__ import annotations

import hmac
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tradeloop.core.errors import ConfigError
from tradeloop.monitoring.control import Actor

ROLES = ("viewer", "operator", "admin")
TOKEN_ENV = "TRADELOOP_API_TOKEN"
MIN_TOKEN_LENGTH = 16


def role_allows(role: str, needed: str) -> bool:
    """Return whether ``role`` includes ``needed``."""
    return ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class _Token:
    name: str
    role: str
    secret: bytes


class TokenStore:
    """The tokens the API accepts (module docstring)."""

    def __init__(self, tokens: list[tuple[str, str, str]]) -> None:
        names: set[str] = set()
        self._tokens: list[_Token] = []
        for name, role, secret in tokens:
            if role not in ROLES:
                raise ConfigError(f"API token {name!r}: role {role!r} is not one of {ROLES}")
            if len(secret) < MIN_TOKEN_LENGTH:
                raise ConfigError(
                    f"API token {name!r} has {len(secret)} characters: at least "
                    f"{MIN_TOKEN_LENGTH} are needed (use a long random string)"
                )
            if name in names:
                raise ConfigError(f"API token name {name!r} is used twice")
            names.add(name)
            self._tokens.append(_Token(name, role, secret.encode()))

    def __len__(self) -> int:
        return len(self._tokens)

    def actor(self, presented: str | None) -> Actor | None:
        """Return who ``presented`` belongs to, or None for no or an unknown token."""
        if not presented:
            return None
        given = presented.encode()
        found: Actor | None = None
        for token in self._tokens:  # every token compared: the time says nothing
            if hmac.compare_digest(given, token.secret) and found is None:
                found = Actor(token.name, token.role)
        return found

    @classmethod
    def load(cls, env: Mapping[str, str], path: Path | None) -> TokenStore:
        """Return the tokens of ``env[TRADELOOP_API_TOKEN]`` and of the file at ``path``.

        Raises
        ------
        ConfigError
            If the file is missing, readable by others than its owner, not TOML, or a token
            in it lacks a name, a role or a token, or is too short.
        """
        tokens: list[tuple[str, str, str]] = []
        secret = env.get(TOKEN_ENV, "")
        if secret:
            tokens.append(("admin", "admin", secret))
        if path is not None:
            tokens.extend(_read_file(path))
        return cls(tokens)


def _read_file(path: Path) -> list[tuple[str, str, str]]:
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise ConfigError(f"API tokens file {path}: {error.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"API tokens file {path} has mode {stat.S_IMODE(mode):04o}: others than its owner "
            f"can read it; chmod 600 {path}"
        )
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"API tokens file {path} is not valid TOML: {error}") from None
    entries = data.get("tokens")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"API tokens file {path} has no [[tokens]] tables")
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"API tokens file {path}: tokens[{index}] is not a table")
        unknown = sorted(set(entry) - {"name", "role", "token"})
        if unknown:
            raise ConfigError(
                f"API tokens file {path}: tokens[{index}] has unknown keys {unknown} "
                "(known: name, role, token)"
            )
        values = []
        for key in ("name", "role", "token"):
            value = entry.get(key)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"API tokens file {path}: tokens[{index}] needs a {key} string")
            values.append(value)
        out.append((values[0], values[1], values[2]))
    return out

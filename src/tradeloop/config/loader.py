"""Loading a run config from TOML, with one-line errors that name the file, key and rule."""

from __future__ import annotations

import os
import re
import tomllib
from typing import Any

import msgspec

from tradeloop.config.schema import RunConfig
from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.core.paths import require_file


def _describe(error: msgspec.ValidationError) -> str:
    text = str(error)
    match = re.match(r"(.*) - at `\$(.*)`", text)
    if not match:
        return text
    message, where = match.groups()
    where = where.lstrip(".") or "top level"
    message = message.replace("Object contains unknown field", "unknown key")
    return f"{message} at {where}"


def parse_config(data: dict[str, Any], source: str = "config") -> RunConfig:
    """Return the ``RunConfig`` in ``data`` (a parsed TOML document).

    Raises
    ------
    ConfigError
        If a key is unknown, a value has the wrong type, or a rule is broken; the message
        names ``source`` and the key.
    """
    try:
        return msgspec.convert(data, type=RunConfig)
    except TradeloopError as error:  # raised by a section's own checks
        raise ConfigError(f"{source}: {error}") from None
    except msgspec.ValidationError as error:
        cause = error.__cause__ or error.__context__
        if isinstance(cause, TradeloopError):
            raise ConfigError(f"{source}: {cause}") from None
        raise ConfigError(f"{source}: {_describe(error)}") from None


def load_config(path: str | os.PathLike[str]) -> RunConfig:
    """Return the run config in the TOML file at ``path``.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or breaks the schema.
    """
    file = require_file(path, "config file")
    try:
        data = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{file}: not valid TOML: {error}") from None
    return parse_config(data, str(file))

"""Checks of the paths a user gives: each mistake is a ``ConfigError`` that says what it is.

A file argument that names a directory says it is a directory (not that it "does not
exist"), a directory argument that names a file says it is a file, and a missing path says
it does not exist. ``what`` names the argument in the message, e.g. ``config file``.
"""

from __future__ import annotations

import os
from pathlib import Path

from tradeloop.core.errors import ConfigError

__all__ = ["require_dir", "require_file", "require_output_dir", "require_output_file"]


def require_file(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` as a ``Path`` after checking that it is an existing file.

    Raises
    ------
    ConfigError
        If ``path`` is a directory, does not exist or is not a regular file.
    """
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{what} {file} is a directory, not a file")
    if not file.exists():
        raise ConfigError(f"{what} {file} does not exist")
    if not file.is_file():
        raise ConfigError(f"{what} {file} is not a regular file")
    return file


def require_dir(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` as a ``Path`` after checking that it is an existing directory.

    Raises
    ------
    ConfigError
        If ``path`` is a file or does not exist.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{what} {folder} is a file, not a directory")
    if not folder.exists():
        raise ConfigError(f"{what} {folder} does not exist")
    return folder


def require_output_dir(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` as a ``Path`` after checking that it can be (or is) a directory.

    Raises
    ------
    ConfigError
        If ``path`` or one of its parents is an existing file.
    """
    folder = Path(path)
    for candidate in (folder, *folder.parents):
        if candidate.exists() and not candidate.is_dir():
            raise ConfigError(f"{what} {folder}: {candidate} is a file, not a directory")
    return folder


def require_output_file(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` as a ``Path`` after checking that a file can be written there.

    Raises
    ------
    ConfigError
        If ``path`` is a directory, or one of its parents is an existing file.
    """
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{what} {file} is a directory; give a file path")
    for candidate in file.parents:
        if candidate.exists() and not candidate.is_dir():
            raise ConfigError(f"{what} {file}: {candidate} is a file, not a directory")
    return file

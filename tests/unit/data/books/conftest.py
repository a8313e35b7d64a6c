"""Fixtures of the order-book feed tests: real slices under tests/data/books and edited copies."""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

BOOKS = Path(__file__).resolve().parents[3] / "data" / "books"

Edit = Callable[[list[str]], list[str]]
CraftBook = Callable[[str, Edit], Path]


def read_lines(name: str) -> list[str]:
    """Return the lines of a slice (gzip and one-file zip archives are opened)."""
    path = BOOKS / name
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode().splitlines()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return archive.read(archive.namelist()[0]).decode().splitlines()
    return path.read_text().splitlines()


@pytest.fixture
def books() -> Path:
    """Return the folder of real order-book slices."""
    return BOOKS


@pytest.fixture
def craft_book(tmp_path: Path) -> CraftBook:
    """Return a function that writes a slice's lines, edited, to a plain-text copy."""

    def make(name: str, edit: Edit) -> Path:
        target = tmp_path / f"crafted-{name.split('.')[0]}.txt"
        if "_message_" in name or "_orderbook_" in name:
            target = tmp_path / name  # LOBSTER readers take the ticker and date from the name
        target.write_text("\n".join(edit(read_lines(name))) + "\n")
        return target

    return make

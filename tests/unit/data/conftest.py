"""Fixtures of the data layer's tests: real slices under tests/data/market and crafted copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

MARKET = Path(__file__).resolve().parents[2] / "data" / "market"

Craft = Callable[[str, Callable[[list[str]], list[str]]], Path]


@pytest.fixture
def market() -> Path:
    """Return the folder of real test slices."""
    return MARKET


@pytest.fixture
def craft(tmp_path: Path) -> Craft:
    """Return a function that copies a real slice with its lines edited, and returns the copy.

    ``edit`` receives the file's lines (without newlines, header first) and returns new lines.
    """

    def make(name: str, edit: Callable[[list[str]], list[str]]) -> Path:
        lines = (MARKET / name).read_text().splitlines()
        target = tmp_path / f"crafted-{name}"
        target.write_text("\n".join(edit(list(lines))) + "\n")
        return target

    return make


@pytest.fixture
def fields() -> Callable[[str], list[list[str]]]:
    """Return a function giving a slice's data lines split into fields (header excluded)."""

    def split(name: str) -> list[list[str]]:
        return [line.split(",") for line in (MARKET / name).read_text().splitlines()[1:]]

    return split

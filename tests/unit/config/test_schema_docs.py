"""The documented config example (``config.schema``'s docstring) and the shipped examples load."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import pytest

import tradeloop.config.schema as schema
from tradeloop.config import load_config, parse_config
from tradeloop.data import bundled
from tradeloop.data.api import data_format
from tradeloop.engine.loading import BOOK_FORMATS
from tradeloop.engine.runner import prepare_run

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.toml"))


def documented_example() -> str:
    doc = schema.__doc__
    assert doc is not None
    block = doc.split("::", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_the_documented_example_config_parses_and_names_real_formats_and_datasets() -> None:
    config = parse_config(tomllib.loads(documented_example()), "config.schema docstring")
    assert len(config.data) == 3
    for section in config.data:
        if section.dataset is not None:
            assert section.dataset in bundled.names()
        if section.format is not None and section.format not in BOOK_FORMATS:
            data_format(section.format)  # raises for a format that does not exist
    assert {s.class_path for s in config.strategies} == {"SmaCross"}


def test_the_data_section_docstring_names_only_real_formats() -> None:
    doc = " ".join((schema.DataSection.__doc__ or "").split())
    files = doc.split("is one of", 1)[1].split("(the ``--format``", 1)[0]
    books = doc.split("fidelity level 4 (", 1)[1].split(")", 1)[0]
    assert {data_format(name).value for name in re.findall(r"``([a-z-]+)``", files)} == {
        "yahoo",
        "ohlcv",
        "binance-klines",
        "trades",
        "quotes",
    }
    assert set(re.findall(r"``([a-z-]+)``", books)) == set(BOOK_FORMATS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_shipped_example_prepares(path: Path) -> None:
    prepared = prepare_run(load_config(path), path.parent)
    assert prepared.record_count > 0

"""The options docs stay true: docs/options.md's code blocks and the docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "module",
    [
        "tradeloop.options.european",
        "tradeloop.options.american",
        "tradeloop.options.chain",
        "tradeloop.options.svi",
        "tradeloop.options.ssvi",
        "tradeloop.options.plots",
        "tradeloop.analytics.portfolio_var",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_code_blocks_of_the_options_guide_run() -> None:
    text = (ROOT / "docs" / "options.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 5
    for block in blocks:
        exec(compile(block, "docs/options.md", "exec"), {})

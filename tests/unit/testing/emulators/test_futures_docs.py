"""docs/emulators.md stays true: its USD-M futures example runs against the emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = (Path(__file__).resolve().parents[4] / "docs" / "emulators.md").read_text()


def test_the_documented_perpetual_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    section = DOC.split("## Binance USD-M futures (same port)")[1].split("\n## ")[0]
    [example] = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    exec(compile(example, "docs/emulators.md", "exec"), {"__name__": "docs_example"})
    position, balance = capsys.readouterr().out.splitlines()
    side, contracts, entry = position.split()
    assert (side, float(contracts)) == ("short", 0.01)
    assert float(entry) > 0
    assert "'used': 0.0" in balance  # flat again after the reduce-only buy

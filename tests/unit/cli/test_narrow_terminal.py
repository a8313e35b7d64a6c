"""Tables are readable at 80 columns: no line is wider, no id or number is cut, and the
columns left out are named; ``--wide`` shows every column and ``--json`` every field.

Each command runs in its own process with ``COLUMNS`` set, as in a terminal of that width.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradeloop.cli.execution import ORDER_COLUMNS

ROOT = Path(__file__).resolve().parents[3]


def _tradeloop(*args: str, columns: int = 80, cwd: Path | None = None) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tradeloop.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _assert_fits(text: str, width: int = 80) -> None:
    wide = [line for line in text.splitlines() if len(line) > width]
    assert wide == [], f"{len(wide)} lines wider than {width}: {wide[:3]}"
    cut = [line for line in text.splitlines() if "…" in line and not line.startswith("…")]
    assert cut == [], f"cells cut short: {cut[:3]}"


@pytest.fixture(scope="module")
def tca_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.unit.cli.test_execution_cli import _write_run

    run_dir = tmp_path_factory.mktemp("narrow") / "run"
    _write_run(run_dir)
    return run_dir


def test_tca_at_80_columns_fits_and_names_what_it_left_out(tca_run: Path) -> None:
    text = _tradeloop("tca", str(tca_run))
    _assert_fits(text)
    assert "O-s-1" in text
    assert "O-s-2" in text
    flat = " ".join(text.split())
    assert "left out to fit 80 columns:" in flat
    assert "(--wide shows every column, --json every field)" in flat
    header = next(line for line in text.splitlines() if line.lstrip().startswith("order "))
    for column in ("order", "instrument", "ordered", "slip bps", "IS bps"):
        assert column in header


def test_tca_wide_has_every_column_and_json_every_field(tca_run: Path) -> None:
    text = _tradeloop("tca", str(tca_run), "--wide")
    header = next(line for line in text.splitlines() if line.lstrip().startswith("order "))
    for column in ORDER_COLUMNS:
        assert column in header
    assert "left out" not in text
    payload = json.loads(_tradeloop("tca", str(tca_run), "--json"))
    assert {"arrival_price", "average_fill_price", "vwap", "twap", "participation"} <= set(
        payload["orders"][0]
    )


def test_replay_at_80_columns_fits(tca_run: Path) -> None:
    _assert_fits(_tradeloop("replay", str(tca_run), "--at", "end"))


def test_data_list_at_80_columns_fits_and_json_has_every_field(tmp_path: Path) -> None:
    _assert_fits(_tradeloop("data", "list"))
    bundled = json.loads(_tradeloop("data", "list", "--json"))
    assert {"name", "instrument_id", "kind", "description"} <= set(bundled[0])
    source = ROOT / "src" / "tradeloop" / "data" / "bundled" / "orcl-1995-2014.txt.gz"
    catalog = tmp_path / "catalog"
    _tradeloop("data", "import", str(source), "-f", "yahoo", "-i", "ORCL.XNAS", "-c", str(catalog))
    text = _tradeloop("data", "list", "-c", str(catalog))
    _assert_fits(text)
    assert "ORCL.XNAS" in text
    assert "1995-01-03T21:00:00" in text
    assert "sha256" in _tradeloop("data", "list", "-c", str(catalog), "--wide")
    (entry,) = json.loads(_tradeloop("data", "list", "-c", str(catalog), "--json"))
    assert len(entry["content_hash"]) == 64


def test_backtest_summary_at_80_columns_fits(tmp_path: Path) -> None:
    config = tmp_path / "sma.toml"
    config.write_text(
        (ROOT / "examples" / "sma_orcl.toml")
        .read_text()
        .replace('start = "2005-01-01"', 'start = "2012-01-01"')
    )
    _assert_fits(_tradeloop("backtest", str(config), cwd=tmp_path))

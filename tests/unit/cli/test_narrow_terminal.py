"""Tables are readable at 80 columns: no line is wider, no id or number is cut, and the
columns left out are named; ``--wide`` shows every column and ``--json`` every field.

The commands run in this process with ``COLUMNS=80``, as in a terminal of that width (the
consoles made at import are set to it too: a real process reads ``COLUMNS`` when it starts).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from tradeloop.cli import _common
from tradeloop.cli import inspect as cli_inspect
from tradeloop.cli.execution import ORDER_COLUMNS, register

cli_main = importlib.import_module("tradeloop.cli.main")  # the package exports main()
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def tradeloop(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    if "tca" not in {c.name for c in cli_main.app.registered_commands}:
        register(cli_main.app, cli_main.bench_app)

    def run(*args: str, columns: int = 80) -> str:
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setenv("NO_COLOR", "1")
        for console in (_common.out, cli_inspect.out):
            monkeypatch.setattr(console, "width", columns)
        monkeypatch.setattr("sys.argv", ["tradeloop", *args])
        code = 0
        try:
            cli_main.main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    return run


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


def test_tca_at_80_columns_fits_and_names_what_it_left_out(tca_run: Path, tradeloop) -> None:  # type: ignore[no-untyped-def]
    text = tradeloop("tca", str(tca_run))
    _assert_fits(text)
    assert "O-s-1" in text
    assert "O-s-2" in text
    flat = " ".join(text.split())
    assert "left out to fit 80 columns:" in flat
    assert "(--wide shows every column, --json every field)" in flat
    header = next(line for line in text.splitlines() if line.lstrip().startswith("order "))
    for column in ("order", "instrument", "ordered", "slip bps", "IS bps"):
        assert column in header


def test_tca_wide_has_every_column_and_json_every_field(tca_run: Path, tradeloop) -> None:  # type: ignore[no-untyped-def]
    text = tradeloop("tca", str(tca_run), "--wide")
    header = next(line for line in text.splitlines() if line.lstrip().startswith("order "))
    for column in ORDER_COLUMNS:
        assert column in header
    assert "left out" not in text
    payload = json.loads(tradeloop("tca", str(tca_run), "--json"))
    assert {"arrival_price", "average_fill_price", "vwap", "twap", "participation"} <= set(
        payload["orders"][0]
    )


def test_replay_at_80_columns_fits(tca_run: Path, tradeloop) -> None:  # type: ignore[no-untyped-def]
    _assert_fits(tradeloop("replay", str(tca_run), "--at", "end"))


def test_data_list_at_80_columns_fits_and_json_has_every_field(tmp_path: Path, tradeloop) -> None:  # type: ignore[no-untyped-def]
    _assert_fits(tradeloop("data", "list"))
    bundled = json.loads(tradeloop("data", "list", "--json"))
    assert {"name", "instrument_id", "kind", "description"} <= set(bundled[0])
    source = ROOT / "src" / "tradeloop" / "data" / "bundled" / "orcl-1995-2014.txt.gz"
    catalog = tmp_path / "catalog"
    tradeloop("data", "import", str(source), "-f", "yahoo", "-i", "ORCL.XNAS", "-c", str(catalog))
    text = tradeloop("data", "list", "-c", str(catalog))
    _assert_fits(text)
    assert "ORCL.XNAS" in text
    assert "1995-01-03T21:00:00" in text
    assert "sha256" in tradeloop("data", "list", "-c", str(catalog), "--wide")
    (entry,) = json.loads(tradeloop("data", "list", "-c", str(catalog), "--json"))
    assert len(entry["content_hash"]) == 64


def test_backtest_summary_at_80_columns_fits(
    tmp_path: Path, tradeloop, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "sma.toml"
    config.write_text(
        (ROOT / "examples" / "sma_orcl.toml")
        .read_text()
        .replace('start = "2005-01-01"', 'start = "2012-01-01"')
    )
    monkeypatch.chdir(tmp_path)
    _assert_fits(tradeloop("backtest", str(config)))

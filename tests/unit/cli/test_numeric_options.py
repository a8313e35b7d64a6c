"""Every numeric option is range-checked: a value out of range is one line and exit 2."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tradeloop.cli._common import check_number
from tradeloop.cli.execution import register
from tradeloop.core.errors import ConfigError

cli_main = importlib.import_module("tradeloop.cli.main")  # the package exports main()

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sma_orcl.toml"


def _cli(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    if "tca" not in {c.name for c in cli_main.app.registered_commands}:
        register(cli_main.app, cli_main.bench_app)
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    code = 0
    try:
        cli_main.main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


CASES = [
    (["bench", "sma", "--bars", "0"], "--bars 0 must be between 1 and 20,000,000"),
    (["bench", "sma", "--bars", "-1"], "--bars -1 must be between 1 and 20,000,000"),
    (
        ["bench", "sma", "--bars", "100000000000"],
        "--bars 100000000000 must be between 1 and 20,000,000",
    ),
    (["bench", "fidelity", "--bars", "99"], "--bars 99 must be between 100 and 20,000,000"),
    (["bench", "fidelity", "--bars", "-5"], "--bars -5 must be between 100 and 20,000,000"),
    (["bench", "book", "--repeat", "0"], "--repeat 0 must be between 1 and 1,000"),
    (["tca", "runs/x", "--limit", "-1"], "--limit -1 must be at least 0"),
    (
        ["data", "validate", "x.csv", "-f", "yahoo", "-i", "ORCL.XNAS", "--limit", "-2"],
        "--limit -2 must be at least 0",
    ),
    (["paper", str(EXAMPLE), "--speed", "0"], "--speed 0 must be positive"),
    (["paper", str(EXAMPLE), "--speed", "-1.5"], "--speed -1.5 must be positive"),
    (["paper", str(EXAMPLE), "--speed", "nan"], "--speed nan must be a finite number"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_an_out_of_range_number_is_one_line_and_exit_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(args, monkeypatch, capsys)
    assert code == 2, out + err
    assert err.strip() == f"error: {message}"
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_check_number_accepts_the_bounds() -> None:
    check_number("--bars", 1, minimum=1, maximum=10)
    check_number("--bars", 10, minimum=1, maximum=10)
    check_number("--speed", 0.001, positive=True)
    with pytest.raises(ConfigError, match="must be at most 10"):
        check_number("--x", 11, maximum=10)
    with pytest.raises(ConfigError, match="must be a finite number"):
        check_number("--speed", float("inf"), positive=True)

"""`tradeloop --help` starts fast: importing the command line loads no heavy library.

The heavy libraries (NumPy, pandas, numba, DuckDB, SciPy, Plotly, CVXPY, Arrow, msgspec) load
inside the commands that use them, never when the ``tradeloop`` app is imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "numpy",
    "pandas",
    "numba",
    "duckdb",
    "scipy",
    "plotly",
    "cvxpy",
    "pyarrow",
    "msgspec",
    "rich.progress",
)


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    return sorted(name for name in HEAVY if name in modules)


def test_importing_the_cli_app_loads_no_heavy_library() -> None:
    assert _loaded_after("import tradeloop.cli.main") == []


def test_help_of_every_command_group_loads_no_heavy_library() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom tradeloop.cli.main import app\n"
        "for args in ([], ['data'], ['bench'], ['journal'], ['tca'], ['replay'], ['backtest']):\n"
        "    result = CliRunner().invoke(app, [*args, '--help'])\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
    )
    assert _loaded_after(code) == []


def test_importing_the_core_errors_loads_no_heavy_library() -> None:
    assert _loaded_after("import tradeloop.core.errors") == []

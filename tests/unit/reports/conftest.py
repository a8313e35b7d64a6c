"""Fixtures of the report tests: a MiniPipeline run and a headless Chromium."""

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"
ROOT = Path(__file__).resolve().parents[3]


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A MiniPipeline backtest (every decision event, tagged child orders, costs)."""
    return _helpers().run_pipeline(tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Return the path of Debian's chromium, installing it when missing; fail if impossible."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-chromium.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            "headless Chromium is required for the report rendering tests and could not be "
            f"installed: {done.stderr.strip() or done.stdout.strip()}",
            pytrace=False,
        )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def plain_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A SmaCross backtest on ORCL: no benchmark, no regimes, no ensemble."""
    folder = tmp_path_factory.mktemp("plain")
    helpers = _helpers()
    return helpers.run_file_sma(helpers.write_orcl_file(folder / "orcl.csv"), folder / "runs")


@pytest.fixture(scope="session")
def hedged_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real Pipeline beta-hedged on SPY (hedge targets and their orders)."""
    return _helpers().run_hedged_pipeline(tmp_path_factory.mktemp("hedged"))

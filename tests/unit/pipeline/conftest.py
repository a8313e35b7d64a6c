from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import msgspec
import pytest

from tradeloop.config import load_config
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest

DEMO = Path(str(files("tradeloop.cli").joinpath("demo.toml")))


def run_config(path: Path, output: Path, **run_overrides: object) -> RunResult:
    config = load_config(path)
    run = msgspec.structs.replace(config.run, output_dir=str(output), **run_overrides)
    config = msgspec.structs.replace(config, run=run)
    return run_backtest(prepare_run(config, path.parent))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run_config(DEMO, tmp_path_factory.mktemp("demo"))

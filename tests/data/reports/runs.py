"""Runs for the journal and report tests: the MiniPipeline config and a file-data SmaCross run.

Loaded by path from the tests (``load_helpers``), since test modules import in importlib mode.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import msgspec

from tradeloop.config.loader import load_config, parse_config
from tradeloop.data import bundled
from tradeloop.engine.runner import RunResult, prepare_run, run_backtest

HERE = Path(__file__).resolve().parent


def run_pipeline(out_dir: Path, **run_overrides: Any) -> RunResult:
    """Run ``pipeline.toml`` (MiniPipeline) as a backtest into ``out_dir``."""
    config = load_config(HERE / "pipeline.toml")
    run = msgspec.structs.replace(config.run, output_dir=str(out_dir), **run_overrides)
    config = msgspec.structs.replace(config, run=run)
    return run_backtest(prepare_run(config, HERE))


def write_orcl_file(
    path: Path, start: str = "2010-01-01", end: str = "2011-12-31", change_date: str | None = None
) -> Path:
    """Write ORCL daily bars (Yahoo format) between two dates; optionally bump one close."""
    with gzip.open(bundled.path("orcl_daily"), "rt") as source:
        lines = source.read().splitlines()
    kept = [lines[0]]
    for line in lines[1:]:
        date = line.split(",")[0]
        if start <= date <= end:
            if date == change_date:
                cells = line.split(",")
                cells[4] = f"{float(cells[4]) * 1.05:.6f}"  # close +5 %, the high raised to match
                cells[2] = f"{max(float(cells[2]), float(cells[4])):.6f}"
                line = ",".join(cells)
            kept.append(line)
    path.write_text("\n".join(kept) + "\n")
    return path


def run_file_sma(
    data_file: Path, out_dir: Path, *, seed: int = 1, fast: int = 5, name: str = "file-sma"
) -> RunResult:
    """Run SmaCross on a Yahoo-format ORCL file as a backtest into ``out_dir``."""
    document = {
        "run": {"name": name, "seed": seed, "starting_cash": "100000", "output_dir": str(out_dir)},
        "instruments": [
            {
                "id": "ORCL.XNAS",
                "kind": "equity",
                "quote_currency": "USD",
                "price_precision": 6,
                "size_precision": 0,
            }
        ],
        "data": [{"path": str(data_file), "format": "yahoo", "instrument_id": "ORCL.XNAS"}],
        "venue": {
            "commission": {"kind": "per_share", "per_share": "0.005", "minimum": "1.00"},
            "slippage": {"kind": "bps", "bps": 2.0},
        },
        "strategies": [
            {
                "class": "SmaCross",
                "params": {
                    "instrument_ids": ["ORCL.XNAS"],
                    "fast": fast,
                    "slow": 20,
                    "quantity": "100",
                },
            }
        ],
    }
    config = parse_config(document, "test config")
    return run_backtest(prepare_run(config, data_file.parent))


def run_hedged_pipeline(out_dir: Path) -> RunResult:
    """Run ``hedged_pipeline.toml`` (the real Pipeline, beta-hedged on SPY) into ``out_dir``."""
    config = load_config(HERE / "hedged_pipeline.toml")
    run = msgspec.structs.replace(config.run, output_dir=str(out_dir))
    return run_backtest(prepare_run(msgspec.structs.replace(config, run=run), HERE))

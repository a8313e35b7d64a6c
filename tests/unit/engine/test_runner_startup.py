"""Startup: config and data errors stop a run before anything is written; a failed start
leaves no run directory; the journal does not depend on the directory a run is started from."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import msgspec
import pytest

from tradeloop.config import parse_config
from tradeloop.core import ConfigError, StrategyError
from tradeloop.engine.runner import prepare_run, run_backtest, run_paper_replay
from tradeloop.journal import LOCATION_FILE, read_base_dir, read_manifest

DATA = Path(__file__).resolve().parents[2] / "data"


def _config(output: Path, **sections: object) -> dict[str, object]:
    return {
        "run": {"name": "t", "output_dir": str(output)},
        "data": [{"dataset": "orcl_daily", "start": "2014-01-01"}],
        "strategies": [{"class": "SmaCross", "params": {"instrument_ids": ["ORCL.XNAS"]}}],
        **sections,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"strategies": [{"class": "SmaCross", "params": {"instrument_ids": ["ORCL.XNYS"]}}]},
            r"strategies\[0\] \(SmaCross\): instrument ORCL.XNYS is unknown; "
            r"known instruments: ORCL.XNAS",
        ),
        (
            {
                "instruments": [
                    {
                        "id": "AAPL.XNAS",
                        "kind": "equity",
                        "quote_currency": "USD",
                        "price_precision": 2,
                    }
                ],
                "strategies": [
                    {"class": "SmaCross", "params": {"instrument_ids": ["ORCL.XNAS", "AAPL.XNAS"]}}
                ],
            },
            r"instrument AAPL.XNAS has no market data in this run",
        ),
        (
            {
                "strategies": [
                    {"class": "SmaCross", "id": "sma", "params": {"instrument_ids": []}},
                    {"class": "SmaCross", "id": "sma", "params": {"instrument_ids": []}},
                ]
            },
            r"strategy ids must be unique; sma appear",
        ),
        (
            {"run": {"name": "t", "benchmark": "SPY.ARCX"}},
            r"run benchmark SPY.ARCX has no bar data in the run; instruments with bars: ORCL.XNAS",
        ),
        (
            {"run": {"name": "t", "base_currency": "EUR"}},
            r"instrument ORCL.XNAS is quoted in USD but the run\'s base currency is EUR; set "
            r'base_currency = "USD"',
        ),
        (
            {"run": {"name": "t", "starting_cash": "lots"}},
            r"run starting_cash 'lots' is not a decimal number",
        ),
        (
            {"data": [{"path": "x.csv", "format": "excel", "instrument_id": "X.Y"}]},
            r"data x.csv: data format 'excel' is unknown",
        ),
        (
            {
                "data": [{"dataset": "orcl_daily"}],
                "instruments": [
                    {
                        "id": "ORCL.XNAS",
                        "kind": "equity",
                        "quote_currency": "USD",
                        "price_precision": 2,
                    }
                ],
            },
            r"data orcl_daily has prices with 6 decimals but instrument ORCL.XNAS uses price "
            r"precision 2",
        ),
        (
            {
                "strategies": [
                    {
                        "class": "Pipeline",
                        "params": {"universe": ["ORCL.XNAS", "NVDA.XNAS"]},
                    }
                ]
            },
            r"strategies\[0\] \(Pipeline\): instrument NVDA.XNAS is unknown",
        ),
    ],
)
def test_config_and_data_mismatches_stop_prepare_run_before_anything_is_written(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    output = tmp_path / "runs"
    raw = _config(output)
    raw.update(change)
    if "run" in change:
        raw["run"] = {**change["run"], "output_dir": str(output)}  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match=message):
        prepare_run(parse_config(raw), tmp_path)
    assert not output.exists()


def test_a_strategy_failing_in_on_start_leaves_no_run_directory(tmp_path: Path) -> None:
    output = tmp_path / "runs"
    prepared = prepare_run(parse_config(_config(output)), tmp_path)

    def boom() -> None:
        raise ValueError("no such indicator")

    prepared.strategies[0].on_start = boom  # type: ignore[method-assign]
    with pytest.raises(StrategyError, match="raised ValueError: no such indicator"):
        run_backtest(prepared)
    assert list(output.iterdir()) == []
    prepared = prepare_run(parse_config(_config(output)), tmp_path)
    prepared.strategies[0].on_start = boom  # type: ignore[method-assign]
    with pytest.raises(StrategyError):
        run_paper_replay(prepared, speed=1e9)
    assert list(output.iterdir()) == []


def test_a_rerun_failing_at_startup_puts_the_previous_run_back(tmp_path: Path) -> None:
    output = tmp_path / "runs"
    first = run_backtest(prepare_run(parse_config(_config(output)), tmp_path))
    journal = first.journal_path.read_bytes()
    prepared = prepare_run(parse_config(_config(output)), tmp_path)
    assert prepared.run_id == first.run_id

    def boom() -> None:
        raise RuntimeError("disk full")

    prepared.strategies[0].on_start = boom  # type: ignore[method-assign]
    with pytest.raises(StrategyError):
        run_backtest(prepared)
    assert [p.name for p in output.iterdir()] == [first.run_id]
    assert first.journal_path.read_bytes() == journal
    assert (first.run_dir / "summary.json").is_file()


CONFIG_IN_ANY_DIRECTORY = """
[run]
name = "moved"
seed = 5
output_dir = "runs"

[[instruments]]
id = "ORCL.XNAS"
kind = "equity"
quote_currency = "USD"
price_precision = 6
tick_size = "0.000001"
exchange_calendar = "XNYS"

[[data]]
path = "data/orcl-2012-2014.txt"
format = "yahoo"
instrument_id = "ORCL.XNAS"

[venue]
commission = { kind = "per_share", per_share = "0.005", minimum = "1.00" }

[[strategies]]
class = "strategies/order_mix.py:OrderMix"
params = { instrument_id = "ORCL.XNAS", quantity = "100", fast = 3, slow = 10 }

[risk]
allow_short_cash = true
"""


def _checkout(root: Path) -> Path:
    # A directory with the config, its data file and its strategy file, as a user's clone has.
    (root / "data").mkdir(parents=True)
    (root / "strategies").mkdir()
    shutil.copy(DATA / "quant" / "orcl-2012-2014.txt", root / "data")
    shutil.copy(DATA / "strategies" / "order_mix.py", root / "strategies")
    config = root / "run.toml"
    config.write_text(CONFIG_IN_ANY_DIRECTORY)
    return config


def test_the_same_config_run_from_two_directories_gives_byte_identical_journals(
    tmp_path: Path,
) -> None:
    from tradeloop.config import load_config

    journals = []
    cwd = os.getcwd()
    try:
        for name in ("first", "second-checkout"):
            config = _checkout(tmp_path / name)
            os.chdir(config.parent)
            result = run_backtest(prepare_run(load_config(config), config.parent))
            assert result.summary["fills"] > 10
            journals.append(result.journal_path.resolve())
            # Where relative paths resolved is beside the journal, not in it.
            assert read_base_dir(result.run_dir) == config.parent.resolve()
            assert (result.run_dir / LOCATION_FILE).is_file()
            assert read_manifest(result.journal_path).base_dir is None
    finally:
        os.chdir(cwd)
    assert journals[0] != journals[1]
    assert journals[0].read_bytes() == journals[1].read_bytes()
    manifest = read_manifest(journals[0])
    assert str(tmp_path) not in msgspec.json.encode(manifest).decode()


def test_a_config_file_source_in_generic_ohlcv_is_detected_with_the_given_options(
    tmp_path: Path,
) -> None:
    from tradeloop.core.time import ns_to_iso

    raw = _config(tmp_path / "runs")
    raw["instruments"] = [
        {
            "id": "SPY.TEST",
            "kind": "equity",
            "quote_currency": "USD",
            "price_precision": 4,
            "exchange_calendar": "XNYS",
        }
    ]
    raw["data"] = [
        {
            "path": str(DATA / "market" / "SPY_D-1999-11.csv"),
            "format": "ohlcv",
            "instrument_id": "SPY.TEST",
            "options": {"volume": ""},  # TOML has no null: "" says the file has no volume
        }
    ]
    raw["strategies"] = [{"class": "SmaCross", "params": {"instrument_ids": ["SPY.TEST"]}}]
    prepared = prepare_run(parse_config(raw), tmp_path)
    (source,) = prepared.sources
    assert len(source.columns) == 25
    assert not source.columns.volume.any()  # no volume read
    # Daily rows and an instrument calendar: dated by XNYS session close.
    assert ns_to_iso(int(source.columns.ts_event[0])).startswith("1999-11-01T21:00:00")
    raw["data"][0]["options"] = {"timestamp": "Datum"}  # type: ignore[index]
    with pytest.raises(ConfigError, match=r"no column 'Datum' for the timestamp"):
        prepare_run(parse_config(raw), tmp_path)

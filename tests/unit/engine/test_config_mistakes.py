"""Config mistakes are one clear error at startup and nothing is written (issue 9, items 4-5).

Each case is an example of a class: the same data fed twice, a written quantity off the lot
grid or not positive, money that is not a positive number, a name that cannot name a
directory, limits that are not positive, a time window that cannot trade.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.config import parse_config
from tradeloop.core import ConfigError
from tradeloop.engine.runner import prepare_run, run_backtest


def _config(output: Path, **sections: object) -> dict[str, object]:
    config: dict[str, object] = {
        "run": {"name": "t", "output_dir": str(output)},
        "data": [{"dataset": "orcl_daily", "start": "2014-01-01"}],
        "strategies": [{"class": "SmaCross", "params": {"instrument_ids": ["ORCL.XNAS"]}}],
    }
    for key, value in sections.items():
        if key == "run":
            config["run"] = {**value, "output_dir": str(output)}  # type: ignore[dict-item]
        else:
            config[key] = value
    return config


def _sma(quantity: str) -> list[dict[str, object]]:
    return [
        {"class": "SmaCross", "params": {"instrument_ids": ["ORCL.XNAS"], "quantity": quantity}}
    ]


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        # the same [[data]] entry twice, and two entries of one instrument's bars that overlap
        (
            {"data": [{"dataset": "orcl_daily"}, {"dataset": "orcl_daily"}]},
            r"data orcl_daily and orcl_daily \(the same entry listed twice\) both give bars of "
            r"ORCL.XNAS from .* every record would reach the strategies twice",
        ),
        (
            {
                "data": [
                    {"dataset": "orcl_daily", "end": "2012-06-30"},
                    {"dataset": "orcl_daily", "start": "2012-01-01"},
                ]
            },
            r"both give bars of ORCL.XNAS from 2012-01-03.* to 2012-06-29",
        ),
        # written quantities: off the lot grid, zero, negative, not a number
        (
            {"strategies": _sma("10.5")},
            r"params: quantity 10.5 is not a positive multiple of ORCL.XNAS's lot size 1",
        ),
        ({"strategies": _sma("0")}, r"quantity 0 is not a positive multiple of ORCL.XNAS's"),
        ({"strategies": _sma("-3")}, r"quantity -3 is not a positive multiple"),
        ({"strategies": _sma("ten")}, r"quantity 'ten' is not a decimal number"),
        # money and run settings
        ({"run": {"starting_cash": "-5"}}, r"run starting_cash -5 must be a positive number"),
        ({"run": {"starting_cash": "0"}}, r"run starting_cash 0 must be a positive number"),
        ({"run": {"starting_cash": "nan"}}, r"run starting_cash nan must be a positive number"),
        ({"run": {"name": "my run"}}, r"run name 'my run' is not a plain name"),
        ({"run": {"name": "../up"}}, r"run name '../up' is not a plain name"),
        ({"run": {"periods_per_year": 0.0}}, r"run periods_per_year 0.0 must be a positive"),
        ({"run": {"equity_sample_every": 0}}, r"run equity_sample_every 0 must be 1 or more"),
        ({"run": {"seed": -1}}, r"run seed -1 must be zero or positive"),
        # a time window that cannot trade
        (
            {"run": {"trading_start": "2030-01-02"}},
            r"run trading_start 2030-01-02 is after the data's last record \(2014-12-31",
        ),
        (
            {"data": [{"dataset": "orcl_daily", "start": "2014-06-01", "end": "2014-01-01"}]},
            r"data orcl_daily: start 2014-06-01 is after end 2014-01-01",
        ),
        # risk limits
        ({"risk": {"max_order_notional": "-1"}}, r"risk max_order_notional -1 must be a positive"),
        ({"risk": {"max_leverage": 0.0}}, r"risk max_leverage 0.0 must be a positive number"),
        ({"risk": {"fee_reserve_bps": -1.0}}, r"risk fee_reserve_bps -1.0 must be zero or more"),
        (
            {"risk": {"max_order_quantity": {"AAPL.XNAS": "100"}}},
            r"risk max_order_quantity names AAPL.XNAS, which is not an instrument of the run",
        ),
        (
            {"risk": {"max_order_quantity": {"ORCL.XNAS": "2.5"}}},
            r"risk: max_order_quantity 2.5 is not a positive multiple of ORCL.XNAS's lot size",
        ),
    ],
)
def test_a_config_mistake_stops_startup_with_one_clear_error_and_writes_nothing(
    tmp_path: Path, sections: dict[str, object], message: str
) -> None:
    output = tmp_path / "runs"
    with pytest.raises(ConfigError, match=message):
        prepare_run(parse_config(_config(output, **sections)), tmp_path)
    assert not output.exists()


def test_overlap_is_judged_by_time_so_consecutive_files_of_one_instrument_run(
    tmp_path: Path,
) -> None:
    sections = {
        "data": [
            {"dataset": "orcl_daily", "start": "2013-01-01", "end": "2013-12-31"},
            {"dataset": "orcl_daily", "start": "2014-01-01"},
        ]
    }
    prepared = prepare_run(parse_config(_config(tmp_path / "runs", **sections)), tmp_path)
    assert len(prepared.sources) == 2


def test_a_data_path_to_a_missing_file_names_the_file_not_the_instrument(tmp_path: Path) -> None:
    # ORCL.XNAS is bundled: its definition serves a file of the user's without [[instruments]]
    data = [{"path": "missing.csv", "format": "yahoo", "instrument_id": "ORCL.XNAS"}]
    with pytest.raises(ConfigError, match=r"data missing.csv: file .*missing.csv does not exist"):
        prepare_run(parse_config(_config(tmp_path / "runs", data=data)), tmp_path)
    (tmp_path / "folder.csv").mkdir()
    data = [{"path": "folder.csv", "format": "yahoo", "instrument_id": "ORCL.XNAS"}]
    with pytest.raises(
        ConfigError, match=r"data folder.csv: file .*folder.csv is a directory, not a file"
    ):
        prepare_run(parse_config(_config(tmp_path / "runs", data=data)), tmp_path)


def test_a_written_quantity_in_user_strategy_code_is_never_rounded(tmp_path: Path) -> None:
    # Strategy.quantity: a string is a written quantity (exact), a float a computed size.
    (tmp_path / "half.py").write_text(
        "from tradeloop.strategy import Strategy\n\n\n"
        "class Half(Strategy):\n"
        "    def on_start(self) -> None:\n"
        "        assert str(self.quantity('ORCL.XNAS', 10.4)) == '10'\n"
        "        self.quantity('ORCL.XNAS', '10.5')\n"
    )
    config = _config(tmp_path / "runs", strategies=[{"class": "half.py:Half"}])
    prepared = prepare_run(parse_config(config), tmp_path)
    with pytest.raises(
        Exception, match=r"quantity 10.5 is not a positive multiple of ORCL.XNAS's lot size 1"
    ):
        run_backtest(prepared)
    assert list((tmp_path / "runs").iterdir()) == []  # a failed start leaves nothing

"""The command line: clear one-line errors (exit 2), commands that work."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app, main

runner = CliRunner()


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_missing_config_is_one_line_on_stderr_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["backtest", "nope.toml"], monkeypatch, capsys)
    assert code == 2
    assert err.strip() == "error: config file nope.toml does not exist"


def test_unknown_instrument_in_strategy_params_is_one_line_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        f'[run]\noutput_dir = "{tmp_path / "runs"}"\n'
        '[[data]]\ndataset = "orcl_daily"\n[[strategies]]\nclass = "SmaCross"\n'
        'params = { instrument_ids = ["ORCL.XNYS"] }\n'
    )
    code, _, err = run_main(["backtest", str(config)], monkeypatch, capsys)
    assert code == 2
    assert err.count("\n") == 1  # no progress bar, no traceback: one line
    assert "instrument ORCL.XNYS is unknown; known instruments: ORCL.XNAS" in err
    assert not (tmp_path / "runs").exists()


def test_error_text_keeps_its_toml_section_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Square brackets are TOML, not console markup: "[[instruments]]" reaches the user intact.
    (tmp_path / "bars.csv").write_text("timestamp,open,high,low,close,volume\n")
    config = tmp_path / "bad.toml"
    config.write_text(
        f'[run]\noutput_dir = "{tmp_path / "runs"}"\n'
        '[[data]]\npath = "bars.csv"\nformat = "ohlcv"\ninstrument_id = "ZZZ.XNAS"\n'
        '[[strategies]]\nclass = "SmaCross"\nparams = { instrument_ids = ["ZZZ.XNAS"] }\n'
    )
    code, _, err = run_main(["backtest", str(config)], monkeypatch, capsys)
    assert code == 2
    assert "instrument ZZZ.XNAS is not defined; add it under [[instruments]]" in err


def test_a_strategy_failing_at_start_is_one_line_and_leaves_no_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.py").write_text(
        "from tradeloop.strategy import Strategy\n\n\n"
        "class Broken(Strategy):\n"
        "    def on_start(self) -> None:\n"
        "        self.subscribe_bars('ORCL.XNYS')\n"
    )
    config = tmp_path / "broken.toml"
    config.write_text(
        f'[run]\noutput_dir = "{tmp_path / "runs"}"\n'
        '[[data]]\ndataset = "orcl_daily"\n[[strategies]]\nclass = "broken.py:Broken"\n'
    )
    for mode in (["backtest"], ["paper", "--speed", "1000000000"]):
        code, _, err = run_main([mode[0], str(config), *mode[1:]], monkeypatch, capsys)
        assert code == 2
        assert err.count("\n") == 1
        assert "Broken: instrument ORCL.XNYS is unknown" in err
        assert list((tmp_path / "runs").iterdir()) == []


def test_unknown_bundled_dataset_lists_the_known_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[[data]]\ndataset = "aapl"\n[[strategies]]\nclass = "SmaCross"\nparams = { instrument_ids = [] }\n'
    )
    code, _, err = run_main(["backtest", str(config)], monkeypatch, capsys)
    assert code == 2
    assert "bundled dataset 'aapl' is unknown; bundled datasets: " in err
    assert "orcl_daily" in err


def test_backtest_json_summary_and_run_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "sma.toml"
    config.write_text(
        f'[run]\nname = "t"\noutput_dir = "{tmp_path / "runs"}"\n[[data]]\ndataset = "orcl_daily"\nstart = "2010-01-01"\n'
        '[[strategies]]\nclass = "SmaCross"\nparams = { instrument_ids = ["ORCL.XNAS"], quantity = "100" }\n'
    )
    result = runner.invoke(app, ["backtest", str(config), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    run_dir = Path(summary["run_dir"])
    assert {p.name for p in run_dir.iterdir()} >= {
        "journal.sqlite",
        "summary.json",
        "equity.csv",
        "quality.json",
    }
    assert summary["fills"] > 0
    assert summary["buys"] >= summary["sells"]


def test_data_list_shows_the_bundled_datasets() -> None:
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0
    for name in (
        "orcl_daily",
        "nvda_daily",
        "yhoo_daily",
        "goog_daily",
        "spy_daily",
        "btcusdt_perp_1m",
    ):
        assert name in result.stdout


def test_data_validate_reports_a_quarantined_row(tmp_path: Path) -> None:
    data = tmp_path / "bars.csv"
    data.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2014-01-02,10,11,9,10.5,10.5,100\n"
        "2014-01-03,10,9,11,10.5,10.5,100\n"
        "2014-01-06,10,11,9,10.5,10.5,100\n"
    )
    result = runner.invoke(
        app, ["data", "validate", str(data), "-f", "yahoo", "-i", "X.XNAS", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_in"] == 3
    assert report["rows_clean"] == 2
    assert report["quarantined"][0]["rule"] == "ohlc_inconsistent"


def test_bench_sma_json_has_the_documented_keys() -> None:
    result = runner.invoke(app, ["bench", "sma", "--bars", "20000", "--json"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip())
    assert {"bars", "trades", "final_equity", "seconds", "bars_per_s", "peak_rss_mb"} <= set(line)
    assert line["bars"] == 20000

"""``tradeloop data import|validate`` on real files, and the catalog round trip into a backtest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.cli.journals import fills, order_records
from typer.testing import CliRunner

from tradeloop.cli.main import app, main
from tradeloop.core.time import ns_to_iso
from tradeloop.data import Catalog, bundled, read_file

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
MARKET = ROOT / "tests" / "data" / "market"


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def _backtest(config: Path) -> dict[str, object]:
    result = runner.invoke(app, ["backtest", str(config), "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


# -- the catalog round trip ------------------------------------------------------------------

BTC_SPOT = """
[[instruments]]
id = "BTCUSDT.BINANCE"
kind = "crypto_spot"
quote_currency = "USDT"
base_currency = "BTC"
price_precision = 2
size_precision = 6
tick_size = "0.01"
lot_size = "0.000001"
"""


def _btc_config(tmp_path: Path, name: str, data: str, extra: str = "") -> Path:
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f"""
[run]
name = "{name}"
starting_cash = "1000000"
base_currency = "USDT"
periods_per_year = 365
output_dir = "{tmp_path / "runs"}"

[[data]]
{data}
instrument_id = "BTCUSDT.BINANCE"
start = "2022-01-03"
end = "2022-01-08"
{extra}
[venue]
commission = {{ kind = "bps", bps = 10.0 }}

[[strategies]]
class = "SmaCross"
params = {{ instrument_ids = ["BTCUSDT.BINANCE"], fast = 10, slow = 30, quantity = "0.5" }}
"""
    )
    return config


def test_import_of_a_bundled_file_then_a_backtest_from_the_catalog_equals_one_from_the_file(
    tmp_path: Path,
) -> None:
    source = bundled.path("btcusdt_perp_1m")  # the README's `data import ... --format ohlcv`
    catalog = tmp_path / "catalog"
    result = runner.invoke(
        app,
        [
            "data",
            "import",
            str(source),
            "--format",
            "ohlcv",
            "--instrument",
            "BTCUSDT.BINANCE",
            "--catalog",
            str(catalog),
        ],
    )
    assert result.exit_code == 0, result.output
    # The definition stored is the bundled registry's, independent of any run config.
    assert Catalog(catalog).instrument("BTCUSDT.BINANCE") == bundled.find_instrument(
        "BTCUSDT.BINANCE"
    )

    from_catalog = _backtest(_btc_config(tmp_path, "from-catalog", f'catalog = "{catalog}"'))
    from_file = _backtest(
        _btc_config(tmp_path, "from-file", f'path = "{source}"\nformat = "ohlcv"', extra=BTC_SPOT)
    )
    assert from_catalog["records"] == from_file["records"] > 7_000
    assert int(str(from_file["fills"])) > 50
    for key in ("orders", "fills", "buys", "sells", "final_equity", "fees", "realized_pnl"):
        assert from_catalog[key] == from_file[key], key
    assert fills(str(from_catalog["run_dir"])) == fills(str(from_file["run_dir"]))
    assert order_records(str(from_catalog["run_dir"])) == order_records(str(from_file["run_dir"]))


def test_import_of_an_instrument_nobody_defines_is_one_clear_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog"
    code, _, err = run_main(
        [
            "data",
            "import",
            str(MARKET / "SPY_D-1999-11.csv"),
            "-f",
            "ohlcv",
            "-i",
            "SPX.CBOE",
            "-c",
            str(catalog),
        ],
        monkeypatch,
        capsys,
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "instrument SPX.CBOE is not defined" in err
    assert "--kind, --currency and --price-precision" in err
    assert not catalog.exists() or not any(catalog.rglob("*.parquet"))


def test_import_with_definition_flags_stores_the_definition_a_backtest_then_uses(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "catalog"
    args = ["data", "import", str(MARKET / "SPY_D-1999-11.csv"), "-f", "ohlcv"]
    args += ["-i", "SPY.BATS", "-c", str(catalog), "--kind", "equity", "--currency", "USD"]
    args += ["--price-precision", "4", "--calendar", "XNYS"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    stored = Catalog(catalog).instrument("SPY.BATS")
    assert (stored.kind, stored.price_precision, stored.exchange_calendar) == (
        "equity",
        4,
        "XNYS",
    )
    bars = Catalog(catalog).bars("SPY.BATS")
    # Dated by XNYS session: the first bar closes at 16:00 New York on 1999-11-01.
    assert ns_to_iso(int(bars.ts_event[0])).startswith("1999-11-01T21:00:00")
    config = tmp_path / "spy.toml"
    config.write_text(
        f'[run]\noutput_dir = "{tmp_path / "runs"}"\n'
        f'[[data]]\ncatalog = "{catalog}"\ninstrument_id = "SPY.BATS"\n'
        '[[strategies]]\nclass = "SmaCross"\n'
        'params = { instrument_ids = ["SPY.BATS"], fast = 2, slow = 5 }\n'
    )
    assert _backtest(config)["records"] == 25
    # Another definition of the same id is refused, not silently stored over the first.
    clash = runner.invoke(app, [*args[:-4], "--price-precision", "2"])
    assert clash.exit_code != 0
    assert Catalog(catalog).instrument("SPY.BATS") == stored


def test_a_catalog_without_a_definition_uses_the_configs_instruments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Catalog(tmp_path / "catalog")
    read = read_file(MARKET / "orcl-1995-01.txt", format="yahoo", instrument="ORCL.XNYS")
    catalog.write(read.columns)  # data only, as a catalog written by other tools may be
    base = (
        f'[run]\noutput_dir = "{tmp_path / "runs"}"\n'
        f'[[data]]\ncatalog = "{catalog.root}"\ninstrument_id = "ORCL.XNYS"\n'
        '[[strategies]]\nclass = "SmaCross"\n'
        'params = { instrument_ids = ["ORCL.XNYS"], fast = 2, slow = 5 }\n'
    )
    config = tmp_path / "orcl.toml"
    config.write_text(base)
    code, _, err = run_main(["backtest", str(config), "--json"], monkeypatch, capsys)
    assert code == 2
    assert "has no definition of instrument ORCL.XNYS and the config defines none" in err
    config.write_text(
        base + '[[instruments]]\nid = "ORCL.XNYS"\nkind = "equity"\nquote_currency = "USD"\n'
        f"price_precision = {read.columns.price_precision}\n"
    )
    assert _backtest(config)["records"] == len(read.columns)


# -- validate: real files, detected layouts, exit status -------------------------------------


@pytest.mark.parametrize(
    ("file", "instrument", "extra", "rows", "first_close"),
    [
        # unnamed row index + `date`, float volume; SPY.ARCX is bundled: XNYS sessions
        ("SPY_D-1999-11.csv", "SPY.ARCX", [], 25, "1999-11-01T21:00:00"),
        # unnamed date index; an unknown instrument: known at the end of its UTC day
        ("GOOG-2004-08.csv", "GOOGL.TEST", [], 25, "2004-08-20T00:00:00"),
        # the same file with a calendar: dated by session
        ("GOOG-2004-08.csv", "GOOGL.TEST", ["--calendar", "XNYS"], 25, "2004-08-19T20:00:00"),
        # unnamed datetime index, hourly
        ("EURUSD-2017-04-head.csv", "EURUSD.TEST", [], 25, "2017-04-19T09:00:00"),
        # `timestamp_utc`
        ("6EH4.XCME_1min_head.csv", "6EH4.TEST", [], 120, "2024-01-01T23:01:00"),
        # no volume column; FXCM stamps bar opens
        (
            "gbpusd-m1-bid-2012-02-01-head.csv",
            "GBPUSD.TEST",
            ["--stamp", "open", "--interval", "1min"],
            120,
            "2012-02-01T00:01:00",
        ),
        # separate Date and Time columns
        ("2006-min-005-head.txt", "STOXX.TEST", [], 40, "2006-01-02T09:05:00"),
        # a wrong upstream header: name the columns
        (
            "2006-01-02-volume-min-001-head.txt",
            "FESX.TEST",
            ["--names", "Date,Time,Open,High,Low,Close,Volume,OpenInterest"],
            30,
            "2006-01-02T09:01:00",
        ),
    ],
)
def test_validate_reads_real_generic_ohlcv_files(
    file: str, instrument: str, extra: list[str], rows: int, first_close: str
) -> None:
    args = ["data", "validate", str(MARKET / file), "-f", "ohlcv", "-i", instrument, "--json"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_in"] == report["rows_clean"] == rows
    assert report["quarantined"] == []
    read = read_file(
        MARKET / file,
        format="ohlcv",
        instrument=bundled.find_instrument(instrument) or instrument,
        options=_options(extra),
    )
    assert ns_to_iso(int(read.columns.ts_event[0])).startswith(first_close)


def _options(extra: list[str]) -> dict[str, object] | None:
    flags = dict(zip(extra[::2], extra[1::2], strict=True))
    options: dict[str, object] = {}
    if "--names" in flags:
        options["column_names"] = flags["--names"].split(",")
    for flag in ("--stamp", "--interval", "--calendar"):
        if flag in flags:
            options[flag[2:]] = flags[flag]
    return options or None


def test_a_header_that_does_not_match_the_rows_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = MARKET / "2006-01-02-volume-min-001-head.txt"
    code, _, err = run_main(
        ["data", "validate", str(file), "-f", "ohlcv", "-i", "FESX.TEST"], monkeypatch, capsys
    )
    assert code == 2
    assert "names 7 columns (Date,Open,High,Low,Close,Volume,OpenInterest) but its rows" in err
    assert "--names" in err


def test_column_mapping_flags_and_options_json_map_the_columns(tmp_path: Path) -> None:
    data = tmp_path / "bars.csv"
    data.write_text(
        "Datum;Eroeffnung;Hoch;Tief;Schluss\n"
        "20240102;10.5;11;10;10.75\n"
        "20240103;10.75;11.25;10.5;11\n"
    )
    args = ["data", "validate", str(data), "-f", "ohlcv", "-i", "X.TEST", "--json"]
    args += ["--column", "timestamp=Datum", "--column", "open=Eroeffnung", "--column", "high=Hoch"]
    args += ["--column", "low=Tief", "--column", "close=Schluss", "--no-volume"]
    args += ["--options", '{"delimiter": ";", "timestamp_format": "%Y%m%d"}']
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_clean"] == 2


def test_an_unknown_option_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = str(MARKET / "GOOG-2004-08.csv")
    code, _, err = run_main(
        ["data", "validate", file, "-f", "ohlcv", "-i", "G.TEST", "--column", "adj=Adj"],
        monkeypatch,
        capsys,
    )
    assert code == 2
    assert "ohlcv options ['adj'] are unknown" in err


def test_validate_exits_1_when_no_row_is_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2014-01-02,10,9,11,10.5,10.5,100\n"
        "2014-01-03,-1,11,9,10.5,10.5,100\n"
    )
    code, out, err = run_main(
        ["data", "validate", str(data), "-f", "yahoo", "-i", "X.XNAS", "--json"],
        monkeypatch,
        capsys,
    )
    assert code == 1
    assert json.loads(out)["rows_clean"] == 0
    assert "no clean row" in err


def test_validate_strict_exits_1_on_any_quarantined_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "one-bad.csv"
    data.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2014-01-02,10,11,9,10.5,10.5,100\n"
        "2014-01-03,10,9,11,10.5,10.5,100\n"
    )
    args = ["data", "validate", str(data), "-f", "yahoo", "-i", "X.XNAS", "--json"]
    assert run_main(args, monkeypatch, capsys)[0] == 0
    assert run_main([*args, "--strict"], monkeypatch, capsys)[0] == 1


def test_validate_and_import_sort_a_shuffled_file_with_sort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    header, *body = (MARKET / "orcl-1995-01.txt").read_text().splitlines()
    data = tmp_path / "shuffled.csv"
    data.write_text("\n".join([header, *body[::-1]]) + "\n")
    args = ["data", "validate", str(data), "-f", "yahoo", "-i", "ORCL.XNAS", "--json"]
    code, out, _ = run_main(args, monkeypatch, capsys)
    unsorted = json.loads(out)
    assert code == 0
    assert unsorted["rows_clean"] == 1
    assert "--sort" in unsorted["quarantined"][0]["message"]
    code, out, _ = run_main([*args, "--sort"], monkeypatch, capsys)
    assert (code, json.loads(out)["rows_clean"]) == (0, len(body))
    catalog = tmp_path / "cat"
    imported = ["data", "import", str(data), "-f", "yahoo", "-i", "ORCL.XNAS", "-c", str(catalog)]
    assert run_main([*imported, "--sort"], monkeypatch, capsys)[0] == 0
    assert len(Catalog(catalog).bars("ORCL.XNAS")) == len(body)

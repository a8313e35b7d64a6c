from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeloop.core import ConfigError, parse_time
from tradeloop.data import (
    BarColumns,
    OhlcvFormat,
    QualityReport,
    Rule,
    ValidationConfig,
    read_binance_quotes,
    read_binance_trades,
    read_ohlcv,
    read_yahoo_csv,
    spike_mask,
    validate,
    validate_file,
)
from tradeloop.data.readers import ReadResult

Craft = Callable[[str, Callable[[list[str]], list[str]]], Path]
ORCL = "orcl-1995-01.txt"
BTC = "btc-perp-20211231-head.csv"
EURO = "6EH4.XCME_1min_head.csv"
TRADES = "binance-btcusdt-trades-head.csv"
QUOTES = "binance-btcusdt-quotes-head.csv"
MARKET = Path(__file__).resolve().parents[2] / "data" / "market"


def set_field(row: int, column: int, value: str) -> Callable[[list[str]], list[str]]:
    """Return an edit that sets field ``column`` of data row ``row`` (header is line 0)."""

    def edit(lines: list[str]) -> list[str]:
        fields = lines[row + 1].split(",")
        fields[column] = value
        lines[row + 1] = ",".join(fields)
        return lines

    return edit


def only_record(report: QualityReport) -> tuple[int, Rule, str, str]:
    (record,) = report.quarantined
    assert report.instrument_id in record.message
    assert record.value in record.message
    assert record.rule.value in record.message
    return record.row, record.rule, record.field, record.value


def orcl(path: Path, price_precision: int | None = None) -> QualityReport:
    return validate(read_yahoo_csv(path, "ORCL.XNAS", price_precision=price_precision)).report


# -- each rule on a crafted copy of real rows -------------------------------------------------


def test_real_orcl_slice_is_clean(market: Path) -> None:
    report = orcl(market / ORCL)
    assert report.is_clean
    assert (report.rows_in, report.rows_clean) == (25, 25)


def test_nan_close_is_quarantined_as_non_finite(craft: Craft) -> None:
    report = orcl(craft(ORCL, set_field(3, 4, "nan")))
    assert only_record(report) == (3, Rule.NON_FINITE, "close", "nan")
    assert report.rows_clean == 24


def test_text_price_is_quarantined_as_unparseable(craft: Craft) -> None:
    assert only_record(orcl(craft(ORCL, set_field(3, 1, "2.1x")))) == (
        3,
        Rule.UNPARSEABLE,
        "open",
        "2.1x",
    )


def test_value_with_more_decimals_than_given_is_quarantined_as_excess_precision(
    craft: Craft,
) -> None:
    report = orcl(craft(ORCL, set_field(2, 2, "2.1481485")), price_precision=6)
    assert only_record(report) == (2, Rule.EXCESS_PRECISION, "high", "2.1481485")


def test_zero_low_is_quarantined_as_non_positive_price(craft: Craft) -> None:
    assert only_record(orcl(craft(ORCL, set_field(4, 3, "0.000000")))) == (
        4,
        Rule.NON_POSITIVE_PRICE,
        "low",
        "0.000000",
    )


def test_high_below_close_is_quarantined_as_ohlc_inconsistent(craft: Craft) -> None:
    # Row 5 is 1995-01-10: close 2.166666; a high of 2.160000 is below it.
    report = orcl(craft(ORCL, set_field(5, 2, "2.160000")))
    assert only_record(report) == (5, Rule.OHLC_INCONSISTENT, "high", "2.160000")
    assert "below max(open, close, low)" in report.quarantined[0].message


def test_low_above_close_is_quarantined_as_ohlc_inconsistent(craft: Craft) -> None:
    # Row 6 is 1995-01-11: open 2.203704, high 2.216049, close 2.120370.
    report = orcl(craft(ORCL, set_field(6, 3, "2.150000")))
    assert only_record(report) == (6, Rule.OHLC_INCONSISTENT, "low", "2.150000")


def test_negative_volume_is_quarantined(craft: Craft) -> None:
    assert only_record(orcl(craft(ORCL, set_field(7, 6, "-100")))) == (
        7,
        Rule.NEGATIVE_VOLUME,
        "volume",
        "-100",
    )


def test_repeated_row_is_quarantined_as_duplicate_timestamp_keeping_the_first(craft: Craft) -> None:
    report = orcl(craft(ORCL, lambda lines: [*lines[:8], lines[7], *lines[8:]]))
    row, rule, field, value = only_record(report)
    assert (row, rule, field) == (7, Rule.DUPLICATE_TIMESTAMP, "ts_init")
    assert value == "1995-01-11T21:00:00.000000000Z"
    assert report.rows_in == 26


def test_row_moved_later_is_the_only_one_quarantined_as_out_of_order(craft: Craft) -> None:
    # Row 10 is moved after row 20: only it breaks the order, not the rows it jumped.
    report = orcl(craft(ORCL, lambda lines: [*lines[:11], *lines[12:22], lines[11], *lines[22:]]))
    row, rule, _field, _value = only_record(report)
    assert (row, rule) == (20, Rule.OUT_OF_ORDER)
    assert report.quarantined[0].line == 22


def test_single_mistyped_future_year_costs_one_row(craft: Craft) -> None:
    # 1995-01-09 typed as 2005-01-10 (a session too): every later row would be "earlier".
    report = orcl(craft(ORCL, lambda lines: [*lines[:5], "2005-01-10" + lines[5][10:], *lines[6:]]))
    assert only_record(report)[:2] == (4, Rule.OUT_OF_ORDER)


def test_isolated_price_spike_is_quarantined_as_outlier_spike(craft: Craft) -> None:
    # Row 60 of the BTC minutes (close 46347) printed 5 % higher, then the market is back.
    def edit(lines: list[str]) -> list[str]:
        fields = lines[61].split(",")
        fields[4] = f"{float(fields[4]) * 1.05:.1f}"
        fields[2] = fields[4]
        lines[61] = ",".join(fields)
        return lines

    report = validate(read_ohlcv(craft(BTC, edit), "BTCUSDT-PERP.BINANCE")).report
    row, rule, field, _value = only_record(report)
    assert (row, rule, field) == (60, Rule.OUTLIER_SPIKE, "close")
    assert "MADs" in report.quarantined[0].message


def test_spike_rule_can_be_turned_off(craft: Craft) -> None:
    def edit(lines: list[str]) -> list[str]:
        fields = lines[61].split(",")
        fields[2] = fields[4] = f"{float(fields[4]) * 1.05:.1f}"
        lines[61] = ",".join(fields)
        return lines

    read = read_ohlcv(craft(BTC, edit), "BTCUSDT-PERP.BINANCE")
    assert validate(read, ValidationConfig(spike_threshold_mad=None)).report.rows_quarantined == 0


def test_bar_outside_the_calendar_sessions_is_quarantined(craft: Craft) -> None:
    # The last row moved to Saturday 2024-01-06 12:00 UTC, when CME Globex is shut.
    def edit(lines: list[str]) -> list[str]:
        lines[-1] = "2024-01-06 12:00:00" + lines[-1][19:]
        return lines

    read = read_ohlcv(
        craft(EURO, edit), "6EH4.XCME", OhlcvFormat(timestamp="timestamp_utc", calendar="CMES")
    )
    assert only_record(validate(read).report)[:3] == (119, Rule.OUTSIDE_SESSION, "ts_event")


def test_crossed_quote_is_quarantined(craft: Craft) -> None:
    # Row 10: bid raised above the ask of 39433.6.
    report = validate(
        read_binance_quotes(craft(QUOTES, set_field(10, 6, "39500.0")), "BTCUSDT.BINANCE")
    ).report
    row, rule, field, value = only_record(report)
    assert (row, rule, field) == (10, Rule.CROSSED_QUOTE, "bid_price")
    assert value.startswith("39500.00 > ask")


def test_negative_quote_size_is_quarantined(craft: Craft) -> None:
    report = validate(
        read_binance_quotes(craft(QUOTES, set_field(5, 3, "-0.5")), "BTCUSDT.BINANCE")
    ).report
    assert only_record(report) == (5, Rule.NEGATIVE_VOLUME, "ask_size", "-0.500000")


def test_zero_size_trade_is_quarantined(craft: Craft) -> None:
    report = validate(
        read_binance_trades(craft(TRADES, set_field(8, 4, "0.0")), "BTCUSDT.BINANCE")
    ).report
    assert only_record(report) == (8, Rule.NON_POSITIVE_SIZE, "size", "0.000000")


def test_negative_trade_price_is_quarantined(craft: Craft) -> None:
    report = validate(
        read_binance_trades(craft(TRADES, set_field(8, 3, "-39432.48")), "BTCUSDT.BINANCE")
    ).report
    assert only_record(report) == (8, Rule.NON_POSITIVE_PRICE, "price", "-39432.48")


def test_repeated_trade_id_is_quarantined_keeping_the_first(craft: Craft) -> None:
    report = validate(
        read_binance_trades(
            craft(TRADES, lambda lines: [*lines[:12], lines[11], *lines[12:]]), "BTCUSDT.BINANCE"
        )
    ).report
    assert only_record(report)[:3] == (11, Rule.DUPLICATE_TRADE_ID, "trade_id")


def test_trades_sharing_a_millisecond_are_kept(market: Path) -> None:
    trades = read_binance_trades(market / TRADES, "BTCUSDT.BINANCE")
    assert len(np.unique(trades.columns.ts_init)) < len(trades.columns)
    assert validate(trades).report.rows_quarantined == 0


# -- findings ---------------------------------------------------------------------------------


def test_missing_daily_sessions_are_reported_as_one_gap(craft: Craft) -> None:
    # Rows 10 and 11 are 1995-01-17 and 1995-01-18.
    report = orcl(craft(ORCL, lambda lines: [*lines[:11], *lines[13:]]))
    assert report.rows_quarantined == 0
    (gap,) = report.findings
    assert (gap.rule, gap.count, gap.unit) == (Rule.GAP, 2, "sessions")
    assert gap.start_ts == parse_time("1995-01-17T21:00:00Z")
    assert gap.end_ts == parse_time("1995-01-18T21:00:00Z")
    assert "1995-01-17 .. 1995-01-18" in gap.message


def test_calendar_holidays_are_not_gaps(market: Path) -> None:
    # The Thanksgiving slice skips 2013-11-28 (a holiday): no gap.
    assert (
        validate(
            read_yahoo_csv(market / "orcl-2013-11-thanksgiving.txt", "ORCL.XNAS")
        ).report.findings
        == ()
    )


def test_missing_minutes_of_24_7_bars_are_reported(craft: Craft) -> None:
    report = validate(
        read_ohlcv(craft(BTC, lambda lines: [*lines[:31], *lines[34:]]), "BTCUSDT-PERP.BINANCE")
    ).report
    (gap,) = report.gaps
    assert (gap.count, gap.unit) == (3, "intervals")
    assert gap.start_ts == parse_time("2021-12-31T23:31:00Z")
    assert gap.end_ts == parse_time("2021-12-31T23:33:00Z")


def test_missing_minutes_inside_calendar_sessions_are_reported(market: Path, craft: Craft) -> None:
    fmt = OhlcvFormat(timestamp="timestamp_utc", calendar="CMES")
    before = {g.start_ts for g in validate(read_ohlcv(market / EURO, "6EH4.XCME", fmt)).report.gaps}
    crafted = craft(EURO, lambda lines: [*lines[:51], *lines[52:]])
    removed = parse_time(
        market.joinpath(EURO).read_text().splitlines()[51].split(",")[0].replace(" ", "T") + "Z"
    )
    after = {g.start_ts: g for g in validate(read_ohlcv(crafted, "6EH4.XCME", fmt)).report.gaps}
    assert removed not in before
    assert after[removed].count == 1
    assert "inside CMES sessions" in after[removed].message


def test_zero_volume_run_is_a_finding_not_a_quarantine(craft: Craft) -> None:
    def edit(lines: list[str]) -> list[str]:
        for row in (40, 41):
            lines[row + 1] = lines[row + 1].rsplit(",", 1)[0] + ",0.0"
        return lines

    report = validate(read_ohlcv(craft(BTC, edit), "BTCUSDT-PERP.BINANCE")).report
    assert report.rows_quarantined == 0
    (finding,) = report.findings
    assert (finding.rule, finding.count, finding.unit) == (Rule.ZERO_VOLUME, 2, "bars")


def test_clean_columns_are_sorted_and_carry_their_source_rows(craft: Craft) -> None:
    result = validate(
        read_yahoo_csv(
            craft(ORCL, lambda lines: [*lines[:11], *lines[12:22], lines[11], *lines[22:]]),
            "ORCL.XNAS",
        )
    )
    assert (np.diff(result.clean.ts_init) >= 0).all()
    assert 20 not in result.clean_rows.tolist()
    assert len(result.clean_rows) == len(result.clean) == 24


# -- spike rule alone -------------------------------------------------------------------------


def test_spike_in_a_flat_series_is_found_despite_zero_mad() -> None:
    prices = np.full(40, 100.0)
    prices[30] = 150.0
    assert np.flatnonzero(spike_mask(prices)).tolist() == [30]


def test_a_move_that_does_not_reverse_is_not_a_spike() -> None:
    prices = np.full(40, 100.0)
    prices[30:] = 150.0
    assert not spike_mask(prices).any()


def test_a_partial_reversal_below_the_fraction_is_not_a_spike() -> None:
    prices = np.full(40, 100.0)
    prices[30] = 150.0
    prices[31:] = 140.0
    assert not spike_mask(prices).any()
    assert spike_mask(prices, reversal_fraction=0.1)[30]


@pytest.mark.parametrize("row", [0, 1, 2, 5, 19, 20, 21])
def test_spike_inside_the_warm_up_rows_is_found(row: int) -> None:
    rng = np.random.default_rng(7)
    prices = 2.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 60)))
    prices[row] *= 1.5
    assert np.flatnonzero(spike_mask(prices)).tolist() == [row]


def test_a_level_shift_in_the_warm_up_rows_is_not_a_spike() -> None:
    prices = np.full(40, 100.0)
    prices[5:] = 150.0
    assert not spike_mask(prices).any()
    prices = np.full(40, 100.0)
    prices[1:] = 150.0  # row 0 alone differs: the rows after it agree, so row 0 is the spike
    assert np.flatnonzero(spike_mask(prices)).tolist() == [0]


def test_invalid_spike_settings_raise_config_error() -> None:
    with pytest.raises(ConfigError):
        ValidationConfig(spike_min_history=1)
    with pytest.raises(ConfigError):
        ValidationConfig(calendar="NOPE")


# -- nothing is lost --------------------------------------------------------------------------

_BASE = read_yahoo_csv(MARKET / ORCL, "ORCL.XNAS").columns

_corruption = st.sampled_from(
    ["none", "none", "none", "high_low", "zero_price", "negative_volume", "big_close"]
)


@settings(max_examples=150, deadline=None)
@given(
    order=st.lists(st.integers(min_value=0, max_value=len(_BASE) - 1), min_size=0, max_size=60),
    corruptions=st.lists(_corruption, min_size=60, max_size=60),
)
def test_validation_loses_no_row_of_in_memory_bars(
    order: list[int], corruptions: list[str]
) -> None:
    bars = _BASE.take(np.asarray(order, dtype=np.int64))
    high, low, close, volume = (
        bars.high.copy(),
        bars.low.copy(),
        bars.close.copy(),
        bars.volume.copy(),
    )
    for i, corruption in enumerate(corruptions[: len(bars)]):
        if corruption == "high_low":
            high[i] = low[i] - 1
        elif corruption == "zero_price":
            low[i] = 0
        elif corruption == "negative_volume":
            volume[i] = -1
        elif corruption == "big_close":
            close[i] *= 3
            high[i] = close[i]
    crafted = BarColumns(
        "ORCL.XNAS", 6, 0, bars.ts_event, bars.ts_init, bars.open, high, low, close, volume
    )
    result = validate(crafted)
    quarantined = [r.row for r in result.report.quarantined]
    clean = result.clean_rows.tolist()
    assert len(clean) + len(quarantined) == len(crafted) == result.report.rows_in
    assert sorted(clean + quarantined) == list(range(len(crafted)))
    assert (np.diff(result.clean.ts_init) > 0).all()


_line_damage = st.sampled_from(["keep", "keep", "keep", "drop_field", "garble", "nan", "swap_date"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    damage=st.lists(_line_damage, min_size=25, max_size=25),
    repeat=st.integers(min_value=0, max_value=24),
)
def test_validation_loses_no_row_of_a_damaged_file(
    tmp_path: Path, damage: list[str], repeat: int
) -> None:
    header, *lines = (MARKET / ORCL).read_text().splitlines()
    out = []
    for line, how in zip(lines, damage, strict=True):
        fields = line.split(",")
        if how == "drop_field":
            fields = fields[:-1]
        elif how == "garble":
            fields[2] = "??"
        elif how == "nan":
            fields[4] = ""
        elif how == "swap_date":
            fields[0] = "1995-02-18"  # a Saturday
        out.append(",".join(fields))
    out.append(out[repeat])
    path = tmp_path / "damaged.csv"
    path.write_text("\n".join([header, *out]) + "\n")
    read: ReadResult[BarColumns] = read_yahoo_csv(path, "ORCL.XNAS")
    result = validate(read)
    rows = sorted([*result.clean_rows.tolist(), *(r.row for r in result.report.quarantined)])
    assert rows == list(range(26))
    assert result.report.rows_in == 26


# -- outlier_range: open/high/low far from the bar's close, quote spreads far too wide ----------


def _rewrite(source: Path, target: Path, line: int, changes: dict[int, str]) -> Path:
    # Replace fields (0-based) of one line (1-based, header is line 1) of a real slice.
    rows = source.read_text().split("\n")
    fields = rows[line - 1].split(",")
    for index, value in changes.items():
        fields[index] = value
    rows[line - 1] = ",".join(fields)
    target.write_text("\n".join(rows))
    return target


# (format, slice, line, {field index: value}, the field named): the slices trade near 2.1
# (ORCL 1995), 46000 (BTC), 0.000028 (ADABTC) and 39000 (BTCUSDT quotes).
RANGE_CASES = [
    ("yahoo", ORCL, 8, {2: "250000"}, "high"),
    ("yahoo", ORCL, 3, {2: "25"}, "high"),
    ("yahoo", ORCL, 12, {3: "0.002"}, "low"),
    ("yahoo", ORCL, 15, {1: "40", 2: "40"}, "open"),
    ("ohlcv", BTC, 2, {2: "4600000.0"}, "high"),
    ("ohlcv", BTC, 90, {3: "460.0"}, "low"),
    ("binance-klines", "ADABTC-1m-2021-11-28.csv", 4, {2: "0.28"}, "high"),
    ("quotes", QUOTES, 30, {6: "3943.1"}, "bid_price"),
]


@pytest.mark.parametrize(("fmt", "name", "line", "changes", "field"), RANGE_CASES)
def test_price_far_outside_the_bars_range_is_quarantined_as_outlier_range(
    tmp_path: Path, fmt: str, name: str, line: int, changes: dict[int, str], field: str
) -> None:
    spoiled = _rewrite(MARKET / name, tmp_path / name, line, changes)
    report = validate_file(spoiled, format=fmt, instrument="X.SIM")
    (record,) = report.quarantined
    assert (record.line, record.rule, record.field) == (line, Rule.OUTLIER_RANGE, field)
    assert "times the series' median" in record.message


def test_high_far_above_the_close_in_a_parquet_file_is_quarantined_as_outlier_range(
    tmp_path: Path,
) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    spoiled = _rewrite(MARKET / BTC, tmp_path / "btc.csv", 40, {2: "999999.0"})
    pq.write_table(pacsv.read_csv(spoiled), tmp_path / "btc.parquet")
    report = validate_file(tmp_path / "btc.parquet", format="ohlcv", instrument="X.SIM")
    (record,) = report.quarantined
    assert (record.row, record.rule, record.field) == (38, Rule.OUTLIER_RANGE, "high")


def test_range_rule_can_be_turned_off_and_real_wide_bars_pass(market: Path) -> None:
    spoiled = read_yahoo_csv(market / ORCL, "ORCL.XNAS")
    assert validate(spoiled).report.rows_quarantined == 0
    wide = validate(read_yahoo_csv(market / "GOOG-2004-08.csv", "GOOG.XNAS"))  # IPO month
    assert wide.report.rows_quarantined == 0
    bars = spoiled.columns
    high = bars.high.copy()
    high[5] = 250_000 * 10**bars.price_precision
    crafted = BarColumns(
        "ORCL.XNAS",
        bars.price_precision,
        bars.volume_precision,
        bars.ts_event,
        bars.ts_init,
        bars.open,
        high,
        bars.low,
        bars.close,
        bars.volume,
    )
    assert validate(crafted).report.quarantine_counts()["outlier_range"] == 1
    assert validate(crafted, ValidationConfig(range_threshold=None)).report.rows_quarantined == 0


# (format, slice, line (header is 1), {field index: value}, field named): a print 40 % off
# inside the first 20 rows (row 0 included), in a yahoo, ohlcv, klines, trades, quotes file.
EARLY_SPIKES = [
    ("yahoo", ORCL, 2, {1: "3.0", 2: "3.0", 3: "3.0", 4: "3.0"}, "close"),
    ("yahoo", ORCL, 6, {1: "3.0", 2: "3.0", 3: "3.0", 4: "3.0"}, "close"),
    ("ohlcv", BTC, 12, {1: "65000.0", 2: "65000.0", 3: "65000.0", 4: "65000.0"}, "close"),
    (
        "binance-klines",
        "ADABTC-1m-2021-11-28.csv",
        3,
        {1: "0.00004", 2: "0.00004", 3: "0.00004", 4: "0.00004"},
        "close",
    ),
    ("trades", TRADES, 2, {3: "55000.0"}, "price"),
    ("trades", TRADES, 15, {3: "55000.0"}, "price"),
    ("quotes", QUOTES, 4, {4: "55000.0", 6: "54999.0"}, "mid"),
]


@pytest.mark.parametrize(("fmt", "name", "line", "changes", "field"), EARLY_SPIKES)
def test_spike_inside_the_first_rows_is_quarantined_as_outlier_spike(
    tmp_path: Path, fmt: str, name: str, line: int, changes: dict[int, str], field: str
) -> None:
    spoiled = _rewrite(MARKET / name, tmp_path / name, line, changes)
    report = validate_file(spoiled, format=fmt, instrument="X.SIM")
    (record,) = report.quarantined
    assert (record.line, record.rule, record.field) == (line, Rule.OUTLIER_SPIKE, field)
    assert "MADs from the median of the first" in record.message

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tradeloop.core import NANOS_PER_MILLI, NANOS_PER_MINUTE, ConfigError, Price, Quantity
from tradeloop.data import (
    QuotesFormat,
    Rule,
    TradesFormat,
    read_binance_klines,
    read_binance_quotes,
    read_binance_trades,
    read_quotes,
    read_trades,
)
from tradeloop.data.readers import KLINE_COLUMNS
from tradeloop.model import AggressorSide

Fields = Callable[[str], list[list[str]]]
Craft = Callable[[str, Callable[[list[str]], list[str]]], Path]
SPOT = "BTCUSDT.BINANCE"


def _kline_rows(market: Path, name: str) -> list[list[str]]:
    return [line.split(",") for line in (market / name).read_text().splitlines()]


def test_klines_are_stamped_at_open_time_plus_interval_with_exact_values(market: Path) -> None:
    result = read_binance_klines(market / "ADABTC-1m-2021-11-27.csv", "ADABTC.BINANCE")
    bars = result.columns
    rows = _kline_rows(market, "ADABTC-1m-2021-11-27.csv")
    assert result.rows_in == len(rows) == 10
    assert result.interval_ns == NANOS_PER_MINUTE
    assert bars.price_precision == 8
    for row in (0, 9):
        open_time, open_, high, low, close, volume, close_time = rows[row][:7]
        bar = bars.bar(row)
        assert int(bars.ts_event[row]) == int(open_time) * NANOS_PER_MILLI + NANOS_PER_MINUTE
        assert int(bars.ts_event[row]) == (int(close_time) + 1) * NANOS_PER_MILLI
        assert (bar.open, bar.high, bar.low, bar.close) == tuple(
            Price.from_str(v, 8) for v in (open_, high, low, close)
        )
        assert bar.volume == Quantity.from_str(volume, bars.volume_precision)


def test_second_klines_file_reads_all_eleven_rows(market: Path) -> None:
    result = read_binance_klines(market / "ADABTC-1m-2021-11-28.csv", "ADABTC.BINANCE")
    assert len(result.columns) == 11
    assert result.rejected == ()


def test_klines_file_with_a_header_line_is_recognised(market: Path, craft: Craft) -> None:
    header = ",".join(KLINE_COLUMNS)
    path = craft("ADABTC-1m-2021-11-27.csv", lambda lines: [header, *lines])
    result = read_binance_klines(path, "ADABTC.BINANCE")
    assert result.rows_in == 10
    assert len(result.columns) == 10


def test_trades_csv_rows_equal_the_source_text_and_buyer_maker_means_seller_aggressor(
    market: Path, fields: Fields
) -> None:
    result = read_binance_trades(market / "binance-btcusdt-trades-head.csv", SPOT)
    trades = result.columns
    assert len(trades) == 200
    assert (trades.price_precision, trades.size_precision) == (2, 6)
    rows = fields("binance-btcusdt-trades-head.csv")
    ticks = list(trades.iter_trades())
    for row in (0, 1, 2, 199):
        timestamp_ms, _iso, trade_id, price, quantity, buyer_maker = rows[row]
        tick = ticks[row]
        assert tick.ts_event == int(timestamp_ms) * NANOS_PER_MILLI
        assert tick.trade_id == trade_id
        assert tick.price == Price.from_str(price)
        # "0.00031099999999999997" is float noise for 0.000311.
        assert tick.size == Quantity.from_str(f"{float(quantity):.6f}")
        expected = AggressorSide.SELLER if buyer_maker == "True" else AggressorSide.BUYER
        assert tick.aggressor_side is expected
    assert ticks[0].aggressor_side is AggressorSide.SELLER
    assert ticks[1].aggressor_side is AggressorSide.BUYER


def test_trades_parquet_and_csv_copy_give_the_same_columns(market: Path) -> None:
    csv = read_binance_trades(market / "binance-btcusdt-trades-head.csv", SPOT).columns
    parquet = read_binance_trades(market / "btcusdt-trades.parquet", SPOT).columns
    assert len(parquet) == 2001
    head = parquet.take(slice(0, len(csv)))
    for name in ("ts_event", "price", "size", "aggressor", "trade_id"):
        assert np.array_equal(getattr(head, name), getattr(csv, name))


def test_quotes_rows_equal_the_source_text(market: Path, fields: Fields) -> None:
    result = read_binance_quotes(market / "binance-btcusdt-quotes-head.csv", SPOT)
    quotes = list(result.columns.iter_quotes())
    assert len(quotes) == 100
    assert (result.columns.price_precision, result.columns.size_precision) == (2, 6)
    rows = fields("binance-btcusdt-quotes-head.csv")
    for row in (0, 3, 99):
        timestamp_ms, _iso, symbol, ask_size, ask, bid_size, bid = rows[row]
        quote = quotes[row]
        assert symbol == "BTC/USDT"
        assert quote.ts_event == int(timestamp_ms) * NANOS_PER_MILLI
        assert (quote.bid_price, quote.ask_price) == (
            Price.from_str(bid, 2),
            Price.from_str(ask, 2),
        )
        assert quote.bid_size == Quantity.from_str(f"{float(bid_size):.6f}")
        assert quote.ask_size == Quantity.from_str(f"{float(ask_size):.6f}")
    # Row 3's bid size is written "0.031035000000000004" upstream.
    assert rows[3][5] == "0.031035000000000004"
    assert quotes[3].bid_size == Quantity.from_str("0.031035")


def test_quotes_parquet_and_csv_copy_give_the_same_columns(market: Path) -> None:
    csv = read_binance_quotes(market / "binance-btcusdt-quotes-head.csv", SPOT).columns
    parquet = read_binance_quotes(market / "btcusdt-quotes.parquet", SPOT).columns
    head = parquet.take(slice(0, len(csv)))
    for name in ("ts_event", "bid_price", "ask_price", "bid_size", "ask_size"):
        assert np.array_equal(getattr(head, name), getattr(csv, name))


def test_trade_size_with_more_decimals_than_given_is_quarantined_not_rounded(
    market: Path, craft: Craft
) -> None:
    def edit(lines: list[str]) -> list[str]:
        fields = lines[5].split(",")
        fields[4] = "0.0043761"
        lines[5] = ",".join(fields)
        return lines

    result = read_binance_trades(
        craft("binance-btcusdt-trades-head.csv", edit), SPOT, size_precision=6
    )
    (record,) = result.rejected
    assert (record.row, record.rule, record.field, record.value) == (
        4,
        Rule.EXCESS_PRECISION,
        "size",
        "0.0043761",
    )
    assert "0.0043761" in record.message
    assert "BTCUSDT.BINANCE" in record.message


def test_unparseable_buyer_maker_is_quarantined(market: Path, craft: Craft) -> None:
    def edit(lines: list[str]) -> list[str]:
        lines[2] = lines[2].rsplit(",", 1)[0] + ",maybe"
        return lines

    result = read_binance_trades(craft("binance-btcusdt-trades-head.csv", edit), SPOT)
    (record,) = result.rejected
    assert (record.row, record.rule, record.field, record.value) == (
        1,
        Rule.UNPARSEABLE,
        "buyer_maker",
        "maybe",
    )


def test_trades_with_a_side_column_and_epoch_times_are_read(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    path.write_text(
        "time,px,qty,side\n1610064000278,39432.48,0.000263,sell\n1610064000310,39439.44,0.004376,BUY\n"
    )
    fmt = TradesFormat(
        timestamp="time",
        timestamp_unit="ms",
        price="px",
        size="qty",
        trade_id=None,
        buyer_maker=None,
        side="side",
    )
    trades = list(read_trades(path, SPOT, fmt).columns.iter_trades())
    assert [t.aggressor_side for t in trades] == [AggressorSide.SELLER, AggressorSide.BUYER]
    assert [t.trade_id for t in trades] == ["0", "1"]


def test_quotes_without_sizes_get_zero_sizes(tmp_path: Path) -> None:
    path = tmp_path / "bidask.csv"
    path.write_text("ts,bid,ask\n2010-02-03T16:53:50Z,0.5369,0.5370\n")
    result = read_quotes(path, "X.SIM", QuotesFormat(timestamp="ts", bid_size=None, ask_size=None))
    assert result.columns.bid_size.tolist() == [0]
    assert not result.has_volume


def test_klines_parquet_is_refused_with_config_error(market: Path) -> None:
    with pytest.raises(ConfigError, match="klines"):
        read_binance_klines(market / "btcusdt-trades.parquet", SPOT)

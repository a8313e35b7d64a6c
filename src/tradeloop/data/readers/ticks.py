"""Trade and quote ticks from CSV or Parquet, with a column mapping.

The defaults read Binance data as nautilus_trader ships it (``btcusdt-trades.parquet``:
``timestamp, trade_id, price, quantity, buyer_maker``; ``btcusdt-quotes.parquet``:
``timestamp, symbol, ask_size, ask, bid_size, bid``) and their CSV copies.

Aggressor: Binance's ``buyer_maker`` (``is_buyer_maker``) is True when the buyer's order was
resting on the book, so the *seller* took liquidity: True -> ``SELLER``, False -> ``BUYER``.
``ts_init = ts_event``.
"""

from __future__ import annotations

import os

import msgspec
import numpy as np

from tradeloop.data.columns import QuoteColumns, TradeColumns
from tradeloop.data.kinds import DataKind
from tradeloop.data.readers._common import (
    NumericField,
    ReadResult,
    convert_numeric,
    reject_bad_timestamps,
    sort_by_time,
    source_positions,
)
from tradeloop.data.readers._source import (
    RowRejects,
    check_instrument_id,
    check_precision,
    load_table,
    parse_booleans,
    parse_timestamps,
)
from tradeloop.data.report import Rule

AGGRESSOR_NONE = 0
AGGRESSOR_BUYER = 1
AGGRESSOR_SELLER = 2
_SIDE_WORDS = {
    "buy": AGGRESSOR_BUYER,
    "b": AGGRESSOR_BUYER,
    "buyer": AGGRESSOR_BUYER,
    "sell": AGGRESSOR_SELLER,
    "s": AGGRESSOR_SELLER,
    "seller": AGGRESSOR_SELLER,
}


class TradesFormat(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to read a trades file (defaults: Binance trades as shipped by nautilus_trader).

    Attributes
    ----------
    timestamp, price, size : source column names.
    trade_id : column of venue trade ids (``None``: the source row number is used).
    buyer_maker : Binance-style boolean column (True means the seller was the aggressor).
    side : alternative to ``buyer_maker``: a column of ``buy``/``sell`` (or ``B``/``S``) giving
        the aggressor. With neither, the aggressor is unknown (``NONE``).
    has_header, column_names, delimiter : CSV layout.
    timestamp_unit, timestamp_format, timezone, sort : as in ``OhlcvFormat``.
    """

    timestamp: str = "timestamp"
    price: str = "price"
    size: str = "quantity"
    trade_id: str | None = "trade_id"
    buyer_maker: str | None = "buyer_maker"
    side: str | None = None
    has_header: bool = True
    column_names: tuple[str, ...] | None = None
    delimiter: str = ","
    timestamp_unit: str | None = None
    timestamp_format: str | None = None
    timezone: str = "UTC"
    sort: bool = False


class QuotesFormat(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to read a best bid/ask file (defaults: Binance quotes as shipped by nautilus_trader).

    ``bid_size``/``ask_size`` may be ``None`` when the source has no sizes (zeros are used).
    ``sort`` as in ``OhlcvFormat``.
    """

    timestamp: str = "timestamp"
    bid: str = "bid"
    ask: str = "ask"
    bid_size: str | None = "bid_size"
    ask_size: str | None = "ask_size"
    has_header: bool = True
    column_names: tuple[str, ...] | None = None
    delimiter: str = ","
    timestamp_unit: str | None = None
    timestamp_format: str | None = None
    timezone: str = "UTC"
    sort: bool = False


def read_trades(
    path: str | os.PathLike[str],
    instrument_id: str,
    fmt: TradesFormat | None = None,
    *,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> ReadResult[TradeColumns]:
    """Read trade ticks from a CSV or Parquet file.

    Precisions default to the most decimals seen (capped at 9); values with more decimals
    than a given precision are quarantined as ``excess_precision``.

    Raises
    ------
    ConfigError
        If the file is missing or a mapped column is absent.
    DataIntegrityError
        If the file cannot be decoded.
    """
    fmt = fmt or TradesFormat()
    check_instrument_id(instrument_id)
    check_precision(price_precision, "price precision")
    check_precision(size_precision, "size precision")
    table = load_table(
        path,
        instrument_id,
        has_header=fmt.has_header,
        names=fmt.column_names,
        delimiter=fmt.delimiter,
    )
    rejects = RowRejects(table, instrument_id)
    ts_column = table.column(fmt.timestamp, "the timestamp")
    ts, ok = parse_timestamps(
        ts_column,
        path=table.path,
        name=fmt.timestamp,
        unit=fmt.timestamp_unit,
        fmt=fmt.timestamp_format,
        timezone=fmt.timezone,
    )
    reject_bad_timestamps(rejects, ok, fmt.timestamp, ts_column, ts)
    aggressor = np.zeros(len(table), dtype=np.int8)
    if fmt.buyer_maker is not None:
        column = table.column(fmt.buyer_maker, "buyer_maker")
        is_buyer_maker, ok = parse_booleans(column)
        rejects.reject(~ok, Rule.UNPARSEABLE, fmt.buyer_maker, column, "is not a boolean")
        aggressor = np.where(is_buyer_maker, AGGRESSOR_SELLER, AGGRESSOR_BUYER).astype(np.int8)
    elif fmt.side is not None:
        column = table.column(fmt.side, "the aggressor side")
        words = column if isinstance(column, list) else [str(v) for v in column.to_pylist()]
        codes = [_SIDE_WORDS.get(word.strip().lower(), -1) for word in words]
        aggressor = np.asarray(codes, dtype=np.int8)
        rejects.reject(aggressor < 0, Rule.UNPARSEABLE, fmt.side, column, "is not buy or sell")
    if fmt.trade_id is not None:
        id_column = table.column(fmt.trade_id, "the trade id")
        ids = np.asarray(
            id_column if isinstance(id_column, list) else [str(v) for v in id_column.to_pylist()]
        )
    else:
        ids = table.rows.astype(str)
    fields = [
        NumericField("price", table.column(fmt.price, "the price"), "price"),
        NumericField("size", table.column(fmt.size, "the size"), "size"),
    ]
    converted = convert_numeric(fields, rejects, price_precision, size_precision)
    alive = rejects.alive
    stamps = ts[alive]
    columns = TradeColumns(
        instrument_id,
        converted.price_precision,
        converted.size_precision,
        stamps,
        stamps,
        converted.raws["price"],
        converted.raws["size"],
        aggressor[alive],
        ids[alive],
    )
    rows, lines = source_positions(rejects)
    result = ReadResult(
        columns=columns,
        source_rows=rows,
        source_lines=lines,
        rejected=rejects.sorted_records(),
        source=table.path,
        rows_in=table.rows_in,
        kind=DataKind.TRADES,
    )
    return sort_by_time(result) if fmt.sort else result


def read_quotes(
    path: str | os.PathLike[str],
    instrument_id: str,
    fmt: QuotesFormat | None = None,
    *,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> ReadResult[QuoteColumns]:
    """Read best bid/ask quotes from a CSV or Parquet file.

    Raises
    ------
    ConfigError
        If the file is missing or a mapped column is absent.
    DataIntegrityError
        If the file cannot be decoded.
    """
    fmt = fmt or QuotesFormat()
    check_instrument_id(instrument_id)
    check_precision(price_precision, "price precision")
    check_precision(size_precision, "size precision")
    table = load_table(
        path,
        instrument_id,
        has_header=fmt.has_header,
        names=fmt.column_names,
        delimiter=fmt.delimiter,
    )
    rejects = RowRejects(table, instrument_id)
    ts_column = table.column(fmt.timestamp, "the timestamp")
    ts, ok = parse_timestamps(
        ts_column,
        path=table.path,
        name=fmt.timestamp,
        unit=fmt.timestamp_unit,
        fmt=fmt.timestamp_format,
        timezone=fmt.timezone,
    )
    reject_bad_timestamps(rejects, ok, fmt.timestamp, ts_column, ts)
    fields = [
        NumericField("bid_price", table.column(fmt.bid, "the bid"), "price"),
        NumericField("ask_price", table.column(fmt.ask, "the ask"), "price"),
    ]
    if fmt.bid_size is not None:
        fields.append(NumericField("bid_size", table.column(fmt.bid_size, "the bid size"), "size"))
    if fmt.ask_size is not None:
        fields.append(NumericField("ask_size", table.column(fmt.ask_size, "the ask size"), "size"))
    converted = convert_numeric(fields, rejects, price_precision, size_precision)
    alive = rejects.alive
    stamps = ts[alive]
    zeros = np.zeros(len(stamps), dtype=np.int64)
    has_sizes = fmt.bid_size is not None or fmt.ask_size is not None
    columns = QuoteColumns(
        instrument_id,
        converted.price_precision,
        converted.size_precision if has_sizes else (size_precision or 0),
        stamps,
        stamps,
        converted.raws["bid_price"],
        converted.raws["ask_price"],
        converted.raws.get("bid_size", zeros),
        converted.raws.get("ask_size", zeros),
    )
    rows, lines = source_positions(rejects)
    result = ReadResult(
        columns=columns,
        source_rows=rows,
        source_lines=lines,
        rejected=rejects.sorted_records(),
        source=table.path,
        rows_in=table.rows_in,
        kind=DataKind.QUOTES,
        has_volume=has_sizes,
    )
    return sort_by_time(result) if fmt.sort else result

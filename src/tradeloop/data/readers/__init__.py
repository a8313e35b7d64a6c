"""Readers: files in, exact int64 column sets out, plus every row they could not use.

Each reader returns a ``ReadResult``: the parsed rows in file order with their source row
numbers, and the rows it set aside (``unparseable``, ``non_finite``, ``excess_precision``,
``outside_session``), each with the rule and a message. Nothing is dropped silently:
``rows_in == len(columns) + len(rejected)``. Validation (``data.validation``) takes it from
there.
"""

from tradeloop.data.readers._common import ReadResult
from tradeloop.data.readers._source import PRECISION_CAP
from tradeloop.data.readers.binance import (
    KLINE_COLUMNS,
    read_binance_klines,
    read_binance_quotes,
    read_binance_trades,
)
from tradeloop.data.readers.detect import TIMESTAMP_NAMES, detect_ohlcv_format
from tradeloop.data.readers.ohlcv import BarStamp, OhlcvFormat, interval_to_ns, read_ohlcv
from tradeloop.data.readers.ticks import QuotesFormat, TradesFormat, read_quotes, read_trades
from tradeloop.data.readers.yahoo import read_yahoo_csv

__all__ = [
    "KLINE_COLUMNS",
    "PRECISION_CAP",
    "TIMESTAMP_NAMES",
    "BarStamp",
    "OhlcvFormat",
    "QuotesFormat",
    "ReadResult",
    "TradesFormat",
    "detect_ohlcv_format",
    "interval_to_ns",
    "read_binance_klines",
    "read_binance_quotes",
    "read_binance_trades",
    "read_ohlcv",
    "read_quotes",
    "read_trades",
    "read_yahoo_csv",
]

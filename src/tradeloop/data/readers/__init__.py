"""Readers: files in, exact int64 column sets out, plus every row they could not use.

Each reader returns a ``ReadResult``: the parsed rows in file order with their source row
numbers, and the rows it set aside (``undecodable``, ``unparseable``, ``non_finite``,
``out_of_range``, ``excess_precision``, ``outside_session``), each with the rule and a
message. With the option ``sort`` the rows come in time order instead (``sort_by_time``).
Nothing is dropped silently: ``rows_in == len(columns) + len(rejected)``. Validation
(``data.validation``) takes it from there.
"""

from tradeloop.data.readers._common import ReadResult, sort_by_time
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
    "sort_by_time",
]

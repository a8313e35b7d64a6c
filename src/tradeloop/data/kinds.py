"""The kinds of market data a column set can hold."""

from __future__ import annotations

from enum import StrEnum

from tradeloop.data.columns import BarColumns, Columns, QuoteColumns, TradeColumns


class DataKind(StrEnum):
    """Bars, quotes or trades; the value is the catalog's directory name."""

    BARS = "bars"
    QUOTES = "quotes"
    TRADES = "trades"


def kind_of(columns: Columns) -> DataKind:
    """Return the kind of data ``columns`` hold."""
    if isinstance(columns, BarColumns):
        return DataKind.BARS
    if isinstance(columns, QuoteColumns):
        return DataKind.QUOTES
    return DataKind.TRADES


def size_precision_of(columns: Columns) -> int:
    """Return the precision of the volume or size column."""
    if isinstance(columns, BarColumns):
        return columns.volume_precision
    return columns.size_precision


COLUMN_TYPES: dict[DataKind, type[BarColumns] | type[QuoteColumns] | type[TradeColumns]] = {
    DataKind.BARS: BarColumns,
    DataKind.QUOTES: QuoteColumns,
    DataKind.TRADES: TradeColumns,
}

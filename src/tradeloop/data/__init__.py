"""Data: columnar market data, readers, validation and quarantine, the Parquet catalog and
the as-of reader, bundled real data."""

from tradeloop.data.columns import (
    CHUNK_ROWS,
    BarColumns,
    Columns,
    QuoteColumns,
    TradeColumns,
    excess_precision_mask,
    floats_to_raw,
)

__all__ = [
    "CHUNK_ROWS",
    "BarColumns",
    "Columns",
    "QuoteColumns",
    "TradeColumns",
    "excess_precision_mask",
    "floats_to_raw",
]

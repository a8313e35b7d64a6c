"""Data: columnar market data, readers, validation and quarantine, the Parquet catalog and
the as-of reader, bundled real data.

The path of a file into a backtest::

    read_*  (data.readers)      file -> ReadResult: exact int64 columns + rows set aside
    validate (data.validation)  -> clean columns sorted by ts_init + QualityReport
    Catalog.write (data.catalog) -> deterministic Parquet, referenced by SHA-256
    AsOfReader (data.asof)      -> only records with ts_init <= clock time

``import_file`` / ``validate_file`` (``data.api``) run those steps for the command line;
``data.bundled`` ships real datasets inside the package.
"""

import importlib
import typing

from tradeloop.data.columns import (
    CHUNK_ROWS,
    BarColumns,
    Columns,
    QuoteColumns,
    TradeColumns,
    excess_precision_mask,
    floats_to_raw,
)
from tradeloop.data.kinds import (
    DataKind,
    kind_of,
)
from tradeloop.data.report import (
    Finding,
    QualityReport,
    QuarantinedRecord,
    Rule,
)

if typing.TYPE_CHECKING:
    from tradeloop.data.api import (
        BinanceKlinesOptions,
        DataFormat,
        FormatOptions,
        ImportResult,
        YahooOptions,
        data_format,
        import_file,
        read_and_validate,
        read_file,
        validate_file,
    )
    from tradeloop.data.asof import (
        AsOfReader,
    )
    from tradeloop.data.calendars import (
        SessionStatus,
        expected_bar_closes,
        session_at,
        session_closes,
        sessions_between,
    )
    from tradeloop.data.catalog import (
        Catalog,
        CatalogEntry,
        parquet_bytes,
    )
    from tradeloop.data.readers import (
        BarStamp,
        OhlcvFormat,
        QuotesFormat,
        ReadResult,
        TradesFormat,
        read_binance_klines,
        read_binance_quotes,
        read_binance_trades,
        read_ohlcv,
        read_quotes,
        read_trades,
        read_yahoo_csv,
    )
    from tradeloop.data.series_rules import spike_mask
    from tradeloop.data.validation import (
        ValidationConfig,
        ValidationResult,
        validate,
    )

# Readers, validation, calendars and the catalog pull in pandas, pyarrow, DuckDB and
# exchange-calendars (about 150 MB); they load on first use so the event loop stays lean.
_LAZY: dict[str, str] = {
    "BinanceKlinesOptions": "tradeloop.data.api",
    "DataFormat": "tradeloop.data.api",
    "FormatOptions": "tradeloop.data.api",
    "ImportResult": "tradeloop.data.api",
    "YahooOptions": "tradeloop.data.api",
    "data_format": "tradeloop.data.api",
    "import_file": "tradeloop.data.api",
    "read_and_validate": "tradeloop.data.api",
    "read_file": "tradeloop.data.api",
    "validate_file": "tradeloop.data.api",
    "AsOfReader": "tradeloop.data.asof",
    "expected_bar_closes": "tradeloop.data.calendars",
    "SessionStatus": "tradeloop.data.calendars",
    "session_at": "tradeloop.data.calendars",
    "session_closes": "tradeloop.data.calendars",
    "sessions_between": "tradeloop.data.calendars",
    "Catalog": "tradeloop.data.catalog",
    "CatalogEntry": "tradeloop.data.catalog",
    "parquet_bytes": "tradeloop.data.catalog",
    "BarStamp": "tradeloop.data.readers",
    "OhlcvFormat": "tradeloop.data.readers",
    "QuotesFormat": "tradeloop.data.readers",
    "ReadResult": "tradeloop.data.readers",
    "TradesFormat": "tradeloop.data.readers",
    "read_binance_klines": "tradeloop.data.readers",
    "read_binance_quotes": "tradeloop.data.readers",
    "read_binance_trades": "tradeloop.data.readers",
    "read_ohlcv": "tradeloop.data.readers",
    "read_quotes": "tradeloop.data.readers",
    "read_trades": "tradeloop.data.readers",
    "read_yahoo_csv": "tradeloop.data.readers",
    "ValidationConfig": "tradeloop.data.validation",
    "ValidationResult": "tradeloop.data.validation",
    "spike_mask": "tradeloop.data.series_rules",
    "validate": "tradeloop.data.validation",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.data has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CHUNK_ROWS",
    "AsOfReader",
    "BarColumns",
    "BarStamp",
    "BinanceKlinesOptions",
    "Catalog",
    "CatalogEntry",
    "Columns",
    "DataFormat",
    "DataKind",
    "Finding",
    "FormatOptions",
    "ImportResult",
    "OhlcvFormat",
    "QualityReport",
    "QuarantinedRecord",
    "QuoteColumns",
    "QuotesFormat",
    "ReadResult",
    "Rule",
    "SessionStatus",
    "TradeColumns",
    "TradesFormat",
    "ValidationConfig",
    "ValidationResult",
    "YahooOptions",
    "data_format",
    "excess_precision_mask",
    "expected_bar_closes",
    "floats_to_raw",
    "import_file",
    "kind_of",
    "parquet_bytes",
    "read_and_validate",
    "read_binance_klines",
    "read_binance_quotes",
    "read_binance_trades",
    "read_file",
    "read_ohlcv",
    "read_quotes",
    "read_trades",
    "read_yahoo_csv",
    "session_at",
    "session_closes",
    "sessions_between",
    "spike_mask",
    "validate",
    "validate_file",
]

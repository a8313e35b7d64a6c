"""Plain functions behind ``tradeloop data import|validate|list``.

``read_file`` picks a reader by format name, ``validate_file`` reads and validates and
returns the ``QualityReport``, ``import_file`` also writes the clean rows and the instrument
definition to a catalog. Options are the format's options type, or a mapping of its fields
(``format_options``); a generic OHLCV file's layout is detected from its header for every
field not given (``readers.detect_ohlcv_format``). User mistakes raise ``ConfigError``
(missing file, unknown format or option, a column absent from the mapping, an instrument
nobody defined) before any data is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import msgspec

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.data.calendars import check_calendar
from tradeloop.data.catalog import Catalog, CatalogEntry
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.data.readers import (
    OhlcvFormat,
    QuotesFormat,
    ReadResult,
    TradesFormat,
    detect_ohlcv_format,
    read_binance_klines,
    read_ohlcv,
    read_quotes,
    read_trades,
    read_yahoo_csv,
)
from tradeloop.data.readers._source import check_file
from tradeloop.data.report import QualityReport
from tradeloop.data.validation import ValidationConfig, ValidationResult, validate
from tradeloop.model.instruments import Instrument


class DataFormat(StrEnum):
    """File formats ``read_file`` understands (the CLI's ``--format`` values)."""

    YAHOO = "yahoo"
    """Yahoo-style daily CSV (``Date,Open,High,Low,Close,Adj Close,Volume`` and cousins)."""
    OHLCV = "ohlcv"
    """Generic bars, CSV or Parquet (by suffix), mapped by ``OhlcvFormat``."""
    BINANCE_KLINES = "binance-klines"
    """Binance klines CSV (12 fields, no header)."""
    TRADES = "trades"
    """Trade ticks, CSV or Parquet, mapped by ``TradesFormat`` (Binance columns by default)."""
    QUOTES = "quotes"
    """Best bid/ask, CSV or Parquet, mapped by ``QuotesFormat`` (Binance columns by default)."""


class YahooOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Options of the ``yahoo`` format: adjust by ``Adj Close`` (default no), the calendar,
    and ``sort``."""

    use_adjusted_close: bool = False
    calendar: str = "XNYS"
    sort: bool = False
    """Put the rows in date order before validation (``readers.sort_by_time``)."""


class BinanceKlinesOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Options of the ``binance-klines`` format: ``sort`` puts the rows in time order."""

    sort: bool = False


FormatOptions = YahooOptions | BinanceKlinesOptions | OhlcvFormat | TradesFormat | QuotesFormat
AnyReadResult = ReadResult[BarColumns] | ReadResult[QuoteColumns] | ReadResult[TradeColumns]
AnyValidationResult = (
    ValidationResult[BarColumns] | ValidationResult[QuoteColumns] | ValidationResult[TradeColumns]
)

_OPTION_TYPES: dict[DataFormat, type[FormatOptions] | None] = {
    DataFormat.YAHOO: YahooOptions,
    DataFormat.OHLCV: OhlcvFormat,
    DataFormat.BINANCE_KLINES: BinanceKlinesOptions,
    DataFormat.TRADES: TradesFormat,
    DataFormat.QUOTES: QuotesFormat,
}


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """What ``import_file`` did: rows read and written, the catalog file, the quality report."""

    source: str
    instrument_id: str
    kind: str
    rows_in: int
    rows_written: int
    entry: CatalogEntry
    report: QualityReport


def data_format(name: DataFormat | str) -> DataFormat:
    """Return the ``DataFormat`` called ``name``.

    Raises
    ------
    ConfigError
        If no format has that name.
    """
    try:
        return DataFormat(name)
    except ValueError:
        known = ", ".join(f.value for f in DataFormat)
        raise ConfigError(f"data format {name!r} is unknown; use one of {known}") from None


OptionsInput = FormatOptions | Mapping[str, Any] | None
"""A format's options: its options type, a mapping of its fields, or ``None`` (defaults)."""


def format_options(
    path: str | os.PathLike[str],
    format: DataFormat | str,
    options: OptionsInput = None,
    *,
    calendar: str | None = None,
) -> FormatOptions | None:
    """Return the options of ``format`` for ``path``.

    An options object is returned as it is. A mapping (or ``None``) is converted to the format's
    options type; for ``ohlcv`` every field it does not give is detected from the file's header
    and first rows, and ``calendar`` (the instrument's) dates daily rows by session.

    Raises
    ------
    ConfigError
        If the format is unknown, takes no options, or an option is unknown or invalid.
    """
    chosen = data_format(format)
    if options is not None and not isinstance(options, Mapping):
        return options
    given = dict(options or {})
    if chosen is DataFormat.OHLCV:
        return detect_ohlcv_format(path, given, session_calendar=calendar)
    option_type = _OPTION_TYPES[chosen]
    if not given:
        return None
    if option_type is None:
        raise ConfigError(f"format {chosen.value} takes no options, got {sorted(given)}")
    try:
        return msgspec.convert(given, type=option_type)
    except msgspec.ValidationError as error:
        text = str(error).replace("Object contains unknown field", "unknown option")
        raise ConfigError(f"{chosen.value} options: {text}") from None


def read_file(
    path: str | os.PathLike[str],
    *,
    format: DataFormat | str,
    instrument: Instrument | str,
    options: OptionsInput = None,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> AnyReadResult:
    """Read ``path`` with the reader for ``format``.

    ``options`` as in ``format_options`` (a generic OHLCV file's layout is detected).
    With an ``Instrument``, prices (and trade/quote sizes) default to its precisions, and values
    with more decimals are quarantined; bar volume is inferred unless ``size_precision`` is
    given, because bar volume is often counted in other units than order sizes (the quote
    currency, or whole shares summed). Without one, precisions are inferred from the data.

    Raises
    ------
    ConfigError
        If the file is missing, the format is unknown, ``options`` do not belong to the format,
        or a mapped column is absent.
    DataIntegrityError
        If the file cannot be decoded.
    """
    chosen = data_format(format)
    check_file(path)
    calendar = instrument.exchange_calendar if isinstance(instrument, Instrument) else None
    options = format_options(path, chosen, options, calendar=calendar)
    expected = _OPTION_TYPES[chosen]
    if options is not None and (expected is None or not isinstance(options, expected)):
        wanted = "no options" if expected is None else expected.__name__
        raise ConfigError(f"format {chosen.value} takes {wanted}, not {type(options).__name__}")
    instrument_id = instrument.id if isinstance(instrument, Instrument) else instrument
    if isinstance(instrument, Instrument):
        price_precision = instrument.price_precision if price_precision is None else price_precision
        if chosen in (DataFormat.TRADES, DataFormat.QUOTES) and size_precision is None:
            size_precision = instrument.size_precision
    if chosen is DataFormat.YAHOO:
        yahoo = options if isinstance(options, YahooOptions) else YahooOptions()
        return read_yahoo_csv(
            path,
            instrument_id,
            use_adjusted_close=yahoo.use_adjusted_close,
            calendar=yahoo.calendar,
            price_precision=price_precision,
            volume_precision=size_precision,
            sort=yahoo.sort,
        )
    if chosen is DataFormat.OHLCV:
        fmt = options if isinstance(options, OhlcvFormat) else None
        return read_ohlcv(
            path,
            instrument_id,
            fmt,
            price_precision=price_precision,
            volume_precision=size_precision,
        )
    if chosen is DataFormat.BINANCE_KLINES:
        klines = options if isinstance(options, BinanceKlinesOptions) else None
        return read_binance_klines(
            path,
            instrument_id,
            price_precision=price_precision,
            volume_precision=size_precision,
            sort=klines is not None and klines.sort,
        )
    if chosen is DataFormat.TRADES:
        trades = options if isinstance(options, TradesFormat) else None
        return read_trades(
            path,
            instrument_id,
            trades,
            price_precision=price_precision,
            size_precision=size_precision,
        )
    quotes = options if isinstance(options, QuotesFormat) else None
    return read_quotes(
        path, instrument_id, quotes, price_precision=price_precision, size_precision=size_precision
    )


def _validation_config(
    validation: ValidationConfig | None, instrument: Instrument | str
) -> ValidationConfig:
    config = validation or ValidationConfig()
    if (
        config.calendar is None
        and isinstance(instrument, Instrument)
        and instrument.exchange_calendar
    ):
        check_calendar(instrument.exchange_calendar)
        config = msgspec.structs.replace(config, calendar=instrument.exchange_calendar)
    return config


def read_and_validate(
    path: str | os.PathLike[str],
    *,
    format: DataFormat | str,
    instrument: Instrument | str,
    options: OptionsInput = None,
    validation: ValidationConfig | None = None,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> AnyValidationResult:
    """Read ``path`` and validate it; return the clean columns and the report.

    The calendar for sessions and gaps is, in order: ``validation.calendar``, the reader's
    (the Yahoo format's, or ``OhlcvFormat.calendar``), the instrument's.

    Raises
    ------
    ConfigError
        As ``read_file``, or if the validation config is invalid.
    """
    read = read_file(
        path,
        format=format,
        instrument=instrument,
        options=options,
        price_precision=price_precision,
        size_precision=size_precision,
    )
    config = validation or ValidationConfig()
    if read.calendar is None:
        config = _validation_config(validation, instrument)
    result: AnyValidationResult = validate(read, config)
    return result


def validate_file(
    path: str | os.PathLike[str],
    *,
    format: DataFormat | str,
    instrument: Instrument | str,
    options: OptionsInput = None,
    validation: ValidationConfig | None = None,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> QualityReport:
    """Read and validate ``path``; return its quality report (nothing is written).

    Raises
    ------
    ConfigError
        If the file is missing, the format is unknown, or a mapped column is absent.
    DataIntegrityError
        If the file cannot be decoded.
    """
    return read_and_validate(
        path,
        format=format,
        instrument=instrument,
        options=options,
        validation=validation,
        price_precision=price_precision,
        size_precision=size_precision,
    ).report


def import_file(
    path: str | os.PathLike[str],
    *,
    format: DataFormat | str,
    instrument: Instrument | str,
    catalog: Catalog | str | os.PathLike[str],
    options: OptionsInput = None,
    validation: ValidationConfig | None = None,
    price_precision: int | None = None,
    size_precision: int | None = None,
    replace: bool = False,
) -> ImportResult:
    """Read, validate and write the clean rows of ``path`` to ``catalog``, with the definition.

    A run reads a catalog's data with the instrument definition stored beside it, so one is
    always stored. ``instrument`` is an ``Instrument`` (stored, replacing none that differs),
    or an id: the catalog's stored definition, else the bundled instrument of that id
    (``bundled.find_instrument``). Prices are read at the instrument's precision.

    Raises
    ------
    ConfigError
        If the file is missing, the format is unknown, a mapped column is absent, or
        ``instrument`` is an id nobody defined.
    DataIntegrityError
        If no row is clean, or the data conflicts with the catalog (overlap without
        ``replace``, other precisions, another stored definition).
    """
    store = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    instrument = resolve_instrument(instrument, store)
    result = read_and_validate(
        path,
        format=format,
        instrument=instrument,
        options=options,
        validation=validation,
        price_precision=price_precision,
        size_precision=size_precision,
    )
    report = result.report
    if len(result.clean) == 0:
        counts = (
            ", ".join(f"{rule} {n}" for rule, n in report.quarantine_counts().items())
            or "the file is empty"
        )
        raise DataIntegrityError(
            f"file {path} has no clean rows of {report.instrument_id} to import ({counts})"
        )
    entry = store.write(result.clean, instrument=instrument, replace=replace)
    return ImportResult(
        source=report.source,
        instrument_id=report.instrument_id,
        kind=report.kind,
        rows_in=report.rows_in,
        rows_written=len(result.clean),
        entry=entry,
        report=report,
    )


def resolve_instrument(instrument: Instrument | str, catalog: Catalog | None = None) -> Instrument:
    """Return ``instrument``, or the definition of the id: the catalog's, else the bundled one.

    Raises
    ------
    ConfigError
        If ``instrument`` is an id that neither the catalog nor the bundled data defines.
    """
    if isinstance(instrument, Instrument):
        return instrument
    from tradeloop.data import bundled  # bundled reads its files through this module

    if catalog is not None and catalog.has_instrument(instrument):
        return catalog.instrument(instrument)
    known = bundled.find_instrument(instrument)
    if known is not None:
        return known
    where = f"catalog {catalog.root} has no definition of it and " if catalog is not None else ""
    raise ConfigError(
        f"instrument {instrument} is not defined: {where}it is not a bundled instrument "
        f"({', '.join(sorted(bundled.instrument_ids()))}); define it with --kind, --currency and "
        "--price-precision (or pass an Instrument)"
    )

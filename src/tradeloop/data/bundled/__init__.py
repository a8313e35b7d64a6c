"""Real market data shipped inside the package, for examples, demos and tests.

Each dataset is the upstream text file (or a contiguous slice of it plus the header),
gzip-compressed; values are exactly the upstream ones. ``ORIGINS.md`` beside this file gives
repository, commit, path, licence and checksums. Loading reads the file with the data
layer's own reader and validates it: ``load_bars(name)`` returns the clean bars, and
``report(name)`` what validation set aside or found.

The instrument of each dataset carries the precision of its data and an honest tick size
(the split-adjusted Yahoo files have 6 decimals, so their tick is 0.000001, not a cent).
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradeloop.core.errors import ConfigError, InvariantViolation
from tradeloop.core.time import parse_time
from tradeloop.data.api import (
    AnyValidationResult,
    DataFormat,
    FormatOptions,
    YahooOptions,
    read_file,
)
from tradeloop.data.columns import BarColumns, Columns, QuoteColumns, TradeColumns
from tradeloop.data.kinds import DataKind
from tradeloop.data.readers import BarStamp, OhlcvFormat, QuotesFormat, TradesFormat
from tradeloop.data.report import QualityReport
from tradeloop.data.validation import ValidationConfig, validate
from tradeloop.model.instruments import (
    Instrument,
    crypto_perpetual,
    crypto_spot,
    equity,
    future,
    fx_pair,
)


@dataclass(frozen=True, slots=True)
class BundledDataset:
    """One bundled dataset: its file, what it holds and how it is read."""

    name: str
    file: str
    kind: DataKind
    instrument: Instrument
    format: DataFormat
    options: FormatOptions | None
    volume_precision: int | None
    description: str


def _yahoo_equity(symbol: str, venue: str, precision: int) -> Instrument:
    tick = f"{1 / 10**precision:.{precision}f}"
    return equity(symbol, venue, price_precision=precision, tick_size=tick, calendar="XNYS")


_BTCUSDT_SPOT = crypto_spot(
    "BTCUSDT",
    "BINANCE",
    base="BTC",
    quote="USDT",
    price_precision=2,
    size_precision=6,
    tick_size="0.01",
    lot_size="0.000001",
)

_DATASETS: tuple[BundledDataset, ...] = (
    BundledDataset(
        "orcl_daily",
        "orcl-1995-2014.txt.gz",
        DataKind.BARS,
        _yahoo_equity("ORCL", "XNAS", 6),
        DataFormat.YAHOO,
        YahooOptions(),
        None,
        "Oracle daily OHLCV 1995-2014 (Yahoo, split-adjusted, 6 decimals); ORCL listed on NASDAQ "
        "until 2013-07, NYSE after",
    ),
    BundledDataset(
        "nvda_daily",
        "nvda-1999-2014.txt.gz",
        DataKind.BARS,
        _yahoo_equity("NVDA", "XNAS", 6),
        DataFormat.YAHOO,
        YahooOptions(),
        None,
        "NVIDIA daily OHLCV 1999-2014 (Yahoo, split-adjusted, 6 decimals)",
    ),
    BundledDataset(
        "yhoo_daily",
        "yhoo-1996-2015.txt.gz",
        DataKind.BARS,
        _yahoo_equity("YHOO", "XNAS", 6),
        DataFormat.YAHOO,
        YahooOptions(),
        None,
        "Yahoo! Inc. daily OHLCV 1996-2015 (Yahoo, split-adjusted, 6 decimals)",
    ),
    BundledDataset(
        "goog_daily",
        "GOOG.csv.gz",
        DataKind.BARS,
        equity("GOOG", "XNAS", price_precision=2, tick_size="0.01"),
        DataFormat.YAHOO,
        YahooOptions(),
        None,
        "Alphabet/Google daily OHLCV 2004-2013, unadjusted (pre-2014-split prices), cents",
    ),
    BundledDataset(
        "spy_daily",
        "SPY_D.csv.gz",
        DataKind.BARS,
        equity("SPY", "ARCX", price_precision=4, tick_size="0.0001"),
        DataFormat.YAHOO,
        YahooOptions(),
        None,
        "SPDR S&P 500 ETF daily OHLCV 1999-2020, unadjusted, 4 decimals (pre-2001 sixteenths "
        "are cut to 4 decimals upstream, e.g. 136.96875 appears as 136.9687)",
    ),
    BundledDataset(
        "btcusdt_perp_1m",
        "btc-perp-20211231-20220201_1m.csv.gz",
        DataKind.BARS,
        crypto_perpetual(
            "BTCUSDT-PERP",
            "BINANCE",
            base="BTC",
            quote="USDT",
            price_precision=0,
            size_precision=3,
            tick_size="1",
            lot_size="0.001",
        ),
        DataFormat.OHLCV,
        OhlcvFormat(stamp=BarStamp.CLOSE),
        4,
        "BTC perpetual 1-minute bars 2021-12-31..2022-02-01 (nautilus_trader test data; "
        "whole-dollar prices, likely FTX BTC-PERP; volume in quote currency with 4 decimals); "
        "timestamps read as "
        "bar closes, as nautilus does",
    ),
    BundledDataset(
        "btcusdt_trades",
        "binance-btcusdt-trades-20210108.csv.gz",
        DataKind.TRADES,
        _BTCUSDT_SPOT,
        DataFormat.TRADES,
        TradesFormat(),
        None,
        "Binance BTC/USDT spot trades, 2021-01-08 00:00:00.278..00:00:46.355, 2,001 trades",
    ),
    BundledDataset(
        "btcusdt_quotes",
        "binance-btcusdt-quotes-20210108.csv.gz",
        DataKind.QUOTES,
        _BTCUSDT_SPOT,
        DataFormat.QUOTES,
        QuotesFormat(),
        None,
        "Binance BTC/USDT spot best bid/ask, 2021-01-08 00:00:01.076..00:00:46.674, 451 quotes",
    ),
    BundledDataset(
        "gbpusd_bid_1m",
        "gbpusd-m1-bid-20120206-20120208.csv.gz",
        DataKind.BARS,
        fx_pair("GBP/USD", "FXCM", price_precision=5),
        DataFormat.OHLCV,
        OhlcvFormat(volume=None, stamp=BarStamp.OPEN, interval="1min"),
        None,
        "FXCM GBP/USD 1-minute BID bars 2012-02-06..2012-02-08 (Mon-Wed, no volume); timestamps "
        "read as bar opens (FXCM's convention), so ts_event = timestamp + 1 minute",
    ),
    BundledDataset(
        "6eh4_1m",
        "6EH4.XCME_1min_bars_20240102_20240104.csv.gz",
        DataKind.BARS,
        future(
            "6EH4",
            "XCME",
            currency_code="USD",
            price_precision=5,
            tick_size="0.00005",
            multiplier="125000",
            expiry_ns=parse_time("2024-03-18T14:16:00Z"),
            calendar="CMES",
        ),
        DataFormat.OHLCV,
        OhlcvFormat(timestamp="timestamp_utc", stamp=BarStamp.CLOSE, calendar="CMES"),
        None,
        "CME Euro FX March 2024 future 1-minute bars, sessions 2024-01-02..2024-01-04 (bars close "
        "23:01..22:00 UTC: stamped at their close)",
    ),
)
_BY_NAME = {dataset.name: dataset for dataset in _DATASETS}
_BY_INSTRUMENT = {dataset.instrument.id: dataset.instrument for dataset in _DATASETS}


def names() -> list[str]:
    """Return the names of the bundled datasets, in a fixed order."""
    return [dataset.name for dataset in _DATASETS]


def dataset(name: str) -> BundledDataset:
    """Return the description of dataset ``name``.

    Raises
    ------
    ConfigError
        If there is no bundled dataset of that name.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(
            f"bundled dataset {name!r} does not exist; known: {', '.join(names())}"
        ) from None


def instrument(name: str) -> Instrument:
    """Return the instrument of dataset ``name`` (its precision matches the data)."""
    return dataset(name).instrument


def instrument_ids() -> list[str]:
    """Return the ids of the bundled datasets' instruments, sorted (the instrument registry)."""
    return sorted(_BY_INSTRUMENT)


def find_instrument(instrument_id: str) -> Instrument | None:
    """Return the bundled definition of ``instrument_id`` (``None`` when none is bundled).

    This registry does not depend on any run config: ``tradeloop data import`` uses it to
    store a definition beside data of a bundled instrument imported from a file.
    """
    return _BY_INSTRUMENT.get(instrument_id)


def path(name: str) -> Path:
    """Return the path of dataset ``name``'s file (gzip-compressed upstream text)."""
    resource = importlib.resources.files(__name__) / dataset(name).file
    if not isinstance(resource, Path):
        raise InvariantViolation(f"bundled data {name} is not on the file system ({resource})")
    return resource


def load(name: str, validation: ValidationConfig | None = None) -> AnyValidationResult:
    """Return dataset ``name`` read and validated: clean columns, source rows and report.

    With the default validation the result is cached and its arrays are read-only.
    """
    if validation is None:
        return _load_default(name)
    return _load(name, validation)


def _load(name: str, validation: ValidationConfig | None) -> AnyValidationResult:
    spec = dataset(name)
    read = read_file(
        path(name),
        format=spec.format,
        instrument=spec.instrument,
        options=spec.options,
        size_precision=spec.volume_precision,
    )
    result: AnyValidationResult = validate(read, validation, source=f"bundled:{spec.file}")
    return result


@functools.cache
def _load_default(name: str) -> AnyValidationResult:
    result = _load(name, None)
    _freeze(result.clean)
    result.clean_rows.setflags(write=False)
    return result


def _freeze(columns: Columns) -> None:
    for slot in type(columns).__slots__:
        value = getattr(columns, slot)
        if isinstance(value, np.ndarray):
            value.setflags(write=False)


def report(name: str) -> QualityReport:
    """Return the quality report of dataset ``name`` under the default validation."""
    return load(name).report


def load_bars(name: str) -> BarColumns:
    """Return the clean (validated) bars of dataset ``name``; see ``report`` for what was set aside.

    Raises
    ------
    ConfigError
        If the dataset does not hold bars.
    """
    clean = load(name).clean
    if not isinstance(clean, BarColumns):
        raise ConfigError(f"bundled dataset {name} holds {dataset(name).kind.value}, not bars")
    return clean


def load_trades(name: str) -> TradeColumns:
    """Return the clean trades of dataset ``name``."""
    clean = load(name).clean
    if not isinstance(clean, TradeColumns):
        raise ConfigError(f"bundled dataset {name} holds {dataset(name).kind.value}, not trades")
    return clean


def load_quotes(name: str) -> QuoteColumns:
    """Return the clean quotes of dataset ``name``."""
    clean = load(name).clean
    if not isinstance(clean, QuoteColumns):
        raise ConfigError(f"bundled dataset {name} holds {dataset(name).kind.value}, not quotes")
    return clean


__all__ = [
    "BundledDataset",
    "dataset",
    "find_instrument",
    "instrument",
    "instrument_ids",
    "load",
    "load_bars",
    "load_quotes",
    "load_trades",
    "names",
    "path",
    "report",
]

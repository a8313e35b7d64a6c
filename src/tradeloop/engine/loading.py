"""Loading a run's market data: every ``[[data]]`` entry read, clipped and validated into
``LoadedSource`` columns (bars, quotes, trades, order-book deltas), with the venue and
account checks that need the instruments (``engine.runner.prepare_run`` calls
``load_market_data``; ``tradeloop models train`` and ``features materialize`` too)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar, cast

import numpy as np

from tradeloop.config.schema import (
    DataSection,
    RunConfig,
)
from tradeloop.core.errors import (
    ConfigError,
    InvariantViolation,
)
from tradeloop.core.ids import file_hash
from tradeloop.core.paths import require_dir, require_file
from tradeloop.core.time import parse_time
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.data.report import QualityReport
from tradeloop.engine.feed import AnyColumns
from tradeloop.model.instruments import Instrument

C = TypeVar("C", bound=AnyColumns)


BOOK_FORMATS = ("binance-depth", "bybit-orderbook", "databento-mbo", "lobster")
"""Order-book formats a ``[[data]]`` file entry may have (fidelity level 4).

Options (``options = {...}``): ``binance-depth`` takes ``on_gap`` (``"raise"`` or
``"resync"``) and ``bar_seconds`` (also serve bars of that many seconds built from the
recording's trades, bucketed by when they were received and stamped at the interval's end:
``data.bar_builder.bar_columns_from_trades``); ``lobster`` takes ``orderbook`` (the
order-book file, default: beside the message file) and ``reseed`` (default true). The others
take none.
"""


_BOOK_OPTIONS: dict[str, tuple[str, ...]] = {
    "binance-depth": ("on_gap", "bar_seconds"),
    "bybit-orderbook": (),
    "databento-mbo": (),
    "lobster": ("orderbook", "reseed"),
}


@dataclass
class LoadedSource:
    """One data source after reading and validation."""

    name: str
    columns: AnyColumns
    report: QualityReport | None
    content_hash: str
    origin: str


def columns_kind(columns: AnyColumns) -> str:
    if isinstance(columns, BarColumns):
        return "bars"
    if isinstance(columns, QuoteColumns):
        return "quotes"
    if isinstance(columns, TradeColumns):
        return "trades"
    return "book"


def _clip(columns: C, section: DataSection) -> C:
    if section.start is None and section.end is None:
        return columns
    start = None if section.start is None else parse_time(section.start)
    end = None if section.end is None else parse_time(section.end)
    lo = 0 if start is None else int(np.searchsorted(columns.ts_init, start, "left"))
    hi = len(columns) if end is None else int(np.searchsorted(columns.ts_init, end, "right"))
    clipped = cast(C, columns.take(slice(lo, hi)))  # every column set's take returns its own type
    if len(clipped) == 0:
        raise ConfigError(
            f"data {section.dataset or section.path or section.catalog} has no records between "
            f"{section.start or 'the start'} and {section.end or 'the end'}"
        )
    return clipped


def _load_source(
    section: DataSection, instruments: dict[str, Instrument], base_dir: Path
) -> tuple[LoadedSource, Instrument | None]:
    from tradeloop.data import api, bundled
    from tradeloop.data.catalog import Catalog

    if section.dataset is not None:
        if section.dataset not in bundled.names():
            known = ", ".join(bundled.names())
            raise ConfigError(
                f"bundled dataset {section.dataset!r} is unknown; bundled datasets: {known}"
            )
        result = bundled.load(section.dataset)
        source = LoadedSource(
            section.dataset,
            _clip(result.clean, section),
            result.report,
            file_hash(str(bundled.path(section.dataset))),
            f"bundled:{section.dataset}",
        )
        return source, bundled.instrument(section.dataset)
    if section.path is not None and section.format in BOOK_FORMATS:
        raise InvariantViolation("book formats are loaded by _load_book")
    if section.path is not None:
        path = Path(section.path)
        path = path if path.is_absolute() else base_dir / path
        assert section.instrument_id is not None
        assert section.format is not None
        _check_file(path, f"data {section.path}")
        file_instrument = _instrument_for(section, instruments)
        fmt = api.data_format(section.format)
        try:
            options = api.format_options(
                path, fmt, section.options or None, calendar=file_instrument.exchange_calendar
            )
        except ConfigError as error:
            raise ConfigError(f"data {section.path}: {error}") from None
        result = api.read_and_validate(
            path, format=fmt, instrument=file_instrument, options=options
        )
        source = LoadedSource(
            str(section.path),
            _clip(result.clean, section),
            result.report,
            file_hash(str(path)),
            str(section.path),
        )
        return source, None
    assert section.catalog is not None
    assert section.instrument_id is not None
    root = Path(section.catalog)
    root = root if root.is_absolute() else base_dir / root
    require_dir(root, "catalog")
    catalog = Catalog(root)
    iid = section.instrument_id
    entries = catalog.list(iid, section.kind)
    if not entries:
        raise ConfigError(f"catalog {section.catalog} has no {section.kind} for {iid}")
    # The config's definition wins; else the one stored beside the data by `data import`.
    instrument = instruments.get(iid)
    if instrument is None:
        if not catalog.has_instrument(iid):
            raise ConfigError(
                f"catalog {section.catalog} has no definition of instrument {iid} and the "
                "config defines none: add it under [[instruments]] (or import the data with "
                "--kind, --currency and --price-precision)"
            )
        instrument = catalog.instrument(iid)
    start = None if section.start is None else parse_time(section.start)
    end = None if section.end is None else parse_time(section.end)
    columns = catalog.query(section.kind, iid, start, end)
    if len(columns) == 0:
        raise ConfigError(
            f"catalog {section.catalog} has no {section.kind} of {iid} between "
            f"{section.start or 'the start'} and {section.end or 'the end'}"
        )
    digest = hashlib.sha256("".join(e.content_hash for e in entries).encode()).hexdigest()
    return LoadedSource(f"catalog:{iid}", columns, None, digest, str(section.catalog)), instrument


def _check_file(path: Path, what: str) -> None:
    # The file itself first: a missing file is the problem to report, whatever else is wrong.
    try:
        require_file(path, "file")
    except ConfigError as error:
        raise ConfigError(f"{what}: {error}") from None


def _instrument_for(section: DataSection, instruments: dict[str, Instrument]) -> Instrument:
    # The config's [[instruments]] definition, else the bundled one of the same id (the data's
    # precision is then checked against it like any other).
    from tradeloop.data import bundled

    assert section.instrument_id is not None
    instrument = instruments.get(section.instrument_id) or bundled.find_instrument(
        section.instrument_id
    )
    if instrument is None:
        raise ConfigError(
            f"data {section.path}: instrument {section.instrument_id} is not defined; "
            "add it under [[instruments]]"
        )
    instruments.setdefault(instrument.id, instrument)
    return instrument


def _load_book(
    section: DataSection, instruments: dict[str, Instrument], base_dir: Path
) -> list[LoadedSource]:
    """Read an order-book recording: its deltas (and, for Binance, its bookTicker quotes)."""
    from tradeloop.data import books

    assert section.path is not None
    assert section.instrument_id is not None
    path = Path(section.path)
    path = path if path.is_absolute() else base_dir / path
    _check_file(path, f"data {section.path}")
    instrument = _instrument_for(section, instruments)
    iid, precision, size = instrument.id, instrument.price_precision, instrument.size_precision
    digest = file_hash(str(path))
    assert section.format is not None
    options = dict(section.options)
    allowed = _BOOK_OPTIONS[section.format]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"data {section.path}: format {section.format} has no option "
            f"{', '.join(unknown)} (options: {', '.join(allowed) or 'none'})"
        )
    if section.format == "binance-depth":
        on_gap = options.get("on_gap", "raise")
        if on_gap not in ("raise", "resync"):
            raise ConfigError(f"data {section.path}: on_gap {on_gap!r} is not raise or resync")
        feed = books.read_binance_depth(
            path, instrument_id=iid, price_precision=precision, size_precision=size, on_gap=on_gap
        )
        parts: list[AnyColumns] = [feed.deltas, feed.quotes, feed.trades]
        seconds = options.get("bar_seconds")
        if seconds is not None:
            if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
                raise ConfigError(
                    f"data {section.path}: bar_seconds {seconds!r} is not a whole number of "
                    "seconds >= 1"
                )
            from tradeloop.data.bar_builder import bar_columns_from_trades

            parts.append(bar_columns_from_trades(feed.trades, seconds * 1_000_000_000))
    elif section.format == "bybit-orderbook":
        bybit = books.read_bybit_orderbook(
            path, instrument_id=iid, price_precision=precision, size_precision=size
        )
        parts = [bybit.deltas]
    elif section.format == "lobster":
        orderbook = options.get("orderbook")
        book_path = None
        if orderbook is not None:
            book_path = Path(str(orderbook))
            book_path = book_path if book_path.is_absolute() else base_dir / book_path
        reseed = options.get("reseed", True)
        if not isinstance(reseed, bool):
            raise ConfigError(f"data {section.path}: reseed {reseed!r} is not true or false")
        stream = books.read_lobster_stream(
            path, book_path, instrument_id=iid, price_precision=precision, reseed=reseed
        )
        parts = [stream.deltas]
        if book_path is None:
            book_path = books.default_orderbook_path(path)
        digest = hashlib.sha256(
            (digest + file_hash(str(book_path))).encode()
        ).hexdigest()  # both files make the data
    else:
        parts = [books.read_databento_mbo(path, instrument_id=iid, price_precision=precision)]
    return [
        LoadedSource(
            f"{section.path}:{columns_kind(part)}",
            _clip(part, section),
            None,
            digest,
            str(section.path),
        )
        for part in parts
        if len(part)
    ]


def _check_accounts(config: RunConfig, instruments: dict[str, Instrument]) -> None:
    """With ``[accounts.<VENUE>]`` tables, every traded venue has one, none names a venue
    without instruments, and they add up to the run's starting cash."""
    if not config.accounts:
        return
    venues = {i.venue for i in instruments.values()}
    unknown = sorted(set(config.accounts) - venues)
    if unknown:
        raise ConfigError(
            f"[accounts.{unknown[0]}] names a venue where no instrument trades "
            f"(venues: {', '.join(sorted(venues))})"
        )
    missing = sorted(venues - set(config.accounts))
    if missing:
        raise ConfigError(
            f"venue {', '.join(missing)} trades instruments but has no [accounts.<VENUE>] "
            "table (with accounts, every venue needs one)"
        )
    total = sum(Decimal(a.starting_cash) for a in config.accounts.values())
    if total != Decimal(config.run.starting_cash):
        raise ConfigError(
            f"the [accounts] starting_cash add up to {total} but run starting_cash is "
            f"{config.run.starting_cash}: make them equal"
        )


def _check_venues(
    config: RunConfig, instruments: dict[str, Instrument], sources: list[LoadedSource]
) -> None:
    """Check what the venue settings need of the data, before the first record.

    Market impact (level 3) is estimated from the venue's own bar history (σ and volume):
    an instrument it would price without bars would silently get no impact, so that is a
    ``ConfigError``; at level 4 the impact model is not applied at all (walking the book is
    the impact), so configuring it there is one too.
    """
    per_venue = config.venue_configs()
    with_bars = {s.columns.instrument_id for s in sources if isinstance(s.columns, BarColumns)}
    with_data = {s.columns.instrument_id for s in sources}
    for instrument_id in sorted(with_data):
        instrument = instruments.get(instrument_id)
        if instrument is None:
            continue
        venue = per_venue.get(instrument.venue, config.venue)
        if venue.impact is None:
            continue
        where = f"[venues.{instrument.venue}]" if instrument.venue in per_venue else "[venue]"
        if venue.fidelity == "book":
            raise ConfigError(
                f"{where} impact is set at fidelity 'book', where it is not applied (walking "
                f"the book is the impact of {instrument_id}'s orders): remove impact"
            )
        if instrument_id not in with_bars:
            raise ConfigError(
                f"{where} impact needs bars of {instrument_id} (the model estimates σ and ADV "
                "from bar history) and the run has none: add its bars or remove impact"
            )


def load_market_data(
    config: RunConfig, base_dir: Path
) -> tuple[dict[str, Instrument], list[LoadedSource]]:
    """Return the run's instruments and its market data, read and validated as a run reads
    them (``prepare_run``'s first step; feature materialization and model training read the
    same bars through it).

    Raises
    ------
    ConfigError
        If a data source or an instrument cannot be used.
    """
    instruments: dict[str, Instrument] = {}
    for definition in config.instruments:
        if definition.id in instruments:
            raise ConfigError(f"instrument {definition.id} is defined twice")
        instruments[definition.id] = definition.to_instrument()
    sources: list[LoadedSource] = []
    for section in config.data:
        if section.path is not None and section.format in BOOK_FORMATS:
            sources.extend(_load_book(section, instruments, base_dir))
            continue
        source, instrument = _load_source(section, instruments, base_dir)
        if instrument is not None:
            instruments.setdefault(instrument.id, instrument)
        if source.columns.instrument_id not in instruments:
            raise ConfigError(
                f"data {source.name} is for {source.columns.instrument_id}, which has no instrument"
            )
        sources.append(source)
    _feed_instruments(config, instruments)
    for source in sources:
        _check_source_precision(source, instruments[source.columns.instrument_id])
    return instruments, sources


def _check_source_precision(source: LoadedSource, instrument: Instrument) -> None:
    # Raw integers are read at the data's precision: the instrument must use the same one.
    columns = source.columns
    precision = getattr(columns, "price_precision", None)
    if precision is not None and precision != instrument.price_precision:
        raise ConfigError(
            f"data {source.name} has prices with {precision} decimals but instrument "
            f"{instrument.id} uses price precision {instrument.price_precision}; define the "
            "instrument with the data's precision"
        )
    size = getattr(columns, "size_precision", None)
    if isinstance(columns, QuoteColumns | TradeColumns) and size != instrument.size_precision:
        raise ConfigError(
            f"data {source.name} has sizes with {size} decimals but instrument "
            f"{instrument.id} uses size precision {instrument.size_precision}"
        )


def _feed_instruments(config: RunConfig, instruments: dict[str, Instrument]) -> None:
    # A live feed's instrument: the config's [[instruments]] definition, else a bundled one.
    from tradeloop.data import bundled

    for feed in config.feeds:
        if feed.instrument_id in instruments:
            continue
        instrument = bundled.find_instrument(feed.instrument_id)
        if instrument is None:
            raise ConfigError(
                f"feed instrument {feed.instrument_id} is not defined: add it under "
                "[[instruments]] (tradeloop venue instruments CONFIG prints the venue's "
                "definitions)"
            )
        instruments[instrument.id] = instrument

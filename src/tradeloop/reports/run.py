"""A finished run, opened for inspection: its journal index, manifest, config and market data.

Market data is not in the journal; the manifest references it by content hash. ``RunInputs``
loads it again through ``engine.runner.prepare_run`` with the run's own config (relative
paths resolve against ``base_dir``, the directory the run was started from: the current
directory unless given) and uses it only if every source's content hash matches the
manifest — otherwise the data is not what the run saw, and explanations fall back to what
the journal alone holds (``notes`` says so).
"""

from __future__ import annotations

import os
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.config.schema import RunConfig
from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.core.fixed import format_raw
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.engine.runner import PreparedRun, prepare_run
from tradeloop.journal.explain import TradeBook, TradePnl, decompose
from tradeloop.journal.manifest import read_base_dir
from tradeloop.journal.replay import EquityCurve, JournalIndex, read_equity_csv
from tradeloop.model.book import NULL_PRICE
from tradeloop.model.instruments import Instrument


class PriceSeries(msgspec.Struct, frozen=True):
    """Bar closes of one instrument: exact raws at ``precision``, stamped by ``ts_init``."""

    instrument_id: str
    ts: npt.NDArray[np.int64]
    close_raw: npt.NDArray[np.int64]
    precision: int
    open_raw: npt.NDArray[np.int64]
    high_raw: npt.NDArray[np.int64]
    low_raw: npt.NDArray[np.int64]
    volume: npt.NDArray[np.float64]

    @property
    def close(self) -> npt.NDArray[np.float64]:
        """Return the closes as floats (for plots and statistics)."""
        return np.asarray(self.close_raw / 10.0**self.precision, dtype=np.float64)

    def index_at(self, ts_ns: int) -> int:
        """Return the index of the last bar at or before ``ts_ns`` (-1 if none)."""
        return int(np.searchsorted(self.ts, ts_ns, side="right")) - 1


MARK_KINDS: tuple[str, ...] = ("book", "quote", "trade")
"""What a ``MarkSeries`` row was taken from, by its ``kind`` code (the feed's kind order)."""

_MARK_NAMES = ("book mid", "quote mid", "last trade")


class MarkSeries(msgspec.Struct, frozen=True):
    """The marks of an instrument without bars, as the kernel set them, in kernel order.

    ``mark_raw`` is at ``precision`` (the instrument's price precision + 1, which holds a mid
    exactly): the book's mid at each event end where both sides have levels, a quote's mid,
    a trade's price. ``kind`` indexes ``MARK_KINDS``; ``bid_raw`` and ``ask_raw`` (at
    ``precision - 1``) are the touch of a book or quote row and ``NULL_PRICE`` for a trade.
    The last row at a timestamp is the mark the kernel held after it.
    """

    instrument_id: str
    ts: npt.NDArray[np.int64]
    mark_raw: npt.NDArray[np.int64]
    precision: int
    kind: npt.NDArray[np.int8]
    bid_raw: npt.NDArray[np.int64]
    ask_raw: npt.NDArray[np.int64]

    def index_at(self, ts_ns: int) -> int:
        """Return the index of the last mark at or before ``ts_ns`` (-1 if none)."""
        return int(np.searchsorted(self.ts, ts_ns, side="right")) - 1


def decode_config(config_json: str) -> RunConfig:
    """Return the run config stored in a manifest.

    Raises
    ------
    ConfigError
        If the stored config does not match this version's schema.
    """
    try:
        return msgspec.json.decode(config_json, type=RunConfig)
    except (msgspec.ValidationError, TradeloopError) as error:
        raise ConfigError(
            f"the run's stored config does not load in this version: {error}"
        ) from None


class RunInputs:
    """A run directory (or journal file) opened for replay, explain and reports.

    Parameters
    ----------
    run
        The run directory (``runs/<run_id>``) or its journal file.
    base_dir
        Where the run's relative config paths (data files, strategy files) resolve; when None,
        where the run resolved them (its ``location.json``), else the current directory.

    Raises
    ------
    ConfigError
        If ``run`` is not a run directory or journal.
    """

    def __init__(self, run: str | os.PathLike[str], base_dir: Path | None = None) -> None:
        self.index = JournalIndex(run)
        self.manifest = self.index.manifest
        self.run_dir = self.index.run_dir
        if base_dir is None:  # where the run resolved its data paths (location.json)
            base_dir = read_base_dir(self.run_dir, self.manifest)
        self.base_dir = Path.cwd() if base_dir is None else base_dir
        self.notes: list[str] = []

    @cached_property
    def config(self) -> RunConfig:
        """Return the run's config as stored in its manifest."""
        return decode_config(self.manifest.config_json)

    @cached_property
    def book(self) -> TradeBook:
        """Return the run's trades indexed for explain."""
        return TradeBook(self.index.rows)

    @cached_property
    def equity(self) -> EquityCurve:
        """Return the run's ``equity.csv`` columns."""
        return read_equity_csv(self.run_dir / "equity.csv")

    @cached_property
    def prepared(self) -> PreparedRun | None:
        """Return the run prepared again from its config, if its data matches the manifest."""
        try:
            prepared = prepare_run(self.config, self.base_dir)
        except TradeloopError as error:
            self.notes.append(
                f"market data not loaded ({error}); explanations use the journal only"
            )
            return None
        stored = {ref.name: ref.content_hash for ref in self.manifest.data}
        loaded = {source.name: source.content_hash for source in prepared.sources}
        if stored != loaded:
            changed = sorted(k for k in set(stored) | set(loaded) if stored.get(k) != loaded.get(k))
            self.notes.append(
                f"market data differs from the run's ({', '.join(changed)}): not used; "
                "explanations use the journal only"
            )
            return None
        return prepared

    @cached_property
    def prices(self) -> dict[str, PriceSeries]:
        """Return the bar closes of every instrument with bar data (empty without data)."""
        prepared = self.prepared
        if prepared is None:
            return {}
        out: dict[str, PriceSeries] = {}
        for source in prepared.sources:
            columns = source.columns
            if not isinstance(columns, BarColumns) or columns.instrument_id in out:
                continue
            out[columns.instrument_id] = PriceSeries(
                columns.instrument_id,
                columns.ts_init,
                columns.close,
                columns.price_precision,
                columns.open,
                columns.high,
                columns.low,
                np.asarray(columns.volume / 10.0**columns.volume_precision, dtype=np.float64),
            )
        return out

    @cached_property
    def marks(self) -> dict[str, MarkSeries]:
        """Return the marks of every instrument with data but no bars (empty without data).

        A run of order-book deltas, quotes or trades alone is marked the way the kernel marks
        it: at the book's mid after every venue event where both sides have levels
        (``data.books.top_of_book``), a quote's mid, a trade's price — merged in the feed's
        order (kind, then source, then row), so the last mark at or before an instant is the
        one the kernel valued positions at. Instruments with bars are valued at their closes
        (``prices``).
        """
        prepared = self.prepared
        if prepared is None:
            return {}
        parts: dict[str, list[_MarkRows]] = {}
        for rank, source in enumerate(prepared.sources):
            columns = source.columns
            if isinstance(columns, BarColumns) or columns.instrument_id in self.prices:
                continue
            parts.setdefault(columns.instrument_id, []).append(_mark_rows(columns, rank))
        out: dict[str, MarkSeries] = {}
        for instrument_id, found in parts.items():
            ts = np.concatenate([p.ts for p in found])
            kind = np.concatenate([np.full(len(p.ts), p.kind, dtype=np.int8) for p in found])
            ranks = np.concatenate([np.full(len(p.ts), p.rank) for p in found])
            order = np.lexsort((ranks, kind, ts))  # stable: row order within a source
            out[instrument_id] = MarkSeries(
                instrument_id,
                ts[order],
                np.concatenate([p.mark for p in found])[order],
                found[0].precision + 1,  # prepare_run checked: one precision per instrument
                kind[order],
                np.concatenate([p.bid for p in found])[order],
                np.concatenate([p.ask for p in found])[order],
            )
        return out

    def price_series(
        self, instrument_id: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
        """Return ``(ts, price)`` of ``instrument_id`` as floats, for plots and exposures: its
        bar closes, else its marks (None without either)."""
        series = self.prices.get(instrument_id)
        if series is not None:
            return series.ts, series.close
        marks = self.marks.get(instrument_id)
        if marks is None:
            return None
        return marks.ts, np.asarray(marks.mark_raw / 10.0**marks.precision, dtype=np.float64)

    def market_data_note(self, instrument_id: str) -> str | None:
        """Return why ``instrument_id`` has no market data to value it with (None if it has)."""
        if instrument_id in self.prices or instrument_id in self.marks:
            return None
        if self.prepared is None:
            return f"no market data for {instrument_id}: " + (
                self.notes[0] if self.notes else "the run's data did not load"
            )
        return (
            f"no market data for {instrument_id} in the run's data sources (no bars, quotes, "
            "trades or order-book deltas of it): its decision and exit prices come from the "
            "journal (execution plans and fills)"
        )

    def price_source(self, instrument_id: str, ts_ns: int) -> str:
        """Return what ``price_at(instrument_id, ts_ns)`` is: ``last price`` (a bar close),
        ``book mid``, ``quote mid`` or ``last trade`` (for explanations)."""
        marks = self.marks.get(instrument_id)
        if instrument_id in self.prices or marks is None:
            return "last price"
        at = marks.index_at(ts_ns)
        return "last price" if at < 0 else _MARK_NAMES[int(marks.kind[at])]

    @cached_property
    def instruments(self) -> dict[str, Instrument]:
        """Return the run's instruments (empty without data)."""
        prepared = self.prepared
        return {} if prepared is None else dict(prepared.instruments)

    @property
    def money_digits(self) -> int:
        """Return the decimals money is printed with: the base currency's (2 for USD)."""
        from tradeloop.core.fixed import CURRENCIES

        code = getattr(self.config.run, "base_currency", "USD")
        found = CURRENCIES.get(code)
        return 2 if found is None else found.precision

    @property
    def benchmark_id(self) -> str | None:
        """Return the benchmark: the config's ``run.benchmark``, else the betas' benchmark."""
        configured = getattr(self.config.run, "benchmark", None)
        return configured or self.book.benchmark_id()

    def price_at(self, instrument_id: str, ts_ns: int) -> Fraction | None:
        """Return the last close of ``instrument_id`` at or before ``ts_ns`` (exact); for an
        instrument without bars, its last mark (``marks``: book mid, quote mid, trade)."""
        series = self.prices.get(instrument_id)
        if series is None:
            marks = self.marks.get(instrument_id)
            if marks is None:
                return None
            at = marks.index_at(ts_ns)
            return None if at < 0 else Fraction(int(marks.mark_raw[at]), 10**marks.precision)
        index = series.index_at(ts_ns)
        if index < 0:
            return None
        return Fraction(int(series.close_raw[index]), 10**series.precision)

    def multiplier_of(self, instrument_id: str) -> Fraction:
        """Return the contract multiplier of ``instrument_id`` (1 when unknown)."""
        instrument = self.instruments.get(instrument_id)
        if instrument is None:
            return Fraction(1)
        raw, precision = instrument.multiplier_parts
        return Fraction(raw, 10**precision)

    def beta_estimate(self, instrument_id: str, ts_ns: int) -> tuple[float, str] | None:
        """Return an OLS beta of daily returns over the 252 bars before ``ts_ns``, for runs
        whose journal has no ``BetasEstimated`` (None without data or benchmark)."""
        benchmark = self.benchmark_id or _default_benchmark(self.prices)
        if benchmark is None or benchmark not in self.prices or instrument_id not in self.prices:
            return None
        asset, bench = self.prices[instrument_id], self.prices[benchmark]
        end = asset.index_at(ts_ns)
        start = max(0, end - 252)
        ts = asset.ts[start : end + 1]
        if len(ts) < 20:
            return None
        at = np.searchsorted(bench.ts, ts, side="right") - 1
        if at[0] < 0:
            return None
        a = asset.close[start : end + 1]
        b = bench.close[at]
        ra, rb = np.diff(a) / a[:-1], np.diff(b) / b[:-1]
        variance = float(np.var(rb, ddof=1))
        if variance <= 0:
            return None
        beta = float(np.cov(ra, rb, ddof=1)[0, 1] / variance)
        return beta, f"estimated: OLS on {len(ra)} daily returns to {benchmark} before the decision"

    @property
    def end_ts(self) -> int:
        """Return the end of the run: its last market data or journal timestamp."""
        prepared = self.prepared
        last = [
            int(source.columns.ts_init[-1])
            for source in (prepared.sources if prepared is not None else ())
            if len(source.columns)
        ]
        return max([self.index.last_ts, *last])

    @cached_property
    def pnl(self) -> dict[str, TradePnl]:
        """Return the exact P&L decomposition of every trade (``journal.explain.decompose``).

        Every traded instrument without market data gets a note on its trades (its prices
        come from the journal alone, ``decompose``'s fallback).
        """
        has_prices = bool(self.prices) or bool(self.marks)
        benchmark = self.benchmark_id or _default_benchmark(self.prices)
        trades = decompose(
            self.book,
            end_ts=self.end_ts,
            price_at=self.price_at if has_prices else None,
            multiplier_of=self.multiplier_of,
            benchmark_id=benchmark,
            beta_fallback=self.beta_estimate if self.prices else None,
            price_source=self.price_source,
        )
        end = self.end_ts
        for trade in trades.values():
            note = self.market_data_note(trade.instrument_id)
            if note is None and trade.open_quantity:
                note = self._crossed_note(trade.instrument_id, end)
            if note is not None and note not in trade.notes:
                trade.notes.append(note)
        return trades

    def _crossed_note(self, instrument_id: str, ts_ns: int) -> str | None:
        # A crossed or locked book's mid is still the kernel's mark: say so where it values a lot.
        marks = self.marks.get(instrument_id)
        at = -1 if marks is None else marks.index_at(ts_ns)
        if marks is None or at < 0 or int(marks.kind[at]) != 0:
            return None
        bid, ask = int(marks.bid_raw[at]), int(marks.ask_raw[at])
        if bid < ask:
            return None
        digits = marks.precision - 1
        return (
            f"the run ended with {instrument_id}'s book crossed or locked (bid "
            f"{format_raw(bid, digits)}, ask {format_raw(ask, digits)}): the quantity still "
            "open is valued at its mid, as the run's equity is"
        )


class _MarkRows(NamedTuple):
    # The marks one non-bar source gives (``kind``: its ``MARK_KINDS`` code; ``rank``: its
    # place among the run's sources), the mark at ``precision + 1``.
    kind: int
    rank: int
    ts: npt.NDArray[np.int64]
    mark: npt.NDArray[np.int64]
    bid: npt.NDArray[np.int64]
    ask: npt.NDArray[np.int64]
    precision: int


def _mark_rows(columns: object, rank: int) -> _MarkRows:
    # The marks the kernel takes from one non-bar source (``Portfolio.on_quote``, ``on_trade``,
    # ``Kernel._after_book``), at one decimal more than the prices.
    if isinstance(columns, QuoteColumns):
        bid = np.asarray(columns.bid_price, dtype=np.int64)
        ask = np.asarray(columns.ask_price, dtype=np.int64)
        return _MarkRows(
            1, rank, columns.ts_init, (bid + ask) * 5, bid, ask, columns.price_precision
        )
    if isinstance(columns, TradeColumns):
        price = np.asarray(columns.price, dtype=np.int64)
        null = np.full(len(price), NULL_PRICE, dtype=np.int64)
        return _MarkRows(2, rank, columns.ts_init, price * 10, null, null, columns.price_precision)
    from tradeloop.data.books import BookDeltaColumns, top_of_book  # loads numba

    assert isinstance(columns, BookDeltaColumns)
    ts, bid, ask = top_of_book(columns, allow_crossed=True)
    return _MarkRows(0, rank, ts, (bid + ask) * 5, bid, ask, columns.price_precision)


def _default_benchmark(prices: dict[str, PriceSeries]) -> str | None:
    for instrument_id in sorted(prices):
        if instrument_id.split(".")[0] == "SPY":
            return instrument_id
    return None

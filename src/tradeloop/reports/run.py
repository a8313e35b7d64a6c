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

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.config.schema import RunConfig
from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.data.columns import BarColumns
from tradeloop.engine.runner import PreparedRun, prepare_run
from tradeloop.journal.explain import TradeBook, TradePnl, decompose
from tradeloop.journal.manifest import read_base_dir
from tradeloop.journal.replay import EquityCurve, JournalIndex, read_equity_csv
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
        """Return the last close of ``instrument_id`` at or before ``ts_ns`` (exact)."""
        series = self.prices.get(instrument_id)
        if series is None:
            return None
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
        last = [int(series.ts[-1]) for series in self.prices.values() if len(series.ts)]
        return max([self.index.last_ts, *last])

    @cached_property
    def pnl(self) -> dict[str, TradePnl]:
        """Return the exact P&L decomposition of every trade (``journal.explain.decompose``)."""
        has_prices = bool(self.prices)
        benchmark = self.benchmark_id or _default_benchmark(self.prices)
        return decompose(
            self.book,
            end_ts=self.end_ts,
            price_at=self.price_at if has_prices else None,
            multiplier_of=self.multiplier_of,
            benchmark_id=benchmark,
            beta_fallback=self.beta_estimate if has_prices else None,
        )


def _default_benchmark(prices: dict[str, PriceSeries]) -> str | None:
    for instrument_id in sorted(prices):
        if instrument_id.split(".")[0] == "SPY":
            return instrument_id
    return None

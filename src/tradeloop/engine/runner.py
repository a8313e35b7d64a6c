"""Runs from a config: prepare (data, instruments, strategies, manifest), then run in a mode.

``prepare_run`` does everything that can fail because of the user's input before a single
record is processed and before anything is written: a config or data error stops startup,
never a running session.

1. Check every ``[[data]]`` entry's format name.
2. Load every ``[[data]]`` source (``engine.loading``): bundled dataset, file (read +
   validate) or catalog; clip to ``start``/``end``. Quarantined records and gaps are kept in
   each source's quality report, written next to the journal and summarised in a
   ``DataValidated`` event.
3. Resolve instruments: ``[[instruments]]`` first, then the definitions bundled datasets and
   catalogs bring; a source's precisions must be its instrument's.
4. Check the run section (starting cash, benchmark with bar data).
5. Build the strategies from the allow-list (``engine.plugins``), params validated, ids
   unique, every instrument a strategy names (``Strategy.required_instruments``) known
   and with market data, and each strategy's own check of its config against the run's
   instruments, data kinds and time span (``Strategy.check_run``: e.g. every scheduled
   execution plan built).
6. Hash config, data and code into the run id and the manifest.

``run_backtest`` and ``run_paper_replay`` then create ``runs/<run_id>/``, build the kernel with
the mode's clock and journal settings and start the strategies; if startup fails, the run
directory is removed (a backtest rerun's previous directory is put back) and the error is
raised before any record or progress is shown. Then they drive the kernel and write the
journal, summary, equity curve and quality reports. Where relative paths resolved
(``base_dir``) is written beside the journal (``location.json``), not in it: the journal
depends only on config, data and seed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tradeloop import __version__
from tradeloop.config.schema import (
    RunConfig,
    canonical_json,
    config_hash,
)
from tradeloop.core.clock import LiveClock, TestClock
from tradeloop.core.errors import (
    ConfigError,
    StrategyError,
    TradeloopError,
    code_location,
)
from tradeloop.core.fixed import Money
from tradeloop.core.ids import file_hash
from tradeloop.core.time import ns_to_iso
from tradeloop.data.columns import BarColumns
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.live import Operations
from tradeloop.engine.loading import (
    BOOK_FORMATS,
    LoadedSource,
    _check_accounts,
    _check_venues,
    columns_kind,
    load_market_data,
)
from tradeloop.engine.paper import ReplayFeed, run_paper_stats
from tradeloop.engine.plugins import build_strategy
from tradeloop.journal.manifest import DataRef, RunManifest, write_location
from tradeloop.journal.status import RunLock
from tradeloop.journal.store import Journal, SqliteJournal
from tradeloop.model.events import DataValidated
from tradeloop.model.instruments import Instrument
from tradeloop.strategy.base import RunInputs, Strategy
from tradeloop.strategy.params import exact_quantity

ProgressFactory = Callable[[int], Callable[[int], None]]


@dataclass
class PreparedRun:
    """Everything a run needs, validated before the first record."""

    config: RunConfig
    base_dir: Path
    instruments: dict[str, Instrument]
    sources: list[LoadedSource]
    strategies: list[Strategy]
    config_hash: str
    run_id: str
    code_version: str
    cancel_open_orders_at_end: bool = False

    @property
    def record_count(self) -> int:
        """Return how many market data records the run will process (a delta stream counts
        its venue events, as the kernel does)."""
        return len(merge([s.columns for s in self.sources]))

    def manifest(self, mode: str, started_wall_ns: int | None = None) -> RunManifest:
        """Return the run manifest for ``mode``."""
        refs = tuple(
            DataRef(
                name=s.name,
                kind=columns_kind(s.columns),
                instrument_id=s.columns.instrument_id,
                rows=len(s.columns),
                first_ts=int(s.columns.ts_init[0]) if len(s.columns) else 0,
                last_ts=int(s.columns.ts_init[-1]) if len(s.columns) else 0,
                content_hash=s.content_hash,
                source=s.origin,
            )
            for s in self.sources
        )
        return RunManifest(
            run_id=self.run_id,
            mode=mode,
            config_hash=self.config_hash,
            config_json=canonical_json(self.config).decode(),
            seed=self.config.run.seed,
            code_version=self.code_version,
            data=refs,
            started_wall_ns=started_wall_ns,
        )


@dataclass
class RunResult:
    """What a finished run produced."""

    run_id: str
    mode: str
    run_dir: Path
    journal_path: Path
    kernel: Kernel
    seconds: float
    records: int
    summary: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Return the package version plus the git commit when running from a checkout.

    See ``code_version_of``: this is it for the checkout tradeloop itself runs from.
    """
    return code_version_of(Path(__file__).resolve().parents[3])


def _git(root: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, timeout=10, check=True
    ).stdout


def code_version_of(root: Path) -> str:
    """Return ``<version>+g<commit>`` for the git checkout at ``root`` (the package version alone
    outside a checkout).

    A tree whose ``src/`` differs from the commit is ``<version>+g<commit>.dirty.<hash>``:
    ``hash`` is the first 12 hex digits of the SHA-256 of ``git diff --binary HEAD -- src``
    followed by the path and content of every untracked file under ``src/``. Two runs from
    differently edited trees thus carry different code versions (``tradeloop diff`` names the
    code as the cause), and the same edits give the same version.
    """
    try:
        sha = _git(root, "rev-parse", "--short=12", "HEAD").decode().strip()
        changed = _git(root, "diff", "--binary", "HEAD", "--", "src")
        untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", "src")
    except (OSError, subprocess.SubprocessError):
        return __version__
    paths = sorted(p for p in untracked.decode().split("\0") if p)
    if not changed and not paths:
        return f"{__version__}+g{sha}"
    digest = hashlib.sha256(changed)
    for path in paths:
        digest.update(b"\0untracked\0" + path.encode() + b"\0")
        try:
            digest.update((root / path).read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return f"{__version__}+g{sha}.dirty.{digest.hexdigest()[:12]}"


# -- data -------------------------------------------------------------------------------------


def prepare_run(config: RunConfig, base_dir: Path | None = None) -> PreparedRun:
    """Load and validate everything a run needs (see the module docstring); write nothing.

    Raises
    ------
    ConfigError
        If data, instruments or strategies named in the config cannot be used, or do not fit
        together (a strategy naming an instrument without data, a benchmark without bars).
    DataIntegrityError
        If a data source cannot be decoded.
    """
    base = Path.cwd() if base_dir is None else base_dir
    _check_formats(config)
    _starting_cash(config)
    instruments, sources = load_market_data(config, base)
    _check_overlaps(sources)
    _check_trading_start(config, sources)
    _check_risk_limits(config, instruments)
    _check_currencies(config, instruments)
    _check_benchmark(config, sources)
    _check_venues(config, instruments, sources)
    _check_accounts(config, instruments)
    strategies = [build_strategy(s, config, base, i) for i, s in enumerate(config.strategies)]
    plugins = _load_plugins(config, strategies, base)
    _check_strategies(config, strategies, instruments, sources, base)
    digest = config_hash(config)
    version = code_version()
    # User strategy files and the classes they load (agents) are code of the run.
    code = _code_hashes([*(type(s) for s in strategies), *plugins])
    identity = hashlib.sha256(
        "|".join([digest, version, *code, *(s.content_hash for s in sources)]).encode()
    ).hexdigest()[:12]
    return PreparedRun(
        config=config,
        base_dir=base,
        instruments=instruments,
        sources=sources,
        strategies=strategies,
        config_hash=digest,
        run_id=f"{config.run.name}-{identity}",
        code_version=version,
    )


def _startup_hook(config: RunConfig, index: int, hook: Callable[..., Any], *args: Any) -> Any:
    # A strategy's startup hook (user code): any failure is a config error naming the strategy.
    where = f"strategies[{index}] ({config.strategies[index].class_path})"
    try:
        return hook(*args)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from error
    except Exception as error:  # as the strategy wrapper would, name it
        location = code_location(error)
        raise ConfigError(
            f"{where}: {hook.__name__} raised {type(error).__name__}: {error}"
            + (f" (at {location})" if location else "")
        ) from error


def _load_plugins(config: RunConfig, strategies: list[Strategy], base_dir: Path) -> list[type]:
    # The classes each strategy loads besides its own (the pipeline's agents), at startup.
    loaded: list[type] = []
    for index, strategy in enumerate(strategies):
        loaded.extend(_startup_hook(config, index, strategy.load_plugins, base_dir))
    return loaded


def _code_hashes(classes: list[type]) -> list[str]:
    # The source files of classes from outside tradeloop (whose code the version covers): an
    # edited strategy or agent file gives another run id, so a rerun never replaces the old run.
    hashes = []
    for cls in classes:
        if cls.__module__.split(".")[0] == "tradeloop":
            continue
        try:
            source = inspect.getsourcefile(cls)
        except TypeError:  # defined interactively: nothing to hash
            source = None
        if source is not None and Path(source).is_file():
            hashes.append(file_hash(source))
    return hashes


def _check_formats(config: RunConfig) -> None:
    # Every format name before any file is read: a typo in the last entry fails fast.
    if all(s.path is None or s.format in BOOK_FORMATS for s in config.data):
        return  # nothing to check (a live node): the data readers are not even imported
    from tradeloop.data import api

    for section in config.data:
        if section.path is None or section.format in BOOK_FORMATS:
            continue
        assert section.format is not None
        try:
            api.data_format(section.format)
        except ConfigError as error:
            books = ", ".join(BOOK_FORMATS)
            raise ConfigError(f"data {section.path}: {error} (order books: {books})") from None


def _starting_cash(config: RunConfig) -> Money:
    from tradeloop.core.errors import InvalidValueError

    try:
        return Money.from_str(config.run.starting_cash, config.run.base_currency)
    except InvalidValueError as error:
        raise ConfigError(f"run starting_cash/base_currency: {error}") from None


def _check_overlaps(sources: list[LoadedSource]) -> None:
    # Two sources of the same kind of data for one instrument over the same time would feed
    # every record twice (the same [[data]] entry listed twice, or a file beside its bundled
    # dataset): a config error. Sources that follow each other in time are fine.
    groups: dict[tuple[str, str], list[LoadedSource]] = {}
    for source in sources:
        if len(source.columns):
            groups.setdefault(
                (source.columns.instrument_id, columns_kind(source.columns)), []
            ).append(source)
    for (instrument_id, kind), group in sorted(groups.items()):
        spans = sorted(
            (int(s.columns.ts_init[0]), int(s.columns.ts_init[-1]), s.name) for s in group
        )
        for (first_a, last_a, name_a), (first_b, last_b, name_b) in itertools.pairwise(spans):
            if first_b <= last_a:
                same = " (the same entry listed twice)" if name_a == name_b else ""
                raise ConfigError(
                    f"data {name_a} and {name_b}{same} both give {kind} of {instrument_id} "
                    f"from {ns_to_iso(max(first_a, first_b))} to "
                    f"{ns_to_iso(min(last_a, last_b))}: every record would reach the "
                    "strategies twice; keep one entry, or give them start/end that do not overlap"
                )


def _check_trading_start(config: RunConfig, sources: list[LoadedSource]) -> None:
    start = config.run.trading_start_ns
    if start is None or not any(len(s.columns) for s in sources):
        return
    last = max(int(s.columns.ts_init[-1]) for s in sources if len(s.columns))
    if start > last:
        raise ConfigError(
            f"run trading_start {config.run.trading_start} is after the data's last record "
            f"({ns_to_iso(last)}): no order could be placed; set it inside the data's span"
        )


def _check_risk_limits(config: RunConfig, instruments: dict[str, Instrument]) -> None:
    # Every instrument a quantity limit names must be known, and the limit on its lot grid.
    for instrument_id, text in sorted(config.risk.max_order_quantity.items()):
        instrument = instruments.get(instrument_id)
        if instrument is None:
            raise ConfigError(
                f"risk max_order_quantity names {instrument_id}, which is not an instrument of "
                f"the run (instruments: {', '.join(sorted(instruments)) or 'none'})"
            )
        exact_quantity(instrument, text, "max_order_quantity", "risk")


def _check_currencies(config: RunConfig, instruments: dict[str, Instrument]) -> None:
    # The kernel's account has one currency and the runner configures no FX converter.
    base = config.run.base_currency
    for instrument in sorted(instruments.values(), key=lambda i: i.id):
        if instrument.quote_currency != base:
            raise ConfigError(
                f"instrument {instrument.id} is quoted in {instrument.quote_currency} but the "
                f"run's base currency is {base}; set base_currency = "
                f'"{instrument.quote_currency}" under [run] (a run trades in one currency)'
            )


def _check_benchmark(config: RunConfig, sources: list[LoadedSource]) -> None:
    benchmark = config.run.benchmark
    if benchmark is None:
        return
    with_bars = sorted(
        {s.columns.instrument_id for s in sources if isinstance(s.columns, BarColumns)}
    )
    if benchmark not in with_bars:
        raise ConfigError(
            f"run benchmark {benchmark} has no bar data in the run; instruments with bars: "
            f"{', '.join(with_bars) or 'none'}"
        )


def _check_strategies(
    config: RunConfig,
    strategies: list[Strategy],
    instruments: dict[str, Instrument],
    sources: list[LoadedSource],
    base_dir: Path | None = None,
) -> None:
    ids = [strategy.id for strategy in strategies]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(
            f"strategy ids must be unique; {', '.join(duplicates)} appear more than once "
            "(give each [[strategies]] entry its own id)"
        )
    with_data = {source.columns.instrument_id for source in sources}
    with_data |= {feed.instrument_id for feed in config.feeds}
    known = ", ".join(sorted(instruments)) or "none"
    for index, strategy in enumerate(strategies):
        where = f"strategies[{index}] ({config.strategies[index].class_path})"
        for instrument_id in _startup_hook(config, index, strategy.required_instruments):
            if instrument_id not in instruments:
                raise ConfigError(
                    f"{where}: instrument {instrument_id} is unknown; known instruments: {known}"
                )
            if instrument_id not in with_data:
                raise ConfigError(
                    f"{where}: instrument {instrument_id} has no market data in this run; "
                    "add a [[data]] entry for it"
                )
    run = _run_inputs(instruments, sources, config, base_dir)
    for index, strategy in enumerate(strategies):
        _startup_hook(config, index, strategy.check_run, run)


def _run_inputs(
    instruments: dict[str, Instrument],
    sources: list[LoadedSource],
    config: RunConfig,
    base_dir: Path | None = None,
) -> RunInputs:
    # What Strategy.check_run may judge the config against: instruments, data kinds, span.
    kinds: dict[str, set[str]] = {}
    for source in sources:
        kinds.setdefault(source.columns.instrument_id, set()).add(columns_kind(source.columns))
    for feed in config.feeds:
        kinds.setdefault(feed.instrument_id, set()).update(feed.kinds)
    spans = [
        (int(s.columns.ts_init[0]), int(s.columns.ts_init[-1])) for s in sources if len(s.columns)
    ]
    return RunInputs(
        instruments=dict(instruments),
        data_kinds={iid: tuple(sorted(k)) for iid, k in sorted(kinds.items())},
        first_ts_ns=min((first for first, _ in spans), default=0),
        last_ts_ns=max((last for _, last in spans), default=0),
        features=config.features,
        base_dir="" if base_dir is None else str(base_dir),
    )


# -- running ---------------------------------------------------------------------------------------


class _RunDir:
    """A new run directory: removed again (only it, with what this run wrote) if the run fails
    at startup; locked (``journal.status.RunLock``) while the run goes on.

    An existing directory is never touched: a rerun of the same config, data and code (same
    run id) gets ``<run_id>.2``, ``.3`` … beside the earlier run, whose report and any file a
    user put there stay as they are.
    """

    def __init__(self, prepared: PreparedRun, mode: str, suffix: str = "") -> None:
        root = Path(prepared.config.run.output_dir)  # relative to the working directory
        if root.exists() and not root.is_dir():
            raise ConfigError(f"run output_dir {root} exists and is not a directory")
        base = f"{prepared.run_id}{suffix}"
        root.mkdir(parents=True, exist_ok=True)
        attempt = 1
        while True:
            self.path = root / (base if attempt == 1 else f"{base}.{attempt}")
            try:
                self.path.mkdir()  # atomic: two runs started at once never share a directory
                break
            except FileExistsError:
                attempt += 1
        self.lock = RunLock(self.path)
        self.lock.acquire()
        write_location(self.path, prepared.base_dir)

    def abandon(self) -> None:
        """Remove the new directory (it holds only what this run wrote at startup)."""
        self.lock.release()
        shutil.rmtree(self.path, ignore_errors=True)

    def keep(self) -> None:
        """Keep the new directory (the run started)."""

    def release(self) -> None:
        """Release the run's lock (the run ended)."""
        self.lock.release()


def _start(
    prepared: PreparedRun,
    run_dir: _RunDir,
    clock: TestClock | LiveClock,
    manifest: RunManifest,
    *,
    before_start: Callable[[Kernel], None] | None = None,
    order_id_scope: str = "",
    **journal_options: Any,
) -> tuple[SqliteJournal, Kernel]:
    # Open the journal, build the kernel, journal the data events, connect what must be
    # connected before a strategy can act (``before_start``: live venues) and start the
    # strategies; a failure here leaves no run directory behind.
    journal: SqliteJournal | None = None
    try:
        journal = SqliteJournal(run_dir.path / "journal.sqlite", manifest, **journal_options)
        kernel = build_kernel(prepared, clock, journal, order_id_scope)
        journal_data_events(prepared, kernel.journal)
        if before_start is not None:
            before_start(kernel)
        kernel.start()
    except BaseException:
        if journal is not None:
            with contextlib.suppress(Exception):  # the startup error is the one to report
                journal.close()
        run_dir.abandon()
        raise
    run_dir.keep()
    return journal, kernel


def journal_data_events(prepared: PreparedRun, journal: Journal) -> None:
    """Journal a ``DataValidated`` event per data source (the first records of every run)."""
    for source in prepared.sources:
        report = source.report
        ts = int(source.columns.ts_init[0]) if len(source.columns) else 0
        journal.append(
            DataValidated(
                source=source.name,
                instrument_id=source.columns.instrument_id,
                kind=columns_kind(source.columns),
                rows_in=report.rows_in if report else len(source.columns),
                rows_clean=report.rows_clean if report else len(source.columns),
                quarantined=dict(sorted(report.quarantine_counts().items())) if report else {},
                gaps=len(report.gaps) if report else 0,
                content_hash=source.content_hash,
                ts_event=ts,
                ts_init=ts,
            )
        )


def build_kernel(
    prepared: PreparedRun,
    clock: TestClock | LiveClock,
    journal: Journal,
    order_id_scope: str = "",
) -> Kernel:
    """Return the kernel of ``prepared`` with ``clock`` and ``journal`` (what every mode runs)."""
    config = prepared.config
    stage = None if config.deployment is None else config.deployment.current
    return Kernel(
        clock=clock,
        journal=journal,
        instruments=prepared.instruments,
        starting_cash=Money.from_str(config.run.starting_cash, config.run.base_currency),
        venue_config=config.venue,
        risk_config=config.risk,
        strategies=prepared.strategies,
        seed=config.run.seed,
        trading_start_ns=config.run.trading_start_ns,
        venue_configs=config.venue_configs(),
        order_id_scope=order_id_scope,
        capital_fraction=1.0 if stage is None else stage.fraction,
        stage="" if stage is None else stage.name,
        accounts={
            venue: Money.from_str(account.starting_cash, config.run.base_currency)
            for venue, account in config.accounts.items()
        },
    )


def _write_outputs(
    prepared: PreparedRun, result: RunResult, extra: dict[str, Any] | None = None
) -> None:
    kernel = result.kernel
    run_dir = result.run_dir
    reports = {
        s.name: json.loads(s.report.to_json()) for s in prepared.sources if s.report is not None
    }
    (run_dir / "quality.json").write_text(json.dumps(reports, indent=1, sort_keys=True))
    first = measured_from(kernel, prepared)
    ts = np.frombuffer(kernel.portfolio.equity_ts, dtype=np.int64)[first:]
    equity = np.frombuffer(kernel.portfolio.equity_values, dtype=np.float64)[first:]
    every = max(1, prepared.config.run.equity_sample_every)
    costs = np.frombuffer(kernel.portfolio.cost_values, dtype=np.float64)[first:]
    gross = np.frombuffer(kernel.portfolio.gross_values, dtype=np.float64)[first:]
    with open(run_dir / "equity.csv", "w") as out:
        out.write("ts,equity,costs,gross_exposure\n")
        rows = zip(
            ts[::every].tolist(),
            equity[::every].tolist(),
            costs[::every].tolist(),
            gross[::every].tolist(),
            strict=True,
        )
        for t, e, c, g in rows:
            out.write(f"{ns_to_iso(t)},{e:.6f},{c:.6f},{g:.6f}\n")
    result.summary = {**basic_summary(kernel, prepared), **(extra or {})}
    (run_dir / "summary.json").write_text(json.dumps(result.summary, indent=1, sort_keys=True))


def measured_from(kernel: Kernel, prepared: PreparedRun) -> int:
    """Return the index of the equity curve's first measured point: the last point at or
    before ``run.trading_start`` (0 without a warm-up)."""
    start_ns = prepared.config.run.trading_start_ns
    if start_ns is None:
        return 0
    ts = np.frombuffer(kernel.portfolio.equity_ts, dtype=np.int64)
    return max(0, int(np.searchsorted(ts, start_ns, side="right")) - 1)


def basic_summary(kernel: Kernel, prepared: PreparedRun) -> dict[str, Any]:
    """Return the run's headline numbers, net and gross of costs (see ``performance``).

    With ``run.trading_start`` the measured period starts there (``measured_from``); the
    warm-up before it cannot trade, so the starting equity is the starting cash.
    """
    portfolio = kernel.portfolio
    start = float(Money.from_str(prepared.config.run.starting_cash, portfolio.base_currency))
    final = portfolio.equity().as_float()
    first = measured_from(kernel, prepared)
    equity = np.frombuffer(portfolio.equity_values, dtype=np.float64)[first:]
    all_ts = np.frombuffer(portfolio.equity_ts, dtype=np.int64)
    peak = np.maximum.accumulate(equity) if len(equity) else equity
    max_dd = float(np.min(equity / peak - 1.0)) if len(equity) else 0.0
    counts = kernel.order_manager.order_counts()
    summary: dict[str, Any] = {
        "run_id": prepared.run_id,
        "starting_equity": start,
        "final_equity": round(final, 6),
        "total_return": final / start - 1.0,
        "max_drawdown": max_dd,
        "orders": counts["submitted"] + counts["denied"],
        "orders_denied": counts["denied"],
        "fills": portfolio.fill_count,
        "buys": counts["filled_buy"],
        "sells": counts["filled_sell"],
        "fees": portfolio.fees / 1e9,
        "realized_pnl": portfolio.realized / 1e9,
        "records": kernel.records_processed,
        "quarantined": sum(
            len(s.report.quarantined) for s in prepared.sources if s.report is not None
        ),
        "costs": {
            "commission": portfolio.fees / 1e9,
            **{kind: raw / 1e9 for kind, raw in sorted(portfolio.price_costs.items())},
        },
    }
    if len(all_ts):
        summary["measured_from"] = ns_to_iso(int(all_ts[first]))
    if prepared.config.run.trading_start is not None:
        summary["trading_start"] = ns_to_iso(prepared.config.run.trading_start_ns or 0)
    if portfolio.venue_cash is not None:
        summary["accounts"] = {
            venue: {"cash": raw / 1e9} for venue, raw in sorted(portfolio.venue_cash.items())
        }
    if prepared.config.deployment is not None:
        stage = prepared.config.deployment.current
        summary["deployment"] = {
            "stage": stage.name,
            "fraction": stage.fraction,
            "live": stage.live,
        }
    summary.update(performance(kernel, prepared))
    extras = {s.id: s.run_summary() for s in kernel.strategies}
    extras = {k: v for k, v in extras.items() if v}
    if extras:
        summary["strategies"] = extras
    return summary


def _benchmark_curve(
    prepared: PreparedRun, ts: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64] | None:
    benchmark = prepared.config.run.benchmark
    if benchmark is None:
        return None
    for source in prepared.sources:
        if source.columns.instrument_id == benchmark and isinstance(source.columns, BarColumns):
            closes = source.columns.as_float("close")
            at = np.searchsorted(source.columns.ts_init, ts, side="right") - 1
            curve = np.where(at >= 0, closes[np.maximum(at, 0)], closes[0])
            return np.asarray(curve, dtype=np.float64)
    raise ConfigError(f"run benchmark {benchmark} has no bar data in the run")


def performance(kernel: Kernel, prepared: PreparedRun) -> dict[str, Any]:
    """Return metrics of the equity curve net of costs and gross of them (costs added back).

    Gross equity = net equity + cumulative costs (commission, spread, slippage, impact), so the
    difference between the two columns is exactly what trading cost.
    """
    from tradeloop.analytics.metrics import summarize

    portfolio = kernel.portfolio
    first = measured_from(kernel, prepared)
    ts = np.frombuffer(portfolio.equity_ts, dtype=np.int64)[first:]
    net = np.frombuffer(portfolio.equity_values, dtype=np.float64)[first:]
    if len(ts) < 3:
        return {}
    # Costs from the start of the measured period (none before it: warm-up cannot trade).
    all_costs = np.frombuffer(portfolio.cost_values, dtype=np.float64)
    costs = all_costs[first:] - all_costs[first]
    gross_exposure = np.frombuffer(portfolio.gross_values, dtype=np.float64)[first:]
    traded = np.frombuffer(portfolio.traded_values, dtype=np.float64)[first:]
    benchmark = _benchmark_curve(prepared, ts)
    periods = prepared.config.run.periods_per_year
    out: dict[str, Any] = {}
    from tradeloop.core.errors import InvalidValueError

    try:
        summarize(ts, net, periods_per_year=periods)
    except InvalidValueError as error:  # e.g. a run shorter than two days: no daily metrics
        return {"metrics_note": f"no daily metrics: {error}"}
    for name, curve in (("net", net), ("gross", net + costs)):
        summary = summarize(
            ts,
            curve,
            benchmark_equity=benchmark,
            gross_exposure=gross_exposure,
            traded_notional=traded,
            periods_per_year=periods,
        )
        out[name] = {
            "total_return": summary.total_return,
            "annual_return": summary.annual_return,
            "annual_volatility": summary.annual_volatility,
            "sharpe": summary.sharpe_ratio,
            "sortino": summary.sortino_ratio,
            "max_drawdown": summary.max_drawdown,
            "calmar": summary.calmar_ratio,
            "alpha": summary.alpha,
            "beta": summary.beta,
            "annual_turnover": summary.annual_turnover,
            "time_in_market": summary.time_in_market,
            "average_gross_leverage": summary.average_gross_leverage,
        }
    if benchmark is not None:
        bench = summarize(ts, benchmark, periods_per_year=periods)
        out["benchmark"] = {
            "instrument_id": prepared.config.run.benchmark,
            "total_return": bench.total_return,
            "annual_return": bench.annual_return,
            "sharpe": bench.sharpe_ratio,
            "max_drawdown": bench.max_drawdown,
        }
    total_traded = float(traded.sum())
    out["traded_notional"] = total_traded
    out["cost_bps_of_traded"] = float(costs[-1]) / total_traded * 1e4 if total_traded > 0 else 0.0
    return out


def run_backtest(
    prepared: PreparedRun, progress: ProgressFactory | None = None, order_id_scope: str = ""
) -> RunResult:
    """Run ``prepared`` as a backtest on the test clock; write ``runs/<run_id>/``.

    ``progress`` is called with the record count once the strategies have started;
    ``order_id_scope`` scopes the client order ids (a replay of a live session uses its scope).
    """
    run_dir = _RunDir(prepared, "backtest")
    journal, kernel = _start(
        prepared,
        run_dir,
        TestClock(),
        prepared.manifest("backtest"),
        order_id_scope=order_id_scope,
    )
    kernel.cancel_open_orders_at_end = prepared.cancel_open_orders_at_end
    callback = None if progress is None else progress(prepared.record_count)
    start = time.perf_counter()
    with _ending(prepared, run_dir, journal, kernel):
        kernel.run_backtest(merge([s.columns for s in prepared.sources]), progress=callback)
    result = RunResult(
        prepared.run_id,
        "backtest",
        run_dir.path,
        run_dir.path / "journal.sqlite",
        kernel,
        time.perf_counter() - start,
        kernel.records_processed,
    )
    _finish(prepared, run_dir, journal, result, "the market data ran out")
    return result


def _failure(error: BaseException, base_dir: Path) -> tuple[str, str, str]:
    # (status, reason, location) of a run that an exception ended; the location is relative to
    # the config's directory (the journal does not depend on the working directory).
    if isinstance(error, KeyboardInterrupt):
        return "stopped", getattr(error, "reason", "interrupted by the operator (Ctrl-C)"), ""
    reason = str(error) if isinstance(error, TradeloopError) else f"{type(error).__name__}: {error}"
    shown = getattr(error, "location", "")
    if shown and reason.endswith(f" (at {shown})"):
        reason = reason[: -len(f" (at {shown})")]
    cause = error.__cause__ if isinstance(error, StrategyError) and error.__cause__ else error
    return "failed", reason, code_location(cause, base_dir)


@contextlib.contextmanager
def _ending(
    prepared: PreparedRun, run_dir: _RunDir, journal: SqliteJournal, kernel: Kernel
) -> Iterator[None]:
    # A run that an exception ends (a strategy's error, Ctrl-C, a bug) is marked in its journal
    # (RunEnded: failed or stopped, with where) and in summary.json; the error goes on up.
    try:
        yield
    except BaseException as error:
        status, reason, location = _failure(error, prepared.base_dir)
        with contextlib.suppress(Exception):  # the run's own error is the one to report
            kernel.end_run(status, reason, location)
        with contextlib.suppress(Exception):
            journal.close()
        summary = {
            "run_id": prepared.run_id,
            "status": status,
            "reason": reason,
            "location": location,
            "records": kernel.records_processed,
        }
        with contextlib.suppress(OSError):
            (run_dir.path / "summary.json").write_text(json.dumps(summary, indent=1))
        run_dir.release()
        error.add_note(f"the run was marked {status} in {run_dir.path}")
        raise


def _finish(
    prepared: PreparedRun,
    run_dir: _RunDir,
    journal: SqliteJournal,
    result: RunResult,
    reason: str,
    extra: dict[str, Any] | None = None,
    status: str = "completed",
) -> None:
    # The outputs first, then the RunEnded record: a run is complete only once both exist.
    # ``status`` is "stopped" when the operator ended a live-clock run (Ctrl-C, SIGTERM).
    try:
        stopped = {"reason": reason} if status != "completed" else {}
        _write_outputs(prepared, result, {"status": status, **stopped, **(extra or {})})
        result.kernel.end_run(status, reason)
        journal.close()
    finally:
        run_dir.release()


def run_paper_replay(
    prepared: PreparedRun,
    speed: float,
    progress: ProgressFactory | None = None,
    duration_s: float | None = None,
    operations: Operations | None = None,
) -> RunResult:
    """Run ``prepared`` in paper mode: a replay feed paced by the live clock × ``speed``.

    ``progress`` is called with the record count once the strategies have started;
    ``operations`` watch and steer the run (``engine.live.Operations``).
    """
    wall_ns = time.time_ns()
    run_dir = _RunDir(prepared, "paper", suffix=f"-paper-{wall_ns}")
    first_ts = min(int(s.columns.ts_init[0]) for s in prepared.sources if len(s.columns))
    clock = LiveClock(speed=speed, origin_ns=first_ts)
    journal, kernel = _start(
        prepared,
        run_dir,
        clock,
        prepared.manifest("paper", wall_ns),
        durable_commands=True,
    )
    callback = None if progress is None else progress(prepared.record_count)
    start = time.perf_counter()
    with _ending(prepared, run_dir, journal, kernel):
        stats = run_paper_stats(
            kernel,
            ReplayFeed(merge([s.columns for s in prepared.sources]), clock),
            progress=callback,
            started=True,
            duration_s=duration_s,
            operations=operations,
        )
    result = RunResult(
        prepared.run_id,
        "paper",
        run_dir.path,
        run_dir.path / "journal.sqlite",
        kernel,
        time.perf_counter() - start,
        kernel.records_processed,
    )
    _finish(
        prepared,
        run_dir,
        journal,
        result,
        stats.end_reason or "the market data ran out",
        {"max_lag_behind_clock_s": round(stats.max_lag_s, 6)},
        status="stopped" if stats.stopped else "completed",
    )
    return result

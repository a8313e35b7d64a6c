"""Deterministic re-run of a recorded run up to an instant, for what the journal does not hold.

Indicator values, agents' internal state, the regime detector's fitted model, the execution
algorithms' schedules live in memory only. The engine is deterministic (same config, data,
code and seed give a byte-identical journal), so ``rerun_until`` rebuilds them:

1. load the run's config from its manifest and prepare the run again (``prepare_run``),
   checking the config hash, each data source's content hash and the code version against
   the manifest (a mismatch is reported: the re-run is then not the same run);
2. cut every source at ``at_ns`` (records with ``ts_init <= at_ns``) and run the kernel on the
   test clock into an in-memory journal that encodes each record as the writer does;
3. compare the re-run's records with ``ts_init <= at_ns`` written before the run stopped with
   the stored ones, column by column and payload byte for byte (a paper run's records are
   compared without timestamps, which come from the wall clock there);
4. walk each strategy's attributes and report its indicators', agents' and stages' state.

``rerun_at`` scrubs many instants with **one** re-run, up to the last of them: a handler on
the kernel's step topic (``events.clock.step``, published once every record of an instant is
processed; subscribed last) takes each strategy's state (step 4) when the instant it
completes is the last data instant at or before a requested one; instants before the first
record are taken right after the strategies started. The state at ``T`` is thus exactly what
a re-run cut at ``T`` holds before it stops; ``rerun_until`` is ``rerun_at`` of one instant.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import msgspec

from tradeloop.bus.topics import STEP_TOPIC
from tradeloop.core.clock import TestClock
from tradeloop.core.errors import ConfigError
from tradeloop.engine.feed import AnyColumns, merge
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.runner import (
    PreparedRun,
    build_kernel,
    code_version,
    journal_data_events,
    prepare_run,
)
from tradeloop.journal.manifest import read_base_dir
from tradeloop.journal.replay import StoredRecord, journal_path, read_rows
from tradeloop.journal.store import read_manifest
from tradeloop.model.commands import Command
from tradeloop.model.events import Event
from tradeloop.reports.run import decode_config

C = TypeVar("C", bound=AnyColumns)


class RerunCheck(msgspec.Struct, frozen=True, kw_only=True):
    """How the re-run's journal prefix compares with the stored one.

    ``is_identical`` is True when every compared record is equal column by column and its
    JSON payload byte for byte (``compared_without_timestamps`` for a paper run).
    """

    at_ns: int
    records_compared: int
    stored_records: int
    rerun_records: int
    is_identical: bool
    compared_without_timestamps: bool
    first_mismatch_seq: int | None
    stored_payload: str | None
    rerun_payload: str | None
    manifest_mismatches: tuple[str, ...]


class RerunResult(msgspec.Struct, frozen=True, kw_only=True):
    """A re-run up to ``check.at_ns``: the comparison and each strategy's internals."""

    check: RerunCheck
    internals: dict[str, dict[str, str]]
    seconds: float


class InstantInternals(msgspec.Struct, frozen=True, kw_only=True):
    """Each strategy's internals at ``at_ns``: after the data instant ``data_ts`` (the last at
    or before ``at_ns``; None: before the first record) was processed."""

    at_ns: int
    data_ts: int | None
    internals: dict[str, dict[str, str]]


class RerunScrub(msgspec.Struct, frozen=True, kw_only=True):
    """One re-run up to the last requested instant, with the internals at every instant.

    ``seconds`` is the whole re-run (capture included); ``capture_seconds`` the part spent
    taking the internals.
    """

    check: RerunCheck
    instants: tuple[InstantInternals, ...]
    seconds: float
    capture_seconds: float


class _CapturingJournal:
    """A journal that keeps each record's stored columns, encoded as the writer encodes them."""

    def __init__(self) -> None:
        self._encode = msgspec.json.Encoder().encode
        self.rows: list[tuple[int, int, int, str, str, str]] = []
        self.mark = 0

    def append(self, record: Event | Command, durable: bool = False) -> int:
        ts_init = record.ts_init
        if isinstance(record, Command):
            ts_event, kind = ts_init, "command"
        else:
            ts_event, kind = record.ts_event, "event"
        seq = len(self.rows) + 1
        payload = self._encode(record).decode()
        self.rows.append((seq, ts_event, ts_init, kind, type(record).__name__, payload))
        return seq

    def flush(self) -> None:
        """Nothing to flush."""

    def sync(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        """Nothing to close."""


def _cut(columns: C, at_ns: int) -> C:
    import numpy as np

    end = int(np.searchsorted(columns.ts_init, at_ns, side="right"))
    return cast(C, columns.take(slice(0, end)))  # each column set's take returns its own type


def _manifest_mismatches(prepared: PreparedRun, stored: Any) -> list[str]:
    found = []
    if prepared.config_hash != stored.config_hash:
        found.append(f"config hash {prepared.config_hash[:12]} vs stored {stored.config_hash[:12]}")
    hashes = {s.name: s.content_hash for s in prepared.sources}
    for ref in stored.data:
        if hashes.get(ref.name) != ref.content_hash:
            found.append(f"data {ref.name} content hash differs from the run's")
    version = code_version()
    if version != stored.code_version:
        found.append(f"code version {version} vs stored {stored.code_version}")
    return found


def _compare(
    stored: list[StoredRecord],
    rerun: list[tuple[int, int, int, str, str, str]],
    at_ns: int,
    without_timestamps: bool,
) -> tuple[int, int | None, str | None, str | None]:
    left = [r for r in stored if r.ts_init <= at_ns]
    right = [r for r in rerun if r[2] <= at_ns]
    for a, b in zip(left, right, strict=False):
        if without_timestamps:
            same = (a.kind, a.type, _untimed(a.payload)) == (b[3], b[4], _untimed(b[5]))
        else:
            same = (a.seq, a.ts_event, a.ts_init, a.kind, a.type, a.payload) == b
        if not same:
            return len(left), a.seq, a.payload, b[5]
    if len(left) != len(right):
        extra_a = left[len(right)] if len(left) > len(right) else None
        extra_b = right[len(left)] if len(right) > len(left) else None
        seq = extra_a.seq if extra_a is not None else (extra_b[0] if extra_b else None)
        return (
            len(left),
            seq,
            None if extra_a is None else extra_a.payload,
            None if extra_b is None else extra_b[5],
        )
    return len(left), None, None, None


def _untimed(payload: str) -> Any:
    from tradeloop.journal.diff import _strip_times

    return _strip_times(json.loads(payload))


def rerun_until(
    run: str | os.PathLike[str], at_ns: int, base_dir: Path | None = None
) -> tuple[RerunResult, Kernel]:
    """Re-run ``run`` deterministically up to ``at_ns`` and check it against its journal.

    Parameters
    ----------
    run
        The run directory or its journal file.
    at_ns
        The instant: market data with ``ts_init <= at_ns`` is replayed.
    base_dir
        Where the run's relative config paths resolve; when None, where the run resolved them
        (its ``location.json``), else the current directory.

    Returns
    -------
    tuple
        The ``RerunResult`` and the kernel as it stood at ``at_ns`` (then stopped).

    Raises
    ------
    ConfigError
        If the run's config or data cannot be loaded again.
    """
    scrub, kernel = rerun_at(run, [at_ns], base_dir)
    result = RerunResult(
        check=scrub.check, internals=scrub.instants[0].internals, seconds=scrub.seconds
    )
    return result, kernel


def rerun_at(
    run: str | os.PathLike[str], instants: Sequence[int], base_dir: Path | None = None
) -> tuple[RerunScrub, Kernel]:
    """Re-run ``run`` once up to the last of ``instants``, taking every strategy's internals
    at each instant, and check the re-run against its journal (module docstring).

    Parameters
    ----------
    run
        The run directory or its journal file.
    instants
        The instants (nanoseconds), in any order; at least one.
    base_dir
        Where the run's relative config paths resolve (the current directory when None).

    Returns
    -------
    tuple
        The ``RerunScrub`` (instants in ascending order) and the kernel as it stood at the
        last instant (then stopped).

    Raises
    ------
    ConfigError
        If no instant is given, or the run's config or data cannot be loaded again.
    """
    import time

    import numpy as np

    if not instants:
        raise ConfigError("rerun_at needs at least one instant")
    wanted = sorted(set(instants))
    at_ns = wanted[-1]

    path = journal_path(run)
    stored_manifest = read_manifest(path)
    config = decode_config(stored_manifest.config_json)
    with tempfile.TemporaryDirectory(prefix="tradeloop-rerun-") as scratch:
        config = msgspec.structs.replace(
            config, run=msgspec.structs.replace(config.run, output_dir=scratch)
        )
        if base_dir is None:  # where the run resolved its relative paths
            base_dir = read_base_dir(path.parent, stored_manifest)
        prepared = prepare_run(config, Path.cwd() if base_dir is None else base_dir)
    mismatches = _manifest_mismatches(prepared, stored_manifest)
    journal = _CapturingJournal()
    kernel = build_kernel(prepared, TestClock(), journal)
    journal_data_events(prepared, journal)

    def progress(_: int) -> None:
        # Called last right before the kernel stops: what on_stop adds is not part of the run.
        journal.mark = len(journal.rows)

    started = time.perf_counter()
    sources = [_cut(s.columns, at_ns) for s in prepared.sources]
    stream = merge([s for s in sources if len(s)])
    data_ts = stream.timestamps()
    # Each instant is taken when the last data instant at or before it is complete.
    last = np.searchsorted(data_ts, np.array(wanted, dtype=np.int64), side="right") - 1
    due: dict[int | None, list[int]] = {}
    for instant, index in zip(wanted, last.tolist(), strict=True):
        due.setdefault(int(data_ts[index]) if index >= 0 else None, []).append(instant)
    taken: dict[int, InstantInternals] = {}
    capture = [0.0]

    def take(ts: int | None) -> None:
        begun = time.perf_counter()
        kernel.drain()  # the instant's venue events, as the kernel drains after its handlers
        internals = {s.id: describe_state(s) for s in kernel.strategies}
        for instant in due.pop(ts, ()):
            taken[instant] = InstantInternals(at_ns=instant, data_ts=ts, internals=internals)
        capture[0] += time.perf_counter() - begun

    def on_step(ts: int) -> None:
        if ts in due:
            take(ts)

    kernel.bus.subscribe(STEP_TOPIC, on_step, priority=-(1 << 30))
    kernel.start()
    if None in due:
        take(None)
    kernel.run_backtest(stream, progress=progress, progress_every=1 << 62)
    seconds = time.perf_counter() - started
    stored = read_rows(path, decode=False)
    without_timestamps = stored_manifest.mode != "backtest"
    compared, seq, stored_payload, rerun_payload = _compare(
        stored, journal.rows[: journal.mark], at_ns, without_timestamps
    )
    check = RerunCheck(
        at_ns=at_ns,
        records_compared=compared,
        stored_records=sum(1 for r in stored if r.ts_init <= at_ns),
        rerun_records=sum(1 for r in journal.rows[: journal.mark] if r[2] <= at_ns),
        is_identical=seq is None,
        compared_without_timestamps=without_timestamps,
        first_mismatch_seq=seq,
        stored_payload=stored_payload,
        rerun_payload=rerun_payload,
        manifest_mismatches=tuple(mismatches),
    )
    for ts in list(due):  # only if the kernel published no step for them (no data)
        take(ts)
    scrub = RerunScrub(
        check=check,
        instants=tuple(taken[instant] for instant in wanted),
        seconds=seconds,
        capture_seconds=capture[0],
    )
    return scrub, kernel


# -- internals ----------------------------------------------------------------------------------

_SCALARS = (int, float, str, bool, type(None))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def describe_state(root: object, max_depth: int = 4, max_entries: int = 400) -> dict[str, str]:
    """Return the in-memory state of a strategy: ``{attribute path: value}``.

    Walks the attributes of ``root`` and of every tradeloop object it holds (agents, stages,
    indicators, detectors, execution algorithms), through dicts, lists and tuples, down to
    ``max_depth`` levels; scalars, short sequences of numbers and indicator values are listed.
    Each object is visited once (back references to the engine are skipped).
    """
    out: dict[str, str] = {}
    seen: set[int] = set()

    def attributes(obj: object) -> list[tuple[str, Any]]:
        names: list[str] = []
        if hasattr(obj, "__dict__"):
            names.extend(vars(obj))
        for cls in type(obj).__mro__:
            names.extend(getattr(cls, "__slots__", ()))
        pairs = []
        for name in dict.fromkeys(names):
            if name in ("log", "_ctx", "ctx", "_factory", "config") or name.startswith("__"):
                continue
            try:
                pairs.append((name, getattr(obj, name)))
            except AttributeError:
                continue
        return pairs

    def visit(value: Any, path: str, depth: int) -> None:
        if len(out) >= max_entries:
            return
        if isinstance(value, _SCALARS):
            out[path] = _short(value)
            return
        module = type(value).__module__
        if module.startswith("numpy"):
            out[path] = _short(value.tolist() if hasattr(value, "tolist") else value)
            return
        if id(value) in seen or depth > max_depth:
            return
        seen.add(id(value))
        if isinstance(value, dict):
            for key in sorted(value, key=str)[:50]:
                visit(value[key], f"{path}[{key!r}]", depth + 1)
        elif isinstance(value, list | tuple | set | frozenset):
            items = list(value)
            if items and all(isinstance(i, int | float) for i in items):
                out[path] = _short(items[-20:] if len(items) > 20 else items)
                if len(items) > 20:
                    out[path] = f"last 20 of {len(items)}: " + out[path]
                return
            for index, item in enumerate(items[:20]):
                visit(item, f"{path}[{index}]", depth + 1)
        elif module.startswith("tradeloop") or isinstance(value, msgspec.Struct):
            if module.startswith(
                ("tradeloop.engine", "tradeloop.bus", "tradeloop.execution.order")
            ):
                return  # the engine's own components: not the strategy's state
            if hasattr(value, "handle_bar") and hasattr(value, "value"):
                out[path] = f"{type(value).__name__} value={_short(value.value)}" + (
                    f" initialized={value.initialized}" if hasattr(value, "initialized") else ""
                )
            for name, item in attributes(value):
                visit(item, f"{path}.{name}", depth + 1)

    seen.add(id(root))
    for name, value in attributes(root):
        visit(value, name, 1)
    return out

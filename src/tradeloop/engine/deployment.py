"""Capital stages of a deployment: which stage a session runs at, its gates, and promotions.

The ladder and the gates are configured in ``[deployment]`` (``risk.stages``). This module
measures the gates on a run and records promotions:

- ``resolve_stage`` gives the stage a new session runs at: the last promotion recorded in the
  deployment's ledger (``<output_dir>/deployments/<name>.jsonl``), else the config's
  ``stage``. The config file is never rewritten; the stage a session ran at is part of the
  config stored in its journal, so its replay trades the same fraction.
- ``check_stage`` refuses ``live`` at a stage that is not live (paper, shadow) and a ``live``
  run without ``[deployment]``.
- ``stage_status`` measures each gate of the run's stage on the run (``tradeloop stage
  status RUN``); ``promote`` appends the promotion to the ledger when every gate holds, with
  who approved it (``tradeloop stage promote RUN --approve``).

How each gate is measured:

- ``min_days``: from the stage's promotion (or the run's first record, if the deployment
  started at this stage) to the run's last record;
- ``max_drawdown``: the worst fall of the run's equity from its running peak;
- ``max_tracking_error``: the run is replayed on the simulator from its journal (what
  ``backtest --from-journal`` does, in a temporary directory) and the root mean square of the
  relative gap between the two equity curves, each run point against the replay's equity at
  that instant, is the tracking error;
- ``max_slippage_gap_bps``: a shadow run compares each simulated fill with the venue's quote
  at that instant (``ShadowFillCompared``); any other run compares the average price of each
  order's fills with the replay's for the same client order id (positive: the run filled
  worse than the model);
- ``max_reconciliation_breaks``: ``ReconciliationBreak`` records in the run's journal.

A gate that cannot be measured on the run (a replay needs a session on live feeds; a slippage
gap needs fills) does not hold, and says why.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import msgspec
import numpy as np

from tradeloop.config.schema import RunConfig
from tradeloop.core.errors import ConfigError
from tradeloop.core.time import ns_to_iso
from tradeloop.journal.replay import journal_path, read_equity_csv
from tradeloop.journal.status import run_status
from tradeloop.journal.store import read_manifest, read_records
from tradeloop.model.enums import OrderSide
from tradeloop.model.events import OrderFilled, ShadowFillCompared
from tradeloop.risk.stages import DeploymentConfig, StageConfig

LEDGER_DIR = "deployments"
_DAY_NS = 86_400 * 1_000_000_000


class GateResult(msgspec.Struct, frozen=True, kw_only=True):
    """One gate measured on a run: ``value`` is ``None`` when it could not be measured."""

    name: str
    limit: float
    value: float | None
    holds: bool
    detail: str = ""


class Promotion(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a deployment's ledger: a move from one stage to the next."""

    at: str
    at_ns: int
    from_stage: str
    to_stage: str
    approved_by: str
    host: str
    run: str
    gates: list[GateResult]


class StageStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Where a run's deployment stands and whether it may move on."""

    run: str
    run_state: str
    deployment: str
    ledger: str
    stage: str
    live: bool
    fraction: float
    entered_at: str
    next_stage: str | None
    gates: list[GateResult]

    @property
    def ready(self) -> bool:
        """Return whether the deployment may be promoted on this run."""
        return self.next_stage is not None and all(gate.holds for gate in self.gates)


# -- which stage a session runs at ------------------------------------------------------------


def ledger_path(config: RunConfig, output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the ledger of ``config``'s deployment (under ``output_dir``, default the run's)."""
    deployment = _deployment(config)
    root = Path(config.run.output_dir if output_dir is None else output_dir)
    return root / LEDGER_DIR / f"{deployment.name or config.run.name}.jsonl"


def read_ledger(path: str | os.PathLike[str]) -> list[Promotion]:
    """Return the promotions recorded at ``path`` (none if it does not exist).

    Raises
    ------
    ConfigError
        If a line is not a promotion (the ledger was edited by hand).
    """
    ledger = Path(path)
    if not ledger.is_file():
        return []
    decoder = msgspec.json.Decoder(Promotion)
    out = []
    for number, line in enumerate(ledger.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(decoder.decode(line))
        except msgspec.DecodeError as error:
            raise ConfigError(f"{ledger} line {number} is not a promotion: {error}") from None
    return out


def resolve_stage(config: RunConfig) -> RunConfig:
    """Return ``config`` at the stage its deployment is at now (module docstring)."""
    if config.deployment is None:
        return config
    promotions = read_ledger(ledger_path(config))
    if not promotions:
        return config
    stage = promotions[-1].to_stage
    config.deployment.find(stage)  # a ladder that lost the stage is a config error
    deployment = msgspec.structs.replace(config.deployment, stage=stage)
    return msgspec.structs.replace(config, deployment=deployment)


def check_stage(config: RunConfig, mode: str) -> None:
    """Refuse ``live`` without ``[deployment]`` or at a stage that does not trade real money.

    Raises
    ------
    ConfigError
        As above, naming the stage and how to move on.
    """
    if mode != "live":
        return
    if config.deployment is None:
        raise ConfigError(
            "live trading needs a [deployment] table with the capital stage to trade at "
            '(e.g. stage = "pilot": 10 % of the capital; see docs/stages.md)'
        )
    stage = config.deployment.current
    if not stage.live:
        raise ConfigError(
            f"deployment stage {stage.name!r} does not trade real orders: run it with "
            f"tradeloop {stage.name if stage.name in ('paper', 'shadow') else 'paper'}, then "
            "tradeloop stage promote RUN --approve once its gates hold"
        )


# -- gates ------------------------------------------------------------------------------------


def stage_status(run: str | os.PathLike[str]) -> StageStatus:
    """Measure the gates of the stage ``run`` ran at (module docstring).

    Raises
    ------
    ConfigError
        If ``run`` is not a run, has no ``[deployment]``, or its deployment has moved on to
        another stage since it ran.
    """
    path = journal_path(run)
    run_dir = path.parent
    manifest = read_manifest(path)
    try:
        config = msgspec.json.decode(manifest.config_json, type=RunConfig)
    except (msgspec.ValidationError, ConfigError) as error:
        raise ConfigError(f"run {run}: its stored config does not load: {error}") from None
    deployment = _deployment(config, run)
    ledger = ledger_path(config, run_dir.parent)
    promotions = read_ledger(ledger)
    now_at = promotions[-1].to_stage if promotions else deployment.stage
    if now_at != deployment.stage:
        raise ConfigError(
            f"run {run} ran at stage {deployment.stage!r}, but the deployment is at "
            f"{now_at!r} now ({ledger}): judge a run of the current stage"
        )
    stage = deployment.current
    status = run_status(run_dir)
    first_ts, last_ts = _first_last_ts(path)
    entered_ns = promotions[-1].at_ns if promotions else first_ts
    following = deployment.next_stage(stage.name)
    gates: list[GateResult] = []
    if status.state not in ("completed", "stopped"):
        gates.append(
            GateResult(
                name="run_ended",
                limit=1.0,
                value=0.0,
                holds=False,
                detail=f"the run is {status.state}: judge a run that ended",
            )
        )
    limits = stage.gates
    replay: _Replay | None = None
    if "max_tracking_error" in limits or (
        "max_slippage_gap_bps" in limits and manifest.mode != "shadow"
    ):
        replay = _replay(run_dir)
    for name, limit in limits.items():
        value, detail = _measure(name, path, run_dir, manifest.mode, entered_ns, last_ts, replay)
        if value is None:
            holds = False
        elif name == "min_days":
            holds = value >= limit
        else:
            holds = value <= limit
        gates.append(GateResult(name=name, limit=limit, value=value, holds=holds, detail=detail))
    return StageStatus(
        run=str(run_dir),
        run_state=status.state,
        deployment=deployment.name or config.run.name,
        ledger=str(ledger),
        stage=stage.name,
        live=stage.live,
        fraction=stage.fraction,
        entered_at=ns_to_iso(entered_ns),
        next_stage=None if following is None else following.name,
        gates=gates,
    )


def promote(
    run: str | os.PathLike[str], approved_by: str | None = None, now_ns: int | None = None
) -> Promotion:
    """Record the move of ``run``'s deployment to its next stage; return the promotion.

    Raises
    ------
    ConfigError
        If a gate does not hold (each failing gate is named with its value and limit), the
        stage is the last, or the ledger is held by another promotion.
    """
    status = stage_status(run)
    if status.next_stage is None:
        raise ConfigError(f"stage {status.stage!r} is the last stage: nothing to promote to")
    failing = [gate for gate in status.gates if not gate.holds]
    if failing:
        raise ConfigError(
            f"stage {status.stage!r} cannot move to {status.next_stage!r}: "
            + "; ".join(describe_gate(gate) for gate in failing)
        )
    who = approved_by or _user()
    at_ns = time.time_ns() if now_ns is None else now_ns
    promotion = Promotion(
        at=ns_to_iso(at_ns),
        at_ns=at_ns,
        from_stage=status.stage,
        to_stage=status.next_stage,
        approved_by=who,
        host=socket.gethostname(),
        run=status.run,
        gates=status.gates,
    )
    ledger = Path(status.ledger)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(f"{ledger} is being written by another promotion") from None
        latest = read_ledger(ledger)  # under the lock: nobody moved it meanwhile
        if (latest[-1].to_stage if latest else status.stage) != status.stage:
            raise ConfigError(f"the deployment moved on meanwhile ({ledger})")
        os.write(fd, msgspec.json.encode(promotion) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return promotion


def describe_gate(gate: GateResult) -> str:
    """Return one line about a gate: its value against its limit, and why when unmeasured."""
    if gate.name == "run_ended":
        return gate.detail
    relation = ">=" if gate.name == "min_days" else "<="
    if gate.value is None:
        return f"{gate.name}: not measured ({gate.detail})"
    value, limit = _fmt(gate.name, gate.value), _fmt(gate.name, gate.limit)
    text = f"{gate.name}: {value} (needs {relation} {limit})"
    return text + (f" [{gate.detail}]" if gate.detail else "")


def _fmt(name: str, value: float) -> str:
    if name in ("max_drawdown", "max_tracking_error"):
        return f"{value * 100:.3f} %"
    if name == "max_slippage_gap_bps":
        return f"{value:.2f} bps"
    if name == "min_days":
        return f"{value:.2f} days"
    return f"{value:g}"


# -- measurements -----------------------------------------------------------------------------


class _Replay(msgspec.Struct, frozen=True):
    equity_ts: list[int]
    equity: list[float]
    fills: dict[str, tuple[OrderSide, float]]
    error: str = ""


def _measure(
    name: str,
    path: Path,
    run_dir: Path,
    mode: str,
    entered_ns: int,
    last_ns: int,
    replay: _Replay | None,
) -> tuple[float | None, str]:
    if name == "min_days":
        return max(0, last_ns - entered_ns) / _DAY_NS, ""
    if name == "max_drawdown":
        curve = read_equity_csv(run_dir / "equity.csv").equity
        if not len(curve):
            return None, "the run has no equity curve"
        return float(-np.min(curve / np.maximum.accumulate(curve) - 1.0)), ""
    if name == "max_reconciliation_breaks":
        return float(_count(path, ("ReconciliationBreak",))), ""
    if name == "max_tracking_error":
        assert replay is not None
        if replay.error:
            return None, replay.error
        run_curve = read_equity_csv(run_dir / "equity.csv")
        if not len(run_curve.equity):
            return None, "the run has no equity curve"
        replay_ts = np.asarray(replay.equity_ts, dtype=np.int64)
        at = np.searchsorted(replay_ts, run_curve.ts, side="right") - 1
        replay_eq = np.asarray(replay.equity)[np.maximum(at, 0)]
        gap = run_curve.equity / replay_eq - 1.0
        return float(math.sqrt(float(np.mean(gap * gap)))), f"{len(run_curve.ts)} equity points"
    if name == "max_slippage_gap_bps":
        if mode == "shadow":
            gaps = [
                r.record.slippage_vs_quote_bps
                for r in read_records(path)
                if isinstance(r.record, ShadowFillCompared)
                and r.record.slippage_vs_quote_bps is not None
            ]
            if not gaps:
                return None, "no simulated fill with a quote to compare"
            return sum(gaps) / len(gaps), f"{len(gaps)} fills against the quote"
        assert replay is not None
        if replay.error:
            return None, replay.error
        own = _fills(read_records(path))
        pairs = [(own[k], replay.fills[k]) for k in sorted(own) if k in replay.fills]
        if not pairs:
            return None, "no order filled both in the run and in its replay"
        gaps = [
            (1.0 if side is OrderSide.BUY else -1.0) * (px / model_px - 1.0) * 1e4
            for (side, px), (_, model_px) in pairs
        ]
        return sum(gaps) / len(gaps), f"{len(gaps)} orders against the replay"
    raise ConfigError(f"unknown gate {name}")


def _replay(run_dir: Path) -> _Replay:
    # The run replayed on the simulator from its journal, in a directory of our own.
    from tradeloop.engine.from_journal import prepare_from_journal
    from tradeloop.engine.runner import run_backtest

    try:
        prepared, scope = prepare_from_journal(run_dir)
    except ConfigError as error:
        return _Replay([], [], {}, error=str(error))
    scratch = tempfile.mkdtemp(prefix="tradeloop-stage-")
    try:
        prepared.config = msgspec.structs.replace(
            prepared.config,
            run=msgspec.structs.replace(prepared.config.run, output_dir=scratch),
        )
        result = run_backtest(prepared, order_id_scope=scope)
        portfolio = result.kernel.portfolio
        ts = np.frombuffer(portfolio.equity_ts, dtype=np.int64).tolist()
        values = np.frombuffer(portfolio.equity_values, dtype=np.float64).tolist()
        fills = _fills(read_records(result.journal_path))
        return _Replay(ts, values, fills)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _fills(records: Iterable[object]) -> dict[str, tuple[OrderSide, float]]:
    # Average fill price of each order, by client order id.
    sums: dict[str, list[float]] = {}
    sides: dict[str, OrderSide] = {}
    for item in records:
        record = getattr(item, "record", None)
        if not isinstance(record, OrderFilled):
            continue
        qty = record.last_qty.as_float()
        total = sums.setdefault(record.client_order_id, [0.0, 0.0])
        total[0] += qty * record.last_px.as_float()
        total[1] += qty
        sides[record.client_order_id] = record.order_side
    return {k: (sides[k], v[0] / v[1]) for k, v in sums.items() if v[1] > 0}


def _first_last_ts(path: Path) -> tuple[int, int]:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT MIN(ts_init), MAX(ts_init) FROM records").fetchone()
    finally:
        conn.close()
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


def _count(path: Path, types: tuple[str, ...]) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        marks = ",".join("?" for _ in types)
        row = conn.execute(
            f"SELECT COUNT(*) FROM records WHERE type IN ({marks})", types
        ).fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


def _deployment(config: RunConfig, run: object = None) -> DeploymentConfig:
    if config.deployment is None:
        where = "the config" if run is None else f"run {run}"
        raise ConfigError(f"{where} has no [deployment] table: it is not a staged deployment")
    return config.deployment


def _user() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return os.environ.get("USER", "unknown")


__all__ = [
    "GateResult",
    "Promotion",
    "StageConfig",
    "StageStatus",
    "check_stage",
    "describe_gate",
    "ledger_path",
    "promote",
    "read_ledger",
    "resolve_stage",
    "stage_status",
]

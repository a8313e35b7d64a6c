"""Diff two runs: the first record where their journals diverge, and why.

Two runs of the same config, data, code and seed write byte-identical journals (the
determinism invariant), so a difference has a cause in the manifests:

1. **config**: the canonical config JSON differs; the differing keys are listed as dotted
   paths (``venue.slippage.bps``, ``strategies[0].params.fast``);
2. **data**: a data source's content hash (or its rows or time range) differs;
3. **code**: the code version differs (package version and git commit, plus a hash of the
   uncommitted changes to ``src/`` when the tree was dirty: two differently edited trees of
   one commit are told apart). Two runs that both report an unhashed ``.dirty`` version (from
   before that hash existed) are reported as a possible code change, not a determinism bug;
4. **seed**: the run seed differs;
5. **mode**: a backtest against a paper run: the timestamps come from different clocks, so
   compare with ``ignore_timestamps`` to see whether the decisions and fills are the same.

Records are compared in sequence order by their stored columns and JSON payload, byte for
byte; the market data a live session journaled as it arrived (``MarketDataReceived``) is
input, not decision, and is left out (its replay reads it as data). With
``ignore_timestamps``, ``ts_event``/``ts_init`` (and any ``*_ns`` field, nested ones
included) are left out, so a paper run of the same data matches its backtest record for
record when it made the same decisions. When the first divergence is a ``DataValidated``
record (the data hash itself), the first divergence after the data records is given too:
where the changed data first changed a decision. When there is none — the journals differ
only in their ``DataValidated`` records — the diff says so outright
(``is_identical_after_data``): the data differs, with each source's hashes, but every
decision, order and fill is identical; the runs' ``summary.json`` (beside the journals, when
present) tells whether the changed prices still moved the final equity (marks are not
journaled).
"""

from __future__ import annotations

import json
import os
from typing import Any

import msgspec

from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.replay import StoredRecord, journal_path, read_rows
from tradeloop.journal.status import run_status
from tradeloop.journal.store import read_manifest


class ManifestDifference(msgspec.Struct, frozen=True, kw_only=True):
    """One way two runs' manifests differ: ``kind`` is config, data, code, seed or mode."""

    kind: str
    key: str
    a: str | None
    b: str | None


class RecordView(msgspec.Struct, frozen=True, kw_only=True):
    """A journal record as stored (for display)."""

    seq: int
    ts_event: int
    ts_init: int
    kind: str
    type: str
    payload: str


class Divergence(msgspec.Struct, frozen=True, kw_only=True):
    """The first pair of records that differ (``a`` or ``b`` is None when one run ended).

    ``fields`` lists the dotted paths of the payload fields that differ.
    """

    index: int
    a: RecordView | None
    b: RecordView | None
    fields: tuple[str, ...]


class JournalDiff(msgspec.Struct, frozen=True, kw_only=True):
    """The comparison of two runs (see the module docstring)."""

    run_a: str
    run_b: str
    is_identical: bool
    ignore_timestamps: bool
    records_a: int
    records_b: int
    matching_prefix: int
    reasons: tuple[str, ...]
    differences: tuple[ManifestDifference, ...]
    first_divergence: Divergence | None
    first_decision_divergence: Divergence | None
    explanation: str
    is_identical_after_data: bool = False
    """The journals differ only in their data records (``DataValidated``): the changed data
    changed no decision, order or fill."""


# -- manifests ----------------------------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Return a JSON value as ``{dotted path: leaf}`` (lists as ``[i]``, empty containers kept)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
    else:
        out[prefix] = value
    return out


def _text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def manifest_differences(a: RunManifest, b: RunManifest) -> list[ManifestDifference]:
    """Return how two manifests differ: config keys, data sources, code version, seed, mode."""
    found: list[ManifestDifference] = []
    config_a, config_b = flatten(json.loads(a.config_json)), flatten(json.loads(b.config_json))
    for key in sorted(set(config_a) | set(config_b)):
        if key == "run.name" or key == "run.output_dir":
            continue  # names the run, does not change what it does
        left, right = config_a.get(key), config_b.get(key)
        if left != right or (key in config_a) != (key in config_b):
            found.append(ManifestDifference(kind="config", key=key, a=_text(left), b=_text(right)))
    data_a = {ref.name: ref for ref in a.data}
    data_b = {ref.name: ref for ref in b.data}
    for name in sorted(set(data_a) | set(data_b)):
        left_ref, right_ref = data_a.get(name), data_b.get(name)
        if left_ref is None or right_ref is None:
            found.append(
                ManifestDifference(
                    kind="data",
                    key=name,
                    a=None if left_ref is None else left_ref.content_hash,
                    b=None if right_ref is None else right_ref.content_hash,
                )
            )
            continue
        for field_name in ("content_hash", "rows", "first_ts", "last_ts", "instrument_id"):
            left_value = getattr(left_ref, field_name)
            right_value = getattr(right_ref, field_name)
            if left_value != right_value:
                found.append(
                    ManifestDifference(
                        kind="data",
                        key=f"{name}.{field_name}",
                        a=str(left_value),
                        b=str(right_value),
                    )
                )
    if a.code_version != b.code_version:
        found.append(
            ManifestDifference(kind="code", key="code_version", a=a.code_version, b=b.code_version)
        )
    if a.seed != b.seed:
        found.append(ManifestDifference(kind="seed", key="seed", a=str(a.seed), b=str(b.seed)))
    if a.mode != b.mode:
        found.append(ManifestDifference(kind="mode", key="mode", a=a.mode, b=b.mode))
    return found


# -- records ------------------------------------------------------------------------------------


def _strip_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _strip_times(item)
            for key, item in value.items()
            if key not in ("ts_event", "ts_init") and not key.endswith("_ns")
        }
    if isinstance(value, list):
        return [_strip_times(item) for item in value]
    return value


def _comparable(row: StoredRecord, ignore_timestamps: bool) -> Any:
    if not ignore_timestamps:
        return (row.seq, row.ts_event, row.ts_init, row.kind, row.type, row.payload)
    return (row.kind, row.type, _strip_times(json.loads(row.payload)))


def _view(row: StoredRecord | None) -> RecordView | None:
    if row is None:
        return None
    return RecordView(
        seq=row.seq,
        ts_event=row.ts_event,
        ts_init=row.ts_init,
        kind=row.kind,
        type=row.type,
        payload=row.payload,
    )


def _field_diff(a: StoredRecord | None, b: StoredRecord | None, ignore: bool) -> tuple[str, ...]:
    if a is None or b is None:
        return ()
    if a.type != b.type:
        return ("type",)
    left, right = json.loads(a.payload), json.loads(b.payload)
    if ignore:
        left, right = _strip_times(left), _strip_times(right)
    flat_a, flat_b = flatten(left), flatten(right)
    keys = [k for k in sorted(set(flat_a) | set(flat_b)) if flat_a.get(k) != flat_b.get(k)]
    if not ignore:
        keys += [c for c in ("ts_event", "ts_init") if getattr(a, c) != getattr(b, c)]
    return tuple(dict.fromkeys(keys))


def _first_divergence(
    rows_a: list[StoredRecord], rows_b: list[StoredRecord], ignore: bool
) -> tuple[int, Divergence | None]:
    shared = min(len(rows_a), len(rows_b))
    for index in range(shared):
        if _comparable(rows_a[index], ignore) != _comparable(rows_b[index], ignore):
            return index, Divergence(
                index=index,
                a=_view(rows_a[index]),
                b=_view(rows_b[index]),
                fields=_field_diff(rows_a[index], rows_b[index], ignore),
            )
    if len(rows_a) == len(rows_b):
        return shared, None
    row_a = rows_a[shared] if shared < len(rows_a) else None
    row_b = rows_b[shared] if shared < len(rows_b) else None
    return shared, Divergence(index=shared, a=_view(row_a), b=_view(row_b), fields=())


def describe_code_change(a: str, b: str) -> str:
    """Return how two code versions differ (``engine.runner.code_version_of`` format).

    ``<version>+g<commit>[.dirty.<hash of the uncommitted changes>]``: a different commit, or
    the same commit with different uncommitted changes to ``src/``.
    """

    def split(version: str) -> tuple[str, str | None]:
        base, marker, rest = version.partition(".dirty")
        if not marker:
            return version, None
        return base, rest.lstrip(".") or "not hashed"

    (base_a, dirty_a), (base_b, dirty_b) = split(a), split(b)
    if base_a == base_b and (dirty_a or dirty_b):
        if dirty_a and dirty_b:
            what = f"different uncommitted changes to src/ (hash {dirty_a} vs {dirty_b})"
        else:
            what = "uncommitted changes to src/ in one run only"
        return f"code differs: same commit {base_a}, {what}"
    return f"code differs: version {a} vs {b}"


def _explain(
    differences: list[ManifestDifference],
    divergence: Divergence | None,
    ignore: bool,
    code_version: str | None = None,
) -> tuple[tuple[str, ...], str]:
    kinds = tuple(dict.fromkeys(d.kind for d in differences))
    if divergence is None:
        if kinds == ("mode",) or not kinds:
            what = "ignoring timestamps, " if ignore else ""
            return kinds, f"{what}the journals are identical record for record"
        return kinds, (
            "the journals are identical record for record although the manifests differ in "
            + ", ".join(kinds)
            + ": the difference did not change any decision"
        )
    if not kinds:
        version = code_version or ""
        if version.endswith(".dirty"):
            return ("code",), (
                f"same config, data and seed; both runs report code version {version}, from a "
                "tree with uncommitted changes recorded without a hash of them (a version "
                "before tradeloop hashed them): the code may differ, so this is not proof of "
                "a determinism bug; rerun both from committed code to tell"
            )
        return ("nondeterminism",), (
            "same config, data, code and seed but the journals differ: a determinism bug "
            "(wall clock, unseeded randomness or iteration over an unordered set)"
        )
    parts = []
    for kind in kinds:
        keys = [d.key for d in differences if d.kind == kind]
        if kind == "config":
            parts.append(f"config differs in {', '.join(keys[:8])}{' …' if len(keys) > 8 else ''}")
        elif kind == "data":
            parts.append(_describe_data([d for d in differences if d.kind == "data"]))
        elif kind == "code":
            d = next(d for d in differences if d.kind == "code")
            parts.append(describe_code_change(d.a or "", d.b or ""))
        elif kind == "seed":
            d = next(d for d in differences if d.kind == "seed")
            parts.append(f"seed {d.a} vs {d.b}")
        elif kind == "mode":
            d = next(d for d in differences if d.kind == "mode")
            hint = "" if ignore else " (timestamps differ by construction: try ignore_timestamps)"
            parts.append(f"mode {d.a} vs {d.b}{hint}")
    return kinds, "; ".join(parts)


def _describe_data(differences: list[ManifestDifference]) -> str:
    # "data differs (source orcl.csv: sha256 1a2b… vs 9f8e…; rows 503 vs 502)".
    by_source: dict[str, list[str]] = {}
    for d in differences:
        source, _, field_name = d.key.rpartition(".")
        if field_name not in ("content_hash", "rows", "first_ts", "last_ts", "instrument_id"):
            source, field_name = d.key, ""  # a source in one run only
        if field_name == "content_hash":
            text = f"sha256 {_short(d.a)} vs {_short(d.b)}"
        elif field_name:
            text = f"{field_name} {d.a} vs {d.b}"
        else:
            text = "only in run A" if d.b is None else "only in run B"
        by_source.setdefault(source, []).append(text)
    described = "; ".join(f"source {name}: {', '.join(texts)}" for name, texts in by_source.items())
    return f"data differs ({described})"


def _short(content_hash: str | None) -> str:
    return "-" if content_hash is None else content_hash[:12]


def _final_equity(path: os.PathLike[str]) -> float | None:
    # summary.json beside a journal in its run directory (absent for a bare journal file).
    summary = os.path.join(os.path.dirname(path), "summary.json")
    try:
        with open(summary, encoding="utf-8") as handle:
            value = json.load(handle).get("final_equity")
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


_RECEIVED = "MarketDataReceived"


def _unfinished(
    path_a: os.PathLike[str],
    path_b: os.PathLike[str],
    prefix: int,
    count_a: int,
    count_b: int,
    divergence: Divergence | None,
) -> str | None:
    # A run that did not complete (killed, still running, failed or stopped) diverges from a
    # complete one where it ends: say that, not "a determinism bug".
    if divergence is None:
        return None
    for name, path, count in (("A", path_a, count_a), ("B", path_b, count_b)):
        status = run_status(path)
        if status.state == "completed":
            continue
        # its journal (RunEnded left out) ran out where the two part
        if prefix == count:
            return (
                f"{status.describe(f'{name} ({os.path.dirname(path)})')}; the two runs agree "
                f"record for record up to there ({prefix:,} records)"
            )
    return None


def diff_runs(
    run_a: str | os.PathLike[str], run_b: str | os.PathLike[str], ignore_timestamps: bool = False
) -> JournalDiff:
    """Return where and why the journals of two runs diverge (see the module docstring).

    Parameters
    ----------
    run_a, run_b
        Run directories or journal files.
    ignore_timestamps
        Compare records by content without their timestamps (a backtest against a paper run).

    Raises
    ------
    ConfigError
        If either path is not a run directory or a tradeloop journal.
    """
    path_a, path_b = journal_path(run_a), journal_path(run_b)
    manifest_a, manifest_b = read_manifest(path_a), read_manifest(path_b)
    rows_a, rows_b = read_rows(path_a, decode=False), read_rows(path_b, decode=False)
    # A live session journals its inbound market data (MarketDataReceived); its replay from
    # the journal reads the same records as data: inputs, compared through the manifests.
    if any(r.type == _RECEIVED for r in rows_a) or any(r.type == _RECEIVED for r in rows_b):
        rows_a = [r for r in rows_a if r.type != _RECEIVED]
        rows_b = [r for r in rows_b if r.type != _RECEIVED]
    # How each run ended is said apart (``run_status``), not compared as a decision: a session
    # ended by --for and its replay ended by the data's end made the same decisions.
    rows_a = [r for r in rows_a if r.type != "RunEnded"]
    rows_b = [r for r in rows_b if r.type != "RunEnded"]
    differences = manifest_differences(manifest_a, manifest_b)
    prefix, divergence = _first_divergence(rows_a, rows_b, ignore_timestamps)
    decision_divergence = None
    if divergence is not None and "DataValidated" in (
        getattr(divergence.a, "type", None),
        getattr(divergence.b, "type", None),
    ):
        trading_a = [r for r in rows_a if r.type != "DataValidated"]
        trading_b = [r for r in rows_b if r.type != "DataValidated"]
        _, decision_divergence = _first_divergence(trading_a, trading_b, ignore_timestamps)
    reasons, explanation = _explain(
        differences, divergence, ignore_timestamps, manifest_a.code_version
    )
    ended = _unfinished(path_a, path_b, prefix, len(rows_a), len(rows_b), divergence)
    if ended is not None:
        reasons, explanation = ("interrupted",), ended
    data_only = (
        divergence is not None
        and decision_divergence is None
        and "DataValidated"
        in (getattr(divergence.a, "type", None), getattr(divergence.b, "type", None))
    )
    if data_only:
        after = sum(1 for r in rows_a if r.type != "DataValidated")
        explanation += (
            f" — but every decision, order and fill is identical (the {after:,} records after "
            "the data records match" + (", ignoring timestamps" if ignore_timestamps else "") + ")"
        )
        equity_a, equity_b = _final_equity(path_a), _final_equity(path_b)
        if equity_a is not None and equity_b is not None:
            explanation += (
                f"; final equity {equity_a:,.2f} in both runs"
                if equity_a == equity_b
                else f"; final equity {equity_a:,.2f} vs {equity_b:,.2f}: the changed prices "
                "value the same positions differently"
            )
    return JournalDiff(
        run_a=str(path_a),
        run_b=str(path_b),
        is_identical=divergence is None,
        ignore_timestamps=ignore_timestamps,
        records_a=len(rows_a),
        records_b=len(rows_b),
        matching_prefix=prefix,
        reasons=reasons,
        differences=tuple(differences),
        first_divergence=divergence,
        first_decision_divergence=decision_divergence,
        explanation=explanation,
        is_identical_after_data=data_only,
    )

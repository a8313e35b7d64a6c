"""Check a journal against the live-logging standard (``docs/journal-standard.md``).

``check_journal`` returns every violation, each naming the rule, the record and what is
wrong; an empty list means the journal follows the standard. The rules:

- ``M1``: the manifest holds the run id, the config hash (SHA-256 of the stored canonical
  config JSON), the code version, the seed and a content hash per data source;
- ``T1``: every record has integer ``ts_init`` > 0; every event ``ts_event`` > 0 and
  ``ts_event <= ts_init`` (nothing is seen before it happens);
- ``O1``: every order is journaled (``SubmitOrder``) before any event about it, with a unique
  client order id; ``O2``: every fill has a unique trade id, a venue order id, a reference
  price and its cost breakdown (``FillCosts``, zeros for a fill at its reference price: "no
  cost" is told apart from "not measured"); ``O3``: every order carries its arrival price
  (``OrderInitialized.arrival_price``, the mark when it was created);
- ``D1``: every pipeline decision carries a decision id — ``R-<n>`` for a rebalance, another
  word (``risk-<n>``) for out-of-cycle decisions — and each rebalance that emitted signals also
  has its ensemble, targets, risk review and cost assessment; an out-of-cycle execution plan
  names the ``RiskLimitBreached`` that caused it (same ``decision_id``, journaled before);
- ``D2``: every child order's parent has an ``ExecutionPlanned`` journaled before it, and the
  child is tagged with the plan's rebalance and algorithm; every plan has an arrival price;
- ``V1``: every regime change names its detector and model version, fitted before it;
  ``V2``: every ``SignalsEmitted`` gives the version of each agent that signalled or failed
  (``agent_versions``), and every ``EnsembleScored`` and ``TargetsProposed`` the version of
  the model that produced it (``model_version``);
- ``L1``: the live-logging form (``journal.export``: one JSON line per record) has a line for
  every record, in sequence order, each carrying the manifest's run id, config hash and code
  version and the record's seq, kind, type, ``ts_event`` and ``ts_init`` beside the record
  (``check_log_lines`` checks lines from anywhere: a file, a log pipeline).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from tradeloop.journal.export import LOG_FIELDS, iter_log_records
from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.replay import journal_path, read_rows
from tradeloop.journal.status import run_status
from tradeloop.journal.store import read_manifest
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.decisions import (
    CostAssessed,
    EnsembleScored,
    ExecutionPlanned,
    RegimeChanged,
    RegimeModelFitted,
    RiskLimitBreached,
    RiskReviewed,
    SignalsEmitted,
    TargetsProposed,
)
from tradeloop.model.events import Event, ExternalFillRecorded, OrderEvent, OrderFilled

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DECISION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")
_REBALANCE = re.compile(r"^R-[0-9]+$")
_RISK_EXIT = re.compile(r"^risk-[0-9]+$")
_CHAIN = (SignalsEmitted, EnsembleScored, TargetsProposed, RiskReviewed, CostAssessed)


class Violation(msgspec.Struct, frozen=True, kw_only=True):
    """One breach of the standard: the rule, the record's sequence number (0: manifest), why."""

    rule: str
    seq: int
    message: str


def check_journal(run: str | os.PathLike[str]) -> list[Violation]:
    """Return every violation of the journal standard in a run's journal (module docstring).

    Raises
    ------
    ConfigError
        If ``run`` is not a run directory or a tradeloop journal.
    """
    path = journal_path(run)
    manifest = read_manifest(path)
    out: list[Violation] = []

    def fail(rule: str, seq: int, message: str) -> None:
        out.append(Violation(rule=rule, seq=seq, message=message))

    if not manifest.run_id or not manifest.code_version:
        fail("M1", 0, "the manifest has no run id or code version")
    if hashlib.sha256(manifest.config_json.encode()).hexdigest() != manifest.config_hash:
        fail("M1", 0, "config_hash is not the SHA-256 of the stored config JSON")
    if not manifest.data:
        fail("M1", 0, "the manifest references no data")
    for ref in manifest.data:
        if not _HEX64.match(ref.content_hash) or ref.rows <= 0:
            fail("M1", 0, f"data {ref.name} has no SHA-256 content hash or no rows")
    orders: dict[str, SubmitOrder] = {}
    trade_ids: set[str] = set()
    plans: dict[str, ExecutionPlanned] = {}
    fitted: set[str] = set()
    breaches: set[str] = set()
    rebalances: dict[str, set[str]] = {}
    seqs: list[int] = []
    for row in read_rows(path):
        seqs.append(row.seq)
        record = row.record
        if record is None:
            fail("T1", row.seq, f"record type {row.type} is unknown to this version")
            continue
        if not isinstance(row.ts_init, int) or row.ts_init <= 0:
            fail("T1", row.seq, f"{row.type} has ts_init {row.ts_init}")
        if isinstance(record, Event) and not 0 < record.ts_event <= record.ts_init:
            fail("T1", row.seq, f"{row.type} ts_event {record.ts_event} > ts_init {record.ts_init}")
        if isinstance(record, SubmitOrder):
            oid = record.order.client_order_id
            if oid in orders:
                fail("O1", row.seq, f"client order id {oid} is used twice")
            orders[oid] = record
            arrival = record.order.arrival_price
            if arrival is None or arrival.raw <= 0:
                fail("O3", row.seq, f"order {oid} has no arrival price")
            parent = record.order.parent_order_id
            if parent is not None:
                plan = plans.get(parent)
                if plan is None:
                    fail("D2", row.seq, f"order {oid}: parent {parent} has no ExecutionPlanned")
                else:
                    wanted = {f"rebalance:{plan.rebalance_id}", f"algo:{plan.algorithm}"}
                    if not wanted <= set(record.order.tags):
                        fail("D2", row.seq, f"order {oid} lacks the tags {sorted(wanted)}")
        elif isinstance(record, OrderEvent) and not isinstance(record, ExternalFillRecorded):
            if record.client_order_id not in orders:
                fail(
                    "O1",
                    row.seq,
                    f"{row.type} for order {record.client_order_id} before its SubmitOrder",
                )
            if isinstance(record, OrderFilled):
                if record.trade_id in trade_ids:
                    fail("O2", row.seq, f"trade id {record.trade_id} is used twice")
                trade_ids.add(record.trade_id)
                if record.reference_px is None or not record.venue_order_id:
                    fail(
                        "O2",
                        row.seq,
                        f"fill {record.trade_id} lacks its reference price or venue order id",
                    )
                if record.costs is None:
                    fail("O2", row.seq, f"fill {record.trade_id} has no cost breakdown (costs)")
        if isinstance(record, RiskLimitBreached) and record.decision_id:
            breaches.add(record.decision_id)
        if isinstance(record, ExecutionPlanned):
            plans[record.parent_order_id] = record
            rid = record.rebalance_id
            if _RISK_EXIT.match(rid) and rid not in breaches:
                fail("D1", row.seq, f"plan {record.parent_order_id}: no breach for decision {rid}")
            if not record.arrival_price > 0:
                fail("D2", row.seq, f"plan {record.parent_order_id} has no arrival price")
        rebalance = getattr(record, "rebalance_id", None)
        if rebalance is not None:
            if not isinstance(rebalance, str) or not _DECISION_ID.match(rebalance):
                fail("D1", row.seq, f"{row.type} decision id {rebalance!r} is not a word")
            else:
                rebalances.setdefault(rebalance, set()).add(row.type)
        if isinstance(record, SignalsEmitted):
            agents = {signal.agent_id for signal in record.signals} | set(record.failed_agents)
            unversioned = sorted(a for a in agents if not record.agent_versions.get(a))
            if unversioned:
                fail("V2", row.seq, f"signals without agent versions: {', '.join(unversioned)}")
        if isinstance(record, EnsembleScored | TargetsProposed) and not record.model_version:
            fail("V2", row.seq, f"{row.type} {record.rebalance_id} has no model version")
        if isinstance(record, RegimeModelFitted):
            fitted.add(record.model_version)
        if isinstance(record, RegimeChanged):
            if not record.detector_id or not record.model_version:
                fail("V1", row.seq, "regime change without detector or model version")
            elif record.model_version not in fitted:
                fail("V1", row.seq, f"regime model {record.model_version} was never fitted")
    for rebalance, types in sorted(rebalances.items()):
        if "SignalsEmitted" in types:
            missing = [cls.__name__ for cls in _CHAIN if cls.__name__ not in types]
            if missing:
                fail("D1", 0, f"rebalance {rebalance} has no {', '.join(missing)}")
    encoder = msgspec.json.Encoder()
    lines = (encoder.encode(record) for record in iter_log_records(path))
    out.extend(check_log_lines(lines, manifest, seqs))
    status = run_status(path)
    if not status.has_ended:
        fail("E1", status.last_seq, status.describe(manifest.run_id) + ": no RunEnded record")
    return out


_LOG_TYPES: dict[str, type] = {
    "run_id": str,
    "config_hash": str,
    "code_version": str,
    "seq": int,
    "kind": str,
    "type": str,
    "ts_event": int,
    "ts_init": int,
    "record": dict,
}


def check_log_lines(
    lines: Iterable[bytes | str], manifest: RunManifest, seqs: Sequence[int] | None = None
) -> list[Violation]:
    """Return the violations of rule ``L1`` in lines of the log form of a journal.

    Parameters
    ----------
    lines
        The JSON lines (``journal.export_jsonl``'s output, or what a log pipeline received).
    manifest
        The manifest of the journal they come from.
    seqs
        The journal's sequence numbers: when given, every one must have its line, in order.

    Returns
    -------
    list
        One ``Violation`` per line that breaks the rule (``seq``: the line's, else 0), and one
        for records without a line.
    """
    out: list[Violation] = []
    stamps = {
        "run_id": manifest.run_id,
        "config_hash": manifest.config_hash,
        "code_version": manifest.code_version,
    }
    seen: list[int] = []
    for number, line in enumerate(lines, start=1):
        try:
            item: Any = msgspec.json.decode(line)
        except msgspec.DecodeError as error:
            out.append(Violation(rule="L1", seq=0, message=f"line {number} is not JSON: {error}"))
            continue
        if not isinstance(item, dict):
            out.append(Violation(rule="L1", seq=0, message=f"line {number} is not an object"))
            continue
        raw_seq = item.get("seq")
        seq = raw_seq if isinstance(raw_seq, int) and not isinstance(raw_seq, bool) else 0
        problems = [
            f"{key} is missing or not {kind.__name__}"
            for key, kind in _LOG_TYPES.items()
            if not isinstance(item.get(key), kind) or isinstance(item.get(key), bool)
        ]
        problems += [
            f"{key} {item.get(key)!r} is not the manifest's {value!r}"
            for key, value in stamps.items()
            if key in item and item[key] != value
        ]
        extra = sorted(set(item) - set(LOG_FIELDS))
        if extra:
            problems.append(f"unexpected keys {extra}")
        record = item.get("record")
        if isinstance(record, dict) and record.get("type") != item.get("type"):
            problems.append(f"type {item.get('type')!r} is not the record's {record.get('type')!r}")
        if item.get("kind") not in ("event", "command"):
            problems.append(f"kind {item.get('kind')!r} is neither event nor command")
        if problems:
            message = f"line {number}: {'; '.join(problems)}"
            out.append(Violation(rule="L1", seq=seq, message=message))
        seen.append(seq)
    if seqs is not None and seen != list(seqs):
        missing = sorted(set(seqs) - set(seen))
        detail = (
            f"no line for records {missing[:5]}{' …' if len(missing) > 5 else ''}"
            if missing
            else "lines are not one per record in sequence order"
        )
        out.append(Violation(rule="L1", seq=missing[0] if missing else 0, message=detail))
    return out

"""The quality report: every record a reader or validation set aside, and every finding.

A *quarantined record* is a source row that did not make it into the clean columns: it names
the row, its timestamp, the rule it broke, the offending field and value, and carries a
one-line message naming the instrument, the value and the rule. Each quarantined row
appears exactly once, under the first rule it broke (rules run in the order of ``Rule``).

A *finding* is something worth knowing that removes no row: a gap against the calendar, a
run of zero-volume bars. ``rows_in == rows_clean + len(quarantined)`` always holds.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from tradeloop.core.errors import InvariantViolation
from tradeloop.core.time import ns_to_iso


class Rule(StrEnum):
    """Why a row was quarantined (or, for ``GAP`` and ``ZERO_VOLUME``, what was found).

    Readers apply the first six (a row that cannot be turned into exact integers never
    reaches the columns); ``validation`` applies the rest, in this order.
    """

    UNDECODABLE = "undecodable"
    """A text record whose bytes are not UTF-8 (the rest of the file still loads)."""
    UNPARSEABLE = "unparseable"
    """Wrong number of fields, or text that is not a number, a timestamp or a boolean."""
    NON_FINITE = "non_finite"
    """A missing, NaN or infinite value."""
    OUT_OF_RANGE = "out_of_range"
    """A number too large to hold exactly as a fixed-point integer (``|value| * 10**precision``
    at or above 2**53), such as a price of 1e300."""
    EXCESS_PRECISION = "excess_precision"
    """A value with more decimals than the precision (given, or the inference cap)."""
    OUTSIDE_SESSION = "outside_session"
    """A bar that does not fall inside a session of the exchange calendar."""
    NON_POSITIVE_PRICE = "non_positive_price"
    """A price of zero or below."""
    OHLC_INCONSISTENT = "ohlc_inconsistent"
    """``high < max(open, close, low)`` or ``low > min(open, close, high)``."""
    NEGATIVE_VOLUME = "negative_volume"
    """A negative bar volume or quote size."""
    NON_POSITIVE_SIZE = "non_positive_size"
    """A trade of zero or negative size."""
    CROSSED_QUOTE = "crossed_quote"
    """A quote whose bid is above its ask."""
    OUTLIER_RANGE = "outlier_range"
    """A bar whose open, high or low lies far from its close relative to the series' robust
    bar range (a high of 250000 in a series trading near 2.0)."""
    OUT_OF_ORDER = "out_of_order"
    """A row outside the longest non-decreasing run of ``ts_init`` in file order."""
    DUPLICATE_TIMESTAMP = "duplicate_timestamp"
    """A second bar (or quote, when configured) at the same ``ts_init``; the first is kept."""
    DUPLICATE_TRADE_ID = "duplicate_trade_id"
    """A second trade with the same trade id; the first is kept."""
    OUTLIER_SPIKE = "outlier_spike"
    """A return far outside its recent distribution that reverses on the next row."""
    GAP = "gap"
    """Finding: sessions or intervals missing against the calendar or the bar interval."""
    ZERO_VOLUME = "zero_volume"
    """Finding: a run of bars with zero volume."""


FINDING_RULES = frozenset({Rule.GAP, Rule.ZERO_VOLUME})


class QuarantinedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One source row that was set aside.

    Attributes
    ----------
    row : 0-based index of the data record in the source (a header line is not counted).
    line : 1-based line number in a text source (``None`` for Parquet).
    ts_event : the row's timestamp in ns, or ``None`` if it could not be parsed.
    rule : the rule it broke.
    field : the offending column (``"row"`` when the whole row is malformed).
    value : the offending value as text.
    message : one line naming the instrument, the value and the rule.
    """

    row: int
    line: int | None
    ts_event: int | None
    rule: Rule
    field: str
    value: str
    message: str


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """Something found in the data that removed no row (a gap, a zero-volume run).

    ``start_ts``/``end_ts`` bound what is missing (for a gap: the first and last missing bar
    close) or the affected rows (zero volume); ``count`` is how many sessions, intervals or
    rows are affected; ``unit`` says which.
    """

    rule: Rule
    start_ts: int
    end_ts: int
    count: int
    unit: str
    message: str


class QualityReport(msgspec.Struct, frozen=True, kw_only=True):
    """What reading and validating one source produced.

    Attributes
    ----------
    source : the file (or a label for in-memory data).
    instrument_id : the instrument the rows belong to.
    kind : ``"bars"``, ``"quotes"`` or ``"trades"``.
    rows_in : records in the source.
    rows_clean : records in the clean columns.
    first_ts, last_ts : ``ts_init`` range of the clean rows (``None`` when empty).
    calendar : exchange calendar used for sessions and gaps (``None``: 24/7).
    interval_ns : bar interval used for gaps (``None`` for ticks or when unknown).
    config_hash : hash of the resolved ``ValidationConfig``.
    quarantined : every row set aside, ordered by ``row``.
    findings : gaps and zero-volume runs, ordered by time.
    """

    source: str
    instrument_id: str
    kind: str
    rows_in: int
    rows_clean: int
    first_ts: int | None
    last_ts: int | None
    calendar: str | None
    interval_ns: int | None
    config_hash: str
    quarantined: tuple[QuarantinedRecord, ...] = ()
    findings: tuple[Finding, ...] = ()

    def __post_init__(self) -> None:
        if self.rows_in != self.rows_clean + len(self.quarantined):
            raise InvariantViolation(
                f"quality report of {self.source}: {self.rows_in} rows in but "
                f"{self.rows_clean} clean + {len(self.quarantined)} quarantined"
            )

    # -- summaries ------------------------------------------------------------------------------

    @property
    def rows_quarantined(self) -> int:
        """Return how many rows were set aside."""
        return len(self.quarantined)

    @property
    def gaps(self) -> tuple[Finding, ...]:
        """Return the gap findings."""
        return tuple(f for f in self.findings if f.rule is Rule.GAP)

    @property
    def is_clean(self) -> bool:
        """Return whether nothing was quarantined and nothing was found."""
        return not self.quarantined and not self.findings

    def quarantine_counts(self) -> dict[str, int]:
        """Return the number of quarantined rows per rule, in rule order."""
        counts = {rule.value: 0 for rule in Rule if rule not in FINDING_RULES}
        for record in self.quarantined:
            counts[record.rule.value] += 1
        return {rule: n for rule, n in counts.items() if n}

    def finding_counts(self) -> dict[str, tuple[int, int]]:
        """Return ``(findings, affected sessions/intervals/rows)`` per finding rule."""
        counts: dict[str, tuple[int, int]] = {}
        for finding in self.findings:
            found, affected = counts.get(finding.rule.value, (0, 0))
            counts[finding.rule.value] = (found + 1, affected + finding.count)
        return counts

    # -- serialisation -------------------------------------------------------------------------

    def to_json(self) -> bytes:
        """Return the report as JSON (deterministic: same report, same bytes)."""
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> QualityReport:
        """Return a report decoded from ``to_json`` output."""
        return msgspec.json.decode(data, type=cls)

    def format(self, limit: int | None = 20) -> str:
        """Return a human-readable report; at most ``limit`` records and findings of each list."""
        span = (
            f"{ns_to_iso(self.first_ts)} .. {ns_to_iso(self.last_ts)}"
            if self.first_ts is not None and self.last_ts is not None
            else "no rows"
        )
        lines = [
            f"Quality report for {self.instrument_id} {self.kind} from {self.source}",
            f"  rows: {self.rows_in} in, {self.rows_clean} clean, "
            f"{self.rows_quarantined} quarantined",
            f"  clean span: {span}",
            f"  calendar: {self.calendar or '24/7'}; interval_ns: {self.interval_ns}; "
            f"config: {self.config_hash}",
        ]
        quarantine = self.quarantine_counts()
        lines.append(
            "  quarantined per rule: " + (_format_counts(quarantine) if quarantine else "none")
        )
        findings = self.finding_counts()
        if findings:
            parts = [
                f"{rule} {n} ({affected} affected)" for rule, (n, affected) in findings.items()
            ]
            lines.append("  findings per rule: " + ", ".join(parts))
        else:
            lines.append("  findings per rule: none")
        for title, items in (("quarantined", self.quarantined), ("findings", self.findings)):
            if not items:
                continue
            shown = items if limit is None else items[:limit]
            lines.append(f"  {title}:")
            lines.extend(f"    {item.message}" for item in shown)
            if len(items) > len(shown):
                lines.append(f"    ... and {len(items) - len(shown)} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{rule} {n}" for rule, n in counts.items())

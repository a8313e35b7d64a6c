"""Validation and quarantine: clean columns in, every removed row and every gap reported.

``validate`` takes a reader's ``ReadResult`` (or bare columns) and applies the rules below
in order. A row is quarantined under the first rule it breaks, and appears once in the
``QualityReport`` with its source row, timestamp, rule, field, value and a message; the
reader's own rejects come first. Afterwards ``rows_in == rows_clean + len(quarantined)``.

Steps (rule names are ``report.Rule`` values):

1. reader rejects: ``undecodable``, ``unparseable``, ``non_finite``, ``out_of_range``,
   ``excess_precision``, ``outside_session``
   (daily rows on non-session dates) — already out of the columns (``readers``).
2. ``outside_session`` (bars, with a calendar): the bar's close is not inside a session
   (``open < ts_event <= close``, not in a break). ``allow_outside_session`` turns it off.
3. value rules, per row: ``non_positive_price``; bars ``ohlc_inconsistent`` (high below
   max(open, close, low), or low above min(open, close, high)) and ``negative_volume``;
   quotes ``negative_volume`` (a size) and ``crossed_quote`` (bid > ask); trades
   ``non_positive_size``.
3b. ``outlier_range`` (see ``ValidationConfig.range_threshold``): bars whose open, high or
   low lies far from their own close against the series' robust bar range; quotes whose
   spread is far wider than the series' median spread.
4. ``out_of_order``: rows outside the longest non-decreasing subsequence of ``ts_init`` in
   file order (so one mistyped timestamp costs one row, not every row after it). When many
   rows are out of order the message suggests the reader option ``sort`` (``--sort``), which
   puts the rows in time order before validation (``readers.sort_by_time``).
5. ``duplicate_timestamp`` (bars; quotes only if configured): a later row with the same
   ``ts_init`` as the one kept; ``duplicate_trade_id`` (trades): a repeated trade id.
6. ``outlier_spike``: see ``ValidationConfig``; one pass over the rows still alive.
7. findings on the clean rows (they remove nothing; a quarantined bar therefore also shows
   as a gap, since the clean series lacks it): ``gap`` — missing sessions for daily
   bars with a calendar, missing bar closes inside sessions for intraday bars with a
   calendar, missing intervals otherwise (24/7); ``zero_volume`` — runs of zero-volume bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, overload

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import format_raw
from tradeloop.core.ids import content_hash
from tradeloop.core.time import ns_to_iso
from tradeloop.data.calendars import (
    ALWAYS_OPEN,
    check_calendar,
    is_always_open,
    sessions_between,
)
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.data.kinds import kind_of
from tradeloop.data.readers._common import ReadResult
from tradeloop.data.report import Finding, QualityReport, QuarantinedRecord, Rule
from tradeloop.data.series_rules import (
    gap_findings,
    longest_non_decreasing,
    most_common_step,
    spike_mask,
    zero_volume_findings,
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

C = TypeVar("C", BarColumns, QuoteColumns, TradeColumns)

_OHLC = ("open", "high", "low", "close")
_MANY_OUT_OF_ORDER = 3
"""Rows out of order (and at least 1 % of the rows) from which the message suggests sorting."""


class ValidationConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which rules run and their thresholds.

    Attributes
    ----------
    calendar : exchange-calendars code for sessions and gaps; ``None`` uses the reader's
        (``"24/7"`` forces always-open).
    interval_ns : bar interval for gaps; ``None`` uses the reader's, else the most common
        difference between consecutive bars.
    check_gaps : whether to look for gaps.
    allow_outside_session : keep bars that close outside the calendar's sessions.
    allow_duplicate_timestamps : keep rows sharing a ``ts_init``; ``None`` means no for bars,
        yes for quotes and trades (many ticks share a millisecond).
    spike_threshold_mad : a return is a spike candidate when ``|r - median| > threshold *
        1.4826 * MAD`` of the previous ``spike_window`` returns (so 10 is about 10 standard
        deviations of a normal distribution); ``None`` turns the rule off.
    spike_window : how many previous returns form the reference distribution.
    spike_min_history : fewest previous returns needed to judge a row against its own past;
        earlier rows (the warm-up, from row 0) are judged against the first ``spike_window``
        returns of the series (``spike_mask``).
    spike_min_return : the candidate's absolute log return must also be at least this (guards
        series whose MAD is zero, such as a price that rarely changes).
    spike_reversal_fraction : and the next return must go the other way by at least this
        fraction of the candidate's size: a bad print comes back almost all the way, a real
        move rarely does (with 0.5, SPY's close on 2020-03-09, -7.8% then +4.9%, was flagged).
        The last row has no next return and is never a spike.
    range_threshold : a bar's open, high or low is an ``outlier_range`` when its distance from
        the bar's close, ``|log(x / close)|``, exceeds ``range_threshold`` times the series'
        robust scale: the larger of the median bar range ``log(high / low)`` and the median
        absolute close-to-close log return, over the rows still alive (a whole-file statistic:
        one bad bar cannot move a median). For quotes the spread ``log(ask / bid)`` is
        compared with the median spread. ``None`` turns the rule off.
    range_min_move : and the distance must also be at least this (log units; 0.25 is 28 %
        above or 22 % below the close), which guards series whose bars rarely have a range.
    report_zero_volume : report runs of zero-volume bars as findings.
    """

    calendar: str | None = None
    interval_ns: int | None = None
    check_gaps: bool = True
    allow_outside_session: bool = False
    allow_duplicate_timestamps: bool | None = None
    spike_threshold_mad: float | None = 10.0
    spike_window: int = 50
    spike_min_history: int = 20
    spike_min_return: float = 0.01
    spike_reversal_fraction: float = 0.8
    range_threshold: float | None = 25.0
    range_min_move: float = 0.25
    report_zero_volume: bool = True

    def __post_init__(self) -> None:
        if self.calendar is not None:
            check_calendar(self.calendar)
        if self.interval_ns is not None and self.interval_ns <= 0:
            raise ConfigError(f"validation interval_ns {self.interval_ns} must be positive")
        if self.spike_threshold_mad is not None and self.spike_threshold_mad <= 0:
            raise ConfigError(f"spike_threshold_mad {self.spike_threshold_mad} must be positive")
        if not 2 <= self.spike_min_history <= self.spike_window:
            raise ConfigError(
                f"spike_min_history {self.spike_min_history} must be within "
                f"2..spike_window ({self.spike_window})"
            )
        if self.range_threshold is not None and self.range_threshold <= 0:
            raise ConfigError(f"range_threshold {self.range_threshold} must be positive")
        if self.range_min_move < 0:
            raise ConfigError(f"range_min_move {self.range_min_move} must not be negative")
        if self.spike_min_return < 0 or self.spike_reversal_fraction < 0:
            raise ConfigError("spike_min_return and spike_reversal_fraction must not be negative")


@dataclass(frozen=True, slots=True)
class ValidationResult(Generic[C]):
    """Clean columns (sorted by ``ts_init``), the source row of each, and the report."""

    clean: C
    clean_rows: I64
    report: QualityReport


@overload
def validate(
    data: ReadResult[C], config: ValidationConfig | None = None, *, source: str | None = None
) -> ValidationResult[C]: ...
@overload
def validate(
    data: C, config: ValidationConfig | None = None, *, source: str | None = None
) -> ValidationResult[C]: ...
def validate(
    data: ReadResult[C] | C, config: ValidationConfig | None = None, *, source: str | None = None
) -> ValidationResult[C]:
    """Return the clean rows of ``data`` and a report of every row set aside and every gap.

    Parameters
    ----------
    data : a reader's result (keeps source rows, calendar, interval) or bare columns (rows are
        numbered 0.. in the given order, calendar 24/7 unless configured).
    config : rules and thresholds (defaults documented on ``ValidationConfig``).
    source : label for the report (defaults to the file read, or ``"<memory>"``).

    Raises
    ------
    ConfigError
        If the calendar is unknown or cannot cover the data's years.
    """
    config = config or ValidationConfig()
    read: ReadResult[C]
    if isinstance(data, ReadResult):
        read = data
    else:
        n = len(data)
        read = ReadResult(
            columns=data,
            source_rows=np.arange(n, dtype=np.int64),
            source_lines=None,
            rejected=(),
            source="<memory>",
            rows_in=n,
            kind=kind_of(data),
        )
    columns = read.columns
    calendar = _resolve_calendar(config.calendar, read.calendar)
    checker: _Quarantine = _Quarantine(read)
    if isinstance(columns, BarColumns):
        _bar_rules(checker, columns, calendar, config)
    elif isinstance(columns, QuoteColumns):
        _quote_rules(checker, columns, config)
    else:
        _trade_rules(checker, columns, config)
    keep = np.flatnonzero(checker.alive)
    clean: C = columns.take(keep)
    interval_ns: int | None = None
    findings: list[Finding] = []
    if isinstance(clean, BarColumns):
        interval_ns = config.interval_ns or read.interval_ns or most_common_step(clean.ts_init)
        if config.check_gaps and interval_ns is not None:
            findings.extend(gap_findings(clean, calendar, interval_ns))
        if config.report_zero_volume and read.has_volume:
            findings.extend(zero_volume_findings(clean))
        findings.sort(key=lambda f: (f.start_ts, f.rule.value))
    report = QualityReport(
        source=source or read.source,
        instrument_id=columns.instrument_id,
        kind=kind_of(columns).value,
        rows_in=read.rows_in,
        rows_clean=len(clean),
        first_ts=int(clean.ts_init[0]) if len(clean) else None,
        last_ts=int(clean.ts_init[-1]) if len(clean) else None,
        calendar=calendar,
        interval_ns=interval_ns,
        config_hash=content_hash(
            msgspec.json.encode(config), calendar or ALWAYS_OPEN, interval_ns or 0
        ),
        quarantined=tuple(sorted((*read.rejected, *checker.records), key=lambda r: r.row)),
        findings=tuple(findings),
    )
    return ValidationResult(clean=clean, clean_rows=read.source_rows[keep], report=report)


def _resolve_calendar(configured: str | None, from_reader: str | None) -> str | None:
    chosen = configured if configured is not None else from_reader
    return None if is_always_open(chosen) else chosen


class _Quarantine:
    # Alive-mask over the reader's rows plus the records of the rows validation set aside.
    __slots__ = ("alive", "instrument_id", "read", "records")

    def __init__(
        self, read: ReadResult[BarColumns] | ReadResult[QuoteColumns] | ReadResult[TradeColumns]
    ) -> None:
        self.read = read
        self.instrument_id = read.columns.instrument_id
        self.alive: Mask = np.ones(len(read.columns), dtype=np.bool_)
        self.records: list[QuarantinedRecord] = []

    def reject(self, mask: Mask, rule: Rule, field: str, values: list[str], reason: str) -> None:
        # ``values`` holds the offending value of each alive row in ``mask``, in row order.
        hits = np.flatnonzero(mask & self.alive)
        if len(hits) == 0:
            return
        self.alive[hits] = False
        read = self.read
        ts = read.columns.ts_event
        for position, value in zip(hits.tolist(), values, strict=True):
            row = int(read.source_rows[position])
            line = None if read.source_lines is None else int(read.source_lines[position])
            stamp = int(ts[position])
            where = f"row {row}" + (f" (line {line})" if line is not None else "")
            self.records.append(
                QuarantinedRecord(
                    row=row,
                    line=line,
                    ts_event=stamp,
                    rule=rule,
                    field=field,
                    value=value,
                    message=(
                        f"{self.instrument_id} {where} at {ns_to_iso(stamp)}: "
                        f"{field} {value} {reason} "
                        f"(rule {rule.value})"
                    ),
                )
            )


def _formatted(raw: I64, precision: int, where: Mask, alive: Mask) -> list[str]:
    return [format_raw(int(v), precision) for v in raw[where & alive].tolist()]


def _iso_list(ts: I64, where: Mask, alive: Mask) -> list[str]:
    return [ns_to_iso(int(v)) for v in ts[where & alive].tolist()]


# -- rules per kind -------------------------------------------------------------------------------


def _bar_rules(
    q: _Quarantine, bars: BarColumns, calendar: str | None, config: ValidationConfig
) -> None:
    p = bars.price_precision
    if calendar is not None and not config.allow_outside_session and len(bars):
        sessions = sessions_between(calendar, int(bars.ts_event.min()), int(bars.ts_event.max()))
        outside = ~sessions.containing(bars.ts_event)
        q.reject(
            outside,
            Rule.OUTSIDE_SESSION,
            "ts_event",
            _iso_list(bars.ts_event, outside, q.alive),
            f"is not inside a {calendar} session",
        )
    for name in ("open", "high", "low", "close"):
        raw = getattr(bars, name)
        bad = raw <= 0
        q.reject(
            bad,
            Rule.NON_POSITIVE_PRICE,
            name,
            _formatted(raw, p, bad, q.alive),
            "is not a positive price",
        )
    high_bad = bars.high < np.maximum(np.maximum(bars.open, bars.close), bars.low)
    q.reject(
        high_bad,
        Rule.OHLC_INCONSISTENT,
        "high",
        _formatted(bars.high, p, high_bad, q.alive),
        "is below max(open, close, low)",
    )
    low_bad = bars.low > np.minimum(np.minimum(bars.open, bars.close), bars.high)
    q.reject(
        low_bad,
        Rule.OHLC_INCONSISTENT,
        "low",
        _formatted(bars.low, p, low_bad, q.alive),
        "is above min(open, close, high)",
    )
    negative = bars.volume < 0
    q.reject(
        negative,
        Rule.NEGATIVE_VOLUME,
        "volume",
        _formatted(bars.volume, bars.volume_precision, negative, q.alive),
        "is negative",
    )
    _bar_range_rule(q, bars, config)
    _order_rules(q, bars.ts_init, allow_duplicates=bool(config.allow_duplicate_timestamps))
    _spike_rule(q, bars.close.astype(np.float64), bars.close, p, "close", config)


def _quote_rules(q: _Quarantine, quotes: QuoteColumns, config: ValidationConfig) -> None:
    p = quotes.price_precision
    for name in ("bid_price", "ask_price"):
        raw = getattr(quotes, name)
        bad = raw <= 0
        q.reject(
            bad,
            Rule.NON_POSITIVE_PRICE,
            name,
            _formatted(raw, p, bad, q.alive),
            "is not a positive price",
        )
    for name in ("bid_size", "ask_size"):
        raw = getattr(quotes, name)
        bad = raw < 0
        q.reject(
            bad,
            Rule.NEGATIVE_VOLUME,
            name,
            _formatted(raw, quotes.size_precision, bad, q.alive),
            "is negative",
        )
    crossed = quotes.bid_price > quotes.ask_price
    values = [
        f"{format_raw(int(b), p)} > ask {format_raw(int(a), p)}"
        for b, a in zip(
            quotes.bid_price[crossed & q.alive].tolist(),
            quotes.ask_price[crossed & q.alive].tolist(),
            strict=True,
        )
    ]
    q.reject(crossed, Rule.CROSSED_QUOTE, "bid_price", values, "is a crossed quote")
    _quote_range_rule(q, quotes, config)
    allow = True if config.allow_duplicate_timestamps is None else config.allow_duplicate_timestamps
    _order_rules(q, quotes.ts_init, allow_duplicates=allow)
    mid = (quotes.bid_price.astype(np.float64) + quotes.ask_price.astype(np.float64)) / 2.0
    _spike_rule(q, mid, None, p, "mid", config)


def _trade_rules(q: _Quarantine, trades: TradeColumns, config: ValidationConfig) -> None:
    p = trades.price_precision
    bad = trades.price <= 0
    q.reject(
        bad,
        Rule.NON_POSITIVE_PRICE,
        "price",
        _formatted(trades.price, p, bad, q.alive),
        "is not a positive price",
    )
    small = trades.size <= 0
    q.reject(
        small,
        Rule.NON_POSITIVE_SIZE,
        "size",
        _formatted(trades.size, trades.size_precision, small, q.alive),
        "is not a positive size",
    )
    allow = True if config.allow_duplicate_timestamps is None else config.allow_duplicate_timestamps
    _order_rules(q, trades.ts_init, allow_duplicates=allow)
    alive = np.flatnonzero(q.alive)
    _, first = np.unique(trades.trade_id[alive], return_index=True)
    repeated = np.ones(len(q.alive), dtype=np.bool_)
    repeated[alive[first]] = False
    values = [str(v) for v in trades.trade_id[repeated & q.alive].tolist()]
    q.reject(repeated, Rule.DUPLICATE_TRADE_ID, "trade_id", values, "repeats an earlier trade id")
    _spike_rule(q, trades.price.astype(np.float64), trades.price, p, "price", config)


def _robust_scale(values: F64) -> float:
    # Median of non-negative log distances (0.0 for no values).
    return float(np.median(values)) if len(values) else 0.0


def _bar_range_rule(q: _Quarantine, bars: BarColumns, config: ValidationConfig) -> None:
    # Prices are positive here (non_positive_price ran first on every alive row).
    if config.range_threshold is None:
        return
    alive = np.flatnonzero(q.alive)
    if len(alive) == 0:
        return
    log = {name: np.log(getattr(bars, name)[alive].astype(np.float64)) for name in _OHLC}
    scale = max(
        _robust_scale(log["high"] - log["low"]),
        _robust_scale(np.abs(np.diff(log["close"]))),
    )
    limit = max(config.range_threshold * scale, config.range_min_move)
    p = bars.price_precision
    reason = (
        f"is too far from the bar's close: more than {config.range_threshold:g} times the "
        f"series' median bar range ({scale:.4%} in log terms) and at least "
        f"{config.range_min_move:g} in log terms"
    )
    for name in ("open", "high", "low"):
        far = np.zeros(len(q.alive), dtype=np.bool_)
        far[alive[np.abs(log[name] - log["close"]) > limit]] = True
        raw = getattr(bars, name)
        values = [
            f"{format_raw(int(v), p)} (close {format_raw(int(c), p)})"
            for v, c in zip(
                raw[far & q.alive].tolist(), bars.close[far & q.alive].tolist(), strict=True
            )
        ]
        q.reject(far, Rule.OUTLIER_RANGE, name, values, reason)


def _quote_range_rule(q: _Quarantine, quotes: QuoteColumns, config: ValidationConfig) -> None:
    # Prices are positive and bid <= ask here (non_positive_price and crossed_quote ran first).
    if config.range_threshold is None:
        return
    alive = np.flatnonzero(q.alive)
    if len(alive) == 0:
        return
    spread = np.log(quotes.ask_price[alive].astype(np.float64)) - np.log(
        quotes.bid_price[alive].astype(np.float64)
    )
    scale = _robust_scale(spread)
    limit = max(config.range_threshold * scale, config.range_min_move)
    wide = np.zeros(len(q.alive), dtype=np.bool_)
    wide[alive[spread > limit]] = True
    p = quotes.price_precision
    values = [
        f"{format_raw(int(b), p)} (ask {format_raw(int(a), p)})"
        for b, a in zip(
            quotes.bid_price[wide & q.alive].tolist(),
            quotes.ask_price[wide & q.alive].tolist(),
            strict=True,
        )
    ]
    reason = (
        f"makes a spread more than {config.range_threshold:g} times the series' median spread "
        f"({scale:.4%} in log terms) and at least {config.range_min_move:g} in log terms"
    )
    q.reject(wide, Rule.OUTLIER_RANGE, "bid_price", values, reason)


def _order_rules(q: _Quarantine, ts_init: I64, *, allow_duplicates: bool) -> None:
    alive = np.flatnonzero(q.alive)
    keep = longest_non_decreasing(ts_init[alive])
    late = np.zeros(len(q.alive), dtype=np.bool_)
    late[alive[~keep]] = True
    reason = "breaks the time order (the rows kept are the longest run in time order)"
    count = int((~keep).sum())
    if count >= _MANY_OUT_OF_ORDER and count >= 0.01 * len(alive):
        reason += (
            f"; {count} of {len(alive)} rows are out of order: if the file is not written in "
            "time order, read it with the reader option sort = true ([[data]] options, or "
            "--sort on tradeloop data validate / data import)"
        )
    q.reject(late, Rule.OUT_OF_ORDER, "ts_init", _iso_list(ts_init, late, q.alive), reason)
    if allow_duplicates:
        return
    alive = np.flatnonzero(q.alive)
    same = np.zeros(len(q.alive), dtype=np.bool_)
    if len(alive) > 1:
        same[alive[1:][ts_init[alive[1:]] == ts_init[alive[:-1]]]] = True
    q.reject(
        same,
        Rule.DUPLICATE_TIMESTAMP,
        "ts_init",
        _iso_list(ts_init, same, q.alive),
        "repeats the previous row's timestamp",
    )


def _spike_rule(
    q: _Quarantine,
    prices: F64,
    raw: I64 | None,
    precision: int,
    field: str,
    config: ValidationConfig,
) -> None:
    if config.spike_threshold_mad is None:
        return
    alive = np.flatnonzero(q.alive)
    spikes = spike_mask(
        prices[alive],
        window=config.spike_window,
        min_history=config.spike_min_history,
        threshold_mad=config.spike_threshold_mad,
        min_return=config.spike_min_return,
        reversal_fraction=config.spike_reversal_fraction,
    )
    # Rows judged against the warm-up reference (the first returns) get their own wording.
    warm_up = np.arange(len(alive)) <= config.spike_min_history
    reasons = (
        (
            ~warm_up,
            f"previous {config.spike_window} returns and reverses on the next row",
        ),
        (
            warm_up,
            f"first {config.spike_window} returns of the series (the warm-up of the first "
            f"{config.spike_min_history} rows) and the rows after it do not follow it",
        ),
    )
    for part, reference in reasons:
        mask = np.zeros(len(q.alive), dtype=np.bool_)
        mask[alive[spikes & part]] = True
        if raw is not None:
            values = _formatted(raw, precision, mask, q.alive)
        else:
            values = [
                f"{v / 10**precision:.{precision + 1}f}" for v in prices[mask & q.alive].tolist()
            ]
        reason = (
            f"is a spike: its return is over {config.spike_threshold_mad:g} MADs from the "
            f"median of the {reference}"
        )
        q.reject(mask, Rule.OUTLIER_SPIKE, field, values, reason)

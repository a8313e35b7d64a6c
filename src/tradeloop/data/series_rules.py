"""Series rules of ``data.validation`` that need no quarantine: pure functions of columns.

``longest_non_decreasing`` (the ``out_of_order`` rule's keep mask), ``spike_mask`` (the
``outlier_spike`` rule), ``most_common_step`` (a series' bar interval), and the findings on
clean bars: ``gap_findings`` (``gap``) and ``zero_volume_findings`` (``zero_volume``).
"""

import bisect

import numpy as np
import numpy.typing as npt

from tradeloop.core.time import NANOS_PER_DAY, ns_to_iso
from tradeloop.data.calendars import (
    expected_bar_closes,
    sessions_between,
)
from tradeloop.data.columns import BarColumns
from tradeloop.data.report import Finding, Rule

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


_MAD_TO_SIGMA = 1.4826
_CHUNK_ROWS = 65_536


def longest_non_decreasing(values: I64) -> Mask:
    # Patience sorting, O(n log n): True on one longest non-decreasing subsequence.
    n = len(values)
    keep = np.ones(n, dtype=np.bool_)
    if n < 2 or bool((values[1:] >= values[:-1]).all()):
        return keep
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * n
    for i, value in enumerate(values.tolist()):
        position = bisect.bisect_right(tails, value)
        if position > 0:
            previous[i] = tail_index[position - 1]
        if position == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[position] = value
            tail_index[position] = i
    keep[:] = False
    i = tail_index[-1]
    while i >= 0:
        keep[i] = True
        i = previous[i]
    return keep


def spike_mask(
    prices: F64,
    *,
    window: int = 50,
    min_history: int = 20,
    threshold_mad: float = 10.0,
    min_return: float = 0.01,
    reversal_fraction: float = 0.8,
) -> Mask:
    """Return True at rows whose price is an isolated spike (the rule ``outlier_spike``).

    With ``r[t] = log(p[t] / p[t-1])``, row ``t`` is a spike when ``|r[t] - median| >
    threshold_mad * 1.4826 * MAD``, ``|r[t]| >= min_return``, and ``r[t+1]`` has the opposite
    sign with ``|r[t+1]| >= reversal_fraction * |r[t]|``. The reference (median, MAD) is the
    previous ``window`` returns once ``min_history`` of them exist; before that (the warm-up:
    the first ``min_history`` rows) it is the first ``window`` returns of the series, so a
    spike at the very start is judged too. That warm-up reference looks ahead by at most
    ``window`` rows, inside the file being validated (validation runs on a whole file before
    any run reads it, so no decision sees it); a median is not moved by the spike itself. Row
    0 has no return into it: it is a spike when ``r[1]`` is far and ``r[2]`` is not (the rows
    after it agree with each other, not with it). The last row has no next return and is
    never a spike. Prices must be positive.
    """
    n = len(prices)
    mask = np.zeros(n, dtype=np.bool_)
    if n < 3:
        return mask
    returns = np.diff(np.log(prices))
    # returns[j] moves row j to row j+1; judge j for j in 0..n-3 (a next return must exist).
    count = len(returns) - 1
    median = np.full(count, np.nan)
    mad = np.full(count, np.nan)
    warm = returns[: min(window, len(returns))]
    warm_median = float(np.median(warm))
    warm_mad = float(np.median(np.abs(warm - warm_median)))
    median[: min(min_history, count)] = warm_median
    mad[: min(min_history, count)] = warm_mad
    for j in range(min_history, min(window, count)):
        history = returns[:j]
        median[j] = np.median(history)
        mad[j] = np.median(np.abs(history - median[j]))
    if count > window:
        windows = np.lib.stride_tricks.sliding_window_view(returns[: count - 1], window)
        # windows[k] holds returns[k:k+window], the history of return k+window.
        for start in range(0, len(windows), _CHUNK_ROWS):
            block = windows[start : start + _CHUNK_ROWS]
            block_median = np.median(block, axis=1)
            median[window + start : window + start + len(block)] = block_median
            mad[window + start : window + start + len(block)] = np.median(
                np.abs(block - block_median[:, None]), axis=1
            )
    current = returns[:count]
    following = returns[1 : count + 1]
    scale = _MAD_TO_SIGMA * mad
    deviation = np.abs(current - median)
    far = (deviation > threshold_mad * scale) & (deviation > 0)
    reverses = (np.sign(following) == -np.sign(current)) & (
        np.abs(following) >= reversal_fraction * np.abs(current)
    )
    spike = far & (np.abs(current) >= min_return) & reverses
    mask[1 : count + 1] = spike
    # Row 0: its move to row 1 is far and the move from row 1 to row 2 is not.
    next_deviation = abs(float(returns[1]) - warm_median)
    mask[0] = (
        bool(far[0])
        and abs(float(returns[0])) >= min_return
        and not (next_deviation > threshold_mad * _MAD_TO_SIGMA * warm_mad and next_deviation > 0)
    )
    if mask[0] and mask[1]:
        mask[1] = False  # row 1 agrees with the rows after it: only row 0 is the spike
    return mask


# -- findings ------------------------------------------------------------------------------------


def most_common_step(ts: I64) -> int | None:
    steps = np.diff(ts)
    steps = steps[steps > 0]
    if len(steps) == 0:
        return None
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])


def _interval_text(interval_ns: int) -> str:
    for unit, size in (
        ("d", NANOS_PER_DAY),
        ("h", 3_600_000_000_000),
        ("min", 60_000_000_000),
        ("s", 1_000_000_000),
    ):
        if interval_ns % size == 0:
            return f"{interval_ns // size}{unit}"
    return f"{interval_ns}ns"


def gap_findings(bars: BarColumns, calendar: str | None, interval_ns: int) -> list[Finding]:
    ts = bars.ts_event
    if len(ts) < 2:
        return []
    iid = bars.instrument_id
    if calendar is not None and interval_ns == NANOS_PER_DAY:
        return _sessiongap_findings(iid, ts, calendar)
    if calendar is not None:
        expected = expected_bar_closes(calendar, interval_ns, int(ts[0]), int(ts[-1]))
        missing_at = np.flatnonzero(~np.isin(expected, ts))
        return [
            Finding(
                rule=Rule.GAP,
                start_ts=int(expected[first]),
                end_ts=int(expected[last]),
                count=last - first + 1,
                unit="intervals",
                message=(
                    f"{iid}: {last - first + 1} bar(s) of {_interval_text(interval_ns)} missing "
                    f"inside {calendar} sessions, closes {ns_to_iso(int(expected[first]))} .. "
                    f"{ns_to_iso(int(expected[last]))} (rule gap)"
                ),
            )
            for first, last in _runs(missing_at)
        ]
    steps = np.diff(ts)
    findings = []
    for i in np.flatnonzero(steps > interval_ns).tolist():
        missing = int((steps[i] - 1) // interval_ns)
        if missing <= 0:
            continue
        start = int(ts[i]) + interval_ns
        end = int(ts[i]) + missing * interval_ns
        findings.append(
            Finding(
                rule=Rule.GAP,
                start_ts=start,
                end_ts=end,
                count=missing,
                unit="intervals",
                message=(
                    f"{iid}: {missing} bar(s) of {_interval_text(interval_ns)} missing, closes "
                    f"{ns_to_iso(start)} .. {ns_to_iso(end)} (rule gap)"
                ),
            )
        )
    return findings


def _sessiongap_findings(iid: str, ts: I64, calendar: str) -> list[Finding]:
    sessions = sessions_between(calendar, int(ts[0]), int(ts[-1]))
    index = np.searchsorted(sessions.close, ts, "left")
    present = np.zeros(len(sessions), dtype=np.bool_)
    present[index[index < len(sessions)]] = True
    span = np.arange(int(index[0]), int(min(index[-1], len(sessions) - 1)) + 1)
    missing_at = span[~present[span]]
    findings = []
    for first, last in _runs(missing_at):
        start, end = int(sessions.close[first]), int(sessions.close[last])
        findings.append(
            Finding(
                rule=Rule.GAP,
                start_ts=start,
                end_ts=end,
                count=last - first + 1,
                unit="sessions",
                message=(
                    f"{iid}: {last - first + 1} {calendar} session(s) missing, "
                    f"{ns_to_iso(int(sessions.label[first]))[:10]} .. "
                    f"{ns_to_iso(int(sessions.label[last]))[:10]} (rule gap)"
                ),
            )
        )
    return findings


def _runs(positions: I64) -> list[tuple[int, int]]:
    # Consecutive integers grouped into (first, last) pairs.
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(positions) - 1]))
    return [
        (int(positions[s]), int(positions[e]))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def zero_volume_findings(bars: BarColumns) -> list[Finding]:
    findings = []
    for first, last in _runs(np.flatnonzero(bars.volume == 0)):
        start, end = int(bars.ts_event[first]), int(bars.ts_event[last])
        count = last - first + 1
        findings.append(
            Finding(
                rule=Rule.ZERO_VOLUME,
                start_ts=start,
                end_ts=end,
                count=count,
                unit="bars",
                message=(
                    f"{bars.instrument_id}: {count} bar(s) with volume 0, "
                    f"{ns_to_iso(start)} .. {ns_to_iso(end)} (rule zero_volume)"
                ),
            )
        )
    return findings

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tradeloop.core import InvariantViolation
from tradeloop.data import QualityReport, Rule, read_yahoo_csv, validate

Craft = Callable[[str, Callable[[list[str]], list[str]]], Path]


def _damaged_report(craft: Craft) -> QualityReport:
    def edit(lines: list[str]) -> list[str]:
        lines[3] = lines[3].replace("2.148148", "2.0", 1)  # row 2: high below close
        lines[5] = lines[5][:-2]  # row 4: volume shortened, still valid
        lines[8] = "1995-01-12,x,2,2,2,2,1"  # row 7: unparseable open
        del lines[12:14]  # rows 11, 12: two sessions missing
        return lines

    return validate(read_yahoo_csv(craft("orcl-1995-01.txt", edit), "ORCL.XNAS")).report


def test_report_counts_quarantined_rows_and_findings_per_rule(craft: Craft) -> None:
    report = _damaged_report(craft)
    assert report.quarantine_counts() == {"unparseable": 1, "ohlc_inconsistent": 1}
    # Gaps are found on the clean rows: each quarantined bar leaves a missing session too.
    assert report.finding_counts() == {"gap": (3, 4)}
    assert report.rows_in == 23
    assert report.rows_clean == 21
    assert [r.row for r in report.quarantined] == [2, 7]


def test_report_round_trips_through_json_exactly(craft: Craft) -> None:
    report = _damaged_report(craft)
    data = report.to_json()
    assert QualityReport.from_json(data) == report
    assert QualityReport.from_json(data).to_json() == data
    decoded = json.loads(data)
    assert decoded["quarantined"][0]["rule"] == "ohlc_inconsistent"
    assert decoded["findings"][0]["unit"] == "sessions"
    assert decoded["findings"][2]["count"] == 2


def test_printed_report_lists_counts_and_every_message(craft: Craft) -> None:
    report = _damaged_report(craft)
    text = str(report)
    assert "ORCL.XNAS" in text
    assert "quarantined per rule: unparseable 1, ohlc_inconsistent 1" in text
    assert "findings per rule: gap 3 (4 affected)" in text
    for record in report.quarantined:
        assert record.message in text
    assert report.findings[0].message in text


def test_long_lists_are_cut_in_the_printed_report_but_not_in_json(craft: Craft) -> None:
    report = _damaged_report(craft)
    text = report.format(limit=1)
    assert "... and 1 more" in text
    assert len(QualityReport.from_json(report.to_json()).quarantined) == 2


def test_report_whose_counts_do_not_add_up_is_refused() -> None:
    with pytest.raises(InvariantViolation):
        QualityReport(
            source="x",
            instrument_id="X.Y",
            kind="bars",
            rows_in=3,
            rows_clean=1,
            first_ts=None,
            last_ts=None,
            calendar=None,
            interval_ns=None,
            config_hash="0",
        )


def test_rule_values_are_stable_strings() -> None:
    assert Rule.OHLC_INCONSISTENT.value == "ohlc_inconsistent"
    assert Rule.GAP.value == "gap"

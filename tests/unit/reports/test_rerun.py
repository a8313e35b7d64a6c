"""Scrubbing: one re-run takes the internals at many instants, each as a re-run cut there."""

from pathlib import Path

import pytest

from tradeloop.core import ConfigError
from tradeloop.journal.replay import JournalIndex
from tradeloop.reports.rerun import rerun_at, rerun_until

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"
DAY = 86_400_000_000_000


def test_one_rerun_gives_at_each_instant_what_a_rerun_cut_there_gives(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(pipeline_run.run_dir)
    span = index.last_ts - index.first_ts
    early, late = index.first_ts + span // 3, index.first_ts + 2 * span // 3
    scrub, _ = rerun_at(pipeline_run.run_dir, [late, early], base_dir=DATA)
    assert scrub.check.is_identical
    assert [i.at_ns for i in scrub.instants] == [early, late]
    for instant in scrub.instants:
        alone, _ = rerun_until(pipeline_run.run_dir, instant.at_ns, base_dir=DATA)
        assert instant.internals == alone.internals
        assert instant.data_ts is not None
        assert instant.data_ts <= instant.at_ns
    assert scrub.instants[0].internals != scrub.instants[1].internals


def test_instants_between_records_take_the_last_instant_before_them(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(pipeline_run.run_dir)
    middle = index.first_ts + (index.last_ts - index.first_ts) // 2
    instants = [middle + k * DAY // 4 for k in range(12)]  # every 6 hours over three days
    scrub, _ = rerun_at(pipeline_run.run_dir, instants, base_dir=DATA)
    for instant in scrub.instants:
        assert instant.data_ts is not None
        assert instant.data_ts <= instant.at_ns
    by_data = {}
    for instant in scrub.instants:
        by_data.setdefault(instant.data_ts, []).append(instant.internals)
    assert len(by_data) >= 2  # the scrub crossed at least one new bar
    assert all(all(i == group[0] for i in group) for group in by_data.values())


def test_an_instant_before_the_first_record_is_taken_after_the_start(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    index = JournalIndex(pipeline_run.run_dir)
    scrub, _ = rerun_at(pipeline_run.run_dir, [index.first_ts - DAY, index.first_ts], base_dir=DATA)
    before, first = scrub.instants
    assert before.data_ts is None
    assert first.data_ts == index.first_ts
    assert before.internals["MiniPipeline"]["steps"] == "0"


def test_rerun_at_needs_an_instant(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="at least one instant"):
        rerun_at(pipeline_run.run_dir, [], base_dir=DATA)

import datetime as dt

import pytest

from tradeloop.core import (
    IdGenerator,
    InvalidValueError,
    content_hash,
    dt_to_ns,
    make_rng,
    ns_to_iso,
    parse_time,
)


def test_parse_time_reads_dates_as_utc_midnight_and_keeps_offsets() -> None:
    assert parse_time("2020-01-01") == 1_577_836_800_000_000_000
    assert parse_time("2020-01-01T01:00:00+01:00") == 1_577_836_800_000_000_000
    assert ns_to_iso(1_577_836_800_000_000_001) == "2020-01-01T00:00:00.000000001Z"


def test_naive_datetime_and_bad_text_are_rejected() -> None:
    with pytest.raises(InvalidValueError, match="no time zone"):
        dt_to_ns(dt.datetime(2020, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidValueError, match="not an ISO-8601"):
        parse_time("yesterday")


def test_ids_are_deterministic_counters() -> None:
    ids = IdGenerator("O", "sma")
    assert [ids.next() for _ in range(3)] == ["O-sma-1", "O-sma-2", "O-sma-3"]
    assert content_hash("a", 1) == content_hash("a", 1) != content_hash("a1")


def test_rng_streams_are_reproducible_and_independent() -> None:
    a = make_rng(7, "venue").normal(size=3)
    b = make_rng(7, "venue").normal(size=3)
    c = make_rng(7, "latency").normal(size=3)
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()

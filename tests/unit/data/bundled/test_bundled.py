from __future__ import annotations

import gzip
import hashlib
import re

import numpy as np
import pytest

from tradeloop.core import ConfigError, ns_to_iso
from tradeloop.data import BarColumns, QuoteColumns, Rule, TradeColumns, bundled

# name: (instrument id, rows in the file, clean rows, first and last ts_init)
FACTS = {
    "orcl_daily": ("ORCL.XNAS", 5036, 5036, "1995-01-03T21:00", "2014-12-31T21:00"),
    "nvda_daily": ("NVDA.XNAS", 4012, 4012, "1999-01-22T21:00", "2014-12-31T21:00"),
    "yhoo_daily": ("YHOO.XNAS", 4965, 4965, "1996-04-12T20:00", "2015-12-31T21:00"),
    "goog_daily": ("GOOG.XNAS", 2148, 2148, "2004-08-19T20:00", "2013-03-01T21:00"),
    "spy_daily": ("SPY.ARCX", 5241, 5241, "1999-11-01T21:00", "2020-08-28T20:00"),
    "btcusdt_perp_1m": (
        "BTCUSDT-PERP.BINANCE",
        45031,
        45017,
        "2021-12-31T23:01",
        "2022-02-01T05:31",
    ),
    "btcusdt_trades": ("BTCUSDT.BINANCE", 2001, 2001, "2021-01-08T00:00", "2021-01-08T00:00"),
    "btcusdt_quotes": ("BTCUSDT.BINANCE", 451, 451, "2021-01-08T00:00", "2021-01-08T00:00"),
    "gbpusd_bid_1m": ("GBPUSD.FXCM", 4289, 4289, "2012-02-06T00:01", "2012-02-09T00:00"),
    "6eh4_1m": ("6EH4.XCME", 4096, 4096, "2024-01-01T23:01", "2024-01-04T22:00"),
}


def test_names_are_the_documented_datasets() -> None:
    assert bundled.names() == list(FACTS)


@pytest.mark.parametrize("name", list(FACTS))
def test_every_bundled_dataset_loads_with_its_instrument_precision(name: str) -> None:
    instrument_id, rows_in, rows_clean, first, last = FACTS[name]
    result = bundled.load(name)
    clean = result.clean
    instrument = bundled.instrument(name)
    assert instrument.id == clean.instrument_id == instrument_id
    assert (result.report.rows_in, result.report.rows_clean, len(clean)) == (
        rows_in,
        rows_clean,
        rows_clean,
    )
    assert ns_to_iso(int(clean.ts_init[0])).startswith(first)
    assert ns_to_iso(int(clean.ts_init[-1])).startswith(last)
    assert clean.price_precision == instrument.price_precision
    assert (np.diff(clean.ts_init) >= 0).all()
    prices = {
        BarColumns: ("open", "high", "low", "close"),
        TradeColumns: ("price",),
        QuoteColumns: ("bid_price", "ask_price"),
    }[type(clean)]
    for column in prices:
        assert (getattr(clean, column) % instrument.tick_size_raw == 0).all(), column
    if not isinstance(clean, BarColumns):
        assert clean.size_precision == instrument.size_precision


def test_load_bars_returns_the_clean_bars_and_report_tells_what_was_set_aside() -> None:
    bars = bundled.load_bars("spy_daily")
    assert isinstance(bars, BarColumns)
    assert len(bars) == bundled.report("spy_daily").rows_clean
    assert bundled.load_trades("btcusdt_trades").size_precision == 6
    assert len(bundled.load_quotes("btcusdt_quotes")) == 451


def test_daily_equity_files_have_no_quarantined_row_and_no_calendar_gap() -> None:
    # Checked facts of these files: OHLC consistent, no zero volume, every XNYS session present.
    for name in ("orcl_daily", "nvda_daily", "yhoo_daily", "goog_daily", "spy_daily"):
        report = bundled.report(name)
        assert report.calendar == "XNYS"
        assert report.is_clean, name


def test_btc_perp_interpolated_minutes_are_quarantined_and_leave_two_gaps() -> None:
    report = bundled.report("btcusdt_perp_1m")
    rows = [r.row for r in report.quarantined]
    assert rows == [*range(242, 249), *range(17522, 17529)]
    assert {r.rule for r in report.quarantined} == {Rule.EXCESS_PRECISION}
    assert [(ns_to_iso(g.start_ts)[:16], g.count) for g in report.gaps] == [
        ("2022-01-01T03:03", 7),
        ("2022-01-13T03:03", 7),
    ]


def test_intraday_slices_report_their_missing_minutes() -> None:
    gbp = bundled.report("gbpusd_bid_1m")
    assert gbp.rows_quarantined == 0
    assert gbp.finding_counts() == {"gap": (24, 31)}
    euro = bundled.report("6eh4_1m")
    assert euro.rows_quarantined == 0
    # Two daily CME maintenance hours (22:00-23:00 UTC) plus 44 minutes without a trade.
    assert euro.finding_counts() == {"gap": (42, 164)}
    hours = [g for g in euro.gaps if g.count == 60]
    assert [ns_to_iso(g.start_ts)[:16] for g in hours] == ["2024-01-02T22:01", "2024-01-03T22:01"]


def test_cached_columns_are_read_only() -> None:
    bars = bundled.load_bars("goog_daily")
    with pytest.raises(ValueError, match="read-only"):
        bars.close[0] = 1


def test_bundled_files_are_gzipped_upstream_text_listed_in_origins() -> None:
    origins = (bundled.path("orcl_daily").parent / "ORIGINS.md").read_text()
    total = 0
    for name in bundled.names():
        path = bundled.path(name)
        total += path.stat().st_size
        assert f"`{path.name}`" in origins
        digest = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
        assert re.search(rf"`{re.escape(path.name)}`.*`{digest}`", origins), name
    assert total < 6_000_000


def test_wrong_kind_or_unknown_name_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="holds trades, not bars"):
        bundled.load_bars("btcusdt_trades")
    with pytest.raises(ConfigError, match="does not exist"):
        bundled.instrument("tsla_daily")

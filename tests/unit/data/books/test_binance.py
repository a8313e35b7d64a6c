"""Binance diff-depth recordings (hftbacktest captures of 2024-08-08, first minutes).

Agreement thresholds: the rebuilt top of book is compared with the bookTicker quote of the
same update id (``u``). Both come from the venue's one sequence of book updates, so once the
book is synchronised they must agree exactly: the tests assert 100 %. Against the quote that
merely *arrived* last (two separate WebSocket streams, no common clock) agreement is lower;
the tests assert at least 99 % (spot, 100 ms depth batches) and 90 % (USD-M, 0 ms batches
racing a real-time bookTicker).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradeloop.core import DataIntegrityError
from tradeloop.data.books import (
    BinanceFeed,
    check_binance_book,
    read_binance_depth,
)
from tradeloop.model.book import BookFlag

CraftBook = Callable[[str, Callable[[list[str]], list[str]]], Path]

SPOT = "binance-spot-btcusdt-20240808-head.gz"
USDM = "binance-usdm-btcusdt-20240808-head.gz"


@pytest.fixture(scope="module")
def spot() -> BinanceFeed:
    return read_binance_depth(Path(__file__).resolve().parents[3] / "data" / "books" / SPOT)


@pytest.fixture(scope="module")
def usdm() -> BinanceFeed:
    return read_binance_depth(Path(__file__).resolve().parents[3] / "data" / "books" / USDM)


def depth_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if '"depthUpdate"' in line]


def snapshot_line(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if '{"lastUpdateId"' in line)


def edit_payload(line: str, change: Callable[[dict[str, Any]], None]) -> str:
    stamp, payload = line.split(" ", 1)
    message = json.loads(payload)
    change(message)
    return f"{stamp} {json.dumps(message)}"


def test_spot_stream_syncs_from_its_rest_snapshot_dropping_the_two_older_events(
    spot: BinanceFeed,
) -> None:
    report = spot.report
    assert report.market == "spot"
    assert report.snapshots_used == 1
    assert report.first_snapshot_update_id == 50093239218
    assert report.events_dropped == 2  # u = ...202 and ...207 are inside the snapshot
    assert report.events_applied == report.depth_events - 2 == 1186
    assert report.gaps == 0
    deltas = spot.deltas
    assert deltas.instrument_id == "BTCUSDT.BINANCE"
    assert (deltas.price_precision, deltas.size_precision) == (2, 6)
    snapshot = (deltas.flags & int(BookFlag.SNAPSHOT)) != 0
    assert int(snapshot.sum()) == 1 + 2000  # the CLEAR and 1,000 levels a side


def test_spot_book_equals_book_ticker_at_every_synchronised_event(spot: BinanceFeed) -> None:
    check = check_binance_book(spot)
    assert check.compared == 1186
    assert check.agreed == check.compared
    assert check.agreement == 1.0
    assert check.crossed_events == 0
    assert check.agreed_by_arrival / check.compared_by_arrival >= 0.99


def test_usdm_stream_follows_pu_links_and_equals_book_ticker_at_every_event(
    usdm: BinanceFeed,
) -> None:
    assert usdm.report.market == "usdm"
    assert usdm.report.events_dropped == 4
    assert usdm.deltas.instrument_id == "BTCUSDT-PERP.BINANCE"
    check = check_binance_book(usdm)
    assert check.compared == 761
    assert check.agreement == 1.0
    assert check.agreed_by_arrival / check.compared_by_arrival >= 0.90


def test_quotes_and_trades_are_read_beside_the_deltas(usdm: BinanceFeed) -> None:
    assert len(usdm.quotes) == len(usdm.quote_update_ids) > 0
    assert bool(np.all(np.diff(usdm.quote_update_ids) > 0))
    assert bool(np.all(usdm.quotes.bid_price < usdm.quotes.ask_price))
    assert set(usdm.trades.aggressor.tolist()) == {1, 2}
    assert usdm.trades.price_precision == usdm.deltas.price_precision


def test_spot_sequence_gap_raises_naming_the_update_ids_and_the_rule(
    craft_book: CraftBook,
) -> None:
    def drop_one(lines: list[str]) -> list[str]:
        del lines[depth_lines(lines)[20]]
        return lines

    path = craft_book(SPOT, drop_one)
    with pytest.raises(
        DataIntegrityError, match=r"sequence gap after u=\d+ \(rule: each event's U"
    ):
        read_binance_depth(path)


def test_usdm_sequence_gap_raises_naming_the_pu_rule(craft_book: CraftBook) -> None:
    def drop_one(lines: list[str]) -> list[str]:
        del lines[depth_lines(lines)[30]]
        return lines

    with pytest.raises(DataIntegrityError, match="pu equals the previous event's u"):
        read_binance_depth(craft_book(USDM, drop_one))


def test_gap_with_resync_rebuilds_from_diffs_flagged_unsynchronised(
    craft_book: CraftBook,
) -> None:
    def drop_one(lines: list[str]) -> list[str]:
        del lines[depth_lines(lines)[20]]
        return lines

    feed = read_binance_depth(craft_book(SPOT, drop_one), on_gap="resync")
    assert feed.report.gaps == 1
    # Under resync the 3 events received before the snapshot are emitted (flagged) too, then
    # 18 synchronised events run until the gap; the 1,167 events from the gap on are flagged.
    assert feed.report.events_applied == 18
    assert feed.report.events_unsynced == 3 + (feed.report.depth_events - 20)
    unsynced = (feed.deltas.flags & int(BookFlag.UNSYNCED)) != 0
    assert bool(unsynced[-1])
    check = check_binance_book(feed)
    assert check.agreement == 1.0  # the 18 synchronised events before the gap
    assert check.proven_events > 0.9 * check.unsynced_events
    assert check.proven_agreed == check.proven_compared


def test_replayed_old_event_raises_out_of_order_or_is_ignored_under_resync(
    craft_book: CraftBook,
) -> None:
    def replay_old(lines: list[str]) -> list[str]:
        events = depth_lines(lines)
        lines.insert(events[40], lines[events[30]])
        return lines

    path = craft_book(SPOT, replay_old)
    with pytest.raises(DataIntegrityError, match="out of order"):
        read_binance_depth(path)
    feed = read_binance_depth(path, on_gap="resync")
    assert feed.report.events_stale == 1
    assert feed.report.gaps == 0
    assert check_binance_book(feed).agreement == 1.0


def test_recording_without_snapshot_raises_unless_rebuilt_from_diffs(
    craft_book: CraftBook,
) -> None:
    def drop_snapshot(lines: list[str]) -> list[str]:
        del lines[snapshot_line(lines)]
        return lines

    path = craft_book(SPOT, drop_snapshot)
    with pytest.raises(DataIntegrityError, match="no REST snapshot"):
        read_binance_depth(path)
    feed = read_binance_depth(path, on_gap="resync")
    assert feed.report.events_unsynced == feed.report.depth_events
    check = check_binance_book(feed, view_depth=1)
    # The top is proven exact after a few events (both best prices mentioned, no tick between
    # them unmentioned); every proven top equals the venue's bookTicker.
    assert check.first_proven_event < 10
    assert check.proven_events > 0.95 * check.unsynced_events
    assert check.proven_agreed == check.proven_compared > 0


def test_snapshot_older_than_the_buffered_events_raises(craft_book: CraftBook) -> None:
    def age_snapshot(lines: list[str]) -> list[str]:
        index = snapshot_line(lines)
        lines[index] = lines[index].replace('"lastUpdateId":50093239218', '"lastUpdateId":5009323')
        return lines

    with pytest.raises(DataIntegrityError, match="does not reach the first buffered event"):
        read_binance_depth(craft_book(SPOT, age_snapshot))


def test_event_that_crosses_the_book_raises_at_its_boundary(craft_book: CraftBook) -> None:
    def cross(lines: list[str]) -> list[str]:
        index = depth_lines(lines)[50]
        lines[index] = edit_payload(
            lines[index], lambda m: m["data"]["b"].append(["99999.00000000", "1.00000000"])
        )
        return lines

    feed = read_binance_depth(craft_book(SPOT, cross))
    with pytest.raises(DataIntegrityError, match="crossed after event u="):
        check_binance_book(feed)
    assert check_binance_book(feed, on_crossed="count").crossed_events > 0


def test_price_with_more_decimals_than_asked_raises(spot: BinanceFeed) -> None:
    path = Path(__file__).resolve().parents[3] / "data" / "books" / SPOT
    with pytest.raises(DataIntegrityError, match="needs more than 1 decimals"):
        read_binance_depth(path, price_precision=1)

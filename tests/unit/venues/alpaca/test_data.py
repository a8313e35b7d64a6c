"""AlpacaDataClient against the Alpaca emulator, through alpaca-py's StockDataStream: bars,
quotes and trades reach a real inbox; malformed messages are quarantined; a dropped
connection is reconnected, resubscribed and announced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.unit.testing.emulators.helpers import control
from tests.unit.venues.alpaca.conftest import CREDENTIALS, connection, drain_until, wait_for

from tradeloop.bus.inbox import Inbox
from tradeloop.core.errors import VenueRejectedError
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.events import AlertRaised
from tradeloop.model.instruments import Instrument
from tradeloop.testing import EmulatorThread
from tradeloop.venues.alpaca import AlpacaCredentials, AlpacaDataClient, Secret

SPY, GOOG = "SPY.ARCX", "GOOG.XNAS"


@pytest.fixture
def feed(
    alpaca: EmulatorThread, inbox: Inbox, instruments: list[Instrument]
) -> Iterator[AlpacaDataClient]:
    client = AlpacaDataClient(
        connection(alpaca.url), "alpaca-iex", inbox, instruments, credentials=CREDENTIALS
    )
    try:
        yield client
    finally:
        client.close()


def _kinds(records: list[Any]) -> set[type]:
    return {type(record) for record in records}


def test_bars_quotes_and_trades_reach_the_inbox(feed: AlpacaDataClient, inbox: Inbox) -> None:
    feed.connect()
    for kind in ("bars", "quotes", "trades"):
        feed.subscribe(kind, SPY)
    feed.subscribe("bars", GOOG)
    records = drain_until(
        inbox,
        lambda got: (
            {Bar, QuoteTick, TradeTick} <= _kinds(got)
            and {r.instrument_id for r in got if isinstance(r, Bar)} == {SPY, GOOG}
        ),
    )
    bars = [r for r in records if isinstance(r, Bar) and r.instrument_id == SPY]
    quotes = [r for r in records if isinstance(r, QuoteTick)]
    trades = [r for r in records if isinstance(r, TradeTick)]
    assert bars, records
    assert quotes
    assert trades
    bar = bars[0]
    assert bar.price_precision == 4  # the emulator's SPY trades in 0.0001
    assert bar.low_raw <= min(bar.open_raw, bar.close_raw) <= bar.high_raw
    assert quotes[0].bid_price < quotes[0].ask_price
    assert trades[0].price.as_decimal() == quotes[0].bid_price.as_decimal()  # both at the close
    stamps = [r.ts_init for r in records]
    assert stamps == sorted(stamps)
    status = feed.status()
    assert status.state == "connected"
    assert status.messages >= len(records)
    assert status.last_message_ns > 0
    assert status.quarantined == 0


def test_malformed_messages_are_quarantined_and_the_stream_goes_on(
    alpaca: EmulatorThread, feed: AlpacaDataClient, inbox: Inbox
) -> None:
    feed.connect()
    for kind in ("bars", "quotes", "trades"):
        feed.subscribe(kind, SPY)
    assert wait_for(lambda: feed.status().state == "connected")
    bad = [
        {"T": "b", "S": "SPY", "o": "not a price", "h": 1, "l": 1, "c": 1, "v": 1, "t": 1},
        {"T": "b", "S": "SPY", "o": 2.0, "h": 1.0, "l": 1.0, "c": 1.0, "v": 1, "t": 1},
        {"T": "q", "S": "SPY", "bp": -1.0, "ap": 1.0, "bs": 1, "as": 1, "t": 1},
        {"T": "t", "S": "SPY", "p": 1.0, "s": 1, "t": 1},  # no trade id
    ]
    answer = control(alpaca.url, "/_emulator/data", bad)  # type: ignore[arg-type]
    assert answer["sessions"] >= 1
    assert wait_for(lambda: feed.status().quarantined == 4)
    drain_until(inbox, lambda got: any(isinstance(r, Bar) for r in got))
    assert feed.status().messages >= 1
    assert len(feed.last_quarantined) == 4


@pytest.mark.slow
def test_a_dropped_connection_is_reconnected_resubscribed_and_announced(
    alpaca: EmulatorThread, feed: AlpacaDataClient, inbox: Inbox
) -> None:
    feed.connect()
    feed.subscribe("bars", SPY)
    drain_until(inbox, lambda got: any(isinstance(r, Bar) for r in got))
    control(alpaca.url, "/_emulator/disconnect", {})
    assert wait_for(lambda: feed.status().reconnects == 1, timeout_s=15)
    records = drain_until(
        inbox,
        lambda got: (
            any(isinstance(r, Bar) for r in got)
            and sum(isinstance(r, AlertRaised) for r in got) >= 2
        ),
    )
    alerts = [r for r in records if isinstance(r, AlertRaised)]
    assert [a.severity for a in alerts] == ["warning", "warning"]
    assert "connection lost" in alerts[0].message
    assert "reconnect 1" in alerts[1].message
    assert any(isinstance(r, Bar) for r in records)  # subscriptions renewed


def test_close_stops_the_thread_and_says_closed(feed: AlpacaDataClient) -> None:
    feed.connect()
    feed.subscribe("bars", SPY)
    assert wait_for(lambda: feed.status().state == "connected")
    feed.close()
    assert feed.status().state == "closed"
    assert feed._loop is not None
    assert not feed._loop.is_alive


def test_book_and_unknown_instruments_are_refused(feed: AlpacaDataClient) -> None:
    with pytest.raises(VenueRejectedError, match="book"):
        feed.subscribe("book", SPY)
    with pytest.raises(VenueRejectedError, match=r"AAPL\.XNAS"):
        feed.subscribe("bars", "AAPL.XNAS")


def test_a_wrong_key_fails_connect_with_one_clear_error(
    alpaca: EmulatorThread, inbox: Inbox, instruments: list[Instrument]
) -> None:
    wrong = AlpacaCredentials(Secret("emulator-key"), Secret("not-the-secret-123"))
    client = AlpacaDataClient(connection(alpaca.url), "x", inbox, instruments, credentials=wrong)
    try:
        with pytest.raises(VenueRejectedError) as refused:
            client.connect()
    finally:
        client.close()
    assert "401" in str(refused.value)
    assert "not-the-secret-123" not in str(refused.value)

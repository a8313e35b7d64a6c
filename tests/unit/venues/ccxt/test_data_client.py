"""CcxtDataClient against the Binance emulator through ccxt.pro: trades, quotes and bars
reach a real inbox; staleness, reconnects and malformed messages are reported, never fatal;
the client's thread always stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tests.unit.testing.emulators.helpers import control
from tests.unit.venues.ccxt.helpers import BTCUSDT, collect, connection, wait_for

from tradeloop.bus.inbox import Inbox
from tradeloop.core.errors import ConfigError, TransientVenueError
from tradeloop.model.book import BookFlag
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide, BookAction, BookSide
from tradeloop.model.events import AlertRaised
from tradeloop.testing import BinanceEmulatorConfig, EmulatorThread, start_binance_emulator
from tradeloop.venues.ccxt import CcxtDataClient


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("tradeloop-data-")}


@pytest.fixture
def fast_emulator() -> Iterator[EmulatorThread]:
    with start_binance_emulator(BinanceEmulatorConfig(speed=20.0)) as running:
        yield running


def make_client(url: str, inbox: Inbox, **overrides: Any) -> Iterator[CcxtDataClient]:
    client = CcxtDataClient(connection(url, **overrides), "BINANCE", inbox, [BTCUSDT])
    try:
        yield client
    finally:
        client.close()
        assert "tradeloop-data-BINANCE" not in _threads()


@pytest.fixture
def data_client(fast_emulator: EmulatorThread, inbox: Inbox) -> Iterator[CcxtDataClient]:
    yield from make_client(fast_emulator.url, inbox, bar_interval_s=1)


def test_trades_quotes_and_bars_reach_the_inbox(data_client: CcxtDataClient, inbox: Inbox) -> None:
    data_client.connect()
    assert data_client.symbols == {"BTCUSDT.BINANCE": "BTC/USDT"}
    for kind in ("trades", "quotes", "bars"):
        data_client.subscribe(kind, BTCUSDT.id)

    def enough(items: list[Any]) -> bool:
        bars = [i for i in items if isinstance(i, Bar)]
        return len(bars) >= 2 and any(isinstance(i, QuoteTick) for i in items)

    items = collect(inbox, enough, timeout_s=15.0)
    trades = [i for i in items if isinstance(i, TradeTick)]
    quotes = [i for i in items if isinstance(i, QuoteTick)]
    bars = [i for i in items if isinstance(i, Bar)]
    assert trades
    assert quotes
    assert len(bars) >= 2
    assert [i.ts_init for i in items] == sorted(i.ts_init for i in items)
    ids = [int(t.trade_id) for t in trades]
    assert ids == sorted(set(ids))  # the venue's trade ids, each once
    assert all(t.aggressor_side in (AggressorSide.BUYER, AggressorSide.SELLER) for t in trades)
    assert all(t.price.precision == 2 and t.size.precision == 6 for t in trades)
    assert all(q.bid_price < q.ask_price for q in quotes)
    ends = [b.ts_event for b in bars]
    assert ends == sorted(set(ends))
    assert all(end % 1_000_000_000 == 0 for end in ends)
    for bar in bars:  # each bar is exactly the trades of its second
        inside = [t for t in trades if bar.ts_event - 1_000_000_000 <= t.ts_event < bar.ts_event]
        if inside and inside[0].ts_event >= trades[0].ts_event and bar is not bars[0]:
            assert bar.volume_raw == sum(t.size.raw for t in inside)
            assert bar.high_raw == max(t.price.raw for t in inside)
    status = data_client.status()
    assert status.state == "connected"
    assert status.messages >= len(trades) + len(quotes)
    assert status.last_message_ns > 0
    data_client.unsubscribe("trades", BTCUSDT.id)
    data_client.close()
    assert data_client.status().state == "closed"


def test_subscribing_needs_a_known_kind_and_instrument(data_client: CcxtDataClient) -> None:
    with pytest.raises(ConfigError, match="not connected"):
        data_client.subscribe("trades", BTCUSDT.id)
    data_client.connect()
    with pytest.raises(ConfigError, match="'ticks' is not one of bars, quotes, trades, book"):
        data_client.subscribe("ticks", BTCUSDT.id)
    with pytest.raises(ConfigError, match=r"no instrument ETHUSDT\.BINANCE"):
        data_client.subscribe("trades", "ETHUSDT.BINANCE")


def _book(deltas: list[OrderBookDelta]) -> dict[BookSide, dict[int, int]]:
    # The book the deltas build.
    book: dict[BookSide, dict[int, int]] = {BookSide.BID: {}, BookSide.ASK: {}}
    for delta in deltas:
        if delta.action is BookAction.CLEAR:
            book = {BookSide.BID: {}, BookSide.ASK: {}}
        elif delta.action is BookAction.DELETE:
            del book[delta.side][delta.price.raw]
        else:
            book[delta.side][delta.price.raw] = delta.size.raw
    return book


def test_the_book_arrives_as_a_snapshot_then_deltas_and_resyncs_after_a_drop(
    data_client: CcxtDataClient, fast_emulator: EmulatorThread, inbox: Inbox
) -> None:
    data_client.connect()
    data_client.subscribe("book", BTCUSDT.id)
    deltas = [
        i
        for i in collect(inbox, lambda got: len(got) >= 30, timeout_s=15.0)
        if isinstance(i, OrderBookDelta)
    ]
    assert deltas[0].action is BookAction.CLEAR
    assert deltas[0].flags & int(BookFlag.SNAPSHOT)
    snapshot_end = next(n for n, d in enumerate(deltas) if d.flags & int(BookFlag.LAST))
    assert all(d.action is BookAction.ADD for d in deltas[1 : snapshot_end + 1])
    assert any(d.action in (BookAction.UPDATE, BookAction.DELETE) for d in deltas[snapshot_end:])
    ends = [n for n, d in enumerate(deltas) if d.flags & int(BookFlag.LAST)]
    book = _book(deltas[: ends[-1] + 1])  # as of the end of the last whole venue event
    assert book[BookSide.BID]
    assert book[BookSide.ASK]
    assert max(book[BookSide.BID]) < min(book[BookSide.ASK])
    assert [d.ts_init for d in deltas] == sorted(d.ts_init for d in deltas)
    # A dropped stream comes back with a fresh snapshot (CLEAR first), never stale diffs.
    control(fast_emulator.url, "/_emulator/faults", {"ws_disconnect_probability": 1.0})
    assert wait_for(lambda: data_client.status().state == "disconnected", timeout_s=10.0)
    control(fast_emulator.url, "/_emulator/faults", {"ws_disconnect_probability": 0.0})
    assert wait_for(lambda: data_client.status().reconnects >= 1, timeout_s=15.0)
    after = [
        i
        for i in collect(
            inbox,
            lambda got: any(isinstance(i, OrderBookDelta) for i in got[-3:]) and len(got) > 10,
            timeout_s=15.0,
        )
        if isinstance(i, OrderBookDelta)
    ]
    assert any(d.action is BookAction.CLEAR for d in after)


def test_an_unreachable_exchange_fails_connect_and_leaves_no_thread(inbox: Inbox) -> None:
    with start_binance_emulator() as emulator:
        url = emulator.url
    client = CcxtDataClient(connection(url, timeout_ms=2000), "BINANCE", inbox, [BTCUSDT])
    with pytest.raises(TransientVenueError, match="binance"):
        client.connect()
    assert "tradeloop-data-BINANCE" not in _threads()
    assert client.status().state == "closed"


def test_a_silent_feed_turns_stale(
    data_client: CcxtDataClient, fast_emulator: EmulatorThread
) -> None:
    data_client.config = connection(fast_emulator.url, stale_after_s=0.5)
    data_client.connect()
    data_client.subscribe("trades", BTCUSDT.id)
    assert wait_for(lambda: data_client.status().messages > 0)
    control(fast_emulator.url, "/_emulator/faults", {"ws_drop_probability": 1.0})
    assert wait_for(lambda: data_client.status().state == "stale", timeout_s=5.0)
    control(fast_emulator.url, "/_emulator/faults", {"ws_drop_probability": 0.0})
    assert wait_for(lambda: data_client.status().state == "connected", timeout_s=5.0)


def test_duplicated_stream_messages_give_each_trade_once(
    data_client: CcxtDataClient, fast_emulator: EmulatorThread, inbox: Inbox
) -> None:
    control(fast_emulator.url, "/_emulator/faults", {"ws_duplicate_probability": 1.0})
    data_client.connect()
    data_client.subscribe("trades", BTCUSDT.id)
    items = collect(inbox, lambda got: len(got) >= 50, timeout_s=10.0)
    ids = [t.trade_id for t in items if isinstance(t, TradeTick)]
    assert len(ids) >= 50
    assert len(ids) == len(set(ids))
    assert data_client.duplicates > 0


@pytest.mark.slow
def test_a_dropped_connection_reconnects_resubscribes_and_is_announced(
    data_client: CcxtDataClient, fast_emulator: EmulatorThread, inbox: Inbox
) -> None:
    data_client.connect()
    data_client.subscribe("trades", BTCUSDT.id)
    assert collect(inbox, lambda got: len(got) >= 5, timeout_s=10.0)
    control(fast_emulator.url, "/_emulator/faults", {"ws_disconnect_probability": 1.0})
    assert wait_for(lambda: data_client.status().state == "disconnected", timeout_s=10.0)
    control(fast_emulator.url, "/_emulator/faults", {"ws_disconnect_probability": 0.0})
    assert wait_for(lambda: data_client.status().reconnects >= 1, timeout_s=15.0)

    def resumed(got: list[Any]) -> bool:
        marks = [
            n for n, i in enumerate(got) if isinstance(i, AlertRaised) and "reconn" in i.message
        ]
        return bool(marks) and sum(isinstance(i, TradeTick) for i in got[marks[-1] :]) >= 5

    items = collect(inbox, resumed, timeout_s=20.0)
    alerts = [i for i in items if isinstance(i, AlertRaised)]
    assert any("disconnected" in a.message and a.severity == "warning" for a in alerts)
    assert any("reconnected after" in a.message for a in alerts)
    assert resumed(items)  # trades flow again after the announced reconnect
    assert data_client.status().state == "connected"


def test_malformed_messages_are_quarantined_with_a_rate_limited_alert(
    data_client: CcxtDataClient, inbox: Inbox
) -> None:
    data_client.connect()
    good = {"id": "1", "timestamp": 1_700_000_000_000, "price": 40000.5, "amount": 0.01,
            "side": "buy"}  # fmt: skip
    bad = [
        {**good, "id": "2", "price": None},
        {**good, "id": "3", "timestamp": None},
        {**good, "id": "4", "price": "NaN"},
        "not a trade",
    ]
    data_client._on_trades(BTCUSDT, bad)  # what a broken venue message becomes
    data_client._on_trades(BTCUSDT, "not a list")
    status = data_client.status()
    assert status.quarantined == 5
    assert "bad_trade (4)" in status.detail
    alerts = collect(inbox, lambda got: False, timeout_s=0.3)
    assert [a.message.split("(")[1].split(":")[0] for a in alerts] == ["bad_trade", "not_a_list"]
    assert status.state == "connected"

"""A feed group fails over from a dead primary to its backup: journaled, with no bar or trade
delivered twice across the switch, and nothing from the dead feed passed on after it.

Fake feeds behind the ``DataClient`` port drive the group by hand; the last test fails over
between two Binance emulators through the real ccxt adapter.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tradeloop.bus.inbox import Inbox, InboxPort
from tradeloop.core.clock import LiveClock
from tradeloop.core.fixed import Price, Quantity
from tradeloop.data.ports import FeedStatus
from tradeloop.model.data import Bar, TradeTick
from tradeloop.model.enums import AggressorSide
from tradeloop.model.events import FeedSwitched
from tradeloop.venues.feed_group import FeedGroup


class FakeFeed:
    """A data client whose state and messages the test sets."""

    def __init__(self, name: str, inbox: InboxPort) -> None:
        self.name = name
        self.inbox = inbox
        self.state = "connected"
        self.subscriptions: set[tuple[str, str]] = set()

    def connect(self) -> None:
        self.state = "connected"

    def subscribe(self, kind: str, instrument_id: str) -> None:
        self.subscriptions.add((kind, instrument_id))

    def unsubscribe(self, kind: str, instrument_id: str) -> None:
        self.subscriptions.discard((kind, instrument_id))

    def status(self) -> FeedStatus:
        return FeedStatus(name=self.name, state=self.state)

    def close(self) -> None:
        self.state = "closed"

    def bar(self, ts_event: int) -> None:
        self.inbox.publish(
            lambda ts: Bar("X.V", 100, 101, 99, 100, 5, 0, 0, ts_event=ts_event, ts_init=ts)
        )

    def trade(self, ts_event: int, trade_id: str) -> None:
        self.inbox.publish(
            lambda ts: TradeTick(
                instrument_id="X.V",
                price=Price(100, 0),
                size=Quantity(1, 0),
                aggressor_side=AggressorSide.BUYER,
                trade_id=trade_id,
                ts_event=ts_event,
                ts_init=ts,
            )
        )


def _drain(inbox: Inbox) -> list[object]:
    items = []
    while not inbox.empty():
        items.append(inbox.get_nowait())
    return items


def _wait_for(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_a_stale_primary_fails_over_and_nothing_is_delivered_twice() -> None:
    inbox = Inbox(LiveClock())
    made: list[FakeFeed] = []

    def member(name: str):  # type: ignore[no-untyped-def]
        def make(group_inbox: InboxPort) -> FakeFeed:
            made.append(FakeFeed(name, group_inbox))
            return made[-1]

        return make

    group = FeedGroup(
        "g", inbox, [member("primary"), member("backup")], fail_after_s=0.05, check_every_s=0.01
    )
    group.connect()
    try:
        group.subscribe("bars", "X.V")
        primary, backup = made
        assert primary.subscriptions == {("bars", "X.V")}
        assert backup.subscriptions == set()  # cold standby
        primary.bar(60)
        primary.trade(61, "a")
        primary.state = "stale"
        _wait_for(lambda: group.switches == 1)
        assert group.active == 1
        assert backup.subscriptions == {("bars", "X.V")}
        assert primary.subscriptions == set()
        primary.bar(120)  # the dead feed wakes up: not passed on
        backup.bar(60)  # the backup's view of an interval already delivered: not passed on
        backup.trade(61, "a")
        backup.bar(120)
        items = _drain(inbox)
    finally:
        group.close()
    switched = [i for i in items if isinstance(i, FeedSwitched)]
    assert [(s.from_feed, s.to_feed) for s in switched] == [("primary", "backup")]
    assert "primary was stale for 0.05 s" in switched[0].reason
    bars = [i.ts_event for i in items if isinstance(i, Bar)]
    assert bars == [60, 120]
    assert [i.trade_id for i in items if isinstance(i, TradeTick)] == ["a"]
    assert group.suppressed == [1, 0]
    assert group.duplicates == 2
    assert "1 switch(es)" in group.status().detail


def test_a_healthy_primary_is_never_switched() -> None:
    inbox = Inbox(LiveClock())
    group = FeedGroup(
        "g",
        inbox,
        [lambda i: FakeFeed("p", i), lambda i: FakeFeed("b", i)],
        fail_after_s=0.02,
        check_every_s=0.01,
    )
    group.connect()
    stop = threading.Event()
    try:
        stop.wait(0.2)
        assert group.switches == 0
        assert group.status().state == "connected"
    finally:
        group.close()


def _stop_once_data_flows(runs: Path, emulator: object, how: str = "silent") -> None:
    # Silence the primary's streams (every message dropped: the feed goes stale) once the
    # session has journaled some of its market data.
    import json
    import sqlite3
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for journal in runs.glob("*/journal.sqlite"):
            try:
                conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
                try:
                    (count,) = conn.execute(
                        "SELECT COUNT(*) FROM records WHERE type = 'MarketDataReceived'"
                    ).fetchone()
                finally:
                    conn.close()
            except sqlite3.Error:
                continue
            if count >= 5 and how == "down":
                emulator.stop()  # type: ignore[attr-defined]
                return
            if count >= 5:
                request = urllib.request.Request(
                    f"{emulator.url}/_emulator/faults",  # type: ignore[attr-defined]
                    data=json.dumps({"ws_drop_probability": 1.0}).encode(),
                    method="POST",
                    headers={"Content-Type": "application/json"},
                )
                urllib.request.urlopen(request, timeout=10).close()
                return
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["silent", "down"])
def test_a_session_fails_over_to_a_second_exchange_when_the_first_goes_silent_or_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    pytest.importorskip("tradeloop.venues.ccxt")
    from tradeloop.config import parse_config
    from tradeloop.engine.runner import prepare_run
    from tradeloop.engine.session import run_session
    from tradeloop.journal import read_records
    from tradeloop.testing import BinanceEmulatorConfig, start_binance_emulator

    monkeypatch.setenv("K", "emulator-key")
    monkeypatch.setenv("S", "emulator-secret")
    with start_binance_emulator(BinanceEmulatorConfig()) as backup:
        primary = start_binance_emulator(BinanceEmulatorConfig())
        try:
            table = {
                "kind": "ccxt",
                "exchange": "binance",
                "api_key_env": "K",
                "secret_env": "S",
                "stale_after_s": 1.0,
            }
            config = parse_config(
                {
                    "run": {
                        "name": "failover",
                        "output_dir": str(tmp_path),
                        "base_currency": "USDT",
                    },
                    "connections": {
                        "BINANCE": {**table, "base_url": primary.url},
                        "SPARE": {**table, "base_url": backup.url},
                    },
                    "feeds": [
                        {
                            "connection": "BINANCE",
                            "instrument_id": "BTCUSDT.BINANCE",
                            "kinds": ["trades"],
                            "backups": ["SPARE"],
                            "fail_after_s": 1.0,
                        }
                    ],
                    "strategies": [
                        {"class": "SmaCross", "params": {"instrument_ids": [], "quantity": "1"}}
                    ],
                }
            )
            prepared = prepare_run(config, tmp_path)
            watcher = threading.Thread(target=_stop_once_data_flows, args=(tmp_path, primary, how))
            watcher.start()
            result = run_session(prepared, "paper", duration_s=12.0)
            watcher.join()
        finally:
            primary.stop()
    records = [r.record for r in read_records(result.journal_path)]
    switched = [r for r in records if isinstance(r, FeedSwitched)]
    assert len(switched) == 1
    assert (switched[0].from_feed, switched[0].to_feed) == ("BINANCE", "SPARE")
    after = [
        r
        for r in records
        if type(r).__name__ == "MarketDataReceived" and r.ts_init > switched[0].ts_init
    ]
    assert after, "no market data after the switch"
    trade_ids = [r.trade.trade_id for r in records if type(r).__name__ == "MarketDataReceived"]
    assert len(trade_ids) == len(set(trade_ids))

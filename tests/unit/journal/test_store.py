import hashlib
from pathlib import Path

import pytest

from tradeloop.core import ConfigError, Money, Price, Quantity
from tradeloop.journal import RunManifest, SqliteJournal, read_manifest, read_records
from tradeloop.model import (
    LiquiditySide,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderType,
    SubmitOrder,
)

MANIFEST = RunManifest(
    run_id="r1", mode="backtest", config_hash="abc", config_json="{}", seed=3, code_version="0"
)


def records(n: int) -> list[object]:
    out: list[object] = []
    for i in range(n):
        init = OrderInitialized(
            client_order_id=f"O-s-{i}",
            strategy_id="s",
            instrument_id="X.SIM",
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Quantity(i + 1, 0),
            price=Price(10_000 + i, 2),
            ts_event=i,
            ts_init=i,
        )
        out.append(SubmitOrder(strategy_id="s", ts_init=i, order=init))
        out.append(
            OrderFilled(
                client_order_id=f"O-s-{i}",
                strategy_id="s",
                instrument_id="X.SIM",
                venue_order_id="V-1",
                trade_id=f"T-{i}",
                order_side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                last_qty=Quantity(i + 1, 0),
                last_px=Price(10_000 + i, 2),
                commission=Money(12_345, "USD"),
                liquidity_side=LiquiditySide.MAKER,
                ts_event=i,
                ts_init=i + 1,
            )
        )
    return out


def write(path: Path, items: list[object], flush_every: int = 7) -> None:
    journal = SqliteJournal(path, MANIFEST, flush_every=flush_every)
    for item in items:
        journal.append(item)  # type: ignore[arg-type]
    journal.close()


def test_records_round_trip_exactly_in_sequence_order(tmp_path: Path) -> None:
    items = records(50)
    write(tmp_path / "j.sqlite", items)
    stored = list(read_records(tmp_path / "j.sqlite"))
    assert [r.record for r in stored] == items
    assert [r.seq for r in stored] == list(range(1, 101))
    assert stored[0].kind == "command"
    assert stored[1].kind == "event"
    assert stored[1].ts_event == 0
    assert stored[1].ts_init == 1
    assert read_manifest(tmp_path / "j.sqlite") == MANIFEST


def test_same_records_give_byte_identical_journal_files(tmp_path: Path) -> None:
    write(tmp_path / "a.sqlite", records(300), flush_every=64)
    write(tmp_path / "b.sqlite", records(300), flush_every=64)
    digest = [
        hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.sqlite", "b.sqlite")
    ]
    assert digest[0] == digest[1]


def test_read_until_time_stops_at_ts_init(tmp_path: Path) -> None:
    write(tmp_path / "j.sqlite", records(10))
    assert max(r.ts_init for r in read_records(tmp_path / "j.sqlite", until_ts_ns=4)) == 4


def test_sync_makes_records_visible_to_a_reader_before_close(tmp_path: Path) -> None:
    journal = SqliteJournal(
        tmp_path / "j.sqlite", MANIFEST, flush_every=1000, durable_commands=True
    )
    denied = OrderDenied(
        client_order_id="O-1",
        strategy_id="s",
        instrument_id="X.SIM",
        reason="r",
        ts_event=1,
        ts_init=1,
    )
    journal.append(denied)
    journal.append(records(1)[0], durable=True)  # a durable command flushes everything before it
    assert next(r.record for r in read_records(tmp_path / "j.sqlite")) == denied
    journal.close()


def test_existing_journal_is_never_appended_to(tmp_path: Path) -> None:
    write(tmp_path / "j.sqlite", records(1))
    with pytest.raises(ConfigError, match="already exists"):
        SqliteJournal(tmp_path / "j.sqlite", MANIFEST)


def test_missing_journal_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_manifest(tmp_path / "nope.sqlite")

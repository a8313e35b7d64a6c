"""A tiny kill soak (the full one is ``make soak``): a ``tradeloop live`` process against the
Binance emulator is killed with SIGKILL twice, resumed with ``--resume`` each time, and its
journal then agrees with the emulator's order log by client order id."""

from __future__ import annotations

import pytest

from tradeloop.bench.soak import soak_kills

pytest.importorskip("tradeloop.venues.ccxt")

pytestmark = pytest.mark.slow


def test_a_live_node_killed_and_resumed_loses_and_duplicates_nothing() -> None:
    result = soak_kills(2, seed=3)
    assert result["problems"] == []
    assert result["kills"] == 2
    assert result["orders_sent"] > 0
    for key in (
        "lost_orders",
        "duplicate_orders",
        "position_mismatches",
        "cash_mismatches",
        "journal_verify_failures",
        "reconciliation_breaks",
    ):
        assert result[key] == 0, (key, result)

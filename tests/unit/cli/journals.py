"""Reading what a run's journal says about its orders, for comparing runs in CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from tradeloop.journal import read_records

ORDER_RECORDS = frozenset(
    {
        "SubmitOrder",
        "CancelOrder",
        "ModifyOrder",
        "OrderDenied",
        "OrderSubmitted",
        "OrderAccepted",
        "OrderRejected",
        "OrderTriggered",
        "OrderPendingCancel",
        "OrderCanceled",
        "OrderCancelRejected",
        "OrderExpired",
        "OrderUpdated",
        "OrderFilled",
    }
)


def _untimed(value: Any) -> Any:
    # Paper mode stamps events with the (accelerated) wall clock: compare everything else.
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not k.startswith("ts_")}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def order_records(run_dir: str | Path) -> list[tuple[str, Any]]:
    """Return every order command and order event of a run, in journal order, without times."""
    return [
        (row.type, _untimed(msgspec.to_builtins(row.record)))
        for row in read_records(Path(run_dir) / "journal.sqlite")
        if row.type in ORDER_RECORDS
    ]


def fills(run_dir: str | Path) -> list[tuple[str, str, str, str, str]]:
    """Return ``(client order id, order type, side, quantity, price)`` of every fill."""
    return [
        (
            row.record.client_order_id,
            str(row.record.order_type),
            str(row.record.order_side),
            str(row.record.last_qty),
            str(row.record.last_px),
        )
        for row in read_records(Path(run_dir) / "journal.sqlite")
        if row.type == "OrderFilled"
    ]

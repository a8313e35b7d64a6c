"""TCA inputs from a run's journal: one ``analytics.tca.TcaOrder`` per order sent.

``tca_orders`` reads the journal's records in sequence order:

1. ``SubmitOrder``: the order's side, quantity and instrument; its arrival time is the
   command's ``ts_init`` (when the strategy decided and sent it).
2. ``OrderFilled``: a fill at ``ts_event`` (quantity, price, commission); a repeated trade id
   is dropped, as the portfolio does.
3. ``OrderCanceled``, ``OrderExpired``, ``OrderRejected``: the end of the order's life (its
   unfilled rest is then valued at the market price of that time: opportunity cost).
4. ``OrderDenied``: risk stopped the order before any venue saw it; it is left out (TCA
   measures execution, not the pre-trade decision).

Arrival prices are not in the journal: ``analytics.tca.order_tca`` takes them from the
market data (the quote mid, or the last print or bar close at or before the arrival).
Orders still open when the run ended end at their last fill (or arrival).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tradeloop.analytics.tca import TcaFill, TcaOrder
from tradeloop.journal.store import JournalRecord
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.events import (
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)

__all__ = ["tca_orders"]

_TRACKED = (OrderFilled, OrderCanceled, OrderExpired, OrderRejected, OrderDenied)


@dataclass
class _Gathered:
    command: SubmitOrder
    fills: list[TcaFill] = field(default_factory=list)
    trade_ids: set[str] = field(default_factory=set)
    end_ns: int | None = None
    is_denied: bool = False


def tca_orders(
    records: Iterable[JournalRecord], multipliers: Mapping[str, float] | None = None
) -> list[TcaOrder]:
    """Return the TCA input of every order the journal's ``records`` sent, in submit order.

    ``multipliers`` maps instrument ids to contract multipliers (default 1).
    """
    orders: dict[str, _Gathered] = {}
    for entry in records:
        record = entry.record
        if isinstance(record, SubmitOrder):
            orders[record.order.client_order_id] = _Gathered(record)
            continue
        if not isinstance(record, _TRACKED):
            continue
        gathered = orders.get(record.client_order_id)
        if gathered is None:
            continue  # an external fill: not one of our orders
        if isinstance(record, OrderFilled):
            if record.trade_id in gathered.trade_ids:
                continue
            gathered.trade_ids.add(record.trade_id)
            gathered.fills.append(
                TcaFill(
                    ts_ns=record.ts_event,
                    quantity=float(record.last_qty),
                    price=float(record.last_px),
                    fee=float(record.commission),
                )
            )
        elif isinstance(record, OrderDenied):
            gathered.is_denied = True
        else:
            gathered.end_ns = record.ts_event
    result = []
    for client_order_id, gathered in orders.items():
        if gathered.is_denied:
            continue
        init = gathered.command.order
        arrival = gathered.command.ts_init
        end = gathered.end_ns
        if end is not None:
            end = max(end, arrival, *(f.ts_ns for f in gathered.fills))
        result.append(
            TcaOrder(
                order_id=client_order_id,
                instrument_id=init.instrument_id,
                side=init.side,
                quantity=float(init.quantity),
                arrival_ts_ns=arrival,
                fills=tuple(gathered.fills),
                end_ts_ns=end,
                multiplier=1.0 if multipliers is None else multipliers.get(init.instrument_id, 1.0),
            )
        )
    return result

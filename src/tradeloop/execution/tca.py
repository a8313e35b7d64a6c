"""TCA inputs from a run's journal: one ``analytics.tca.TcaOrder`` per order sent.

``tca_orders`` reads the journal's records in sequence order:

1. ``SubmitOrder``: the order's side, quantity and instrument; its arrival time is the
   command's ``ts_init`` (when the strategy decided and sent it).
2. ``OrderFilled``: a fill at ``ts_event`` (quantity, price, commission, maker or taker);
   a repeated trade id is dropped, as the portfolio does.
3. ``OrderCanceled``, ``OrderExpired``, ``OrderRejected``: the end of the order's life (its
   unfilled rest is then valued at the market price of that time: opportunity cost).
4. ``OrderDenied``: risk stopped the order before any venue saw it; it is left out (TCA
   measures execution, not the pre-trade decision).

Arrival prices are not in the journal: ``analytics.tca.order_tca`` takes them from the
market data (the quote mid, or the last print or bar close at or before the arrival).
Orders still open when the run ended end at their last fill (or arrival).

``tca_parents`` gathers the children of each execution plan (``ExecutionPlanned``: its
parent order id, instrument, side, quantity and time; the children's ``SubmitOrder`` carry
the parent order id) into one ``TcaParent``: arrival = the plan's time, fills = every
child's, end = the plan's ``ExecutionCompleted``, else the children's last end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tradeloop.analytics.tca import TcaFill, TcaOrder, TcaParent
from tradeloop.journal.store import JournalRecord
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.decisions import ExecutionCompleted, ExecutionPlanned
from tradeloop.model.enums import LiquiditySide, OrderSide
from tradeloop.model.events import (
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)

__all__ = ["tca_orders", "tca_parents"]

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
                    is_maker=record.liquidity_side is LiquiditySide.MAKER,
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
                parent_order_id=init.parent_order_id,
            )
        )
    return result


def tca_parents(
    records: Iterable[JournalRecord], multipliers: Mapping[str, float] | None = None
) -> list[TcaParent]:
    """Return every execution plan of the journal's ``records`` as a ``TcaParent``, in plan order.

    Children denied by risk count for nothing (no fills); a plan with no child still counts
    (all of it unfilled, valued at the market price at its end).
    """
    records = list(records)
    children = tca_orders(records, multipliers)
    plans: dict[str, ExecutionPlanned] = {}
    completed: dict[str, int] = {}
    for entry in records:
        record = entry.record
        if isinstance(record, ExecutionPlanned):
            plans.setdefault(record.parent_order_id, record)
        elif isinstance(record, ExecutionCompleted):
            completed[record.parent_order_id] = record.ts_event
    by_parent: dict[str, list[TcaOrder]] = {}
    for child in children:
        if child.parent_order_id is not None:
            by_parent.setdefault(child.parent_order_id, []).append(child)
    result = []
    for parent_id, plan in plans.items():
        kids = by_parent.get(parent_id, [])
        fills = tuple(sorted((f for k in kids for f in k.fills), key=lambda f: f.ts_ns))
        start = plan.ts_event
        end = completed.get(parent_id)
        ends = [k.end_ts_ns if k.end_ts_ns is not None else k.arrival_ts_ns for k in kids]
        ends += [f.ts_ns for f in fills]
        end = max([*ends, start] if end is None else [*ends, end])
        instruments = tuple(sorted({k.instrument_id for k in kids} | {plan.instrument_id}))
        result.append(
            TcaParent(
                order=TcaOrder(
                    order_id=parent_id,
                    instrument_id=plan.instrument_id,
                    side=OrderSide(plan.side),
                    quantity=plan.quantity,
                    arrival_ts_ns=start,
                    fills=fills,
                    end_ts_ns=max(end, start),
                    multiplier=1.0
                    if multipliers is None
                    else multipliers.get(plan.instrument_id, 1.0),
                ),
                algorithm=plan.algorithm,
                child_order_ids=tuple(k.order_id for k in kids),
                instruments=instruments,
            )
        )
    return result

"""What the node looks like at one instant: built on the kernel thread, read by any thread.

``take_snapshot`` runs on the kernel thread (a ``KernelCall`` from the monitor, between two
items) and copies what the metrics, the health checks and the API show into a frozen
``NodeSnapshot``: the reader threads never touch the portfolio, the order manager or the
risk engine themselves. Money is copied exactly as decimal strings for the API and as floats
for the metrics (analytics only).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tradeloop.core.clock import Clock
from tradeloop.core.fixed import MONEY_PRECISION, format_raw
from tradeloop.data.ports import DataClient
from tradeloop.execution.order_manager import OrderManager
from tradeloop.journal.store import Journal
from tradeloop.portfolio.accounting import Portfolio
from tradeloop.risk.engine import RiskEngine

_MONEY = 10**MONEY_PRECISION


class KernelView(Protocol):
    """What monitoring reads from (and, through commands, acts on) the kernel."""

    clock: Clock
    journal: Journal
    portfolio: Portfolio
    order_manager: OrderManager
    risk: RiskEngine
    order_id_scope: str
    records_processed: int

    def drain(self) -> None:
        """Apply the venue events queued meanwhile."""
        ...


@dataclass(frozen=True)
class FeedHealth:
    """One feed's state: ``name``, ``state`` as the feed reports it, staleness, up or not."""

    name: str
    state: str
    staleness_s: float
    messages: int
    is_up: bool


@dataclass(frozen=True)
class NodeSnapshot:
    """The node at ``ts_ns`` (its clock); see the module docstring."""

    ts_ns: int
    taken_monotonic: float
    is_running: bool
    trading_state: str
    currency: str
    equity: float
    equity_exact: str
    cash: float
    starting_cash: float
    peak_equity: float
    realized_pnl: float
    unrealized_pnl: float
    fees: float
    gross_exposure: float
    positions: tuple[dict[str, Any], ...]
    open_orders: tuple[dict[str, Any], ...]
    order_counts: Mapping[str, int]
    records: int
    feeds: tuple[FeedHealth, ...] = ()
    loop_lag_s: float = 0.0
    inbox_depth: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pnl(self) -> float:
        """Return equity minus starting cash."""
        return self.equity - self.starting_cash

    @property
    def drawdown(self) -> float:
        """Return 1 - equity / peak (0 at the peak)."""
        return 1.0 - self.equity / self.peak_equity if self.peak_equity > 0 else 0.0

    def age_s(self) -> float:
        """Return the wall seconds since it was taken."""
        return time.monotonic() - self.taken_monotonic

    def net_positions(self) -> dict[str, tuple[float, float]]:
        """Return instrument id -> (net signed quantity, marked value) over strategies."""
        out: dict[str, tuple[float, float]] = {}
        for position in self.positions:
            qty, value = out.get(position["instrument_id"], (0.0, 0.0))
            out[position["instrument_id"]] = (
                qty + float(position["signed_quantity"]),
                value + position["value"],
            )
        return out

    def as_status(self) -> dict[str, Any]:
        """Return the JSON of ``GET /api/v1/status``."""
        return {
            "trading_state": self.trading_state,
            "is_running": self.is_running,
            "ts": self.ts_ns,
            "currency": self.currency,
            "equity": self.equity,
            "equity_exact": self.equity_exact,
            "cash": self.cash,
            "pnl": self.pnl,
            "realized_pnl": self.realized_pnl,
            "unrealized_pnl": self.unrealized_pnl,
            "fees": self.fees,
            "peak_equity": self.peak_equity,
            "drawdown": self.drawdown,
            "gross_exposure": self.gross_exposure,
            "positions": list(self.positions),
            "open_orders": len(self.open_orders),
            "orders": dict(self.order_counts),
            "records": self.records,
            "feeds": [
                {
                    "name": f.name,
                    "state": f.state,
                    "staleness_s": round(f.staleness_s, 3),
                    "messages": f.messages,
                    "is_up": f.is_up,
                }
                for f in self.feeds
            ],
            "event_loop_lag_s": self.loop_lag_s,
            "snapshot_age_s": round(self.age_s(), 3),
            **dict(self.extra),
        }


def feed_health(clients: Sequence[DataClient], now_ns: int) -> tuple[FeedHealth, ...]:
    """Return each data client's health (``status()`` is thread-safe on every client)."""
    out = []
    for client in clients:
        status = client.status()
        last = status.last_message_ns
        staleness = max(0.0, (now_ns - last) / 1e9) if last else float("inf")
        out.append(
            FeedHealth(
                name=status.name,
                state=status.state,
                staleness_s=staleness,
                messages=status.messages,
                is_up=status.state == "connected",
            )
        )
    return tuple(out)


def take_snapshot(
    kernel: KernelView,
    *,
    peak_equity: float,
    feeds: tuple[FeedHealth, ...],
    is_running: bool = True,
    loop_lag_s: float = 0.0,
    inbox_depth: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> NodeSnapshot:
    """Return the node as it is now (call it on the kernel thread)."""
    portfolio = kernel.portfolio
    equity_raw = portfolio.equity_raw()
    equity = equity_raw / _MONEY
    positions = []
    for position in portfolio.open_positions():
        mark = portfolio.mark_price(position.instrument_id)
        value = (
            position.market_value_raw(mark.raw, mark.precision) / _MONEY
            if mark is not None
            else 0.0
        )
        unrealized = (
            position.unrealized_raw(mark.raw, mark.precision) / _MONEY if mark is not None else 0.0
        )
        signed = format_raw(position.signed_raw, position.size_precision)
        positions.append(
            {
                "instrument_id": position.instrument_id,
                "strategy_id": position.strategy_id,
                "side": "LONG" if position.signed_raw > 0 else "SHORT",
                "signed_quantity": signed,
                "mark_price": None if mark is None else str(mark),
                "value": value,
                "unrealized_pnl": unrealized,
                "realized_pnl": position.realized_raw / _MONEY,
            }
        )
    orders = []
    for order in kernel.order_manager.open_orders():
        orders.append(
            {
                "client_order_id": order.client_order_id,
                "strategy_id": order.strategy_id,
                "instrument_id": order.instrument_id,
                "side": str(order.side),
                "type": str(order.order_type),
                "quantity": str(order.quantity),
                "filled": str(order.filled_qty),
                "price": None if order.price is None else str(order.price),
                "status": str(order.status),
                "is_reduce_only": order.is_reduce_only,
            }
        )
    return NodeSnapshot(
        ts_ns=kernel.clock.timestamp_ns(),
        taken_monotonic=time.monotonic(),
        is_running=is_running,
        trading_state=str(kernel.risk.trading_state),
        currency=portfolio.base_currency,
        equity=equity,
        equity_exact=format_raw(equity_raw, MONEY_PRECISION),
        cash=portfolio.cash / _MONEY,
        starting_cash=portfolio.starting_cash.raw / _MONEY,
        peak_equity=max(peak_equity, equity),
        realized_pnl=portfolio.realized / _MONEY,
        unrealized_pnl=portfolio.unrealized_raw() / _MONEY,
        fees=portfolio.fees / _MONEY,
        gross_exposure=portfolio.gross_exposure_raw() / _MONEY,
        positions=tuple(positions),
        open_orders=tuple(orders),
        order_counts=dict(kernel.order_manager.stats),
        records=kernel.records_processed,
        feeds=feeds,
        loop_lag_s=loop_lag_s,
        inbox_depth=float(inbox_depth),
        extra=dict(extra or {}),
    )

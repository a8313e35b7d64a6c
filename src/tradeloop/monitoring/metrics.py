"""The node's Prometheus metrics, in a registry of their own (never the process-global one).

Naming follows Prometheus' conventions: one ``tradeloop_`` prefix, base units (seconds,
ratios rather than percents or basis points, money in the account's base currency),
``_total`` on counters, and no ids in labels (labels are bounded sets: an instrument, a feed,
a severity, a state; never an order or a run id).

Two kinds of values:

- counters and histograms the kernel thread updates as events happen (orders, fills,
  alerts, slippage, tick-to-order latency): ``prometheus_client`` objects, each update a
  short lock;
- values read from the node's latest ``NodeSnapshot`` (equity, P&L, drawdown, exposure,
  positions, open orders, trading state, feeds, event-loop lag) and hot counters kept as
  plain integers by the kernel thread (market records): exported at scrape time by
  ``_SnapshotCollector``, so the kernel never waits for a scrape and a scrape never reads
  the kernel's live state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from tradeloop.monitoring.snapshot import NodeSnapshot

# No ``*_created`` series: a node's counters start with its process, which Prometheus sees.
disable_created_metrics()  # type: ignore[no-untyped-call]

TRADING_STATES = ("ACTIVE", "REDUCING", "HALTED")

# Latency buckets from 10 µs to 10 s (tick-to-order, journal sync, API calls).
LATENCY_BUCKETS = (
    1e-5,
    2.5e-5,
    5e-5,
    1e-4,
    2.5e-4,
    5e-4,
    1e-3,
    2.5e-3,
    5e-3,
    1e-2,
    2.5e-2,
    5e-2,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
# Slippage vs arrival as a ratio of the arrival price (1 bp = 0.0001), signed: positive is a
# cost (a buy above its arrival price, a sell below).
SLIPPAGE_BUCKETS = (
    -0.01,
    -0.005,
    -0.002,
    -0.001,
    -0.0005,
    -0.0002,
    -0.0001,
    0.0,
    0.0001,
    0.0002,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
)


class NodeMetrics:
    """Every metric of one node, registered in ``registry`` (module docstring)."""

    def __init__(self, snapshot: Callable[[], NodeSnapshot | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.orders_submitted = Counter(
            "tradeloop_orders_submitted",
            "Orders that passed risk and were sent to a venue.",
            registry=registry,
        )
        self.orders_denied = Counter(
            "tradeloop_orders_denied",
            "Orders the risk engine refused before any venue saw them.",
            registry=registry,
        )
        self.orders_rejected = Counter(
            "tradeloop_orders_rejected", "Orders a venue refused.", registry=registry
        )
        self.orders_canceled = Counter(
            "tradeloop_orders_canceled",
            "Orders that stopped working without filling their remaining quantity.",
            registry=registry,
        )
        self.orders_expired = Counter(
            "tradeloop_orders_expired", "Orders whose time in force ran out.", registry=registry
        )
        self.orders_filled = Counter(
            "tradeloop_orders_filled", "Orders filled completely.", registry=registry
        )
        self.fills = Counter(
            "tradeloop_fills", "Fills (partial or complete) applied.", registry=registry
        )
        self.traded_notional = Counter(
            "tradeloop_traded_notional",
            "Notional traded, in each instrument's quote currency.",
            registry=registry,
        )
        self.alerts = Counter(
            "tradeloop_alerts", "Alerts raised, by severity.", ["severity"], registry=registry
        )
        self.control_actions = Counter(
            "tradeloop_control_actions",
            "Control actions taken on the node (API, alert rules), by action.",
            ["action"],
            registry=registry,
        )
        self.slippage = Histogram(
            "tradeloop_fill_slippage_ratio",
            "Fill price vs the order's arrival price, as a ratio of it (positive: a cost).",
            buckets=SLIPPAGE_BUCKETS,
            registry=registry,
        )
        self.tick_to_order = Histogram(
            "tradeloop_tick_to_order_seconds",
            "Wall time from the kernel taking a market record to an order sent on it.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.journal_sync = Histogram(
            "tradeloop_journal_sync_seconds",
            "Wall time to make the journal's pending records durable (commit on disk).",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.api_requests = Counter(
            "tradeloop_api_requests",
            "Control API requests, by outcome (ok, unauthorized, forbidden, invalid, error).",
            ["outcome"],
            registry=registry,
        )
        self.market_records = 0  # kept by the kernel thread; exported at scrape time
        registry.register(_SnapshotCollector(self, snapshot))

    def exposition(self) -> bytes:
        """Return every metric in the Prometheus text format."""
        return generate_latest(self.registry)


class _SnapshotCollector(Collector):
    # Values of the latest snapshot, read when Prometheus scrapes.

    def __init__(self, metrics: NodeMetrics, snapshot: Callable[[], NodeSnapshot | None]):
        self._metrics = metrics
        self._snapshot = snapshot

    def describe(self) -> list[Metric]:
        return []  # dynamic: described by collect() at scrape time

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "tradeloop_market_records",
            "Market data records the kernel processed.",
            value=self._metrics.market_records,
        )
        snap = self._snapshot()
        up = GaugeMetricFamily(
            "tradeloop_node_up", "1 while the node's kernel loop runs (0 before and after)."
        )
        up.add_metric([], 0.0 if snap is None or not snap.is_running else 1.0)
        yield up
        if snap is None:
            return
        for name, help_text, number in (
            ("tradeloop_equity", "Cash plus marked positions, base currency.", snap.equity),
            ("tradeloop_cash", "Cash, base currency.", snap.cash),
            ("tradeloop_equity_peak", "Highest equity seen by this node.", snap.peak_equity),
            (
                "tradeloop_drawdown_ratio",
                "1 - equity / peak equity (0: at the peak).",
                snap.drawdown,
            ),
            ("tradeloop_pnl", "Equity minus starting cash, base currency.", snap.pnl),
            (
                "tradeloop_pnl_realized",
                "Realized P&L before fees, base currency.",
                snap.realized_pnl,
            ),
            (
                "tradeloop_pnl_unrealized",
                "Unrealized P&L of open positions, base currency.",
                snap.unrealized_pnl,
            ),
            ("tradeloop_fees_paid", "Fees paid, base currency.", snap.fees),
            (
                "tradeloop_gross_exposure",
                "Sum of absolute marked position values, base currency.",
                snap.gross_exposure,
            ),
            (
                "tradeloop_gross_exposure_ratio",
                "Gross exposure / equity (leverage).",
                snap.gross_exposure / snap.equity if snap.equity else 0.0,
            ),
            ("tradeloop_positions_open", "Non-flat positions.", float(len(snap.positions))),
            ("tradeloop_orders_open", "Orders working at venues.", float(len(snap.open_orders))),
            (
                "tradeloop_event_loop_lag_seconds",
                "Wall time the latest probe waited in the inbox before the kernel ran it.",
                snap.loop_lag_s,
            ),
            ("tradeloop_inbox_depth", "Items waiting in the kernel's inbox.", snap.inbox_depth),
            (
                "tradeloop_approvals_pending",
                "Orders waiting for a person's approval.",
                float(snap.extra.get("approvals_pending", 0)),
            ),
            (
                "tradeloop_journal_writable",
                "1 when the journal's latest sync succeeded.",
                1.0 if snap.extra.get("journal_writable", True) else 0.0,
            ),
            (
                "tradeloop_snapshot_age_seconds",
                "Wall time since the kernel last answered a probe.",
                snap.age_s(),
            ),
        ):
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], number)
            yield family
        state = GaugeMetricFamily(
            "tradeloop_trading_state",
            "1 for the risk engine's current trading state, 0 for the others.",
            labels=["state"],
        )
        for name in TRADING_STATES:
            state.add_metric([name], 1.0 if snap.trading_state == name else 0.0)
        yield state
        quantity = GaugeMetricFamily(
            "tradeloop_position_quantity",
            "Net signed position (all strategies), by instrument.",
            labels=["instrument"],
        )
        value = GaugeMetricFamily(
            "tradeloop_position_value",
            "Marked value of the net position, base currency, by instrument.",
            labels=["instrument"],
        )
        for instrument_id, (qty, val) in sorted(snap.net_positions().items()):
            quantity.add_metric([instrument_id], qty)
            value.add_metric([instrument_id], val)
        yield quantity
        yield value
        staleness = GaugeMetricFamily(
            "tradeloop_feed_staleness_seconds",
            "Wall time since the feed's last message.",
            labels=["feed"],
        )
        feed_up = GaugeMetricFamily(
            "tradeloop_feed_up", "1 when the feed is connected and fresh.", labels=["feed"]
        )
        for feed in snap.feeds:
            staleness.add_metric([feed.name], feed.staleness_s)
            feed_up.add_metric([feed.name], 1.0 if feed.is_up else 0.0)
        yield staleness
        yield feed_up

"""The node's Prometheus metrics, in a registry of their own (never the process-global one).

Naming follows Prometheus' conventions: one ``tradeloop_`` prefix, base units (seconds,
ratios rather than percents or basis points, money in the account's base currency),
``_total`` on counters, and no ids in labels (labels are bounded sets: an instrument, a feed,
a severity, a state; never an order or a run id).

Two kinds of values:

- counts and histograms the kernel thread updates as events happen (orders, fills,
  slippage, tick-to-order latency, journal syncs): plain integers and ``FastHistogram``
  bucket lists, no lock (one writer), exported at scrape time;
- values read from the node's latest ``NodeSnapshot`` (equity, P&L, drawdown, exposure,
  positions, open orders, trading state, feeds, event-loop lag): exported at scrape time by
  ``_SnapshotCollector``, so the kernel never waits for a scrape and a scrape never reads
  the kernel's live state;
- rare counts (alerts, control actions, API requests): ``prometheus_client`` counters.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from tradeloop.model.events import (
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)

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


class FastHistogram:
    """A histogram the kernel thread updates without a lock: bucket counts in a list of ints
    (one writer; a scrape reads them as they are, at most one observation behind)."""

    __slots__ = ("bounds", "count", "counts", "help", "name", "total")

    def __init__(self, name: str, help_text: str, bounds: tuple[float, ...]) -> None:
        self.name = name
        self.help = help_text
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        """Count ``value``."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value

    def family(self) -> HistogramMetricFamily:
        """Return it as a Prometheus histogram (cumulative buckets)."""
        counts = list(self.counts)
        buckets: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip((*self.bounds, math.inf), counts, strict=True):
            running += count
            label = "+Inf" if bound == math.inf else floatToGoString(bound)  # type: ignore[no-untyped-call]
            buckets.append((label, running))
        family = HistogramMetricFamily(self.name, self.help)
        family.add_metric([], buckets, self.total)
        if self.bounds[0] < 0:
            # The client leaves out _sum and _count of a histogram with negative buckets (its
            # sum is not a counter); the count still is.
            family.samples.append(Sample(self.name + "_count", {}, float(running)))
        return family


# (event type, metric name, help): order events the kernel thread counts by type.
EVENT_COUNTS: tuple[tuple[type, str, str], ...] = (
    (OrderSubmitted, "tradeloop_orders_submitted", "Orders that passed risk and were sent."),
    (
        OrderDenied,
        "tradeloop_orders_denied",
        "Orders the risk engine refused before any venue saw them.",
    ),
    (OrderRejected, "tradeloop_orders_rejected", "Orders a venue refused."),
    (
        OrderCanceled,
        "tradeloop_orders_canceled",
        "Orders that stopped working without filling their remaining quantity.",
    ),
    (OrderExpired, "tradeloop_orders_expired", "Orders whose time in force ran out."),
    (OrderFilled, "tradeloop_fills", "Fills (partial or complete) applied."),
)


class NodeMetrics:
    """Every metric of one node, registered in ``registry`` (module docstring)."""

    def __init__(self, snapshot: Callable[[], NodeSnapshot | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        # Order events by type (the kernel thread counts them; scrapes read them).
        self.event_counts: dict[type, int] = {}
        self.orders_filled = 0
        self.traded_notional = 0.0
        self.records: Callable[[], int] = lambda: 0
        # Counts what the subscriber queued (``MetricsSubscriber.drain``) before a scrape.
        self.before_scrape: Callable[[], None] = lambda: None
        self.alerts = Counter(
            "tradeloop_alerts", "Alerts raised, by severity.", ["severity"], registry=registry
        )
        self.control_actions = Counter(
            "tradeloop_control_actions",
            "Control actions taken on the node (API, alert rules), by action.",
            ["action"],
            registry=registry,
        )
        self.slippage = FastHistogram(
            "tradeloop_fill_slippage_ratio",
            "Fill price vs the order's arrival price, as a ratio of it (positive: a cost).",
            SLIPPAGE_BUCKETS,
        )
        self.tick_to_order = FastHistogram(
            "tradeloop_tick_to_order_seconds",
            "Wall time from a market record's arrival (its ts_init) to an order sent on it.",
            LATENCY_BUCKETS,
        )
        self.journal_sync = FastHistogram(
            "tradeloop_journal_sync_seconds",
            "Wall time to make the journal's pending records durable (commit on disk).",
            LATENCY_BUCKETS,
        )
        self.api_requests = Counter(
            "tradeloop_api_requests",
            "Control API requests, by outcome (ok, unauthorized, forbidden, invalid, error).",
            ["outcome"],
            registry=registry,
        )
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
        metrics = self._metrics
        metrics.before_scrape()
        yield CounterMetricFamily(
            "tradeloop_market_records",
            "Market data records the kernel processed.",
            value=metrics.records(),
        )
        counts = metrics.event_counts
        for kind, name, help_text in EVENT_COUNTS:
            yield CounterMetricFamily(name, help_text, value=counts.get(kind, 0))
        yield CounterMetricFamily(
            "tradeloop_orders_filled", "Orders filled completely.", value=metrics.orders_filled
        )
        yield CounterMetricFamily(
            "tradeloop_traded_notional",
            "Notional traded, in each instrument's quote currency.",
            value=metrics.traded_notional,
        )
        for histogram in (metrics.slippage, metrics.tick_to_order, metrics.journal_sync):
            yield histogram.family()
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
        sharpe = snap.extra.get("sharpe")
        if sharpe is not None:
            family = GaugeMetricFamily(
                "tradeloop_sharpe_ratio",
                "Annualized Sharpe ratio of the node's daily returns (from three days on).",
            )
            family.add_metric([], float(sharpe))
            yield family
        state = GaugeMetricFamily(
            "tradeloop_trading_state",
            "1 for the risk engine's current trading state, 0 for the others.",
            labels=["state"],
        )
        for name in TRADING_STATES:
            state.add_metric([name], 1.0 if snap.trading_state == name else 0.0)
        yield state
        limits = snap.extra.get("limits")
        if limits:  # the kernel's portfolio limits ([risk]), when any is set
            yield CounterMetricFamily(
                "tradeloop_portfolio_limit_breaches",
                "Portfolio limits breached (daily loss, drawdown pause, kill switch).",
                value=float(limits["breaches"]),
            )
            daily = GaugeMetricFamily(
                "tradeloop_daily_loss_ratio",
                "1 - equity / the day's opening equity (the limits' UTC day; 0: no loss).",
            )
            daily.add_metric([], float(limits["daily_loss"]))
            yield daily
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
        yield from decision_families(snap.extra)


def decision_families(extra: Mapping[str, Any]) -> Iterator[Metric]:
    """Return the drift, slippage-model, shadow, regime and agent-score metrics of a
    snapshot's ``extra`` (``monitoring.drift``, ``monitoring.decisions``)."""
    measures = extra.get("drift") or []
    if measures:
        labels = ["model", "kind", "name"]
        for key, name, help_text in (
            (
                "psi",
                "tradeloop_drift_psi",
                "Population stability index of live values vs the "
                "model's training window (decile bins).",
            ),
            (
                "ks",
                "tradeloop_drift_ks",
                "Two-sample Kolmogorov-Smirnov statistic of live "
                "values vs the model's training window.",
            ),
            ("ks_pvalue", "tradeloop_drift_ks_pvalue", "Asymptotic p-value of that KS statistic."),
            ("samples", "tradeloop_drift_samples", "Live values the drift statistics cover."),
        ):
            family = GaugeMetricFamily(name, help_text, labels=labels)
            for measure in measures:
                family.add_metric(
                    [measure["model"], measure["kind"], measure["name"]], float(measure[key])
                )
            yield family
    slippage = extra.get("slippage") or {}
    for key, name, help_text in (
        (
            "realized_ratio",
            "tradeloop_slippage_realized_ratio",
            "Mean realized slippage of the last executions vs their arrival price (cost > 0).",
        ),
        (
            "modelled_ratio",
            "tradeloop_slippage_modelled_ratio",
            "Mean slippage the cost model expected for them (cost without commission).",
        ),
        (
            "model_gap_ratio",
            "tradeloop_slippage_model_gap_ratio",
            "Mean realized minus modelled slippage of the last executions.",
        ),
    ):
        if slippage.get(key) is not None:
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], float(slippage[key]))
            yield family
    if slippage:
        yield CounterMetricFamily(
            "tradeloop_slippage_executions_compared",
            "Executions whose realized slippage was compared with the cost model's.",
            value=float(slippage.get("executions_compared", 0)),
        )
    shadow = extra.get("shadow") or {}
    for key, name, help_text in (
        (
            "fill_gap_ratio",
            "tradeloop_shadow_fill_gap_ratio",
            "Shadow mode: mean slippage of simulated fills vs the venue's quote (worse > 0).",
        ),
        (
            "tracking_error_ratio",
            "tradeloop_shadow_tracking_error_ratio",
            "Shadow mode: root mean square of that slippage (simulated vs live execution).",
        ),
    ):
        if shadow.get(key) is not None:
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], float(shadow[key]))
            yield family
    regimes = extra.get("regimes") or {}
    if regimes:
        regime = GaugeMetricFamily(
            "tradeloop_regime",
            "1 for each detector's current regime label.",
            labels=["detector", "regime"],
        )
        confidence = GaugeMetricFamily(
            "tradeloop_regime_confidence",
            "The detector's confidence in its current regime (0 to 1).",
            labels=["detector"],
        )
        for detector, state in regimes.items():
            regime.add_metric([detector, state["label"]], 1.0)
            confidence.add_metric([detector], float(state["confidence"]))
        yield regime
        yield confidence
    agents = extra.get("agent_scores") or {}
    if agents:
        score = GaugeMetricFamily(
            "tradeloop_agent_score",
            "Each signal agent's latest score (-1 to 1), by instrument.",
            labels=["agent", "instrument"],
        )
        confidence = GaugeMetricFamily(
            "tradeloop_agent_confidence",
            "Each signal agent's latest confidence (0 to 1), by instrument.",
            labels=["agent", "instrument"],
        )
        for agent, by_instrument in agents.items():
            for instrument, value in by_instrument.items():
                score.add_metric([agent, instrument], float(value["score"]))
                confidence.add_metric([agent, instrument], float(value["confidence"]))
        yield score
        yield confidence

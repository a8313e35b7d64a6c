"""Venue latency through the kernel: deterministic with the seed, responses after the latency."""

from typing import Any

import msgspec

from tradeloop.bench import job
from tradeloop.core import LiveClock, Money, TestClock
from tradeloop.core.clock import Clock
from tradeloop.costs import CommissionConfig
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.paper import ReplayFeed, run_paper
from tradeloop.journal import MemoryJournal
from tradeloop.model import OrderAccepted, OrderFilled, SubmitOrder
from tradeloop.risk import RiskConfig
from tradeloop.strategy import SmaCross
from tradeloop.venues import SimVenueConfig
from tradeloop.venues.sim.latency import LatencyConfig, UniformLatency

LOW_NS, HIGH_NS = 200_000_000, 2_000_000_000
LATENCY = LatencyConfig(
    entry_latency_ns=UniformLatency(low_ns=LOW_NS, high_ns=HIGH_NS),
    response_latency_ns=UniformLatency(low_ns=LOW_NS, high_ns=HIGH_NS),
)


def _run(seed: int, clock: Clock | None = None) -> tuple[MemoryJournal, Kernel]:
    columns = job.make_bars(3_000, 42)
    journal = MemoryJournal()
    kernel = Kernel(
        clock=TestClock() if clock is None else clock,
        journal=journal,
        instruments={columns.instrument_id: job.instrument("S000")},
        starting_cash=Money.from_str("1000000", "USD"),
        venue_config=SimVenueConfig(
            commission=CommissionConfig(kind="bps", bps=10), latency=LATENCY
        ),
        risk_config=RiskConfig(),
        strategies=[SmaCross(SmaCross.Config(instrument_ids=[columns.instrument_id]))],
        seed=seed,
    )
    if clock is None:
        kernel.run_backtest(merge([columns]))
    else:
        assert isinstance(clock, LiveClock)
        run_paper(kernel, ReplayFeed(merge([columns]), clock))
    return journal, kernel


def _encoded(journal: MemoryJournal) -> bytes:
    return msgspec.json.encode(journal.records)


def test_same_seed_gives_an_identical_journal_and_another_seed_other_latencies() -> None:
    first, _ = _run(5)
    second, _ = _run(5)
    third, _ = _run(6)
    assert len(first.records) > 100
    assert _encoded(first) == _encoded(second)
    assert _encoded(first) != _encoded(third)


def test_fills_happen_after_the_entry_latency_and_are_heard_after_the_response_latency() -> None:
    journal, kernel = _run(5)
    sent: dict[str, int] = {}
    accepted: dict[str, Any] = {}
    fills = []
    for record in journal.records:
        if isinstance(record, SubmitOrder):
            sent[record.order.client_order_id] = record.ts_init
        elif isinstance(record, OrderAccepted):
            accepted[record.client_order_id] = record
        elif isinstance(record, OrderFilled):
            fills.append(record)
    assert len(fills) > 20
    for fill in fills:
        arrival = accepted[fill.client_order_id].ts_event
        assert arrival >= sent[fill.client_order_id] + LOW_NS
        assert fill.ts_event >= arrival
        assert fill.ts_init >= fill.ts_event + LOW_NS
    assert kernel.venues["SIM"].in_flight() == (0, 0)


def test_paper_mode_releases_in_flight_messages_with_the_live_clock() -> None:
    columns = job.make_bars(300, 42)
    clock = LiveClock(speed=3_000_000.0, origin_ns=int(columns.ts_init[0]))
    journal, _ = _run(5, clock)
    fills = [r for r in journal.records if isinstance(r, OrderFilled)]
    assert fills
    assert all(f.ts_init >= f.ts_event + LOW_NS for f in fills)

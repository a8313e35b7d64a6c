"""Paper trading on a replay feed produces the same orders and fills as a backtest."""

import time
from typing import Any

from tradeloop.bench import job
from tradeloop.core import LiveClock, Money, TestClock
from tradeloop.core.clock import Clock
from tradeloop.costs import CommissionConfig
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.paper import ReplayFeed, run_paper
from tradeloop.journal import MemoryJournal
from tradeloop.model import AlertRaised, OrderFilled, SubmitOrder
from tradeloop.risk import RiskConfig
from tradeloop.strategy import SmaCross
from tradeloop.venues import SimVenueConfig


def _kernel(clock: Clock, journal: MemoryJournal, instrument_ids: list[str]) -> Kernel:
    return Kernel(
        clock=clock,
        journal=journal,
        instruments={i: job.instrument(i.split(".")[0]) for i in instrument_ids},
        starting_cash=Money.from_str("1000000", "USD"),
        venue_config=SimVenueConfig(commission=CommissionConfig(kind="bps", bps=10)),
        risk_config=RiskConfig(),
        strategies=[SmaCross(SmaCross.Config(instrument_ids=instrument_ids))],
    )


def _orders_and_fills(journal: MemoryJournal) -> tuple[list[Any], list[Any]]:
    orders = [
        (r.order.client_order_id, r.order.side, r.order.quantity, r.order.order_type, r.order.price)
        for r in journal.records
        if isinstance(r, SubmitOrder)
    ]
    fills = [
        (r.client_order_id, r.trade_id, r.order_side, r.last_qty, r.last_px, r.commission)
        for r in journal.records
        if isinstance(r, OrderFilled)
    ]
    return orders, fills


def test_paper_replay_gives_the_same_orders_and_fills_as_the_backtest() -> None:
    sources = [job.make_bars(2_000, 1000 + i, f"S{i:03d}") for i in range(2)]
    ids = [c.instrument_id for c in sources]

    backtest_journal = MemoryJournal()
    backtest_kernel = _kernel(TestClock(), backtest_journal, ids)
    backtest_kernel.run_backtest(merge(sources))

    paper_journal = MemoryJournal()
    first_ts = min(int(c.ts_init[0]) for c in sources)
    clock = LiveClock(speed=2_000_000.0, origin_ns=first_ts)  # 2,000 minutes in about 0.06 s
    paper_kernel = _kernel(clock, paper_journal, ids)
    run_paper(paper_kernel, ReplayFeed(merge(sources), clock))

    backtest = _orders_and_fills(backtest_journal)
    paper = _orders_and_fills(paper_journal)
    assert len(backtest[0]) > 20
    assert len(backtest[1]) > 20
    assert paper == backtest
    assert paper_kernel.portfolio.equity() == backtest_kernel.portfolio.equity()


def test_paper_kernel_thread_never_sees_a_record_before_the_clock() -> None:
    columns = job.make_bars(200, 7)
    clock = LiveClock(speed=5_000_000.0, origin_ns=int(columns.ts_init[0]))
    kernel = _kernel(clock, MemoryJournal(), [columns.instrument_id])
    seen: list[tuple[int, int]] = []
    kernel.bus.subscribe(
        "data.bars.*", lambda bar: seen.append((bar.ts_init, clock.timestamp_ns()))
    )
    run_paper(kernel, ReplayFeed(merge([columns]), clock))
    assert len(seen) == 200
    assert all(now >= ts for ts, now in seen)


def test_a_kernel_falling_behind_the_clock_raises_one_alert_and_reports_its_lag() -> None:
    # 100 one-minute bars released in 6 ms of wall time; the handler takes 5 ms a bar, so
    # the kernel ends ~0.5 s behind the replay clock.
    columns = job.make_bars(100, 7)
    clock = LiveClock(speed=1_000_000.0, origin_ns=int(columns.ts_init[0]))
    journal = MemoryJournal()
    kernel = _kernel(clock, journal, [columns.instrument_id])
    kernel.bus.subscribe("data.bars.*", lambda _bar: time.sleep(0.005))
    max_lag_s = run_paper(kernel, ReplayFeed(merge([columns]), clock), max_lag_s=0.1)
    alerts = [r for r in journal.records if isinstance(r, AlertRaised)]
    assert max_lag_s > 0.3
    assert len(alerts) == 1  # once per episode, not once per late record
    assert alerts[0].severity == "warning"
    assert "behind the clock" in alerts[0].message


def test_a_kernel_keeping_up_with_the_clock_raises_no_alert() -> None:
    columns = job.make_bars(200, 7)
    clock = LiveClock(speed=60_000.0, origin_ns=int(columns.ts_init[0]))  # 200 bars in 0.2 s
    journal = MemoryJournal()
    kernel = _kernel(clock, journal, [columns.instrument_id])
    max_lag_s = run_paper(kernel, ReplayFeed(merge([columns]), clock), max_lag_s=1.0)
    assert max_lag_s < 1.0
    assert not [r for r in journal.records if isinstance(r, AlertRaised)]

"""The canonical job: its data follows the recipe and its risk limits run without binding."""

from __future__ import annotations

from tradeloop.bench import job
from tradeloop.bench.sma import bench_sma
from tradeloop.core.clock import TestClock
from tradeloop.core.fixed import Money
from tradeloop.engine.kernel import Kernel
from tradeloop.journal.store import MemoryJournal
from tradeloop.model.enums import OrderSide
from tradeloop.model.order_factory import OrderFactory
from tradeloop.strategy.sma_cross import SmaCross
from tradeloop.venues.sim.config import SimVenueConfig


def test_job_of_100k_bars_gives_the_published_result() -> None:
    result = bench_sma(100_000)
    assert (result["bars"], result["trades"], result["sells"]) == (100_000, 1936, 1936)
    assert result["final_equity"] == 996037.5723
    assert result["sma_exact_ties"] == 1
    for key in ("seconds", "bars_per_s", "peak_rss_mb"):
        assert result[key] > 0


def test_job_risk_limits_deny_an_order_above_them() -> None:
    instrument = job.instrument("S000")
    clock = TestClock()
    kernel = Kernel(
        clock=clock,
        journal=MemoryJournal(),
        instruments={instrument.id: instrument},
        starting_cash=Money.from_str(job.STARTING_CASH, "USD"),
        venue_config=SimVenueConfig(),
        risk_config=job.risk_config([instrument.id]),
        strategies=[SmaCross(SmaCross.Config(instrument_ids=[instrument.id]))],
    )
    kernel.start()
    kernel.portfolio.marks[instrument.id] = instrument.make_price("100")
    factory = OrderFactory("probe", clock)
    too_many = factory.market(instrument.id, OrderSide.BUY, instrument.make_quantity("1001"))
    assert kernel.risk.check_submit(too_many) == (
        "quantity 1001 exceeds max_order_quantity 1000 for S000.SIM"
    )
    allowed = factory.market(instrument.id, OrderSide.BUY, instrument.make_quantity("10"))
    assert kernel.risk.check_submit(allowed) is None

"""``tradeloop bench fidelity``: what each fidelity level of the simulated venue costs.

Two jobs, each timed over the full event-driven loop (kernel, venue, portfolio, risk, order
manager, in-memory journal), data generation and decoding timed apart:

1. **The canonical job** (``bench sma``: SMA(10/30) cross on the seeded random walk of
   ``docs/benchmark-job.md``) at level 1 (bars), level 1 + latency (entry and response drawn
   from a lognormal around 2 ms, seeded), level 1 + square-root impact and level 1 + linear
   (Almgren–Chriss) impact. With latency a fill at a bar's open reaches the strategy after it
   saw that bar, so a cross right after an entry can be missed: the trades differ a little
   from level 1. Impact changes the fill prices only.
2. **Real data** (a Binance USD-M diff-depth recording with its bookTicker and trade streams):
   a quoting strategy (every second: cancel, rest a bid at the mark, alternate a small market
   order) at level 2 (quotes and trades) and level 4 (L2 book replay with queue position, the
   trades moving the queue). Records per second count every record the kernel dispatched
   (level 4: one per venue event, each of several deltas; ``deltas_per_s`` counts deltas).
3. **Real L3 data** (a Databento CME market-by-order file): the same quoting strategy, every
   100 ms, at level 4 with an L3 book (queue position by order id).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

from tradeloop import __version__
from tradeloop.bench import job
from tradeloop.core.clock import TestClock, TimeEvent
from tradeloop.core.fixed import Money, Price
from tradeloop.costs.fees import CommissionConfig
from tradeloop.data.books.binance import read_binance_depth
from tradeloop.data.books.databento import read_databento_mbo
from tradeloop.data.columns import BarColumns
from tradeloop.engine.feed import merge
from tradeloop.engine.kernel import Kernel
from tradeloop.journal.store import MemoryJournal
from tradeloop.model.enums import OrderSide
from tradeloop.model.instruments import Instrument, crypto_perpetual, future
from tradeloop.risk.engine import RiskConfig
from tradeloop.strategy.base import Strategy, StrategyConfig
from tradeloop.strategy.sma_cross import SmaCross
from tradeloop.venues.sim.config import BookConfig, ImpactConfig, SimVenueConfig
from tradeloop.venues.sim.latency import LatencyConfig, LogNormalLatency

_LATENCY = LatencyConfig(
    entry_latency_ns=LogNormalLatency(median_ns=1_500_000, sigma=0.5, offset_ns=500_000),
    response_latency_ns=LogNormalLatency(median_ns=1_500_000, sigma=0.5, offset_ns=500_000),
)
_COMMISSION = CommissionConfig(kind="bps", bps=job.COMMISSION_BPS)
LEVEL_CONFIGS: dict[str, SimVenueConfig] = {
    "level1": SimVenueConfig(commission=_COMMISSION),
    "level1+latency": SimVenueConfig(commission=_COMMISSION, latency=_LATENCY),
    "level1+impact": SimVenueConfig(
        commission=_COMMISSION, impact=ImpactConfig(window=20, bars_per_day=1440.0)
    ),
    # Almgren–Chriss linear impact: temporary 100 bps and permanent 10 bps per unit of
    # participation (illustrative values; the benchmark times the model, not its fit).
    "level1+linear_impact": SimVenueConfig(
        commission=_COMMISSION,
        impact=ImpactConfig(
            model="linear",
            temporary_bps=100.0,
            permanent_bps=10.0,
            window=20,
            bars_per_day=1440.0,
        ),
    ),
}
"""The venue configurations of the canonical job, by level name."""


def _run_sma(bars: BarColumns, config: SimVenueConfig, seed: int) -> dict[str, Any]:
    instrument = job.instrument("S000")
    kernel = Kernel(
        clock=TestClock(),
        journal=MemoryJournal(),
        instruments={instrument.id: instrument},
        starting_cash=Money.from_str(job.STARTING_CASH, "USD"),
        venue_config=config,
        risk_config=job.risk_config([instrument.id]),
        strategies=[
            SmaCross(
                SmaCross.Config(
                    instrument_ids=[instrument.id],
                    fast=job.FAST,
                    slow=job.SLOW,
                    quantity=job.QUANTITY,
                )
            )
        ],
        seed=seed,
    )
    gc.collect()
    gc.freeze()
    start = time.perf_counter()
    try:
        kernel.run_backtest(merge([bars]))
    finally:
        gc.unfreeze()
    seconds = time.perf_counter() - start
    counts = kernel.order_manager.order_counts()
    return {
        "bars": len(bars),
        "seconds": round(seconds, 4),
        "bars_per_s": round(len(bars) / seconds, 1),
        "trades": counts["filled_buy"],
        "final_equity": round(kernel.portfolio.equity().as_float(), 4),
    }


class _Quoter(Strategy):
    """Every second: cancel, rest a bid at the mark, send a small alternating market order."""

    class Config(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
        instrument_id: str
        quantity: str = "0.010"
        interval_ns: int = 1_000_000_000

    def on_start(self) -> None:
        self._buy = True
        self._qty = self.quantity(self.config.instrument_id, self.config.quantity)
        self._is_timed = False
        self.subscribe_steps()

    def on_step(self, ts_ns: int) -> None:
        if not self._is_timed:  # the timer starts with the data, not at the epoch
            self._is_timed = True
            self.set_timer("quote", self.config.interval_ns, self._on_timer)

    def _on_timer(self, event: TimeEvent) -> None:
        instrument_id = self.config.instrument_id
        mark = self.ctx.mark_price(instrument_id)
        if mark is None:
            return
        self.cancel_all_orders(instrument_id)
        instrument = self.instrument(instrument_id)
        raw = mark.to_precision(instrument.price_precision, "ROUND_FLOOR").raw
        raw -= raw % instrument.tick_size_raw
        factory = self.order_factory
        price = Price(raw, instrument.price_precision)
        self.submit_order(factory.limit(instrument_id, OrderSide.BUY, self._qty, price))
        side = OrderSide.BUY if self._buy else OrderSide.SELL
        self._buy = not self._buy
        self.submit_order(factory.market(instrument_id, side, self._qty))


def _perp(instrument_id: str, price_precision: int, size_precision: int) -> Instrument:
    symbol, _, venue = instrument_id.partition(".")
    return crypto_perpetual(
        symbol,
        venue,
        base="BTC",
        quote="USDT",
        price_precision=price_precision,
        size_precision=size_precision,
    )


def _run_real(path: Path, level: str) -> dict[str, Any]:
    start = time.perf_counter()
    feed = read_binance_depth(path)
    decode_s = time.perf_counter() - start
    deltas = feed.deltas
    instrument = _perp(deltas.instrument_id, deltas.price_precision, deltas.size_precision)
    if level == "level2":
        sources: list[Any] = [feed.quotes, feed.trades]
        config = SimVenueConfig(fidelity="quotes")
    else:
        sources = [deltas, feed.trades]
        config = SimVenueConfig(fidelity="book")
    stream = merge(sources)
    kernel = Kernel(
        clock=TestClock(),
        journal=MemoryJournal(),
        instruments={instrument.id: instrument},
        starting_cash=Money.from_str("10000000", "USDT"),
        venue_config=config,
        risk_config=RiskConfig(),
        strategies=[_Quoter(_Quoter.Config(instrument_id=instrument.id))],
    )
    gc.collect()
    start = time.perf_counter()
    kernel.run_backtest(stream)
    seconds = time.perf_counter() - start
    counts = kernel.order_manager.order_counts()
    result: dict[str, Any] = {
        "records": kernel.records_processed,
        "decode_s": round(decode_s, 4),
        "seconds": round(seconds, 4),
        "records_per_s": round(kernel.records_processed / seconds, 1),
        "orders": counts["submitted"],
        "fills": counts["fills"],
    }
    if level == "level4":
        result["deltas"] = len(deltas)
        result["deltas_per_s"] = round(len(deltas) / seconds, 1)
    return result


def _run_l3(path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    deltas = read_databento_mbo(path)
    decode_s = time.perf_counter() - start
    symbol, _, venue = deltas.instrument_id.partition(".")
    instrument = future(
        symbol,
        venue,
        currency_code="USD",
        price_precision=deltas.price_precision,
        tick_size="0.25",
        multiplier="50",
        expiry_ns=int(deltas.ts_init[-1]) + 86_400_000_000_000,
    )
    kernel = Kernel(
        clock=TestClock(),
        journal=MemoryJournal(),
        instruments={instrument.id: instrument},
        starting_cash=Money.from_str("10000000", "USD"),
        venue_config=SimVenueConfig(fidelity="book", book=BookConfig(book_type="l3")),
        risk_config=RiskConfig(),
        strategies=[
            _Quoter(
                _Quoter.Config(instrument_id=instrument.id, quantity="1", interval_ns=100_000_000)
            )
        ],
    )
    stream = merge([deltas])
    gc.collect()
    start = time.perf_counter()
    kernel.run_backtest(stream)
    seconds = time.perf_counter() - start
    counts = kernel.order_manager.order_counts()
    return {
        "file": path.name,
        "records": kernel.records_processed,
        "deltas": len(deltas),
        "decode_s": round(decode_s, 4),
        "seconds": round(seconds, 4),
        "records_per_s": round(kernel.records_processed / seconds, 1),
        "deltas_per_s": round(len(deltas) / seconds, 1),
        "orders": counts["submitted"],
        "fills": counts["fills"],
    }


def bench_fidelity(
    bars: int = 1_000_000,
    book_file: str | Path | None = None,
    seed: int = 0,
    l3_file: str | Path | None = None,
) -> dict[str, Any]:
    """Run the canonical job at each level, and the real-data jobs whose files are given.

    Returns a JSON-ready record: one entry per level, with ``overhead_pct`` against level 1
    (the canonical job) or level 2 (the real-data job); ``l3`` (with ``l3_file``, a Databento
    MBO CSV) times level 4 with an L3 book.

    Raises
    ------
    ConfigError
        If ``book_file`` does not exist.
    DataIntegrityError
        If the recording breaks Binance's sequencing rules.
    """
    data = job.make_bars(bars, 42)
    levels: dict[str, dict[str, Any]] = {}
    for name, config in LEVEL_CONFIGS.items():
        levels[name] = _run_sma(data, config, seed)
    base = levels["level1"]["seconds"]
    for entry in levels.values():
        entry["overhead_pct"] = round((entry["seconds"] / base - 1) * 100, 1)
    result: dict[str, Any] = {
        "engine": "tradeloop",
        "version": __version__,
        "job": "fidelity",
        "canonical": levels,
    }
    if book_file is not None:
        real = {level: _run_real(Path(book_file), level) for level in ("level2", "level4")}
        base = real["level2"]["seconds"]
        for entry in real.values():
            entry["overhead_pct"] = round((entry["seconds"] / base - 1) * 100, 1)
        result["real"] = {"file": Path(book_file).name, **real}
    if l3_file is not None:
        result["l3"] = _run_l3(Path(l3_file))
    return result
